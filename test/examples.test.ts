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
});
