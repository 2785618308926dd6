// The RESP server example against the real Redis tools (Debian package redis-tools): redis-cli and
// redis-benchmark. Skipped, visibly, when they are not installed.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../dist/examples/resp-server/server.js';
import { within } from './helpers.js';

const hasCli = spawnSync('redis-cli', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
const hasBenchmark = spawnSync('redis-benchmark', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
const hasTools = hasCli && hasBenchmark;
if (!hasTools) {
  console.warn(
    `redis-tools not installed: skipping the redis-cli / redis-benchmark tests (redis-cli ${hasCli ? 'found' : 'missing'}, redis-benchmark ${hasBenchmark ? 'found' : 'missing'}; apt-get install redis-tools)`,
  );
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool with a timeout; never rejects (a timeout shows as a non-zero code and 'killed'). */
function run(file: string, args: string[], timeout = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout, killSignal: 'SIGKILL', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr: error?.killed ? `${stderr}\n[killed after ${timeout} ms]` : stderr });
    });
  });
}

/** Runs a tool with `input` piped to its stdin, with a timeout. */
function runWithInput(file: string, args: string[], input: string, timeout = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeout} ms]`;
      child.kill('SIGKILL');
    }, timeout);
    child.on('error', (error) => {
      stderr += String(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

async function withServer(threads: 0 | 1, body: (server: RunningServer) => Promise<void>): Promise<void> {
  const server = await startServer({ port: 0, host: '127.0.0.1', threads });
  try {
    await body(server);
  } finally {
    await within(server.close(), 10_000, 'server.close()');
  }
}

let keyCounter = 0;
const uniqueKey = (label: string): string => `tools:${label}:${process.pid}:${++keyCounter}`;

describe.each([0, 1] as const)('T redis-tools against the RESP server, threads %i', (threads) => {
  it.skipIf(!hasTools)('T1 redis-cli one-shot commands: PING, SET, GET, INCR, MGET, TTL, errors', async () => {
    await withServer(threads, async (server) => {
      const cli = (...args: string[]): Promise<Run> => run('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), ...args], 15_000);
      const key = uniqueKey('t1');
      const counter = uniqueKey('t1-counter');
      const missing = uniqueKey('t1-missing');

      let r = await cli('PING');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('PONG\n');

      r = await cli('SET', key, 'hello world');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('OK\n');

      r = await cli('GET', key);
      expect(r.stdout).toBe('hello world\n');

      r = await cli('GET', missing);
      // Raw output (stdout is not a terminal): nil prints as an empty line.
      expect(r.stdout).toBe('\n');

      r = await cli('INCR', counter);
      expect(r.stdout).toBe('1\n');
      r = await cli('INCRBY', counter, '41');
      expect(r.stdout).toBe('42\n');

      r = await cli('MGET', key, missing, counter);
      expect(r.stdout).toBe('hello world\n\n42\n');

      r = await cli('TTL', key);
      expect(r.stdout).toBe('-1\n');
      r = await cli('TTL', missing);
      expect(r.stdout).toBe('-2\n');
      r = await cli('SET', key, 'v', 'EX', '100');
      expect(r.stdout).toBe('OK\n');
      r = await cli('TTL', key);
      expect(r.stdout).toMatch(/^(99|100)\n$/);

      // --no-raw gives the interactive formatting.
      r = await cli('--no-raw', 'INCR', counter);
      expect(r.stdout).toBe('(integer) 43\n');
      r = await cli('--no-raw', 'GET', missing);
      expect(r.stdout).toBe('(nil)\n');

      // Error replies are printed, the server stays up.
      r = await cli('INCR', key);
      expect(r.stdout + r.stderr).toMatch(/ERR value is not an integer or out of range/);
      r = await cli('NOSUCHCOMMAND');
      expect(r.stdout + r.stderr).toMatch(/ERR unknown command 'NOSUCHCOMMAND'/);
      r = await cli('PING');
      expect(r.stdout).toBe('PONG\n');
    });
  }, 60_000);

  it.skipIf(!hasTools)('T2 redis-cli reading commands from stdin (interactive-like) answers each line in order', async () => {
    await withServer(threads, async (server) => {
      const key = uniqueKey('t2');
      const counter = uniqueKey('t2-counter');
      const script = [
        'PING',
        `SET ${key} "quoted value"`,
        `GET ${key}`,
        `INCR ${counter}`,
        `INCR ${counter}`,
        `MGET ${key} ${counter}`,
        `APPEND ${key} !`,
        `GET ${key}`,
        `DEL ${key}`,
        `EXISTS ${key}`,
        'ECHO done',
        '',
      ].join('\n');
      const r = await runWithInput('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port)], script, 15_000);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n')).toEqual([
        'PONG',
        'OK',
        'quoted value',
        '1',
        '2',
        'quoted value',
        '2',
        '13',
        'quoted value!',
        '1',
        '0',
        'done',
        '',
      ]);
      // The state is visible to a later one-shot client.
      const after = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), 'GET', counter], 15_000);
      expect(after.stdout).toBe('2\n');
    });
  }, 60_000);

  it.skipIf(!hasTools)('T3 redis-benchmark -P 16 -c 50 -t set,get -n 20000 -q completes with SET and GET rates', async () => {
    await withServer(threads, async (server) => {
      const r = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(server.port), '-P', '16', '-c', '50', '-t', 'set,get', '-n', '20000', '-q'], 120_000);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      // -q rewrites a progress line with \r; the final figure follows the last \r on each line.
      const lines = r.stdout.split(/[\r\n]+/).map((line) => line.trim());
      const rate = (name: string): number => {
        const line = lines.find((l) => new RegExp(`^${name}: [\\d.]+ requests per second`).test(l));
        expect(line, `no final ${name}: line in\n${r.stdout}`).toBeDefined();
        return Number(/^\w+: ([\d.]+) requests per second/.exec(line!)![1]);
      };
      expect(rate('SET')).toBeGreaterThan(0);
      expect(rate('GET')).toBeGreaterThan(0);
      // The server still answers after the load, and the benchmark's key holds its 3-byte payload.
      const ping = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), 'STRLEN', 'key:__rand_int__'], 15_000);
      expect(ping.stdout).toBe('3\n');
      if (threads === 1) {
        const report = await server.scheduler!.run<{ commands: number }>('report');
        expect(report.commands).toBeGreaterThanOrEqual(40_000);
      }
    });
  }, 180_000);
});
