// The package as a user installs it: `require('threadpipe')` and `import('threadpipe')` give the same
// classes (Node >= 20.19 loads the ES module for require()), importing it does not load piscina until a
// PoolScheduler is created, and what `npm pack` ships carries a LICENSE and source maps with their
// sources. Each check runs a fresh node process from a directory where threadpipe is installed as a
// link to this repository.
import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const kChildTimeoutMs = 30_000;

let home = '';

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'threadpipe-package-'));
  await mkdir(join(home, 'node_modules'));
  await symlink(repo, join(home, 'node_modules', 'threadpipe'), 'dir');
});

afterAll(async () => {
  if (home !== '') await rm(home, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout: kChildTimeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

/** Runs `script` in a fresh node from the directory where threadpipe is installed; its last stdout line is JSON. */
async function node(script: string, type: 'commonjs' | 'module'): Promise<unknown> {
  const result = await run(process.execPath, ['--input-type', type, '-e', script], home);
  expect(result.stderr, 'stderr of the child').toBe('');
  expect(result.code, 'exit code of the child').toBe(0);
  return JSON.parse(result.stdout.trim().split('\n').pop()!);
}

const kPublicNames = ['Pipe', 'SharedPipe', 'PipeReader', 'ThreadScheduler', 'PoolScheduler', 'toWritable', 'readLines', 'ThreadpipeError'];

describe("require('threadpipe') and import('threadpipe')", () => {
  it('require() works, with no warning, and gives the very classes import() gives', async () => {
    const report = await node(
      `const threadpipe = require('threadpipe');
       import('threadpipe').then((imported) => {
         const pipe = new threadpipe.Pipe();
         console.log(JSON.stringify({
           names: ${JSON.stringify(kPublicNames)}.filter((name) => typeof threadpipe[name] === 'function'),
           sameClasses: Object.keys(imported).every((name) => imported[name] === threadpipe[name]),
           keys: Object.keys(threadpipe).length === Object.keys(imported).length,
           isReader: pipe.reader instanceof imported.PipeReader,
         }));
       });`,
      'commonjs',
    );
    expect(report).toEqual({ names: kPublicNames, sameClasses: true, keys: true, isReader: true });
  });

  it('import works from an ES module', async () => {
    const report = await node(
      `import * as threadpipe from 'threadpipe';
       const pipe = new threadpipe.Pipe();
       await pipe.writer.write('ok');
       const result = await pipe.reader.read();
       console.log(JSON.stringify({ names: ${JSON.stringify(kPublicNames)}.filter((name) => typeof threadpipe[name] === 'function'), read: result.buffer.toString() }));`,
      'module',
    );
    expect(report).toEqual({ names: kPublicNames, read: 'ok' });
  });
});

describe('piscina is loaded by the first PoolScheduler, not by importing threadpipe', () => {
  it('no piscina module is loaded after the import; piscina is loaded once a PoolScheduler exists', async () => {
    // piscina's modules are CommonJS (its ES entry wraps them), so every load of it lands in the
    // CommonJS cache, whichever way it is imported.
    const tasks = new URL('../dist/test/fixtures/sched-tasks.js', import.meta.url).href;
    const report = await node(
      `import { createRequire } from 'node:module';
       const cache = createRequire(import.meta.url).cache;
       const piscina = () => Object.keys(cache).filter((path) => path.includes('/node_modules/piscina/')).length;
       const { PoolScheduler } = await import('threadpipe');
       const afterImport = piscina();
       const pool = new PoolScheduler(${JSON.stringify(tasks)}, { minThreads: 0, maxThreads: 1 });
       const afterCreate = piscina();
       await pool.close();
       console.log(JSON.stringify({ afterImport, loadedByScheduler: afterCreate > 0 }));`,
      'module',
    );
    expect(report).toEqual({ afterImport: 0, loadedByScheduler: true });
  });
});

describe('what npm pack ships', () => {
  it('a LICENSE, and source maps that carry their sources', async () => {
    const result = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], repo);
    expect(result.code, result.stderr).toBe(0);
    const [pack] = JSON.parse(result.stdout) as [{ files: { path: string }[] }];
    const paths = pack.files.map((file) => file.path);
    expect(paths).toContain('LICENSE');
    expect(paths).toContain('dist/src/index.js');
    const maps = paths.filter((path) => path.endsWith('.js.map'));
    const missing: string[] = [];
    for (const path of maps) {
      const map = JSON.parse(await readFile(join(repo, path), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      const complete = map.sourcesContent?.length === map.sources.length && map.sourcesContent.every((text) => typeof text === 'string' && text.length > 0);
      if (!complete) missing.push(path);
    }
    expect(missing, 'shipped source maps without their sources').toEqual([]);
  });

  it('the LICENSE is MIT, copyright the threadpipe authors, as package.json says', async () => {
    const license = await readFile(join(repo, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License/);
    expect(license).toContain('Copyright (c) 2026 the threadpipe authors');
    expect(JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')).license).toBe('MIT');
  });
});
