import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function runExample(script: string, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('examples', () => {
  it('hello parses every line it sent through a Pipe', async () => {
    const { code, stdout, stderr } = await runExample('dist/examples/hello/main.js');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^ok: 10000 of 10000 lines/m);
    expect(stdout).toMatch(/paused \d+ times by backpressure/);
  });

  it('scheduler-lab parses the same workload four ways with the same result', async () => {
    const { code, stdout, stderr } = await runExample('dist/examples/scheduler-lab/main.js', '--mb', '2');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).not.toMatch(/MISMATCH/);
    const rows = stdout.split('\n').filter((line) => /^\| (main|SharedPipe|PoolScheduler)/.test(line));
    expect(rows).toHaveLength(4);
    // The ThreadScheduler row parsed on another thread than the one that wrote.
    expect(rows[1]).toMatch(/write: main \(0\), parse: [1-9]\d*/);
  }, 60_000);

  it('the tour drives the RESP server in both modes and checks pgzip output byte-exact', async () => {
    const { code, stdout, stderr } = await runExample('dist/examples/tour/main.js', '--seconds', '0.5', '--mb', '4');
    expect(code, stderr).toBe(0);
    const rows = stdout.split('\n').filter((line) => line.startsWith('| resp-server') || line.startsWith('| pgzip'));
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatch(/socket I\/O: main \(0\); parsing: main \(0\)/);
    expect(rows[1]).toMatch(/socket I\/O: main \(0\); parsing: worker [1-9]\d*/);
    expect(rows[2]).toMatch(/output checked byte-exact/);
    expect(stderr).toMatch(/resp-server --threads 1/);
  }, 90_000);
});
