import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
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

const kUsageExit = 2;
const kServerStartMs = 20_000;
const kReplyMs = 10_000;

// Each example, with an option that takes a number and a value it must refuse.
const commandLines: { name: string; script: string; numeric?: { flag: string; bad: string[] } }[] = [
  { name: 'hello', script: 'dist/examples/hello/main.js' },
  { name: 'pgzip', script: 'dist/examples/pgzip/main.js', numeric: { flag: 'level', bad: ['fast', '10', '2.5'] } },
  { name: 'resp-server', script: 'dist/examples/resp-server/main.js', numeric: { flag: 'port', bad: ['abc', '65536', '-1'] } },
  { name: 'scheduler-lab', script: 'dist/examples/scheduler-lab/main.js', numeric: { flag: 'mb', bad: ['lots', '0', '-3'] } },
  { name: 'tour', script: 'dist/examples/tour/main.js', numeric: { flag: 'seconds', bad: ['x', '0', ''] } },
];

describe('example command lines', () => {
  for (const { name, script, numeric } of commandLines) {
    it(`${name} --help prints its usage and exits 0`, async () => {
      const { code, stdout, stderr } = await runExample(script, '--help');
      expect(code, stderr).toBe(0);
      expect(stdout).toMatch(new RegExp(`^Usage: node ${script.replace(/[.]/g, '\\.')}`));
      expect(stdout).toMatch(/--help/);
      if (numeric) expect(stdout).toContain(`--${numeric.flag}`);
      const short = await runExample(script, '-h');
      expect(short.code).toBe(0);
      expect(short.stdout).toBe(stdout);
    });

    it(`${name} refuses an unknown flag with exit 2, naming it`, async () => {
      const { code, stdout, stderr } = await runExample(script, '--no-such-flag=1');
      expect(code).toBe(kUsageExit);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/Unknown option '--no-such-flag'/);
    });

    if (numeric) {
      it(`${name} refuses a bad --${numeric.flag} in both spellings with exit 2, naming it`, async () => {
        for (const bad of numeric.bad) {
          for (const args of [[`--${numeric.flag}=${bad}`], [`--${numeric.flag}`, bad]]) {
            const { code, stdout, stderr } = await runExample(script, ...args);
            expect(code, `${args.join(' ')}: ${stderr}`).toBe(kUsageExit);
            expect(stdout).toBe('');
            // parseArgs itself refuses `--flag -1` (it cannot tell a negative number from a flag).
            if (args.length === 2 && bad.startsWith('-')) expect(stderr).toContain(`'--${numeric.flag}' argument is ambiguous`);
            else {
              expect(stderr).toContain(`--${numeric.flag} takes`);
              expect(stderr).toContain(`'${bad}'`);
            }
          }
        }
      }, 60_000);

      it(`${name} --${numeric.flag} without a value is an error naming it`, async () => {
        const { code, stderr } = await runExample(script, `--${numeric.flag}`);
        expect(code).toBe(kUsageExit);
        expect(stderr).toContain(`--${numeric.flag}`);
      });
    }
  }

  it('resp-server refuses a --threads other than 0 or 1', async () => {
    const { code, stderr } = await runExample('dist/examples/resp-server/main.js', '--threads=2');
    expect(code).toBe(kUsageExit);
    expect(stderr).toContain("--threads takes 0 or 1, got '2'");
  });

  it('pgzip refuses a second positional argument and --compare without an input file', async () => {
    const two = await runExample('dist/examples/pgzip/main.js', 'a', 'b');
    expect(two.code).toBe(kUsageExit);
    expect(two.stderr).toContain("unexpected argument 'b'");
    const compare = await runExample('dist/examples/pgzip/main.js', '--compare');
    expect(compare.code).toBe(kUsageExit);
    expect(compare.stderr).toContain('--compare needs an input file');
  });

  for (const spelling of [['--port=0', '--threads=1'], ['--port', '0', '--threads', '1']]) {
    it(`resp-server started with ${spelling.join(' ')} answers PING with +PONG`, async () => {
      const child = spawn(process.execPath, ['dist/examples/resp-server/main.js', ...spelling], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        const port = await within(kServerStartMs, 'the server to listen', new Promise<number>((resolve, reject) => {
          let stdout = '';
          child.stdout.on('data', (chunk: Buffer) => {
            stdout += chunk.toString();
            const match = /listening on [^\s]+:(\d+) \(parsing on worker thread [1-9]\d*\)/.exec(stdout);
            if (match) resolve(Number(match[1]));
          });
          child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
        }));
        expect(port).toBeGreaterThan(0);
        const reply = await within(kReplyMs, 'the PING reply', new Promise<string>((resolve, reject) => {
          const socket = connect(port, '127.0.0.1', () => socket.write('*1\r\n$4\r\nPING\r\n'));
          let received = '';
          socket.on('data', (chunk: Buffer) => {
            received += chunk.toString('latin1');
            if (received.includes('\r\n')) {
              socket.end();
              resolve(received);
            }
          });
          socket.once('error', reject);
        }));
        expect(reply).toBe('+PONG\r\n');
      } finally {
        child.kill('SIGTERM');
        const code = await within(kServerStartMs, 'the server to stop', exited);
        expect(code, stderr).toBe(0);
      }
    }, 60_000);
  }
});

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('example sources', () => {
  const examplesDir = join(root, 'examples');
  const sources = (function walk(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
    );
  })(examplesDir);

  it('import the library only by its package name, the way a user copies them', () => {
    expect(sources.length).toBeGreaterThan(10);
    const specifier = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;
    const libraryUsers: string[] = [];
    const offenders: string[] = [];
    for (const file of sources) {
      const text = readFileSync(file, 'utf8');
      for (const [, target] of text.matchAll(specifier)) {
        if (target === 'threadpipe') libraryUsers.push(relative(root, file));
        // Relative imports stay inside examples/; anything else is node: or the package itself.
        else if (target!.startsWith('.')) {
          const resolved = relative(examplesDir, join(file, '..', target!));
          if (resolved.startsWith('..')) offenders.push(`${relative(root, file)}: ${target}`);
        } else if (!target!.startsWith('node:')) offenders.push(`${relative(root, file)}: ${target}`);
      }
    }
    expect(offenders).toEqual([]);
    expect(libraryUsers.length).toBeGreaterThan(5);
  });
});

