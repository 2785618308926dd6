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

  it.skipIf(!hasTools)('T4 the default redis-benchmark -q suite (-n 2000) completes every test with no error line', async () => {
    await withServer(threads, async (server) => {
      const r = await run('redis-benchmark', ['-h', '127.0.0.1', '-p', String(server.port), '-q', '-n', '2000'], 240_000);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      const lines = `${r.stdout}\n${r.stderr}`.split(/[\r\n]+/).map((line) => line.trim()).filter((line) => line !== '');
      expect(lines.filter((line) => /error/i.test(line)), r.stdout).toEqual([]);
      const tests = [
        'PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'LPUSH', 'RPUSH', 'LPOP', 'RPOP', 'SADD', 'HSET', 'SPOP', 'ZADD', 'ZPOPMIN',
        'LPUSH (needed to benchmark LRANGE)', 'LRANGE_100 (first 100 elements)', 'LRANGE_300 (first 300 elements)',
        'LRANGE_500 (first 500 elements)', 'LRANGE_600 (first 600 elements)', 'MSET (10 keys)',
      ];
      const finals = lines.filter((line) => / requests per second/.test(line) && !/rps=/.test(line));
      const names = finals.map((line) => line.slice(0, line.lastIndexOf(': ', line.indexOf(' requests per second'))));
      expect(names).toEqual(tests);
      for (const line of finals) expect(Number(/: ([\d.]+) requests per second/.exec(line)![1]), line).toBeGreaterThan(0);
      // The suite's data is where it left it: 2000 LPUSH + 2000 RPUSH − 2000 LPOP − 2000 RPOP, then 2000 LPUSH for LRANGE.
      const llen = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), 'LLEN', 'mylist'], 15_000);
      expect(llen.stdout).toBe('2000\n');
    });
  }, 300_000);

  it.skipIf(!hasTools)('T5 redis-cli --pipe of 100,000 commands ends with errors: 0, replies: 100000 and every key landed', async () => {
    await withServer(threads, async (server) => {
      const prefix = uniqueKey('t5');
      const parts: string[] = [];
      for (let i = 0; i < 100_000; i++) {
        const name = `${prefix}:${i}`;
        const value = `value-${i}`;
        parts.push(`*3\r\n$3\r\nSET\r\n$${name.length}\r\n${name}\r\n$${value.length}\r\n${value}\r\n`);
      }
      const r = await runWithInput('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), '--pipe'], parts.join(''), 120_000);
      expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/^errors: 0, replies: 100000$/m);
      const cli = (...args: string[]): Promise<Run> => run('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), ...args], 15_000);
      expect((await cli('GET', `${prefix}:0`)).stdout).toBe('value-0\n');
      expect((await cli('GET', `${prefix}:99999`)).stdout).toBe('value-99999\n');
      const keys = await cli('KEYS', `${prefix}:*`);
      expect(keys.stdout.split('\n').filter((line) => line !== '')).toHaveLength(100_000);
    });
  }, 180_000);

  it.skipIf(!hasTools)('T6 redis-cli over the data types, INFO, CLIENT, SELECT, WRONGTYPE, inline quoting from stdin', async () => {
    await withServer(threads, async (server) => {
      const cli = (...args: string[]): Promise<Run> => run('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port), ...args], 15_000);
      const list = uniqueKey('t6-list');
      const zset = uniqueKey('t6-zset');
      const hash = uniqueKey('t6-hash');
      expect((await cli('RPUSH', list, 'a', 'b', 'c')).stdout).toBe('3\n');
      expect((await cli('LRANGE', list, '0', '-1')).stdout).toBe('a\nb\nc\n');
      expect((await cli('--no-raw', 'LRANGE', list, '0', '1')).stdout).toBe('1) "a"\n2) "b"\n');
      expect((await cli('ZADD', zset, '1', 'one', '2', 'two')).stdout).toBe('2\n');
      expect((await cli('ZRANGE', zset, '0', '-1', 'WITHSCORES')).stdout).toBe('one\n1\ntwo\n2\n');
      expect((await cli('HSET', hash, 'f', 'v')).stdout).toBe('1\n');
      expect((await cli('HGETALL', hash)).stdout).toBe('f\nv\n');
      expect((await cli('TYPE', zset)).stdout).toBe('zset\n');
      const wrong = await cli('GET', list);
      expect(wrong.stdout + wrong.stderr).toMatch(/WRONGTYPE Operation against a key holding the wrong kind of value/);
      expect((await cli('SELECT', '0')).stdout).toBe('OK\n');
      // -n 0 makes redis-cli SELECT on connect; it must carry on.
      expect((await cli('-n', '0', 'PING')).stdout).toBe('PONG\n');
      const keyspace = await cli('INFO', 'keyspace');
      expect(keyspace.stdout).toMatch(/^# Keyspace\r?\ndb0:keys=\d+,expires=\d+,avg_ttl=\d+/);
      const script = [`CLIENT SETNAME "tool client"`, 'CLIENT SETNAME tool-client', 'CLIENT GETNAME', `SET ${list}:s "a\\tb"`, `STRLEN ${list}:s`, `ECHO 'single quoted'`, ''].join('\n');
      const r = await runWithInput('redis-cli', ['-h', '127.0.0.1', '-p', String(server.port)], script, 15_000);
      expect(r.code, r.stderr).toBe(0);
      // redis-cli prints an error reply in raw mode followed by an empty line.
      expect(r.stdout.split('\n')).toEqual(['ERR Client names cannot contain spaces, newlines or special characters.', '', 'OK', 'tool-client', 'OK', '3', 'single quoted', '']);
    });
  }, 60_000);
});
