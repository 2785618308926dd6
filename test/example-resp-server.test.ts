// The RESP server example (examples/resp-server), driven over raw TCP with hand-written RESP:
// every command with its edge cases, pipelining, split requests, protocol errors, concurrency,
// in both modes (threads 0: everything on the main thread; threads 1: parsing + keyspace on a worker).
import * as net from 'node:net';
import { threadId as mainThreadId } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../dist/examples/resp-server/server.js';
import { within } from './helpers.js';

// ---------------------------------------------------------------------------------------------
// A tiny RESP2 client. Replies: simple string → '+TEXT' (a JS string), error → '-TEXT', integer →
// number, bulk → Buffer, nil → null, array → Reply[]. Bulk (Buffer) and simple (string) never mix.
// ---------------------------------------------------------------------------------------------
type Reply = string | number | Buffer | null | Reply[];

const WAIT_MS = 10_000;

function parseReply(buf: Buffer, at: number): { value: Reply; end: number } | undefined {
  if (at >= buf.length) return undefined;
  const type = buf[at]!;
  const lineEnd = buf.indexOf('\r\n', at, 'latin1');
  if (lineEnd < 0) return undefined;
  const line = buf.toString('latin1', at + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case 0x2b /* + */:
      return { value: `+${line}`, end: next };
    case 0x2d /* - */:
      return { value: `-${line}`, end: next };
    case 0x3a /* : */: {
      if (!/^-?\d+$/.test(line)) throw new Error(`bad integer reply ${JSON.stringify(line)}`);
      return { value: Number(line), end: next };
    }
    case 0x24 /* $ */: {
      const n = Number(line);
      if (n === -1) return { value: null, end: next };
      if (!Number.isInteger(n) || n < 0) throw new Error(`bad bulk length ${JSON.stringify(line)}`);
      if (buf.length < next + n + 2) return undefined;
      if (buf[next + n] !== 0x0d || buf[next + n + 1] !== 0x0a) throw new Error('bulk reply not terminated by CRLF');
      return { value: Buffer.from(buf.subarray(next, next + n)), end: next + n + 2 };
    }
    case 0x2a /* * */: {
      const n = Number(line);
      if (n === -1) return { value: null, end: next };
      if (!Number.isInteger(n) || n < 0) throw new Error(`bad array length ${JSON.stringify(line)}`);
      const items: Reply[] = [];
      let end = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, end);
        if (item === undefined) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`unexpected reply type byte 0x${type.toString(16)} at ${at}`);
  }
}

type Arg = string | Uint8Array;