/** The ```ts blocks of the README section under `heading`, up to the next section. */
function readmeBlocks(heading: string): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start, `README section '${heading}'`).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + heading.length + 4);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
}

/** What a snippet says it prints: the comment after each `console.log(...);`. */
function expectedOutput(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\);\s*\/\/ (.*)$/gm)].map((match) => match[1]!);
}

describe('README snippets run as written', () => {
  // Each snippet is saved as a user's ES module next to an installed threadpipe and run with node.
  async function runSnippets(files: Record<string, string>, main: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const home = await mkdtemp(join(tmpdir(), 'threadpipe-readme-'));
    try {
      await mkdir(join(home, 'node_modules'));
      await symlink(root, join(home, 'node_modules', 'threadpipe'), 'dir');
      await writeFile(join(home, 'package.json'), JSON.stringify({ type: 'module' }));
      for (const [name, code] of Object.entries(files)) await writeFile(join(home, name), code);
      return await new Promise((resolve) => {
        execFile(process.execPath, [main], { cwd: home, timeout: 60_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        });
      });
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  }

  it("'Lines and frames' prints what its comments say", async () => {
    const [code] = readmeBlocks('Lines and frames');
    const expected = expectedOutput(code!);
    expect(expected.length).toBe(2);
    const { code: exit, stdout, stderr } = await runSnippets({ 'lines.js': code! }, 'lines.js');
    expect(stderr).toBe('');
    expect(exit).toBe(0);
    expect(stdout.trimEnd().split('\n')).toEqual(expected);
  }, 60_000);

  it("'Parsing on another thread' counts every line on the scheduler's thread with forEachLine", async () => {
    const blocks = readmeBlocks('Parsing on another thread');
    expect(blocks.length).toBe(2);
    // Each block names its file in its first line: "// main.js", "// parser.js — ...".
    const files = Object.fromEntries(blocks.map((code) => [/^\/\/ (\S+\.js)/.exec(code)![1]!, code]));
    expect(Object.keys(files).sort()).toEqual(['main.js', 'parser.js']);
    expect(files['parser.js']).toContain('forEachLine(');
    const expected = expectedOutput(files['main.js']!);
    expect(expected).toEqual(['{ lines: 100000, bytes: 1188890 }']);
    const { code, stdout, stderr } = await runSnippets(files, 'main.js');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout.trimEnd().split('\n')).toEqual(expected);
  }, 60_000);
});
