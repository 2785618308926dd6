// The commands the RESP server understands, each writing its reply into the batch's ReplyBuffer.
import type { Keyspace } from './keyspace.js';
import type { Command, ReplyBuffer } from './resp.js';

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const OK = 'OK';

/** What the connection does after a command: keep going, or reply and close (QUIT). */
export const enum After {
  Continue,
  Close,
}

type Handler = (args: Command, keyspace: Keyspace, reply: ReplyBuffer) => After | void;

const key = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
const text = (bytes: Uint8Array): string => decoder.decode(bytes);

function integerArgument(bytes: Uint8Array): number | null {
  const value = text(bytes);
  if (!/^-?\d{1,19}$/.test(value)) return null;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : null;
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
      const value = keyspace.get(key(args[1]!));
      if (value === undefined) reply.nil();
      else reply.bulk(value);
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

export function execute(command: Command, keyspace: Keyspace, reply: ReplyBuffer): After {
  let name = key(command[0]!);
  let entry = byName.get(name);
  if (entry === undefined) {
    name = text(command[0]!).toUpperCase();
    entry = handlers[name];
  }
  if (entry === undefined) {
    reply.error(`ERR unknown command '${text(command[0]!).slice(0, 64)}'`);
    return After.Continue;
  }
  if (entry.arity > 0 ? command.length !== entry.arity : command.length < -entry.arity) {
    wrongArity(reply, name.toLowerCase());
    return After.Continue;
  }
  return entry.handle(command, keyspace, reply) ?? After.Continue;
}
