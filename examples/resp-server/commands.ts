// The commands the RESP server understands, each writing its reply into the batch's ReplyBuffer.
import { type Keyspace, ListValue, SortedSet, typeOf, WrongTypeError } from './keyspace.js';
import type { Command, ReplyBuffer } from './resp.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const OK = 'OK';

/** What the connection does after a command: keep going, or reply and close (QUIT). */
export const enum After {
  Continue,
  Close,
}

/** What one connection carries between its commands. */
export interface Session {
  /** CLIENT SETNAME's name, or null. */
  name: Uint8Array | null;
}

/** What INFO reports about the server as a whole (on the thread that owns the keyspace). */
export const stats = { connections: 0, commands: 0, startedAt: Date.now() };

type Handler = (args: Command, keyspace: Keyspace, reply: ReplyBuffer, session: Session) => After | void;

const key = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
const text = (bytes: Uint8Array): string => decoder.decode(bytes);

function integerArgument(bytes: Uint8Array): number | null {
  const value = text(bytes);
  if (!/^-?\d{1,19}$/.test(value)) return null;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : null;
}

const NOT_INTEGER = 'ERR value is not an integer or out of range';
const SYNTAX = 'ERR syntax error';
const SCAN_DEFAULT_COUNT = 10;
const UNKNOWN_ARGS_SHOWN = 128;
/** The Redis version this server answers as, for clients that check it (HELLO, INFO). */
const REDIS_VERSION = '7.0.0';

const bytesOf = (value: string): Uint8Array => Buffer.from(value, 'latin1');

function bulkOrNil(reply: ReplyBuffer, value: Uint8Array | undefined): void {
  if (value === undefined) reply.nil();
  else reply.bulk(value);
}

