// Bad input for the RESP server example: random and mutated requests (inline and multibulk, huge
// lengths, split anywhere) against both modes. The server must not crash or hang, must answer a
// broken connection with a protocol error and close it, and must keep serving other connections.
import * as net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../dist/examples/resp-server/server.js';
import { within } from './helpers.js';

const WAIT_MS = 10_000;
const FUZZ_SEED = 0x5e5b;
const FUZZ_RUNS = 150;
const BROKEN_RUNS = 40;

/** Counts the complete RESP replies at the front of buf and says whether what follows could still be one. */
function scanReplies(buf: Buffer): { replies: string[]; wellFormed: boolean } {
  const replies: string[] = [];
  let at = 0;
  const one = (): boolean | undefined => {
    const end = buf.indexOf('\r\n', at, 'latin1');
    if (end < 0) return undefined;
    const type = String.fromCharCode(buf[at]!);
    const line = buf.toString('latin1', at + 1, end);
    const start = at;
    at = end + 2;
    if (type === '+' || type === '-') {
      replies.push(type + line);
      return true;
    }
    if (type === ':') {
      replies.push(type + line);
      return /^-?\d+$/.test(line);
    }
    if (type === '$') {
      const n = Number(line);
      if (n === -1) {
        replies.push('$-1');
        return true;
      }
      if (!Number.isInteger(n) || n < 0) return false;
      if (buf.length < at + n + 2) {
        at = start;
        return undefined;
      }
      if (buf[at + n] !== 0x0d || buf[at + n + 1] !== 0x0a) return false;
      replies.push(`$${buf.toString('latin1', at, at + n)}`);
      at += n + 2;
      return true;
    }
    if (type === '*') {
      const n = Number(line);
      if (!Number.isInteger(n) || n < -1) return false;
      const before = replies.length;
      for (let i = 0; i < n; i++) {
        const item = one();
        if (item !== true) {
          at = start;
          replies.length = before;
          return item;
        }
      }
      replies.length = before;
      replies.push(`*${n}`);
      return true;
    }
    return false;
  };
  for (;;) {
    if (at >= buf.length) return { replies, wellFormed: true };
    const result = one();
    if (result === undefined) return { replies, wellFormed: true };
    if (!result) return { replies, wellFormed: false };
  }
}

interface Outcome {
  data: Buffer;
  closedByServer: boolean;
}

/**
 * Sends chunks (a turn between each), optionally half-closes, and collects every reply byte until the
 * server closes; rejects when it has not closed within WAIT_MS.
 */
