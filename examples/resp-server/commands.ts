// The commands the RESP server understands, each writing its reply into the batch's ReplyBuffer.
import { type Keyspace, ListValue, SortedSet, typeOf, WrongTypeError } from './keyspace.js';
import { type Args, nameCode, parseInteger, type ReplyBuffer } from './resp.js';

const encoder = new TextEncoder();

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

type Handler = (args: Args, keyspace: Keyspace, reply: ReplyBuffer, session: Session) => After | void;

const key = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');


const SET_OPTIONS = ['NX', 'XX', 'EX', 'PX'] as const;
const SCAN_OPTIONS = ['MATCH', 'TYPE', 'COUNT'] as const;
const ZADD_OPTIONS = ['NX', 'XX', 'CH'] as const;
const CLIENT_SUBCOMMANDS = ['SETNAME', 'GETNAME'] as const;

/** Which of `options` (upper case) args[i] is, in any case as Redis compares them (ASCII only), or null. */
function optionAt<T extends string>(args: Args, i: number, options: readonly T[]): T | null {
  for (const option of options) if (args.is(i, option)) return option;
  return null;
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
function scoreArgument(args: Args, i: number): number | null {
  const value = args.text(i).toLowerCase();
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

function push(args: Args, keyspace: Keyspace, reply: ReplyBuffer, left: boolean): void {
  const list = keyspace.typed(args.latin1(1), 'list', (): ListValue => new ListValue())!;
  for (let i = 2; i < args.length; i++) {
    const value = args.copy(i);
    if (left) list.pushFront(value);
    else list.pushBack(value);
  }
  reply.integer(list.length);
}

function pop(args: Args, keyspace: Keyspace, reply: ReplyBuffer, left: boolean): void {
  if (args.length > 3) return wrongArity(reply, left ? 'lpop' : 'rpop');
  const count = args.length === 3 ? args.integer(2) : null;
  if (args.length === 3 && (count === null || count < 0)) return reply.error('ERR value is out of range, must be positive');
  const name = args.latin1(1);
  const list = keyspace.typed<ListValue>(name, 'list');
  if (list === undefined) return count === null ? reply.nil() : reply.arrayHeader(-1);
  const taken = left ? list.popFront(count ?? 1) : list.popBack(count ?? 1);
  keyspace.dropIfEmpty(name, list);
  if (count === null) return bulkOrNil(reply, taken[0]);
  reply.arrayHeader(taken.length);
  for (const value of taken) reply.bulk(value);
}

function hashSet(args: Args, keyspace: Keyspace, reply: ReplyBuffer, name: string, ok: boolean): void {
  if (args.length % 2 !== 0) return wrongArity(reply, name);
  const hash = keyspace.typed(args.latin1(1), 'hash', () => new Map<string, Uint8Array>())!;
  let added = 0;
  for (let i = 2; i < args.length; i += 2) {
    const field = args.latin1(i);
    if (!hash.has(field)) added++;
    hash.set(field, args.copy(i + 1));
  }
  if (ok) reply.ok();
  else reply.integer(added);
}

const INFO_SECTIONS = ['server', 'clients', 'memory', 'stats', 'keyspace'] as const;

/** INFO's text: the sections and fields clients read, in Redis's `# Section` / `field:value` form. */
function info(args: Args, keyspace: Keyspace): string {
  const asked: string[] = [];
  for (let i = 1; i < args.length; i++) asked.push(args.text(i).toLowerCase());
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

/** How many of the keys args[1..] pass `test`. */
function countKeys(args: Args, test: (name: string) => boolean): number {
  let count = 0;
  for (let i = 1; i < args.length; i++) if (test(args.latin1(i))) count++;
  return count;
}

function wrongArity(reply: ReplyBuffer, name: string): void {
  reply.error(`ERR wrong number of arguments for '${name}' command`);
}

function incrementBy(args: Args, keyspace: Keyspace, reply: ReplyBuffer, delta: number | null): void {
  if (delta === null) {
    reply.error('ERR value is not an integer or out of range');
    return;
  }
  const name = args.latin1(1);
  const current = keyspace.get(name);
  const value = current === undefined ? 0 : parseInteger(current);
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
  PING: { arity: -1, handle: (args, _k, reply) => (args.length > 2 ? wrongArity(reply, 'ping') : args.length === 2 ? reply.bulk(args.view(1)) : reply.simple('PONG')) },
  ECHO: { arity: 2, handle: (args, _k, reply) => reply.bulk(args.view(1)) },
  GET: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      bulkOrNil(reply, keyspace.get(args.latin1(1)));
    },
  },
  SET: {
    arity: -3,
    handle: (args, keyspace, reply) => {
      let expiresAt = 0;
      let condition: 'NX' | 'XX' | '' = '';
      for (let i = 3; i < args.length; i++) {
        const option = optionAt(args, i, SET_OPTIONS);
        if ((option === 'NX' || option === 'XX') && condition === '') {
          condition = option;
        } else if ((option === 'EX' || option === 'PX') && expiresAt === 0 && i + 1 < args.length) {
          const amount = args.integer(++i);
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
      const name = args.latin1(1);
      if ((condition === 'NX' && keyspace.has(name)) || (condition === 'XX' && !keyspace.has(name))) {
        reply.nil();
        return;
      }
      keyspace.setString(name, args, 2, expiresAt);
      reply.ok();
    },
  },
  DEL: { arity: -2, handle: (args, keyspace, reply) => reply.integer(countKeys(args, (name) => keyspace.delete(name))) },
  EXISTS: { arity: -2, handle: (args, keyspace, reply) => reply.integer(countKeys(args, (name) => keyspace.has(name))) },
  INCR: { arity: 2, handle: (args, keyspace, reply) => incrementBy(args, keyspace, reply, 1) },
  DECR: { arity: 2, handle: (args, keyspace, reply) => incrementBy(args, keyspace, reply, -1) },
  INCRBY: { arity: 3, handle: (args, keyspace, reply) => incrementBy(args, keyspace, reply, args.integer(2)) },
  DECRBY: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const delta = args.integer(2);
      incrementBy(args, keyspace, reply, delta === null ? null : -delta);
    },
  },
  MGET: {
    arity: -2,
    handle: (args, keyspace, reply) => {
      reply.arrayHeader(args.length - 1);
      for (let i = 1; i < args.length; i++) {
        const value = keyspace.get(args.latin1(i));
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
      for (let i = 1; i < args.length; i += 2) keyspace.set(args.latin1(i), args.copy(i + 1));
      reply.ok();
    },
  },
  APPEND: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const name = args.latin1(1);
      const current = keyspace.get(name);
      const next = current === undefined ? args.copy(2) : Buffer.concat([current, args.view(2)]);
      keyspace.set(name, next, 0, true);
      reply.integer(next.length);
    },
  },
  STRLEN: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.get(args.latin1(1))?.length ?? 0) },
  DBSIZE: { arity: 1, handle: (_args, keyspace, reply) => reply.integer(keyspace.size()) },
  FLUSHDB: {
    arity: -1,
    handle: (_args, keyspace, reply) => {
      keyspace.clear();
      reply.ok();
    },
  },
  EXPIRE: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const seconds = args.integer(2);
      if (seconds === null) reply.error('ERR value is not an integer or out of range');
      else reply.integer(keyspace.expire(args.latin1(1), Date.now() + seconds * 1000) ? 1 : 0);
    },
  },
  TTL: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const ms = keyspace.ttl(args.latin1(1));
      reply.integer(ms < 0 ? ms : Math.round(ms / 1000));
    },
  },
  // A minimal reply, so that clients that ask about commands at start-up (redis-cli) carry on.
  COMMAND: { arity: -1, handle: (_args, _k, reply) => reply.arrayHeader(0) },
  // Load generators read settings at start-up (CONFIG GET save / appendonly): each reads as empty.
  CONFIG: {
    arity: -2,
    handle: (args, _k, reply) => {
      if (!args.is(1, 'GET') || args.length !== 3) {
        reply.error('ERR CONFIG supports only GET <parameter>');
        return;
      }
      reply.arrayHeader(2);
      reply.bulk(args.view(2));
      reply.bulk(new Uint8Array(0));
    },
  },
  SETNX: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const name = args.latin1(1);
      if (keyspace.has(name)) return reply.integer(0);
      keyspace.set(name, args.copy(2));
      reply.integer(1);
    },
  },
  SETEX: {
    arity: 4,
    handle: (args, keyspace, reply) => {
      const seconds = args.integer(2);
      if (seconds === null) return reply.error(NOT_INTEGER);
      if (seconds <= 0) return reply.error("ERR invalid expire time in 'setex' command");
      keyspace.set(args.latin1(1), args.copy(3), Date.now() + seconds * 1000);
      reply.ok();
    },
  },
  GETSET: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const name = args.latin1(1);
      bulkOrNil(reply, keyspace.get(name));
      keyspace.set(name, args.copy(2));
    },
  },
  GETDEL: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const name = args.latin1(1);
      const value = keyspace.get(name);
      bulkOrNil(reply, value);
      if (value !== undefined) keyspace.delete(name);
    },
  },
  PEXPIRE: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const ms = args.integer(2);
      if (ms === null) reply.error(NOT_INTEGER);
      else reply.integer(keyspace.expire(args.latin1(1), Date.now() + ms) ? 1 : 0);
    },
  },
  PTTL: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.ttl(args.latin1(1))) },
  PERSIST: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.persist(args.latin1(1)) ? 1 : 0) },
  TYPE: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const value = keyspace.value(args.latin1(1));
      reply.simple(value === undefined ? 'none' : typeOf(value));
    },
  },
  KEYS: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const pattern = globToRegExp(args.view(1));
      const matching = keyspace.keys().filter((name) => pattern.test(name));
      reply.arrayHeader(matching.length);
      for (const name of matching) reply.bulkLatin1(name);
    },
  },
  SCAN: {
    arity: -2,
    handle: (args, keyspace, reply) => {
      const cursor = args.integer(1);
      if (cursor === null || cursor < 0) return reply.error('ERR invalid cursor');
      let pattern: RegExp | null = null;
      let count = SCAN_DEFAULT_COUNT;
      let type: string | null = null;
      for (let i = 2; i < args.length; i += 2) {
        const option = optionAt(args, i, SCAN_OPTIONS);
        if (i + 1 >= args.length) return reply.error(SYNTAX);
        if (option === 'MATCH') pattern = globToRegExp(args.view(i + 1));
        else if (option === 'TYPE') type = args.text(i + 1).toLowerCase();
        else if (option === 'COUNT') {
          const n = args.integer(i + 1);
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
      reply.bulkLatin1(String(end >= keys.length ? 0 : end));
      reply.arrayHeader(found.length);
      for (const name of found) reply.bulkLatin1(name);
    },
  },
  LPUSH: { arity: -3, handle: (args, keyspace, reply) => push(args, keyspace, reply, true) },
  RPUSH: { arity: -3, handle: (args, keyspace, reply) => push(args, keyspace, reply, false) },
  LPOP: { arity: -2, handle: (args, keyspace, reply) => pop(args, keyspace, reply, true) },
  RPOP: { arity: -2, handle: (args, keyspace, reply) => pop(args, keyspace, reply, false) },
  LLEN: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<ListValue>(args.latin1(1), 'list')?.length ?? 0) },
  LINDEX: {
    arity: 3,
    handle: (args, keyspace, reply) => {
      const index = args.integer(2);
      if (index === null) return reply.error(NOT_INTEGER);
      const list = keyspace.typed<ListValue>(args.latin1(1), 'list');
      const at = list === undefined ? -1 : index < 0 ? list.length + index : index;
      bulkOrNil(reply, list !== undefined && at >= 0 && at < list.length ? list.at(at) : undefined);
    },
  },
  LRANGE: {
    arity: 4,
    handle: (args, keyspace, reply) => {
      const start = args.integer(2);
      const stop = args.integer(3);
      if (start === null || stop === null) return reply.error(NOT_INTEGER);
      const list = keyspace.typed<ListValue>(args.latin1(1), 'list');
      const [from, to] = range(start, stop, list?.length ?? 0);
      reply.arrayHeader(to - from);
      for (let i = from; i < to; i++) reply.bulk(list!.at(i));
    },
  },
  SADD: {
    arity: -3,
    handle: (args, keyspace, reply) => {
      const set = keyspace.typed(args.latin1(1), 'set', () => new Set<string>())!;
      let added = 0;
      for (let i = 2; i < args.length; i++) {
        const member = args.latin1(i);
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
      const name = args.latin1(1);
      const set = keyspace.typed<Set<string>>(name, 'set');
      let removed = 0;
      if (set !== undefined) {
        for (let i = 2; i < args.length; i++) if (set.delete(args.latin1(i))) removed++;
        keyspace.dropIfEmpty(name, set);
      }
      reply.integer(removed);
    },
  },
  SCARD: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<Set<string>>(args.latin1(1), 'set')?.size ?? 0) },
  SISMEMBER: { arity: 3, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<Set<string>>(args.latin1(1), 'set')?.has(args.latin1(2)) ? 1 : 0) },
  SMEMBERS: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const set = keyspace.typed<Set<string>>(args.latin1(1), 'set') ?? new Set<string>();
      reply.arrayHeader(set.size);
      for (const member of set) reply.bulkLatin1(member);
    },
  },
  SPOP: {
    arity: -2,
    handle: (args, keyspace, reply) => {
      if (args.length > 3) return reply.error(SYNTAX);
      const count = args.length === 3 ? args.integer(2) : null;
      if (args.length === 3 && (count === null || count < 0)) return reply.error('ERR value is out of range, must be positive');
      const name = args.latin1(1);
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
      if (count === null) return taken.length === 0 ? reply.nil() : reply.bulkLatin1(taken[0]!);
      reply.arrayHeader(taken.length);
      for (const member of taken) reply.bulkLatin1(member);
    },
  },
  HSET: { arity: -4, handle: (args, keyspace, reply) => hashSet(args, keyspace, reply, 'hset', false) },
  HMSET: { arity: -4, handle: (args, keyspace, reply) => hashSet(args, keyspace, reply, 'hmset', true) },
  HGET: {
    arity: 3,
    handle: (args, keyspace, reply) => bulkOrNil(reply, keyspace.typed<Map<string, Uint8Array>>(args.latin1(1), 'hash')?.get(args.latin1(2))),
  },
  HGETALL: {
    arity: 2,
    handle: (args, keyspace, reply) => {
      const hash = keyspace.typed<Map<string, Uint8Array>>(args.latin1(1), 'hash') ?? new Map<string, Uint8Array>();
      reply.arrayHeader(hash.size * 2);
      for (const [field, value] of hash) {
        reply.bulkLatin1(field);
        reply.bulk(value);
      }
    },
  },
  HDEL: {
    arity: -3,
    handle: (args, keyspace, reply) => {
      const name = args.latin1(1);
      const hash = keyspace.typed<Map<string, Uint8Array>>(name, 'hash');
      let removed = 0;
      if (hash !== undefined) {
        for (let i = 2; i < args.length; i++) if (hash.delete(args.latin1(i))) removed++;
        keyspace.dropIfEmpty(name, hash);
      }
      reply.integer(removed);
    },
  },
  HLEN: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<Map<string, Uint8Array>>(args.latin1(1), 'hash')?.size ?? 0) },
  HINCRBY: {
    arity: 4,
    handle: (args, keyspace, reply) => {
      const delta = args.integer(3);
      if (delta === null) return reply.error(NOT_INTEGER);
      const hash = keyspace.typed(args.latin1(1), 'hash', () => new Map<string, Uint8Array>())!;
      const field = args.latin1(2);
      const current = hash.get(field);
      const value = current === undefined ? 0 : parseInteger(current);
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
        const option = optionAt(args, at, ZADD_OPTIONS);
        if (option === 'NX') nx = true;
        else if (option === 'XX') xx = true;
        else if (option === 'CH') ch = true;
        else break;
      }
      if (nx && xx) return reply.error('ERR XX and NX options at the same time are not compatible');
      if (at >= args.length || (args.length - at) % 2 !== 0) return reply.error(SYNTAX);
      const pairs: [number, string][] = [];
      for (let i = at; i < args.length; i += 2) {
        const score = scoreArgument(args, i);
        if (score === null) return reply.error('ERR value is not a valid float');
        pairs.push([score, args.latin1(i + 1)]);
      }
      const name = args.latin1(1);
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
      const score = keyspace.typed<SortedSet>(args.latin1(1), 'zset')?.scores.get(args.latin1(2));
      if (score === undefined) reply.nil();
      else reply.bulkLatin1(formatScore(score));
    },
  },
  ZCARD: { arity: 2, handle: (args, keyspace, reply) => reply.integer(keyspace.typed<SortedSet>(args.latin1(1), 'zset')?.scores.size ?? 0) },
  ZRANGE: {
    arity: -4,
    handle: (args, keyspace, reply) => {
      let withScores = false;
      for (let i = 4; i < args.length; i++) {
        if (args.is(i, 'WITHSCORES')) withScores = true;
        else return reply.error(SYNTAX);
      }
      const start = args.integer(2);
      const stop = args.integer(3);
      if (start === null || stop === null) return reply.error(NOT_INTEGER);
      const ordered = keyspace.typed<SortedSet>(args.latin1(1), 'zset')?.ordered() ?? [];
      const [from, to] = range(start, stop, ordered.length);
      reply.arrayHeader((to - from) * (withScores ? 2 : 1));
      for (let i = from; i < to; i++) {
        reply.bulkLatin1(ordered[i]![0]);
        if (withScores) reply.bulkLatin1(formatScore(ordered[i]![1]));
      }
    },
  },
  ZPOPMIN: {
    arity: -2,
    handle: (args, keyspace, reply) => {
      if (args.length > 3) return reply.error(SYNTAX);
      const count = args.length === 3 ? args.integer(2) : 1;
      if (count === null) return reply.error(NOT_INTEGER);
      const name = args.latin1(1);
      const zset = keyspace.typed<SortedSet>(name, 'zset');
      const taken = zset === undefined || count <= 0 ? [] : zset.ordered().slice(0, count);
      if (zset !== undefined) {
        for (const [member] of taken) zset.scores.delete(member);
        keyspace.dropIfEmpty(name, zset);
      }
      reply.arrayHeader(taken.length * 2);
      for (const [member, score] of taken) {
        reply.bulkLatin1(member);
        reply.bulkLatin1(formatScore(score));
      }
    },
  },
  SELECT: {
    arity: 2,
    handle: (args, _k, reply) => {
      const index = args.integer(1);
      if (index === null) reply.error(NOT_INTEGER);
      // One keyspace: database 0 is the only one there is.
      else if (index !== 0) reply.error('ERR DB index is out of range');
      else reply.ok();
    },
  },
  INFO: { arity: -1, handle: (args, keyspace, reply) => reply.bulkLatin1(info(args, keyspace)) },
  CLIENT: {
    arity: -2,
    handle: (args, _k, reply, session) => {
      const sub = optionAt(args, 1, CLIENT_SUBCOMMANDS);
      if (sub === 'SETNAME' && args.length === 3) {
        if (args.view(2).some((byte) => byte <= 0x20 || byte > 0x7e)) return reply.error('ERR Client names cannot contain spaces, newlines or special characters.');
        session.name = args.size(2) === 0 ? null : args.copy(2);
        reply.ok();
      } else if (sub === 'GETNAME' && args.length === 2) {
        bulkOrNil(reply, session.name ?? undefined);
      } else if (sub !== null) {
        wrongArity(reply, `client|${sub.toLowerCase()}`);
      } else {
        reply.error(`ERR unknown subcommand '${args.text(1).slice(0, 64)}'. Try CLIENT HELP.`);
      }
    },
  },
  HELLO: {
    arity: -1,
    handle: (args, _k, reply) => {
      const version = args.length > 1 ? args.integer(1) : 2;
      if (version === null) return reply.error('ERR Protocol version is not an integer or out of range');
      // RESP2 only: a client asking for RESP3 is told so, as Redis tells of a version it lacks.
      if (version !== 2) return reply.error('NOPROTO unsupported protocol version');
      const fields: [string, string | number][] = [['server', 'redis'], ['version', REDIS_VERSION], ['proto', 2], ['id', 1], ['mode', 'standalone'], ['role', 'master']];
      reply.arrayHeader(fields.length * 2 + 2);
      for (const [name, value] of fields) {
        reply.bulkLatin1(name);
        if (typeof value === 'number') reply.integer(value);
        else reply.bulkLatin1(value);
      }
      reply.bulkLatin1('modules');
      reply.arrayHeader(0);
    },
  },
  QUIT: {
    arity: -1,
    handle: (_args, _k, reply) => {
      reply.ok();
      return After.Close;
    },
  },
};