/** A score as Redis parses one: a decimal or inf/+inf/-inf; null for anything else (NaN included). */
function scoreArgument(bytes: Uint8Array): number | null {
  const value = text(bytes).toLowerCase();
  if (value === 'inf' || value === '+inf') return Infinity;
  if (value === '-inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(value)) return null;
  const score = Number(value);
  return Number.isFinite(score) ? score : null;
}

const formatScore = (score: number): string => (score === Infinity ? 'inf' : score === -Infinity ? '-inf' : String(score));

/** [from, to) of a start/stop pair with Redis's negative indices, clamped to a length. */
function range(start: number, stop: number, length: number): [number, number] {
  const from = Math.max(0, start < 0 ? length + start : start);
  const to = Math.min(length, (stop < 0 ? length + stop : stop) + 1);
  return from < to ? [from, to] : [0, 0];
}

/** A Redis glob (* ? [abc] [^a-z] \\x) as a RegExp over a key's latin1 string. */
export function globToRegExp(pattern: Uint8Array): RegExp {
  const source = key(pattern);
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '*') out += '[\\s\\S]*';
    else if (c === '?') out += '[\\s\\S]';
    else if (c === '\\' && i + 1 < source.length) out += escapeRegExp(source[++i]!);
    else if (c === '[') {
      const close = source.indexOf(']', i + 2);
      if (close < 0) {
        out += escapeRegExp(c);
        continue;
      }
      let body = source.slice(i + 1, close);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]]/g, '\\$&')}]`;
      i = close;
    } else out += escapeRegExp(c);
  }
  return new RegExp(`^${out}$`);
}

const escapeRegExp = (c: string): string => c.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');

function push(args: Command, keyspace: Keyspace, reply: ReplyBuffer, left: boolean): void {
  const list = keyspace.typed(key(args[1]!), 'list', (): ListValue => new ListValue())!;
  for (let i = 2; i < args.length; i++) {
    const value = new Uint8Array(args[i]!);
    if (left) list.pushFront(value);
    else list.pushBack(value);
  }
  reply.integer(list.length);
}

function pop(args: Command, keyspace: Keyspace, reply: ReplyBuffer, left: boolean): void {
  if (args.length > 3) return wrongArity(reply, left ? 'lpop' : 'rpop');
  const count = args.length === 3 ? integerArgument(args[2]!) : null;
  if (args.length === 3 && (count === null || count < 0)) return reply.error('ERR value is out of range, must be positive');
  const name = key(args[1]!);
  const list = keyspace.typed<ListValue>(name, 'list');
  if (list === undefined) return count === null ? reply.nil() : reply.arrayHeader(-1);
  const taken = left ? list.popFront(count ?? 1) : list.popBack(count ?? 1);
  keyspace.dropIfEmpty(name, list);
  if (count === null) return bulkOrNil(reply, taken[0]);
  reply.arrayHeader(taken.length);
  for (const value of taken) reply.bulk(value);
}

function hashSet(args: Command, keyspace: Keyspace, reply: ReplyBuffer, name: string, ok: boolean): void {
  if (args.length % 2 !== 0) return wrongArity(reply, name);
  const hash = keyspace.typed(key(args[1]!), 'hash', () => new Map<string, Uint8Array>())!;
  let added = 0;
  for (let i = 2; i < args.length; i += 2) {
    const field = key(args[i]!);
    if (!hash.has(field)) added++;
    hash.set(field, new Uint8Array(args[i + 1]!));
  }
  if (ok) reply.simple(OK);
  else reply.integer(added);
}

const INFO_SECTIONS = ['server', 'clients', 'memory', 'stats', 'keyspace'] as const;

/** INFO's text: the sections and fields clients read, in Redis's `# Section` / `field:value` form. */
function info(args: Command, keyspace: Keyspace): string {
  const asked = args.slice(1).map((arg) => text(arg).toLowerCase());
  const all = asked.length === 0 || asked.some((name) => name === 'all' || name === 'default' || name === 'everything');
  const memory = process.memoryUsage();
  const lines: string[] = [];
  for (const section of INFO_SECTIONS) {
    if (!all && !asked.includes(section)) continue;
    if (lines.length > 0) lines.push('');
    lines.push(`# ${section[0]!.toUpperCase()}${section.slice(1)}`);
    if (section === 'server') {
      lines.push(`redis_version:${REDIS_VERSION}`, 'redis_mode:standalone', `os:${process.platform} ${process.arch}`, `arch_bits:${process.arch.endsWith('64') ? 64 : 32}`);
      lines.push(`process_id:${process.pid}`, `uptime_in_seconds:${Math.floor((Date.now() - stats.startedAt) / 1000)}`);
    } else if (section === 'clients') {
      lines.push(`connected_clients:${stats.connections}`, 'blocked_clients:0');
    } else if (section === 'memory') {
      lines.push(`used_memory:${memory.heapUsed}`, `used_memory_human:${(memory.heapUsed / (1 << 20)).toFixed(2)}M`, `used_memory_rss:${memory.rss}`, 'maxmemory:0', 'maxmemory_policy:noeviction');
    } else if (section === 'stats') {
      lines.push(`total_commands_processed:${stats.commands}`);
    } else {
      const size = keyspace.size();
      if (size > 0) lines.push(`db0:keys=${size},expires=${keyspace.expiring()},avg_ttl=0`);
    }
  }
  return lines.join('\r\n') + '\r\n';
}

function wrongArity(reply: ReplyBuffer, name: string): void {
  reply.error(`ERR wrong number of arguments for '${name}' command`);
}

function incrementBy(args: Command, keyspace: Keyspace, reply: ReplyBuffer, delta: number | null): void {
  if (delta === null) {
    reply.error('ERR value is not an integer or out of range');
    return;
  }
  const name = key(args[1]!);
  const current = keyspace.get(name);
  const value = current === undefined ? 0 : integerArgument(current);
  if (value === null) {
    reply.error('ERR value is not an integer or out of range');
    return;
  }
  const next = value + delta;
  if (!Number.isSafeInteger(next)) {
    reply.error('ERR increment or decrement would overflow');
    return;
  }
  keyspace.set(name, encoder.encode(String(next)), 0, true);
  reply.integer(next);
}