function exchange(port: number, chunks: Buffer[], halfClose: boolean, waitMs = WAIT_MS): Promise<Outcome> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  const done = new Promise<Outcome>((resolve) => {
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    // A reset after the server closed on a protocol error is expected when bytes were still in flight.
    socket.on('error', () => {});
    socket.on('close', () => resolve({ data: Buffer.concat(received), closedByServer: true }));
  });
  socket.once('connect', async () => {
    for (const chunk of chunks) {
      if (socket.destroyed) return;
      socket.write(chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (halfClose && !socket.destroyed) socket.end();
  });
  return within(done, waitMs, 'the server closing the connection').finally(() => socket.destroy());
}

const multibulk = (...args: string[]): string => `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg, 'latin1')}\r\n${arg}\r\n`).join('')}`;

/** A well-formed command on fuzz keys only (so that nothing here touches another test's data). */
const validCommand = fc
  .tuple(
    fc.constantFrom('PING', 'ECHO', 'SET', 'GET', 'INCR', 'LPUSH', 'RPUSH', 'LPOP', 'SADD', 'HSET', 'ZADD', 'LRANGE', 'ZRANGE', 'TYPE', 'DEL', 'NOPE'),
    fc.array(fc.string({ unit: fc.constantFrom('a', '1', ' ', '"', "'", '\\', '\r', '\n', 'x', '-'), maxLength: 6 }), { maxLength: 4 }),
    fc.boolean(),
  )
  .map(([name, args, inline]) => {
    const full = ['TYPE', 'ECHO', 'PING', 'NOPE'].includes(name) ? [name, ...args] : [name, `fuzz:${args[0] ?? 'k'}`, ...args.slice(1)];
    // An inline command cannot carry CR or LF; its arguments are quoted when they hold anything special.
    if (inline) return `${full.map((arg) => (/^[a-z0-9:-]+$/i.test(arg) ? arg : `"${arg.replace(/[\\"]/g, '\\$&').replace(/\r/g, '\\r').replace(/\n/g, '\\n')}"`)).join(' ')}\r\n`;
    return multibulk(...full);
  });

/** Bytes that make any parser's life hard: huge lengths, wrong markers, bare line ends, random bytes. */
const hostile = fc.oneof(
  fc.constantFrom('*99999999999999\r\n', '*1\r\n$99999999999\r\n', `*1\r\n$${(16 << 20) + 1}\r\n`, '*-7\r\n', '$3\r\nabc\r\n', '*1\r\n:1\r\n', '*2\r\n$1\r\n', '\r\n', '\n', '*\r\n', '*1\r\n$\r\n', '"', "'x", '*0\r\n', '*-1\r\n'),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
);

/** A request that breaks the protocol for certain, at its end (so that no byte follows the error). */
const brokenTail = fc.constantFrom('*1\r\n:5\r\n', '*-2\r\n', '*x\r\n', '*1\r\n$-3\r\n', `*1\r\n$${(16 << 20) + 1}\r\n`, '*1\r\n$3\r\nabcde\r\n', 'SET k "open\r\n', "GET 'a'b\r\n", '*2\r\n$3\r\nGET\r\n+x\r\n');

/** Splits bytes at the given cut points (sorted, deduplicated). */
function split(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of points) {
    if (point > from) chunks.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  if (from < bytes.length) chunks.push(bytes.subarray(from));
  return chunks;
}

describe.each([0, 1] as const)('F RESP server under bad input, threads %i', (threads) => {
  let server: RunningServer;
  let bystander: net.Socket;
  let bystanderBytes = '';

  const bystanderCall = async (request: string, expected: string): Promise<void> => {
    bystanderBytes = '';
    bystander.write(request);
    const deadline = Date.now() + WAIT_MS;
    while (bystanderBytes.length < expected.length) {
      if (Date.now() > deadline || bystander.destroyed) throw new Error(`the bystander got ${JSON.stringify(bystanderBytes)} for ${JSON.stringify(request)}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(bystanderBytes).toBe(expected);
  };

  beforeAll(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', threads });
    bystander = net.connect({ port: server.port, host: '127.0.0.1' });
    bystander.setEncoding('latin1').on('data', (text: string) => (bystanderBytes += text));
    await within(new Promise((resolve) => bystander.once('connect', resolve)), WAIT_MS, 'bystander connect');
    await bystanderCall(multibulk('SET', `bystander:${threads}`, 'kept'), '+OK\r\n');
  });

  afterAll(async () => {
    bystander.destroy();
    await within(server.close(), WAIT_MS, 'server.close()');
  });

  it('F1 random mixes of valid, mutated and hostile requests, split anywhere, then FIN: well-formed replies, a close, no hang', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ weight: 3, arbitrary: validCommand }, { weight: 1, arbitrary: hostile }), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        async (parts, cuts, flips) => {
          const bytes = Buffer.from(parts.join(''), 'latin1');
          // Mutation: a few bytes replaced anywhere.
          for (const [at, value] of flips) if (bytes.length > 0) bytes[at % bytes.length] = value;
          const outcome = await exchange(server.port, split(bytes, cuts), true);
          expect(outcome.closedByServer).toBe(true);
          const { replies, wellFormed } = scanReplies(outcome.data);
          expect(wellFormed, outcome.data.toString('latin1')).toBe(true);
          // A protocol error is the connection's last reply.
          const error = replies.findIndex((reply) => reply.startsWith('-ERR Protocol error'));
          if (error !== -1) expect(error).toBe(replies.length - 1);
        },
      ),
      { seed: FUZZ_SEED, numRuns: FUZZ_RUNS, endOnFailure: true },
    );
    await bystanderCall(multibulk('GET', `bystander:${threads}`), '$4\r\nkept\r\n');
  }, 120_000);

  it('F2 valid requests then a certain protocol break, split anywhere, no FIN: every reply, then the error, then the server closes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(validCommand, { maxLength: 6 }), brokenTail, fc.array(fc.nat(), { maxLength: 6 }), async (commands, tail, cuts) => {
        const bytes = Buffer.from(commands.join('') + tail, 'latin1');
        const outcome = await exchange(server.port, split(bytes, cuts), false);
        const { replies, wellFormed } = scanReplies(outcome.data);
        expect(wellFormed).toBe(true);
        expect(replies).toHaveLength(commands.length + 1);
        expect(replies.at(-1)).toMatch(/^-ERR Protocol error: /);
        expect(replies.slice(0, -1).some((reply) => reply.startsWith('-ERR Protocol'))).toBe(false);
      }),
      { seed: FUZZ_SEED + 1, numRuns: BROKEN_RUNS, endOnFailure: true },
    );
    await bystanderCall('PING\r\n', '+PONG\r\n');
  }, 120_000);

  it('F3 one pipeline of inline and multibulk commands split at every byte answers the same each time', async () => {
    const request = Buffer.from(`PING\r\n${multibulk('SET', `fuzz:f3:${threads}`, 'a\r\nb')}\r\nGET fuzz:f3:${threads}\r\nECHO "x\\x41" 'y z'\n${multibulk('ECHO', '')}`, 'latin1');
    const expected = `+PONG\r\n+OK\r\n$4\r\na\r\nb\r\n-ERR wrong number of arguments for 'echo' command\r\n$0\r\n\r\n`;
    for (let cut = 0; cut <= request.length; cut++) {
      const outcome = await exchange(server.port, split(request, [cut]), true);
      expect(outcome.data.toString('latin1'), `cut at ${cut}`).toBe(expected);
    }
    await bystanderCall(multibulk('GET', `bystander:${threads}`), '$4\r\nkept\r\n');
  }, 120_000);

  it('F5 a request that keeps arriving past 64 MiB is refused with an error and closed; memory stays bounded by that', async () => {
    // Five bulks of the largest size in one multibulk: every length is valid, the whole is not.
    const bulk = Buffer.alloc(16 << 20, 0x62);
    const head = Buffer.from(`*6\r\n$3\r\nSET\r\n`);
    const chunks = [head];
    for (let i = 0; i < 5; i++) chunks.push(Buffer.from(`$${bulk.length}\r\n`), bulk, Buffer.from('\r\n'));
    // 80 MiB cross loopback and the ring grows to its maximum on the way: a longer bound than the other cases.
    const outcome = await exchange(server.port, chunks, false, 45_000);
    expect(outcome.closedByServer).toBe(true);
    expect(outcome.data.toString('latin1')).toBe('-ERR Protocol error: request larger than 64 MiB\r\n');
    await bystanderCall('PING\r\n', '+PONG\r\n');
  }, 60_000);

  it('F4 a declared huge bulk that never arrives holds no more than was sent, and the connection closes on FIN', async () => {
    const outcome = await exchange(server.port, [Buffer.from(`*2\r\n$3\r\nGET\r\n$${1 << 20}\r\n`), Buffer.alloc(1000, 0x61)], true);
    expect(outcome.data.length).toBe(0);
    expect(outcome.closedByServer).toBe(true);
    await bystanderCall('PING\r\n', '+PONG\r\n');
  }, 30_000);
});