interface Entry {
  /** The command's name, upper case. */
  readonly name: string;
  readonly arity: number;
  readonly handle: Handler;
  /** The next entry whose name has the same code. */
  sameCode: Entry | null;
}

/** The handlers by the code of their names (nameCode: letters, case-folded), for a lookup without decoding. */
const byCode = new Map<number, Entry>();
/** By upper-case name, for a name the code does not cover. */
const byName = new Map<string, Entry>();
for (const [name, { arity, handle }] of Object.entries(handlers)) {
  const entry: Entry = { name, arity, handle, sameCode: null };
  const bytes = Buffer.from(name, 'latin1');
  const code = nameCode(bytes, 0, bytes.length);
  entry.sameCode = byCode.get(code) ?? null;
  byCode.set(code, entry);
  byName.set(name, entry);
}

function lookup(args: Args): Entry | undefined {
  const code = args.nameCode(0);
  if (code < 0) return byName.get(args.text(0).toUpperCase());
  for (let entry = byCode.get(code) ?? null; entry !== null; entry = entry.sameCode) {
    if (args.is(0, entry.name)) return entry;
  }
  return undefined;
}

/** Redis's wording, with the leading arguments quoted (up to about 128 characters). */
function unknownCommand(args: Args): string {
  let shown = '';
  for (let i = 1; i < args.length && shown.length < UNKNOWN_ARGS_SHOWN; i++) shown += `'${args.text(i).slice(0, UNKNOWN_ARGS_SHOWN - shown.length)}' `;
  return `ERR unknown command '${args.text(0).slice(0, UNKNOWN_ARGS_SHOWN)}', with args beginning with: ${shown}`;
}

export function execute(args: Args, keyspace: Keyspace, reply: ReplyBuffer, session: Session): After {
  const entry = lookup(args);
  if (entry === undefined) {
    reply.error(unknownCommand(args));
    return After.Continue;
  }
  if (entry.arity > 0 ? args.length !== entry.arity : args.length < -entry.arity) {
    wrongArity(reply, entry.name.toLowerCase());
    return After.Continue;
  }
  try {
    return entry.handle(args, keyspace, reply, session) ?? After.Continue;
  } catch (error) {
    if (!(error instanceof WrongTypeError)) throw error;
    reply.error(error.message);
    return After.Continue;
  }
}