const handlers: Record<string, { arity: number; handle: Handler }> = {
  // arity: exact count when positive, minimum count when negative (command name included), as Redis.
  PING: { arity: -1, handle: (args, _k, reply) => (args.length > 2 ? wrongArity(reply, 'ping') : args.length === 2 ? reply.bulk(args[1]!) : reply.simple('PONG')) },
  ECHO: { arity: 2, handle: (args, _k, reply) => reply.bulk(args[1]!) },
  GET: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      bulkOrNil(reply, keyspace.get(key(args[1]!)));
    },
  },
  SET: {
    arity: -3,
    handle: (args, keyspace, reply) => {
      let expiresAt = 0;
      let condition: 'NX' | 'XX' | '' = '';
      for (let i = 3; i < args.length; i++) {
        const option = text(args[i]!).toUpperCase();
        if ((option === 'NX' || option === 'XX') && condition === '') {
          condition = option;
        } else if ((option === 'EX' || option === 'PX') && expiresAt === 0 && i + 1 < args.length) {
          const amount = integerArgument(args[++i]!);
          if (amount === null || amount <= 0) {
            reply.error("ERR invalid expire time in 'set' command");
            return;
          }
          expiresAt = Date.now() + (option === 'EX' ? amount * 1000 : amount);
        } else {
          reply.error('ERR syntax error');
          return;
        }
      }
      const name = key(args[1]!);
      if ((condition === 'NX' && keyspace.has(name)) || (condition === 'XX' && !keyspace.has(name))) {
        reply.nil();
        return;
      }
      // Arguments may be views of the pipe's memory (see Command): the keyspace keeps a copy
      // (new Uint8Array copies whatever the view's class; a Buffer's slice() would not).
      keyspace.set(name, new Uint8Array(args[2]!), expiresAt);
      reply.simple(OK);
    },
  },
  DEL: { arity: -2, handle: (args, keyspace, reply) => reply.integer(args.slice(1).filter((name) => keyspace.delete(key(name))).length) },
  EXISTS: { arity: -2, handle: (args, keyspace, reply) => reply.integer(args.slice(1).filter((name) => keyspace.has(key(name))).length) },
  INCR: { arity: 2, handle: (args, keyspace, reply) => incrementBy(args, keyspace, reply, 1) },
  DECR: { arity: 2, handle: (args, keyspace, reply) => incrementBy(args, keyspace, reply, -1) },
  INCRBY: { arity: 3, handle: (args, keyspace, reply) => incrementBy(args, keyspace, reply, integerArgument(args[2]!)) },
  DECRBY: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const delta = integerArgument(args[2]!);
      incrementBy(args, keyspace, reply, delta === null ? null : -delta);
    },
  },
  MGET: {
    arity: -2,
    handle: (args, keyspace, reply) => {
      reply.arrayHeader(args.length - 1);
      for (let i = 1; i < args.length; i++) {
        const value = keyspace.get(key(args[i]!));
        if (value === undefined) reply.nil();
        else reply.bulk(value);
      }
    },
  },
  MSET: {
    arity: -3,
    handle: (args, keyspace, reply) => {
      if (args.length % 2 === 0) {
        wrongArity(reply, 'mset');
        return;
      }
      for (let i = 1; i < args.length; i += 2) keyspace.set(key(args[i]!), new Uint8Array(args[i + 1]!));
      reply.simple(OK);
    },
  },
  APPEND: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const name = key(args[1]!);
      const current = keyspace.get(name);
      const next = current === undefined ? new Uint8Array(args[2]!) : Buffer.concat([current, args[2]!]);
      keyspace.set(name, next, 0, true);
      reply.integer(next.length);
    },
  },
  STRLEN: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.get(key(args[1]!))?.length ?? 0) },
  DBSIZE: { arity: 1, handle: (_args, keyspace, reply) => reply.integer(keyspace.size()) },
  FLUSHDB: {
    arity: -1,
    handle: (_args, keyspace, reply) => {
      keyspace.clear();
      reply.simple(OK);
    },
  },
  EXPIRE: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const seconds = integerArgument(args[2]!);
      if (seconds === null) reply.error('ERR value is not an integer or out of range');
      else reply.integer(keyspace.expire(key(args[1]!), Date.now() + seconds * 1000) ? 1 : 0);
    },
  },
  TTL: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const ms = keyspace.ttl(key(args[1]!));
      reply.integer(ms < 0 ? ms : Math.round(ms / 1000));
    },
  },
  // A minimal reply, so that clients that ask about commands at start-up (redis-cli) carry on.
  COMMAND: { arity: -1, handle: (_args, _k, reply) => reply.arrayHeader(0) },
  // Load generators read settings at start-up (CONFIG GET save / appendonly): each reads as empty.
  CONFIG: {
    arity: -2,
    handle: (args, _k, reply) => {
      if (text(args[1]!).toUpperCase() !== 'GET' || args.length !== 3) {
        reply.error('ERR CONFIG supports only GET <parameter>');
        return;
      }
      reply.arrayHeader(2);
      reply.bulk(args[2]!);
      reply.bulk(new Uint8Array(0));
    },
  },
  SETNX: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const name = key(args[1]!);
      if (keyspace.has(name)) return reply.integer(0);
      keyspace.set(name, new Uint8Array(args[2]!));
      reply.integer(1);
    },
  },
  SETEX: {
    arity: 4,
    handle: (args, keyspace, reply) => {
      const seconds = integerArgument(args[2]!);
      if (seconds === null) return reply.error(NOT_INTEGER);
      if (seconds <= 0) return reply.error("ERR invalid expire time in 'setex' command");
      keyspace.set(key(args[1]!), new Uint8Array(args[3]!), Date.now() + seconds * 1000);
      reply.simple(OK);
    },
  },
  GETSET: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const name = key(args[1]!);
      bulkOrNil(reply, keyspace.get(name));
      keyspace.set(name, new Uint8Array(args[2]!));
    },
  },
  GETDEL: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const name = key(args[1]!);
      const value = keyspace.get(name);
      bulkOrNil(reply, value);
      if (value !== undefined) keyspace.delete(name);
    },
  },
  PEXPIRE: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const ms = integerArgument(args[2]!);
      if (ms === null) reply.error(NOT_INTEGER);
      else reply.integer(keyspace.expire(key(args[1]!), Date.now() + ms) ? 1 : 0);
    },
  },
  PTTL: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.ttl(key(args[1]!))) },
  PERSIST: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.persist(key(args[1]!)) ? 1 : 0) },
  TYPE: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const value = keyspace.value(key(args[1]!));
      reply.simple(value === undefined ? 'none' : typeOf(value));
    },
  },
  KEYS: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const pattern = globToRegExp(args[1]!);
      const matching = keyspace.keys().filter((name) => pattern.test(name));
      reply.arrayHeader(matching.length);
      for (const name of matching) reply.bulk(bytesOf(name));
    },
  },
  SCAN: {
    arity: -2,
    handle: (args, keyspace, reply) => {
      const cursor = integerArgument(args[1]!);
      if (cursor === null || cursor < 0) return reply.error('ERR invalid cursor');
      let pattern: RegExp | null = null;
      let count = SCAN_DEFAULT_COUNT;
      let type: string | null = null;
      for (let i = 2; i < args.length; i += 2) {
        const option = text(args[i]!).toUpperCase();
        if (i + 1 >= args.length) return reply.error(SYNTAX);
        if (option === 'MATCH') pattern = globToRegExp(args[i + 1]!);
        else if (option === 'TYPE') type = text(args[i + 1]!).toLowerCase();
        else if (option === 'COUNT') {
          const n = integerArgument(args[i + 1]!);
          if (n === null) return reply.error(NOT_INTEGER);
          if (n < 1) return reply.error(SYNTAX);
          count = n;
        } else return reply.error(SYNTAX);
      }
      // The cursor is a position in the key order: keys present for the whole scan are returned
      // (unless keys before them are deleted meanwhile, where Redis's reverse-binary cursor does better).
      const keys = keyspace.keys();
      const end = Math.min(keys.length, cursor + count);
      const found: string[] = [];
      for (let i = cursor; i < end; i++) {
        const name = keys[i]!;
        if (pattern !== null && !pattern.test(name)) continue;
        if (type !== null && typeOf(keyspace.value(name)!) !== type) continue;
        found.push(name);
      }
      reply.arrayHeader(2);
      reply.bulk(bytesOf(String(end >= keys.length ? 0 : end)));
      reply.arrayHeader(found.length);
      for (const name of found) reply.bulk(bytesOf(name));
    },
  },
  LPUSH: { arity: -3, handle: (args, keyspace, reply) => push(args, keyspace, reply, true) },
  RPUSH: { arity: -3, handle: (args, keyspace, reply) => push(args, keyspace, reply, false) },
  LPOP: { arity: -2, handle: (args, keyspace, reply) => pop(args, keyspace, reply, true) },
  RPOP: { arity: -2, handle: (args, keyspace, reply) => pop(args, keyspace, reply, false) },
  LLEN: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<ListValue>(key(args[1]!), 'list')?.length ?? 0) },
  LINDEX: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const index = integerArgument(args[2]!);
      if (index === null) return reply.error(NOT_INTEGER);
      const list = keyspace.typed<ListValue>(key(args[1]!), 'list');
      const at = list === undefined ? -1 : index < 0 ? list.length + index : index;
      bulkOrNil(reply, list !== undefined && at >= 0 && at < list.length ? list.at(at) : undefined);
    },
  },
  LRANGE: {
    arity: 4,
    handle: (args, keyspace, reply) => {
      const start = integerArgument(args[2]!);
      const stop = integerArgument(args[3]!);
      if (start === null || stop === null) return reply.error(NOT_INTEGER);
      const list = keyspace.typed<ListValue>(key(args[1]!), 'list');
      const [from, to] = range(start, stop, list?.length ?? 0);
      reply.arrayHeader(to - from);
      for (let i = from; i < to; i++) reply.bulk(list!.at(i));
    },
  },
  SADD: {
    arity: -3,
    handle: (args, keyspace, reply) => {
      const set = keyspace.typed(key(args[1]!), 'set', () => new Set<string>())!;
      let added = 0;
      for (let i = 2; i < args.length; i++) {
        const member = key(args[i]!);
        if (!set.has(member)) {
          set.add(member);
          added++;
        }
      }
      reply.integer(added);
    },
  },
  SREM: {
    arity: -3,
    handle: (args, keyspace, reply) => {
      const name = key(args[1]!);
      const set = keyspace.typed<Set<string>>(name, 'set');
      let removed = 0;
      if (set !== undefined) {
        for (let i = 2; i < args.length; i++) if (set.delete(key(args[i]!))) removed++;
        keyspace.dropIfEmpty(name, set);
      }
      reply.integer(removed);
    },
  },
  SCARD: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<Set<string>>(key(args[1]!), 'set')?.size ?? 0) },
  SISMEMBER: { arity: 3, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<Set<string>>(key(args[1]!), 'set')?.has(key(args[2]!)) ? 1 : 0) },
  SMEMBERS: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const set = keyspace.typed<Set<string>>(key(args[1]!), 'set') ?? new Set<string>();
      reply.arrayHeader(set.size);
      for (const member of set) reply.bulk(bytesOf(member));
    },
  },
  SPOP: {
    arity: -2,
    handle: (args, keyspace, reply) => {
      if (args.length > 3) return reply.error(SYNTAX);
      const count = args.length === 3 ? integerArgument(args[2]!) : null;
      if (args.length === 3 && (count === null || count < 0)) return reply.error('ERR value is out of range, must be positive');
      const name = key(args[1]!);
      const set = keyspace.typed<Set<string>>(name, 'set');
      const taken: string[] = [];
      if (set !== undefined) {
        const members = [...set];
        for (let n = count ?? 1; n > 0 && members.length > 0; n--) {
          const at = Math.floor(Math.random() * members.length);
          taken.push(members[at]!);
          members[at] = members[members.length - 1]!;
          members.pop();
        }
        for (const member of taken) set.delete(member);
        keyspace.dropIfEmpty(name, set);
      }
      if (count === null) return bulkOrNil(reply, taken.length === 0 ? undefined : bytesOf(taken[0]!));
      reply.arrayHeader(taken.length);
      for (const member of taken) reply.bulk(bytesOf(member));
    },
  },
  HSET: { arity: -4, handle: (args, keyspace, reply) => hashSet(args, keyspace, reply, 'hset', false) },
  HMSET: { arity: -4, handle: (args, keyspace, reply) => hashSet(args, keyspace, reply, 'hmset', true) },
  HGET: {
    arity: 3,
    handle: (args, keyspace, reply) => bulkOrNil(reply, keyspace.typed<Map<string, Uint8Array>>(key(args[1]!), 'hash')?.get(key(args[2]!))),
  },
  HGETALL: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const hash = keyspace.typed<Map<string, Uint8Array>>(key(args[1]!), 'hash') ?? new Map<string, Uint8Array>();
      reply.arrayHeader(hash.size * 2);
      for (const [field, value] of hash) {
        reply.bulk(bytesOf(field));
        reply.bulk(value);
      }
    },
  },
  HDEL: {
    arity: -3,
    handle: (args, keyspace, reply) => {
      const name = key(args[1]!);
      const hash = keyspace.typed<Map<string, Uint8Array>>(name, 'hash');
      let removed = 0;
      if (hash !== undefined) {
        for (let i = 2; i < args.length; i++) if (hash.delete(key(args[i]!))) removed++;
        keyspace.dropIfEmpty(name, hash);
      }
      reply.integer(removed);
    },
  },
  HLEN: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<Map<string, Uint8Array>>(key(args[1]!), 'hash')?.size ?? 0) },
  HINCRBY: {
    arity: 4,
    handle: (args, keyspace, reply) => {
      const delta = integerArgument(args[3]!);
      if (delta === null) return reply.error(NOT_INTEGER);
      const hash = keyspace.typed(key(args[1]!), 'hash', () => new Map<string, Uint8Array>())!;
      const field = key(args[2]!);
      const current = hash.get(field);
      const value = current === undefined ? 0 : integerArgument(current);
      if (value === null) return reply.error('ERR hash value is not an integer');
      const next = value + delta;
      if (!Number.isSafeInteger(next)) return reply.error('ERR increment or decrement would overflow');
      hash.set(field, bytesOf(String(next)));
      reply.integer(next);
    },
  },
  ZADD: {
    arity: -4,
    handle: (args, keyspace, reply) => {
      let at = 2;
      let nx = false;
      let xx = false;
      let ch = false;
      for (; at < args.length; at++) {
        const option = text(args[at]!).toUpperCase();
        if (option === 'NX') nx = true;
        else if (option === 'XX') xx = true;
        else if (option === 'CH') ch = true;
        else break;
      }
      if (nx && xx) return reply.error('ERR XX and NX options at the same time are not compatible');
      if (at >= args.length || (args.length - at) % 2 !== 0) return reply.error(SYNTAX);
      const pairs: [number, string][] = [];
      for (let i = at; i < args.length; i += 2) {
        const score = scoreArgument(args[i]!);
        if (score === null) return reply.error('ERR value is not a valid float');
        pairs.push([score, key(args[i + 1]!)]);
      }
      const name = key(args[1]!);
      const zset = keyspace.typed(name, 'zset', xx ? undefined : () => new SortedSet());
      let counted = 0;
      if (zset !== undefined) {
        for (const [score, member] of pairs) {
          const previous = zset.scores.get(member);
          if ((previous === undefined && xx) || (previous !== undefined && nx)) continue;
          if (previous === undefined || (ch && previous !== score)) counted++;
          zset.scores.set(member, score);
        }
        keyspace.dropIfEmpty(name, zset);
      }
      reply.integer(counted);
    },
  },
  ZSCORE: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const score = keyspace.typed<SortedSet>(key(args[1]!), 'zset')?.scores.get(key(args[2]!));
      bulkOrNil(reply, score === undefined ? undefined : bytesOf(formatScore(score)));
    },
  },
  ZCARD: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<SortedSet>(key(args[1]!), 'zset')?.scores.size ?? 0) },
  ZRANGE: {
    arity: -4,
    handle: (args, keyspace, reply) => {
      let withScores = false;
      for (let i = 4; i < args.length; i++) {
        if (text(args[i]!).toUpperCase() === 'WITHSCORES') withScores = true;
        else return reply.error(SYNTAX);
      }
      const start = integerArgument(args[2]!);
      const stop = integerArgument(args[3]!);
      if (start === null || stop === null) return reply.error(NOT_INTEGER);
      const ordered = keyspace.typed<SortedSet>(key(args[1]!), 'zset')?.ordered() ?? [];
      const [from, to] = range(start, stop, ordered.length);
      reply.arrayHeader((to - from) * (withScores ? 2 : 1));
      for (let i = from; i < to; i++) {
        reply.bulk(bytesOf(ordered[i]![0]));
        if (withScores) reply.bulk(bytesOf(formatScore(ordered[i]![1])));
      }
    },
  },
  ZPOPMIN: {
    arity: -2,
    handle: (args, keyspace, reply) => {
      if (args.length > 3) return reply.error(SYNTAX);
      const count = args.length === 3 ? integerArgument(args[2]!) : 1;
      if (count === null) return reply.error(NOT_INTEGER);
      const name = key(args[1]!);
      const zset = keyspace.typed<SortedSet>(name, 'zset');
      const taken = zset === undefined || count <= 0 ? [] : zset.ordered().slice(0, count);
      if (zset !== undefined) {
        for (const [member] of taken) zset.scores.delete(member);
        keyspace.dropIfEmpty(name, zset);
      }
      reply.arrayHeader(taken.length * 2);
      for (const [member, score] of taken) {
        reply.bulk(bytesOf(member));
        reply.bulk(bytesOf(formatScore(score)));
      }
    },
  },
  SELECT: {
    arity: 2,
    handle: (args, _k, reply) => {
      const index = integerArgument(args[1]!);
      if (index === null) reply.error(NOT_INTEGER);
      // One keyspace: database 0 is the only one there is.
      else if (index !== 0) reply.error('ERR DB index is out of range');
      else reply.simple(OK);
    },
  },
  INFO: { arity: -1, handle: (args, keyspace, reply) => reply.bulk(bytesOf(info(args, keyspace))) },
  CLIENT: {
    arity: -2,
    handle: (args, _k, reply, session) => {
      const sub = text(args[1]!).toUpperCase();
      if (sub === 'SETNAME' && args.length === 3) {
        if (args[2]!.some((byte) => byte <= 0x20 || byte > 0x7e)) return reply.error('ERR Client names cannot contain spaces, newlines or special characters.');
        session.name = args[2]!.length === 0 ? null : new Uint8Array(args[2]!);
        reply.simple(OK);
      } else if (sub === 'GETNAME' && args.length === 2) {
        bulkOrNil(reply, session.name ?? undefined);
      } else if (sub === 'SETNAME' || sub === 'GETNAME') {
        wrongArity(reply, `client|${sub.toLowerCase()}`);
      } else {
        reply.error(`ERR unknown subcommand '${text(args[1]!).slice(0, 64)}'. Try CLIENT HELP.`);
      }
    },
  },
  HELLO: {
    arity: -1,
    handle: (args, _k, reply) => {
      const version = args.length > 1 ? integerArgument(args[1]!) : 2;
      if (version === null) return reply.error('ERR Protocol version is not an integer or out of range');
      // RESP2 only: a client asking for RESP3 is told so, as Redis tells of a version it lacks.
      if (version !== 2) return reply.error('NOPROTO unsupported protocol version');
      const fields: [string, string | number][] = [['server', 'redis'], ['version', REDIS_VERSION], ['proto', 2], ['id', 1], ['mode', 'standalone'], ['role', 'master']];
      reply.arrayHeader(fields.length * 2 + 2);
      for (const [name, value] of fields) {
        reply.bulk(bytesOf(name));
        if (typeof value === 'number') reply.integer(value);
        else reply.bulk(bytesOf(value));
      }
      reply.bulk(bytesOf('modules'));
      reply.arrayHeader(0);
    },
  },
  QUIT: {
    arity: -1,
    handle: (_args, _k, reply) => {
      reply.simple(OK);
      return After.Close;
    },
  },
};