function encode(...args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : Buffer.from(arg);
    parts.push(Buffer.from(`$${bytes.length}\r\n`, 'latin1'), bytes, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

const bulk = (text: string): Buffer => Buffer.from(text, 'utf8');

class Client {
  readonly replies: Reply[] = [];
  ended = false;
  closed = false;
  error: Error | undefined;
  #buffer: Buffer = Buffer.alloc(0);
  #listeners = new Set<() => void>();
  #parseError: Error | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
      try {
        let at = 0;
        for (;;) {
          const parsed = parseReply(this.#buffer, at);
          if (parsed === undefined) break;
          this.replies.push(parsed.value);
          at = parsed.end;
        }
        this.#buffer = this.#buffer.subarray(at);
      } catch (error) {
        this.#parseError = error as Error;
      }
      this.#notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#notify();
    });
    socket.on('error', (error) => {
      this.error = error;
      this.#notify();
    });
  }

  static async connect(port: number): Promise<Client> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await within(
      new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('error', reject);
      }),
      WAIT_MS,
      'connect',
    );
    const client = new Client(socket);
    openClients.add(client);
    return client;
  }

  /** Bytes not yet parsed as a reply (a partial reply, or nothing). */
  get pendingBytes(): number {
    return this.#buffer.length;
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /** Resolves when `predicate` holds (checked now and on every socket event); rejects after ms. */
  until(predicate: () => boolean, label: string, ms = WAIT_MS): Promise<void> {
    let listener: (() => void) | undefined;
    const done = new Promise<void>((resolve, reject) => {
      listener = () => {
        if (this.#parseError !== undefined) reject(this.#parseError);
        else if (predicate()) resolve();
      };
      this.#listeners.add(listener);
      listener();
    });
    return within(done, ms, label).finally(() => this.#listeners.delete(listener!));
  }

  send(data: Buffer | string): Promise<void> {
    return within(
      new Promise<void>((resolve, reject) => {
        this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data, (error) => (error ? reject(error) : resolve()));
      }),
      WAIT_MS,
      'socket write',
    );
  }

  /** Waits for n more replies and removes them from the queue, in order. */
  async take(n: number, label = `${n} replies`): Promise<Reply[]> {
    await this.until(() => this.replies.length >= n, label);
    return this.replies.splice(0, n);
  }

  async call(...args: Arg[]): Promise<Reply> {
    expect(this.replies).toHaveLength(0);
    await this.send(encode(...args));
    const [reply] = await this.take(1, `reply to ${String(args[0])}`);
    return reply!;
  }

  /** Sends several commands in ONE write and returns their replies. */
  async pipeline(...commands: Arg[][]): Promise<Reply[]> {
    expect(this.replies).toHaveLength(0);
    await this.send(Buffer.concat(commands.map((command) => encode(...command))));
    return this.take(commands.length, `${commands.length} pipelined replies`);
  }

  /** Waits until the server closed the connection ('end' or 'close' seen). */
  waitServerClose(): Promise<void> {
    return this.until(() => this.ended || this.closed, 'the server closing the connection');
  }

  destroy(): void {
    this.socket.destroy();
    openClients.delete(this);
  }
}

const openClients = new Set<Client>();

afterEach(() => {
  for (const client of [...openClients]) client.destroy();
});

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let keyCounter = 0;
/** A key no other test uses (the main-thread keyspace is shared by every threads-0 server in this process). */
const uniqueKey = (label: string): string => `${label}:${process.pid}:${++keyCounter}`;

// ---------------------------------------------------------------------------------------------

describe.each([0, 1] as const)('RESP server with threads %i', (threads) => {
  let server: RunningServer;
  let client: Client;

  beforeAll(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', threads });
  });

  afterAll(async () => {
    for (const open of [...openClients]) open.destroy();
    await within(server.close(), WAIT_MS, 'server.close()');
  });

  const connect = (): Promise<Client> => Client.connect(server.port);

  describe('R1 basic commands', () => {
    it('R1a PING, PING message, ECHO', async () => {
      client = await connect();
      expect(await client.call('PING')).toBe('+PONG');
      expect(await client.call('PING', 'hello world')).toEqual(bulk('hello world'));
      expect(await client.call('ECHO', 'echo me')).toEqual(bulk('echo me'));
      expect(await client.call('ECHO', '')).toEqual(bulk(''));
      // Command names are case-insensitive.
      expect(await client.call('ping')).toBe('+PONG');
      expect(await client.call('eChO', 'x')).toEqual(bulk('x'));
    });

    it('R1b SET then GET, GET of a missing key is nil, SET overwrites', async () => {
      client = await connect();
      const key = uniqueKey('r1b');
      expect(await client.call('GET', key)).toBeNull();
      expect(await client.call('SET', key, 'first')).toBe('+OK');
      expect(await client.call('GET', key)).toEqual(bulk('first'));
      expect(await client.call('set', key, 'second')).toBe('+OK');
      expect(await client.call('get', key)).toEqual(bulk('second'));
      expect(await client.call('SET', key, '')).toBe('+OK');
      expect(await client.call('GET', key)).toEqual(bulk(''));
      expect(await client.call('STRLEN', key)).toBe(0);
    });

    it('R1c SET NX only sets a missing key, SET XX only an existing one', async () => {
      client = await connect();
      const key = uniqueKey('r1c');
      expect(await client.call('SET', key, 'a', 'XX')).toBeNull();
      expect(await client.call('GET', key)).toBeNull();
      expect(await client.call('SET', key, 'b', 'NX')).toBe('+OK');
      expect(await client.call('GET', key)).toEqual(bulk('b'));
      expect(await client.call('SET', key, 'c', 'nx')).toBeNull();
      expect(await client.call('GET', key)).toEqual(bulk('b'));
      expect(await client.call('SET', key, 'd', 'xx')).toBe('+OK');
      expect(await client.call('GET', key)).toEqual(bulk('d'));
    });

    it('R1d SET option errors: NX with XX, unknown option, EX without a value, non-positive or non-integer expiry', async () => {
      client = await connect();
      const key = uniqueKey('r1d');
      expect(await client.call('SET', key, 'v', 'NX', 'XX')).toBe('-ERR syntax error');
      expect(await client.call('SET', key, 'v', 'BOGUS')).toBe('-ERR syntax error');
      expect(await client.call('SET', key, 'v', 'EX')).toBe('-ERR syntax error');
      expect(await client.call('SET', key, 'v', 'EX', '10', 'PX', '100')).toBe('-ERR syntax error');
      expect(await client.call('SET', key, 'v', 'EX', '0')).toBe("-ERR invalid expire time in 'set' command");
      expect(await client.call('SET', key, 'v', 'PX', '-5')).toBe("-ERR invalid expire time in 'set' command");
      expect(await client.call('SET', key, 'v', 'EX', 'soon')).toBe("-ERR invalid expire time in 'set' command");
      // None of the failed SETs stored anything.
      expect(await client.call('GET', key)).toBeNull();
      expect(await client.call('SET', key)).toBe("-ERR wrong number of arguments for 'set' command");
    });

    it('R1e SET EX / PX set a TTL; plain SET clears it; TTL is -1 without expiry and -2 for a missing key', async () => {
      client = await connect();
      const key = uniqueKey('r1e');
      expect(await client.call('TTL', key)).toBe(-2);
      expect(await client.call('SET', key, 'v')).toBe('+OK');
      expect(await client.call('TTL', key)).toBe(-1);
      expect(await client.call('SET', key, 'v', 'EX', '100')).toBe('+OK');
      const ttl = await client.call('TTL', key);
      expect(ttl).toBeGreaterThanOrEqual(99);
      expect(ttl).toBeLessThanOrEqual(100);
      expect(await client.call('SET', key, 'v', 'PX', '30000')).toBe('+OK');
      const ttlPx = await client.call('TTL', key);
      expect(ttlPx).toBeGreaterThanOrEqual(29);
      expect(ttlPx).toBeLessThanOrEqual(30);
      // Options in either order, lower case.
      expect(await client.call('SET', key, 'w', 'xx', 'ex', '50')).toBe('+OK');
      const ttlXx = await client.call('TTL', key);
      expect(ttlXx).toBeGreaterThanOrEqual(49);
      expect(ttlXx).toBeLessThanOrEqual(50);
      expect(await client.call('SET', key, 'plain')).toBe('+OK');
      expect(await client.call('TTL', key)).toBe(-1);
    });

    it('R1f a key SET with PX 50 disappears (bounded polling, no fixed sleep)', async () => {
      client = await connect();
      const key = uniqueKey('r1f');
      const other = uniqueKey('r1f-keep');
      // SET and GET in one write: the GET runs in the same batch, well before 50 ms pass.
      const [set, get, keep] = await client.pipeline(['SET', key, 'short-lived', 'PX', '50'], ['GET', key], ['SET', other, 'stays']);
      expect(set).toBe('+OK');
      expect(get).toEqual(bulk('short-lived'));
      expect(keep).toBe('+OK');
      const setAt = Date.now();
      const deadline = setAt + 5_000;
      let value: Reply = bulk('short-lived');
      while (value !== null) {
        if (Date.now() > deadline) throw new Error('the PX 50 key did not expire within 5 s');
        await new Promise((resolve) => setTimeout(resolve, 10));
        value = await client.call('GET', key);
      }
      expect(await client.call('EXISTS', key)).toBe(0);
      expect(await client.call('TTL', key)).toBe(-2);
      expect(await client.call('GET', other)).toEqual(bulk('stays'));
    });

    it('R1g EXPIRE sets a TTL on an existing key, returns 0 for a missing one, and a non-positive EXPIRE deletes at once', async () => {
      client = await connect();
      const key = uniqueKey('r1g');
      expect(await client.call('EXPIRE', key, '100')).toBe(0);
      expect(await client.call('SET', key, 'v')).toBe('+OK');
      expect(await client.call('EXPIRE', key, '100')).toBe(1);
      const ttl = await client.call('TTL', key);
      expect(ttl).toBeGreaterThanOrEqual(99);
      expect(ttl).toBeLessThanOrEqual(100);
      expect(await client.call('EXPIRE', key, 'later')).toBe('-ERR value is not an integer or out of range');
      expect(await client.call('EXPIRE', key, '0')).toBe(1);
      expect(await client.call('GET', key)).toBeNull();
      expect(await client.call('EXISTS', key)).toBe(0);
      expect(await client.call('EXPIRE', key)).toBe("-ERR wrong number of arguments for 'expire' command");
    });

    it('R1h DEL and EXISTS count keys (duplicates counted by EXISTS, deleted once by DEL)', async () => {
      client = await connect();
      const [a, b, missing] = [uniqueKey('r1h-a'), uniqueKey('r1h-b'), uniqueKey('r1h-missing')];
      expect(await client.call('MSET', a, '1', b, '2')).toBe('+OK');
      expect(await client.call('EXISTS', a)).toBe(1);
      expect(await client.call('EXISTS', a, b, missing)).toBe(2);
      expect(await client.call('EXISTS', a, a)).toBe(2);
      expect(await client.call('DEL', a, a, missing)).toBe(1);
      expect(await client.call('EXISTS', a, b)).toBe(1);
      expect(await client.call('DEL', b)).toBe(1);
      expect(await client.call('DEL', b)).toBe(0);
      expect(await client.call('GET', b)).toBeNull();
      expect(await client.call('DEL')).toBe("-ERR wrong number of arguments for 'del' command");
      expect(await client.call('EXISTS')).toBe("-ERR wrong number of arguments for 'exists' command");
    });

    it('R1i INCR / INCRBY / DECR / DECRBY, starting from a missing key and from a stored integer', async () => {
      client = await connect();
      const key = uniqueKey('r1i');
      expect(await client.call('INCR', key)).toBe(1);
      expect(await client.call('INCR', key)).toBe(2);
      expect(await client.call('INCRBY', key, '40')).toBe(42);
      expect(await client.call('INCRBY', key, '-50')).toBe(-8);
      expect(await client.call('DECR', key)).toBe(-9);
      expect(await client.call('DECRBY', key, '-19')).toBe(10);
      expect(await client.call('GET', key)).toEqual(bulk('10'));
      const fresh = uniqueKey('r1i-fresh');
      expect(await client.call('DECR', fresh)).toBe(-1);
      const other = uniqueKey('r1i-other');
      expect(await client.call('DECRBY', other, '5')).toBe(-5);
      const stored = uniqueKey('r1i-stored');
      expect(await client.call('SET', stored, '-100')).toBe('+OK');
      expect(await client.call('INCRBY', stored, '1000')).toBe(900);
    });

    it('R1j INCR family errors: a non-integer value, a non-integer or out-of-range increment; the value is untouched', async () => {
      client = await connect();
      const key = uniqueKey('r1j');
      expect(await client.call('SET', key, 'not a number')).toBe('+OK');
      expect(await client.call('INCR', key)).toBe('-ERR value is not an integer or out of range');
      expect(await client.call('DECR', key)).toBe('-ERR value is not an integer or out of range');
      expect(await client.call('INCRBY', key, '2')).toBe('-ERR value is not an integer or out of range');
      expect(await client.call('GET', key)).toEqual(bulk('not a number'));
      const float = uniqueKey('r1j-float');
      expect(await client.call('SET', float, '1.5')).toBe('+OK');
      expect(await client.call('INCR', float)).toBe('-ERR value is not an integer or out of range');
      const counter = uniqueKey('r1j-counter');
      expect(await client.call('INCRBY', counter, 'ten')).toBe('-ERR value is not an integer or out of range');
      expect(await client.call('DECRBY', counter, '1e3')).toBe('-ERR value is not an integer or out of range');
      expect(await client.call('INCRBY', counter, '99999999999999999999')).toBe('-ERR value is not an integer or out of range');
      expect(await client.call('EXISTS', counter)).toBe(0);
      expect(await client.call('INCR')).toBe("-ERR wrong number of arguments for 'incr' command");
      expect(await client.call('INCRBY', counter)).toBe("-ERR wrong number of arguments for 'incrby' command");
      expect(await client.call('INCR', counter, 'extra')).toBe("-ERR wrong number of arguments for 'incr' command");
    });

    it('R1k INCR keeps an existing TTL', async () => {
      client = await connect();
      const key = uniqueKey('r1k');
      expect(await client.call('SET', key, '5', 'EX', '100')).toBe('+OK');
      expect(await client.call('INCR', key)).toBe(6);
      const ttl = await client.call('TTL', key);
      expect(ttl).toBeGreaterThanOrEqual(99);
      expect(ttl).toBeLessThanOrEqual(100);
    });

    it('R1l MSET / MGET, MGET with missing keys gives nils in place, MSET with an odd count is an arity error', async () => {
      client = await connect();
      const [a, b, c] = [uniqueKey('r1l-a'), uniqueKey('r1l-b'), uniqueKey('r1l-c')];
      expect(await client.call('MSET', a, 'alpha', b, 'beta')).toBe('+OK');
      expect(await client.call('MGET', a, c, b, a)).toEqual([bulk('alpha'), null, bulk('beta'), bulk('alpha')]);
      expect(await client.call('MGET', c)).toEqual([null]);
      expect(await client.call('MSET', a, 'x', b)).toBe("-ERR wrong number of arguments for 'mset' command");
      expect(await client.call('MGET', a, b)).toEqual([bulk('alpha'), bulk('beta')]);
      expect(await client.call('MSET', a)).toBe("-ERR wrong number of arguments for 'mset' command");
      expect(await client.call('MGET')).toBe("-ERR wrong number of arguments for 'mget' command");
    });

    it('R1m APPEND creates or extends, returns the new length; STRLEN', async () => {
      client = await connect();
      const key = uniqueKey('r1m');
      expect(await client.call('STRLEN', key)).toBe(0);
      expect(await client.call('APPEND', key, 'Hello')).toBe(5);
      expect(await client.call('APPEND', key, ', World')).toBe(12);
      expect(await client.call('APPEND', key, '')).toBe(12);
      expect(await client.call('GET', key)).toEqual(bulk('Hello, World'));
      expect(await client.call('STRLEN', key)).toBe(12);
      // Appending to a number makes a string that INCR no longer accepts.
      const n = uniqueKey('r1m-n');
      expect(await client.call('INCR', n)).toBe(1);
      expect(await client.call('APPEND', n, 'x')).toBe(2);
      expect(await client.call('INCR', n)).toBe('-ERR value is not an integer or out of range');
      expect(await client.call('APPEND', n, '1')).toBe(3);
      expect(await client.call('GET', n)).toEqual(bulk('1x1'));
      // APPEND keeps the TTL.
      const t = uniqueKey('r1m-ttl');
      expect(await client.call('SET', t, 'a', 'EX', '100')).toBe('+OK');
      expect(await client.call('APPEND', t, 'b')).toBe(2);
      expect(await client.call('TTL', t)).toBeGreaterThanOrEqual(99);
      expect(await client.call('STRLEN')).toBe("-ERR wrong number of arguments for 'strlen' command");
    });

    it('R1n DBSIZE and FLUSHDB', async () => {
      client = await connect();
      expect(await client.call('FLUSHDB')).toBe('+OK');
      expect(await client.call('DBSIZE')).toBe(0);
      expect(await client.call('MSET', 'db:a', '1', 'db:b', '2', 'db:c', '3')).toBe('+OK');
      expect(await client.call('SET', 'db:d', '4', 'PX', '60000')).toBe('+OK');
      expect(await client.call('DBSIZE')).toBe(4);
      expect(await client.call('DEL', 'db:a')).toBe(1);
      expect(await client.call('DBSIZE')).toBe(3);
      expect(await client.call('FLUSHDB')).toBe('+OK');
      expect(await client.call('DBSIZE')).toBe(0);
      expect(await client.call('GET', 'db:b')).toBeNull();
      expect(await client.call('DBSIZE', 'extra')).toBe("-ERR wrong number of arguments for 'dbsize' command");
    });

    it('R1o COMMAND answers an empty array; CONFIG GET x answers [x, ""]; other CONFIG forms are errors', async () => {
      client = await connect();
      expect(await client.call('COMMAND')).toEqual([]);
      expect(await client.call('COMMAND', 'DOCS')).toEqual([]);
      expect(await client.call('CONFIG', 'GET', 'save')).toEqual([bulk('save'), bulk('')]);
      expect(await client.call('config', 'get', 'appendonly')).toEqual([bulk('appendonly'), bulk('')]);
      const set = await client.call('CONFIG', 'SET', 'save', '');
      expect(typeof set === 'string' && set.startsWith('-ERR')).toBe(true);
      const bare = await client.call('CONFIG', 'GET');
      expect(typeof bare === 'string' && bare.startsWith('-ERR')).toBe(true);
      expect(await client.call('CONFIG')).toBe("-ERR wrong number of arguments for 'config' command");
      expect(await client.call('PING')).toBe('+PONG');
    });

    it('R1p wrong arity and unknown commands are error replies; the connection stays usable', async () => {
      client = await connect();
      const key = uniqueKey('r1p');
      expect(await client.call('GET')).toBe("-ERR wrong number of arguments for 'get' command");
      expect(await client.call('GET', key, 'extra')).toBe("-ERR wrong number of arguments for 'get' command");
      expect(await client.call('ECHO')).toBe("-ERR wrong number of arguments for 'echo' command");
      expect(await client.call('PING', 'a', 'b')).toBe("-ERR wrong number of arguments for 'ping' command");
      expect(await client.call('TTL')).toBe("-ERR wrong number of arguments for 'ttl' command");
      expect(await client.call('APPEND', key)).toBe("-ERR wrong number of arguments for 'append' command");
      expect(await client.call('NOSUCHCOMMAND', 'x')).toBe("-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' ");
      expect(await client.call('hgetallx', key, 'b')).toBe(`-ERR unknown command 'hgetallx', with args beginning with: '${key}' 'b' `);
      expect(await client.call('NOARGS')).toBe("-ERR unknown command 'NOARGS', with args beginning with: ");
      // Still usable, and nothing was stored by the failed commands.
      expect(await client.call('SET', key, 'ok')).toBe('+OK');
      expect(await client.call('GET', key)).toEqual(bulk('ok'));
      // Errors in the middle of a pipeline keep their place in the reply order.
      expect(await client.pipeline(['PING'], ['FOO'], ['GET'], ['GET', key], ['PING'])).toEqual([
        '+PONG',
        "-ERR unknown command 'FOO', with args beginning with: ",
        "-ERR wrong number of arguments for 'get' command",
        bulk('ok'),
        '+PONG',
      ]);
      expect(client.ended || client.closed).toBe(false);
    });

    it('R1q binary-safe keys and values: CR LF, zero bytes, every byte value, RESP-looking text', async () => {
      client = await connect();
      const all = Buffer.alloc(256);
      for (let i = 0; i < 256; i++) all[i] = i;
      const values = [
        Buffer.from('line one\r\nline two\r\n', 'latin1'),
        Buffer.from([0, 0, 0, 13, 10, 0]),
        Buffer.from('\r\n'),
        Buffer.from('*1\r\n$4\r\nPING\r\n'),
        Buffer.from('$-1\r\n'),
        all,
      ];
      for (const [i, value] of values.entries()) {
        const key = Buffer.concat([Buffer.from(uniqueKey('r1q')), Buffer.from([0, 13, 10, 255, i])]);
        expect(await client.call('SET', key, value)).toBe('+OK');
        expect(await client.call('GET', key)).toEqual(value);
        expect(await client.call('STRLEN', key)).toBe(value.length);
        expect(await client.call('EXISTS', key)).toBe(1);
        // A key differing only in its last byte is another key.
        const sibling = Buffer.from(key);
        sibling[sibling.length - 1] = 200;
        expect(await client.call('GET', sibling)).toBeNull();
        expect(await client.call('ECHO', value)).toEqual(value);
        expect(await client.call('APPEND', key, Buffer.from([0, 13]))).toBe(value.length + 2);
        expect(await client.call('GET', key)).toEqual(Buffer.concat([value, Buffer.from([0, 13])]));
      }
    });

    it('R1s values of growing size on one connection round-trip while its rings grow under the parser', async () => {
      client = await connect();
      for (const size of [1000, 5000, 70_000, 1 << 20]) {
        const key = uniqueKey(`r1s${size}`);
        const value = Buffer.alloc(size);
        for (let i = 0; i < size; i++) value[i] = (i * 17 + size) & 0xff;
        expect(await client.call('SET', key, value)).toBe('+OK');
        const got = await client.call('GET', key);
        expect(Buffer.isBuffer(got) && (got as Buffer).equals(value)).toBe(true);
        expect(await client.call('DEL', key)).toBe(1);
      }
    });

    it('R1r a value of exactly 16 MiB (the bulk limit) round-trips', async () => {
      client = await connect();
      const key = uniqueKey('r1r');
      const value = Buffer.alloc(16 << 20);
      for (let i = 0; i < value.length; i++) value[i] = (i * 31 + (i >> 8)) & 0xff;
      expect(await client.call('SET', key, value)).toBe('+OK');
      const got = await client.call('GET', key);
      expect(Buffer.isBuffer(got)).toBe(true);
      expect((got as Buffer).length).toBe(value.length);
      expect((got as Buffer).equals(value)).toBe(true);
      expect(await client.call('STRLEN', key)).toBe(16 << 20);
      expect(await client.call('DEL', key)).toBe(1);
    });
  });

  describe('R2 pipelining and framing', () => {
    it('R2a 1000 INCRs in one write are answered 1..1000 in order', async () => {
      client = await connect();
      const key = uniqueKey('r2a');
      const count = 1000;
      const payload = Buffer.concat(Array.from({ length: count }, () => encode('INCR', key)));
      await client.send(payload);
      const replies = await client.take(count);
      expect(replies).toEqual(Array.from({ length: count }, (_, i) => i + 1));
      expect(await client.call('GET', key)).toEqual(bulk(String(count)));
    });

    it('R2b a mixed pipeline in one write keeps the order of replies', async () => {
      client = await connect();
      const key = uniqueKey('r2b');
      const replies = await client.pipeline(
        ['SET', key, '10'],
        ['GET', key],
        ['INCRBY', key, '5'],
        ['APPEND', key, '0'],
        ['GET', key],
        ['DEL', key],
        ['GET', key],
        ['ECHO', 'end'],
      );
      expect(replies).toEqual(['+OK', bulk('10'), 15, 3, bulk('150'), 1, null, bulk('end')]);
    });

    it('R2c a command written byte by byte (awaiting between bytes) is answered once, whole', async () => {
      client = await connect();
      const key = uniqueKey('r2c');
      const value = Buffer.from('split\r\nvalue\0with\r\nCRLF', 'latin1');
      const command = encode('SET', key, value);
      for (let i = 0; i < command.length; i++) {
        await client.send(command.subarray(i, i + 1));
        await nextTurn();
        // Nothing may be answered before the last byte arrived.
        if (i < command.length - 1) expect(client.replies).toHaveLength(0);
      }
      expect(await client.take(1)).toEqual(['+OK']);
      const get = encode('GET', key);
      for (let i = 0; i < get.length; i++) {
        await client.send(get.subarray(i, i + 1));
        await nextTurn();
      }
      expect(await client.take(1)).toEqual([value]);
    });

    it('R2d a two-command request split at every byte boundary (two writes) is answered correctly', async () => {
      client = await connect();
      const key = uniqueKey('r2d');
      const request = Buffer.concat([encode('INCR', key), encode('ECHO', 'a\r\nb')]);
      for (let cut = 1; cut < request.length; cut++) {
        await client.send(request.subarray(0, cut));
        await nextTurn();
        await client.send(request.subarray(cut));
        expect(await client.take(2, `replies for cut ${cut}`)).toEqual([cut, bulk('a\r\nb')]);
      }
    });

    it('R2e a 1000-command pipeline delivered in 7-byte pieces is answered in order', async () => {
      client = await connect();
      const key = uniqueKey('r2e');
      const payload = Buffer.concat(Array.from({ length: 1000 }, (_, i) => encode('INCRBY', key, String(i % 3))));
      for (let at = 0; at < payload.length; at += 7) await client.send(payload.subarray(at, at + 7));
      const replies = await client.take(1000);
      let expected = 0;
      for (const [i, reply] of replies.entries()) {
        expected += i % 3;
        expect(reply).toBe(expected);
      }
    });
  });

  describe('R3 protocol errors', () => {
    const malformed: Array<[string, Buffer]> = [
      ['inline: unbalanced double quote', Buffer.from('SET k "abc\r\n')],
      ['inline: unbalanced single quote', Buffer.from("SET k 'abc\r\n")],
      ['inline: a closing quote followed by a non-space', Buffer.from('GET "a"b\r\n')],
      ['inline: a line over 64 KiB without a newline', Buffer.from('x'.repeat(64 * 1024 + 1))],
      ["'$' expected, ':' found", Buffer.from('*1\r\n:5\r\n')],
      ["'$' expected in the second argument", Buffer.from('*2\r\n$3\r\nGET\r\n*1\r\n')],
      ['negative bulk length', Buffer.from('*1\r\n$-1\r\n')],
      ['bulk length over 16 MiB', Buffer.from(`*1\r\n$${(16 << 20) + 1}\r\n`)],
      ['non-numeric multibulk length', Buffer.from('*x\r\n')],
      ['multibulk length below -1', Buffer.from('*-2\r\n')],
      ['bulk not followed by CRLF', Buffer.from('*1\r\n$3\r\nabcde\r\n')],
      // Exactly one byte more than the line limit after the type byte, with no CRLF: all of it must be read.
      ['a multibulk length line over 64 KiB without CRLF', Buffer.from(`*${'1'.repeat(64 * 1024 + 1)}`)],
      ['a bulk length line over 64 KiB without CRLF', Buffer.from(`*1\r\n$${'2'.repeat(64 * 1024 + 1)}`)],
    ];

    it.each(malformed)('R3a %s: -ERR Protocol error, then the server closes; a concurrent client is unaffected', async (_label, bytes) => {
      const bystander = await connect();
      const key = uniqueKey('r3a');
      expect(await bystander.call('SET', key, 'before')).toBe('+OK');
      const bad = await connect();
      await bad.send(bytes);
      await bad.waitServerClose();
      const replies = await bad.take(1, 'the protocol error reply');
      expect(replies[0]).toEqual(expect.stringMatching(/^-ERR Protocol error/));
      expect(bad.replies).toHaveLength(0);
      expect(bad.pendingBytes).toBe(0);
      // The other connection keeps working.
      expect(await bystander.call('GET', key)).toEqual(bulk('before'));
      expect(await bystander.call('INCR', uniqueKey('r3a-n'))).toBe(1);
      expect(await bystander.call('PING')).toBe('+PONG');
      // And new connections are accepted.
      const late = await connect();
      expect(await late.call('GET', key)).toEqual(bulk('before'));
    });

    it('R3c an empty (*0) or null (*-1) array is skipped as Redis does; the next command is answered', async () => {
      const client = await connect();
      await client.send(Buffer.concat([Buffer.from('*0\r\n*-1\r\n'), encode('PING')]));
      const replies = await client.take(1);
      expect(replies[0]).toBe('+PONG');
      expect(await client.call('PING')).toBe('+PONG');
    });

    it('R3b good commands before a malformed one in the same write are answered first, then the error', async () => {
      const bad = await connect();
      const key = uniqueKey('r3b');
      await bad.send(Buffer.concat([encode('SET', key, 'v'), encode('PING'), Buffer.from('*1\r\n:1\r\n'), encode('SET', key, 'after')]));
      await bad.waitServerClose();
      const replies = await bad.take(3);
      expect(replies[0]).toBe('+OK');
      expect(replies[1]).toBe('+PONG');
      expect(replies[2]).toEqual(expect.stringMatching(/^-ERR Protocol error/));
      expect(bad.replies).toHaveLength(0);
      // The command after the garbage was not executed.
      const other = await connect();
      expect(await other.call('GET', key)).toEqual(bulk('v'));
    });

    it('R3c the protocol error text names the problem', async () => {
      const cases: Array<[Buffer, RegExp]> = [
        [Buffer.from('SET x "y\r\n'), /^-ERR Protocol error: unbalanced quotes in request$/],
        [Buffer.from('x'.repeat(64 * 1024 + 1)), /^-ERR Protocol error: too big inline request$/],
        [Buffer.from('*1\r\n:1\r\n'), /^-ERR Protocol error: expected '\$', got ':'$/],
        [Buffer.from('*1\r\n$-5\r\n'), /^-ERR Protocol error: invalid bulk length$/],
      ];
      for (const [bytes, pattern] of cases) {
        const bad = await connect();
        await bad.send(bytes);
        await bad.waitServerClose();
        expect((await bad.take(1))[0]).toMatch(pattern);
      }
    });
  });

  describe('R7 inline commands', () => {
    it('R7a inline PING, an inline command with arguments, CRLF or bare LF endings, empty lines skipped', async () => {
      const c = await connect();
      const key = uniqueKey('r7a');
      await c.send(`PING\r\n\r\n\n  \r\nSET ${key} hello\nGET ${key}\r\n   ECHO   spaced    \r\n`);
      expect(await c.take(4)).toEqual(['+PONG', '+OK', bulk('hello'), bulk('spaced')]);
      // Inline and multibulk mix on one connection.
      await c.send(Buffer.concat([Buffer.from('PING\r\n'), encode('ECHO', 'bulk'), Buffer.from('PING x\r\n')]));
      expect(await c.take(3)).toEqual(['+PONG', bulk('bulk'), bulk('x')]);
    });

    it('R7b quotes as Redis splits them: "..." with \\n \\t \\xHH escapes, \'...\' literal, adjacent quotes', async () => {
      const c = await connect();
      const key = uniqueKey('r7b');
      await c.send(`SET ${key} "a b\\n\\t\\x41\\x7a\\"\\\\\\q"\r\nGET ${key}\r\n`);
      expect(await c.take(2)).toEqual(['+OK', Buffer.from('a b\n\tAz"\\q', 'latin1')]);
      await c.send(`SET ${key} 'it''s' \r\n`);
      // 'it' followed directly by a quote: Redis's rule (a closing quote must be followed by a space).
      expect(await c.take(1)).toEqual(['-ERR Protocol error: unbalanced quotes in request']);
      await c.waitServerClose();
      const d = await connect();
      await d.send(`SET ${key} 'x \\' \\n y'\r\nGET ${key}\r\nECHO ""\r\nECHO "\\xZZ"\r\n`);
      expect(await d.take(4)).toEqual(['+OK', Buffer.from("x ' \\n y", 'latin1'), bulk(''), bulk('xZZ')]);
    });

    it('R7c inline errors read as Redis: unknown command, wrong arity; the connection stays open', async () => {
      const c = await connect();
      await c.send('NOPE a b\r\nGET\r\nECHO a b\r\nPING\r\n');
      expect(await c.take(4)).toEqual([
        "-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' ",
        "-ERR wrong number of arguments for 'get' command",
        "-ERR wrong number of arguments for 'echo' command",
        '+PONG',
      ]);
      // An error quoting the client's bytes never carries a CR or LF (it would end the reply early).
      expect(await c.call('NOPE', 'a\r\nb')).toBe("-ERR unknown command 'NOPE', with args beginning with: 'a  b' ");
      expect(await c.call('PING')).toBe('+PONG');
    });

    it('R7d an inline command split at every byte boundary is answered once, whole', async () => {
      const key = uniqueKey('r7d');
      const request = Buffer.from(`SET ${key} "v\\x31"\r\nGET ${key}\r\n`);
      for (let cut = 1; cut < request.length; cut++) {
        const c = await connect();
        await c.send(request.subarray(0, cut));
        await nextTurn();
        await c.send(request.subarray(cut));
        expect(await c.take(2)).toEqual(['+OK', bulk('v1')]);
        c.destroy();
      }
    });
  });

  describe('R8 data types and the commands around them', () => {
    const WRONGTYPE = '-WRONGTYPE Operation against a key holding the wrong kind of value';

    it('R8a lists: LPUSH/RPUSH/LLEN/LRANGE with negative indices/LINDEX/LPOP/RPOP with counts; an emptied list is gone', async () => {
      const c = await connect();
      const key = uniqueKey('r8a');
      expect(await c.call('RPUSH', key, 'b', 'c')).toBe(2);
      expect(await c.call('LPUSH', key, 'a', 'z')).toBe(4);
      expect(await c.call('LRANGE', key, '0', '-1')).toEqual([bulk('z'), bulk('a'), bulk('b'), bulk('c')]);
      expect(await c.call('LRANGE', key, '-2', '100')).toEqual([bulk('b'), bulk('c')]);
      expect(await c.call('LRANGE', key, '3', '1')).toEqual([]);
      expect(await c.call('LINDEX', key, '-1')).toEqual(bulk('c'));
      expect(await c.call('LINDEX', key, '9')).toBeNull();
      expect(await c.call('LLEN', key)).toBe(4);
      expect(await c.call('LPOP', key)).toEqual(bulk('z'));
      expect(await c.call('RPOP', key, '2')).toEqual([bulk('c'), bulk('b')]);
      expect(await c.call('LPOP', key, '5')).toEqual([bulk('a')]);
      expect(await c.call('TYPE', key)).toBe('+none');
      expect(await c.call('LPOP', key)).toBeNull();
      expect(await c.call('LLEN', key)).toBe(0);
      expect(await c.call('LPOP', key, 'x')).toBe('-ERR value is out of range, must be positive');
    });

    it('R8b sets: SADD/SCARD/SISMEMBER/SMEMBERS/SREM/SPOP', async () => {
      const c = await connect();
      const key = uniqueKey('r8b');
      expect(await c.call('SADD', key, 'a', 'b', 'a')).toBe(2);
      expect(await c.call('SADD', key, 'c')).toBe(1);
      expect(await c.call('SCARD', key)).toBe(3);
      expect(await c.call('SISMEMBER', key, 'b')).toBe(1);
      expect(await c.call('SISMEMBER', key, 'x')).toBe(0);
      const members = (await c.call('SMEMBERS', key)) as Buffer[];
      expect(members.map(String).sort()).toEqual(['a', 'b', 'c']);
      expect(await c.call('SREM', key, 'c', 'x')).toBe(1);
      const popped = String(await c.call('SPOP', key));
      expect(['a', 'b']).toContain(popped);
      const rest = (await c.call('SPOP', key, '5')) as Buffer[];
      expect(rest.map(String)).toEqual([popped === 'a' ? 'b' : 'a']);
      expect(await c.call('SPOP', key)).toBeNull();
      expect(await c.call('TYPE', key)).toBe('+none');
    });

    it('R8c hashes: HSET (several fields)/HGET/HGETALL/HDEL/HLEN/HINCRBY and their errors', async () => {
      const c = await connect();
      const key = uniqueKey('r8c');
      expect(await c.call('HSET', key, 'f1', 'v1', 'f2', 'v2')).toBe(2);
      expect(await c.call('HSET', key, 'f1', 'w1')).toBe(0);
      expect(await c.call('HSET', key, 'f1')).toBe("-ERR wrong number of arguments for 'hset' command");
      expect(await c.call('HSET', key, 'f1', 'v', 'f2')).toBe("-ERR wrong number of arguments for 'hset' command");
      expect(await c.call('HGET', key, 'f1')).toEqual(bulk('w1'));
      expect(await c.call('HGET', key, 'nope')).toBeNull();
      expect(await c.call('HGETALL', key)).toEqual([bulk('f1'), bulk('w1'), bulk('f2'), bulk('v2')]);
      expect(await c.call('HINCRBY', key, 'n', '5')).toBe(5);
      expect(await c.call('HINCRBY', key, 'n', '-7')).toBe(-2);
      expect(await c.call('HINCRBY', key, 'f1', '1')).toBe('-ERR hash value is not an integer');
      expect(await c.call('HINCRBY', key, 'n', 'x')).toBe('-ERR value is not an integer or out of range');
      expect(await c.call('HDEL', key, 'f1', 'f2', 'nope')).toBe(2);
      expect(await c.call('HLEN', key)).toBe(1);
      expect(await c.call('TYPE', key)).toBe('+hash');
    });

    it('R8d sorted sets: ZADD (NX/XX/CH, inf)/ZSCORE/ZCARD/ZRANGE WITHSCORES/ZPOPMIN, ordered by score then member', async () => {
      const c = await connect();
      const key = uniqueKey('r8d');
      expect(await c.call('ZADD', key, '2', 'b', '1', 'a', '2', 'aa')).toBe(3);
      expect(await c.call('ZADD', key, '1.5', 'b')).toBe(0);
      expect(await c.call('ZADD', key, 'CH', '3', 'b')).toBe(1);
      expect(await c.call('ZADD', key, 'NX', '9', 'b', '-inf', 'low')).toBe(1);
      expect(await c.call('ZADD', key, 'XX', '7', 'new')).toBe(0);
      expect(await c.call('ZADD', key, 'NX', 'XX', '1', 'a')).toBe('-ERR XX and NX options at the same time are not compatible');
      expect(await c.call('ZADD', key, 'x', 'a')).toBe('-ERR value is not a valid float');
      expect(await c.call('ZADD', key, '1', 'a', '2')).toBe('-ERR syntax error');
      expect(await c.call('ZSCORE', key, 'b')).toEqual(bulk('3'));
      expect(await c.call('ZSCORE', key, 'low')).toEqual(bulk('-inf'));
      expect(await c.call('ZSCORE', key, 'new')).toBeNull();
      expect(await c.call('ZCARD', key)).toBe(4);
      expect(await c.call('ZRANGE', key, '0', '-1')).toEqual([bulk('low'), bulk('a'), bulk('aa'), bulk('b')]);
      expect(await c.call('ZRANGE', key, '1', '2', 'WITHSCORES')).toEqual([bulk('a'), bulk('1'), bulk('aa'), bulk('2')]);
      expect(await c.call('ZRANGE', key, '0', '1', 'NOPE')).toBe('-ERR syntax error');
      expect(await c.call('ZPOPMIN', key)).toEqual([bulk('low'), bulk('-inf')]);
      expect(await c.call('ZPOPMIN', key, '2')).toEqual([bulk('a'), bulk('1'), bulk('aa'), bulk('2')]);
      expect(await c.call('TYPE', key)).toBe('+zset');
    });

    it('R8e WRONGTYPE for a command on a key of another type, both ways; the value is untouched', async () => {
      const c = await connect();
      const list = uniqueKey('r8e-list');
      const text = uniqueKey('r8e-string');
      expect(await c.call('RPUSH', list, 'x')).toBe(1);
      expect(await c.call('SET', text, 'v')).toBe('+OK');
      for (const command of [['GET', list], ['INCR', list], ['APPEND', list, 'y'], ['SADD', list, 'm'], ['HSET', list, 'f', 'v'], ['ZADD', list, '1', 'm'], ['HGET', list, 'f'], ['ZRANGE', list, '0', '1'], ['GETSET', list, 'v']]) {
        expect(await c.call(...command)).toBe(WRONGTYPE);
      }
      for (const command of [['LPUSH', text, 'x'], ['LRANGE', text, '0', '1'], ['SMEMBERS', text], ['HGETALL', text], ['ZCARD', text], ['LLEN', text]]) {
        expect(await c.call(...command)).toBe(WRONGTYPE);
      }
      expect(await c.call('LRANGE', list, '0', '-1')).toEqual([bulk('x')]);
      expect(await c.call('GET', text)).toEqual(bulk('v'));
      expect(await c.call('TYPE', list)).toBe('+list');
      expect(await c.call('TYPE', text)).toBe('+string');
      // SET replaces a key of any type, as Redis's does.
      expect(await c.call('SET', list, 'now a string')).toBe('+OK');
      expect(await c.call('GET', list)).toEqual(bulk('now a string'));
    });

    it('R8f strings and expiry: SETNX, SETEX, GETSET, GETDEL, PEXPIRE, PTTL, PERSIST', async () => {
      const c = await connect();
      const key = uniqueKey('r8f');
      expect(await c.call('SETNX', key, 'a')).toBe(1);
      expect(await c.call('SETNX', key, 'b')).toBe(0);
      expect(await c.call('GETSET', key, 'c')).toEqual(bulk('a'));
      expect(await c.call('GET', key)).toEqual(bulk('c'));
      expect(await c.call('PTTL', key)).toBe(-1);
      expect(await c.call('PEXPIRE', key, '100000')).toBe(1);
      const pttl = (await c.call('PTTL', key)) as number;
      expect(pttl).toBeGreaterThan(90_000);
      expect(pttl).toBeLessThanOrEqual(100_000);
      expect(await c.call('PERSIST', key)).toBe(1);
      expect(await c.call('PERSIST', key)).toBe(0);
      expect(await c.call('PTTL', key)).toBe(-1);
      expect(await c.call('SETEX', key, '100', 'd')).toBe('+OK');
      expect(await c.call('TTL', key)).toBeGreaterThanOrEqual(99);
      expect(await c.call('SETEX', key, '0', 'd')).toBe("-ERR invalid expire time in 'setex' command");
      expect(await c.call('SETEX', key, 'x', 'd')).toBe('-ERR value is not an integer or out of range');
      expect(await c.call('GETDEL', key)).toEqual(bulk('d'));
      expect(await c.call('GETDEL', key)).toBeNull();
      expect(await c.call('PTTL', key)).toBe(-2);
      expect(await c.call('PEXPIRE', key, '10')).toBe(0);
      expect(await c.call('GETSET', key, 'e')).toBeNull();
    });

    it('R8g KEYS and SCAN with MATCH/COUNT/TYPE walk every key once, ending at cursor 0', async () => {
      const c = await connect();
      const prefix = uniqueKey('r8g');
      const names = Array.from({ length: 25 }, (_, i) => `${prefix}:${i}`);
      for (const name of names) expect(await c.call('SET', name, 'v')).toBe('+OK');
      expect(await c.call('RPUSH', `${prefix}:list`, 'x')).toBe(1);
      const keys = (await c.call('KEYS', `${prefix}:*`)) as Buffer[];
      expect(keys.map(String).sort()).toEqual([...names, `${prefix}:list`].sort());
      expect(((await c.call('KEYS', `${prefix}:1?`)) as Buffer[]).map(String).sort()).toEqual(names.slice(10, 20).sort());
      expect(((await c.call('KEYS', `${prefix}:[2-3]`)) as Buffer[]).map(String).sort()).toEqual([`${prefix}:2`, `${prefix}:3`]);
      const seen: string[] = [];
      let cursor = '0';
      let rounds = 0;
      do {
        const [next, batch] = (await c.call('SCAN', cursor, 'MATCH', `${prefix}:*`, 'COUNT', '7', 'TYPE', 'string')) as [Buffer, Buffer[]];
        cursor = String(next);
        seen.push(...batch.map(String));
        expect(++rounds).toBeLessThan(10_000);
      } while (cursor !== '0');
      expect(seen.sort()).toEqual([...names].sort());
      expect(await c.call('SCAN', 'x')).toBe('-ERR invalid cursor');
      expect(await c.call('SCAN', '0', 'COUNT', '0')).toBe('-ERR syntax error');
      expect(await c.call('SCAN', '0', 'BOGUS', '1')).toBe('-ERR syntax error');
    });

    it('R8h SELECT 0, INFO sections, CLIENT SETNAME/GETNAME per connection, HELLO 2, syntax errors', async () => {
      const c = await connect();
      expect(await c.call('SELECT', '0')).toBe('+OK');
      expect(await c.call('SELECT', '1')).toBe('-ERR DB index is out of range');
      expect(await c.call('SELECT', 'x')).toBe('-ERR value is not an integer or out of range');
      const key = uniqueKey('r8h');
      expect(await c.call('SET', key, 'v', 'PX', '100000')).toBe('+OK');
      const all = String(await c.call('INFO'));
      for (const header of ['# Server', '# Clients', '# Memory', '# Keyspace']) expect(all).toContain(`${header}\r\n`);
      expect(all).toMatch(/\r\nredis_version:7\.\d+\.\d+\r\n/);
      expect(all).toMatch(/\r\nconnected_clients:[1-9]\d*\r\n/);
      expect(all).toMatch(/\r\nused_memory:\d+\r\n/);
      expect(all).toMatch(/\r\ndb0:keys=[1-9]\d*,expires=[1-9]\d*,avg_ttl=\d+\r\n/);
      const keyspaceOnly = String(await c.call('INFO', 'keyspace'));
      expect(keyspaceOnly.startsWith('# Keyspace\r\ndb0:keys=')).toBe(true);
      expect(keyspaceOnly).not.toContain('# Server');
      expect(await c.call('CLIENT', 'GETNAME')).toBeNull();
      expect(await c.call('CLIENT', 'SETNAME', 'worker-1')).toBe('+OK');
      expect(await c.call('CLIENT', 'GETNAME')).toEqual(bulk('worker-1'));
      expect(await c.call('CLIENT', 'SETNAME', 'has space')).toBe('-ERR Client names cannot contain spaces, newlines or special characters.');
      const other = await connect();
      expect(await other.call('CLIENT', 'GETNAME')).toBeNull();
      expect(await c.call('CLIENT', 'GETNAME')).toEqual(bulk('worker-1'));
      expect(await c.call('CLIENT', 'NOPE')).toBe("-ERR unknown subcommand 'NOPE'. Try CLIENT HELP.");
      const hello = (await c.call('HELLO', '2')) as Reply[];
      expect(hello.slice(0, 6)).toEqual([bulk('server'), bulk('redis'), bulk('version'), bulk('7.0.0'), bulk('proto'), 2]);
      expect(await c.call('HELLO', '3')).toBe('-NOPROTO unsupported protocol version');
      expect(await c.call('SET', key, 'v', 'BOGUS')).toBe('-ERR syntax error');
    });
  });

  describe('R4 concurrency and connection lifecycle', () => {
    it('R4a 50 concurrent clients each doing 200 INCRs on their own key: each ends at 200, DBSIZE matches', async () => {
      const setup = await connect();
      expect(await setup.call('FLUSHDB')).toBe('+OK');
      const clients = await Promise.all(Array.from({ length: 50 }, () => connect()));
      const prefix = uniqueKey('r4a');
      await Promise.all(
        clients.map(async (c, index) => {
          const key = `${prefix}:${index}`;
          for (let i = 1; i <= 200; i++) {
            const reply = await c.call('INCR', key);
            if (reply !== i) throw new Error(`client ${index}: INCR #${i} answered ${String(reply)}`);
          }
        }),
      );
      const keys = clients.map((_, index) => `${prefix}:${index}`);
      expect(await setup.call('MGET', ...keys)).toEqual(keys.map(() => bulk('200')));
      expect(await setup.call('DBSIZE')).toBe(50);
    }, 60_000);

    it('R4b 20 concurrent clients pipelining 500 INCRs each into one shared key: the total is exact', async () => {
      const key = uniqueKey('r4b');
      const clients = await Promise.all(Array.from({ length: 20 }, () => connect()));
      const payload = Buffer.concat(Array.from({ length: 500 }, () => encode('INCR', key)));
      const all = await Promise.all(
        clients.map(async (c) => {
          await c.send(payload);
          return c.take(500);
        }),
      );
      // Each client sees strictly increasing values (its own replies are in order).
      for (const replies of all as number[][]) {
        for (let i = 1; i < replies.length; i++) expect(replies[i]! > replies[i - 1]!).toBe(true);
      }
      const seen = new Set(all.flat());
      expect(seen.size).toBe(20 * 500);
      expect(Math.max(...(all.flat() as number[]))).toBe(20 * 500);
      const check = await connect();
      expect(await check.call('GET', key)).toEqual(bulk(String(20 * 500)));
    }, 60_000);

    it('R4c QUIT replies +OK and the server closes; commands after QUIT in the same write are not run', async () => {
      const c = await connect();
      const key = uniqueKey('r4c');
      await c.send(Buffer.concat([encode('SET', key, 'one'), encode('QUIT'), encode('SET', key, 'two')]));
      await c.waitServerClose();
      expect(await c.take(2)).toEqual(['+OK', '+OK']);
      expect(c.replies).toHaveLength(0);
      const other = await connect();
      expect(await other.call('GET', key)).toEqual(bulk('one'));
      const q = await connect();
      expect(await q.call('quit')).toBe('+OK');
      await q.waitServerClose();
    });

    it('R4d a client that half-closes (FIN) after its requests still gets every reply', async () => {
      const c = await connect();
      const key = uniqueKey('r4d');
      const payload = Buffer.concat(Array.from({ length: 100 }, () => encode('INCR', key)));
      await new Promise<void>((resolve) => c.socket.end(payload, () => resolve()));
      await c.waitServerClose();
      const replies = await c.take(100);
      expect(replies).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    });

    it('R4e a client that resets mid-request does not disturb the server', async () => {
      const c = await connect();
      await c.send(Buffer.from('*3\r\n$3\r\nSET\r\n$3\r\nabc\r\n$100\r\npartial'));
      c.socket.resetAndDestroy();
      await c.until(() => c.closed, 'the reset socket closing');
      const other = await connect();
      expect(await other.call('PING')).toBe('+PONG');
      expect(await other.call('GET', 'abc')).toBeNull();
    });

    if (threads === 1) {
      it('R5a threads 1: parsing and the keyspace run on the scheduler worker, not the main thread', async () => {
        expect(server.scheduler).not.toBeNull();
        const scheduler = server.scheduler!;
        expect(scheduler.threadId).not.toBe(mainThreadId);
        const c = await connect();
        expect(await c.call('PING')).toBe('+PONG');
        const report = await within(
          scheduler.run<{ threadId: number; commands: number; connections: number; cpuMs: number }>('report'),
          WAIT_MS,
          'report',
        );
        expect(report.threadId).toBe(scheduler.threadId);
        expect(report.threadId).not.toBe(mainThreadId);
        expect(report.commands).toBeGreaterThan(0);
        expect(report.connections).toBeGreaterThanOrEqual(1);
        expect(report.cpuMs).toBeGreaterThanOrEqual(0);
        // Closing every client brings the worker's connection count back to 0.
        for (const open of [...openClients]) open.destroy();
        const deadline = Date.now() + WAIT_MS;
        let connections = report.connections;
        while (connections !== 0) {
          if (Date.now() > deadline) throw new Error(`the worker still reports ${connections} connections`);
          await new Promise((resolve) => setTimeout(resolve, 10));
          connections = (await scheduler.run<{ connections: number }>('report')).connections;
        }
      });
    } else {
      it('R5b threads 0: there is no scheduler', () => {
        expect(server.scheduler).toBeNull();
      });
    }
  });
});

describe('R6 server lifecycle', () => {
  it('R6a close() ends open connections and stops accepting; the port is free again', async () => {
    for (const threads of [0, 1] as const) {
      const server = await startServer({ port: 0, host: '127.0.0.1', threads });
      const c = await Client.connect(server.port);
      expect(await c.call('PING')).toBe('+PONG');
      await within(server.close(), WAIT_MS, 'server.close()');
      await c.until(() => c.closed, 'the client closing after server.close()');
      await expect(Client.connect(server.port)).rejects.toThrow();
    }
  });

  it('R6b startServer rejects threads other than 0 or 1', async () => {
    await expect(startServer({ port: 0, threads: 2 as 0 })).rejects.toThrow(RangeError);
  });
});