/** The handlers by their exact (upper-case) names: a name sent in upper case, as clients do, needs no decoding or case mapping. */
const byName = new Map(Object.entries(handlers));

/** Redis's wording, with the leading arguments quoted (up to about 128 characters). */
function unknownCommand(command: Command): string {
  let args = '';
  for (let i = 1; i < command.length && args.length < UNKNOWN_ARGS_SHOWN; i++) args += `'${text(command[i]!).slice(0, UNKNOWN_ARGS_SHOWN - args.length)}' `;
  return `ERR unknown command '${text(command[0]!).slice(0, UNKNOWN_ARGS_SHOWN)}', with args beginning with: ${args}`;
}

export function execute(command: Command, keyspace: Keyspace, reply: ReplyBuffer, session: Session): After {
  let name = key(command[0]!);
  let entry = byName.get(name);
  if (entry === undefined) {
    name = text(command[0]!).toUpperCase();
    entry = handlers[name];
  }
  if (entry === undefined) {
    reply.error(unknownCommand(command));
    return After.Continue;
  }
  if (entry.arity > 0 ? command.length !== entry.arity : command.length < -entry.arity) {
    wrongArity(reply, name.toLowerCase());
    return After.Continue;
  }
  try {
    return entry.handle(command, keyspace, reply, session) ?? After.Continue;
  } catch (error) {
    if (!(error instanceof WrongTypeError)) throw error;
    reply.error(error.message);
    return After.Continue;
  }
}
