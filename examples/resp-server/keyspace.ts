// The data the RESP server serves: strings, lists, sets, hashes and sorted sets, each with an
// optional expiry. Owned by exactly one thread, so it needs no locks.
import { ListValue } from './list-value.js';
import type { Args } from './resp.js';

export { ListValue };

/** A sorted set: member → score; ordered on demand (by score, then member), as Redis orders it. */
export class SortedSet {
  readonly scores = new Map<string, number>();

  ordered(): [string, number][] {
    return [...this.scores].sort(([a, x], [b, y]) => (x !== y ? x - y : a < b ? -1 : a > b ? 1 : 0));
  }
}

/** A value of one of Redis's types. Set members and hash fields are latin1 strings of their bytes. */
export type Value = Uint8Array | ListValue | Set<string> | Map<string, Uint8Array> | SortedSet;

export type TypeName = 'string' | 'list' | 'set' | 'hash' | 'zset';

export function typeOf(value: Value): TypeName {
  if (value instanceof Uint8Array) return 'string';
  if (value instanceof ListValue) return 'list';
  if (value instanceof Set) return 'set';
  if (value instanceof Map) return 'hash';
  return 'zset';
}

/** A command met a key of another type: answered with Redis's WRONGTYPE error. */
export class WrongTypeError extends Error {
  override readonly name = 'WrongTypeError';
  constructor() {
    super('WRONGTYPE Operation against a key holding the wrong kind of value');
  }
}

interface Entry {
  value: Value;
  /** Expiry time (Date.now() ms), or 0 for none. */
  expiresAt: number;
}

export class Keyspace {
  readonly #entries = new Map<string, Entry>();

  #live(key: string, now?: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    // The clock is read only for a key that has an expiry.
    if (entry.expiresAt !== 0 && entry.expiresAt <= (now ?? Date.now())) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** A string value; throws WrongTypeError for a key of another type. */
  get(key: string): Uint8Array | undefined {
    const value = this.#live(key)?.value;
    if (value !== undefined && !(value instanceof Uint8Array)) throw new WrongTypeError();
    return value;
  }

  /** The value of any type, or undefined. */
  value(key: string): Value | undefined {
    return this.#live(key)?.value;
  }

  /**
   * The value of the type `type` at key (WrongTypeError for another type), created with `create`
   * when missing, or undefined when missing and no `create` is given.
   */
  typed<T extends Value>(key: string, type: TypeName, create?: () => T): T | undefined {
    const entry = this.#live(key);
    if (entry !== undefined) {
      if (typeOf(entry.value) !== type) throw new WrongTypeError();
      return entry.value as T;
    }
    if (create === undefined) return undefined;
    const value = create();
    this.#entries.set(key, { value, expiresAt: 0 });
    return value;
  }

  /** Drops a container key that became empty, as Redis does. */
  dropIfEmpty(key: string, value: Value): void {
    const size = value instanceof ListValue ? value.length : value instanceof Uint8Array ? 1 : value instanceof SortedSet ? value.scores.size : value.size;
    if (size === 0) this.#entries.delete(key);
  }

  has(key: string): boolean {
    return this.#live(key) !== undefined;
  }

  /** Stores a value; `keepTtl` keeps an existing expiry (APPEND, INCR), otherwise it is replaced. */
  set(key: string, value: Value, expiresAt = 0, keepTtl = false): void {
    const existing = keepTtl ? this.#live(key) : this.#entries.get(key);
    if (existing === undefined) {
      this.#entries.set(key, { value, expiresAt });
      return;
    }
    existing.value = value;
    if (!keepTtl) existing.expiresAt = expiresAt;
  }

  /**
   * Stores argument i as the string value of `key`, replacing any value and expiry (SET). A string
   * value is never shared (readers copy it into their reply), so one of the same length is
   * overwritten in place: a key set again and again costs no allocation.
   */
  setString(key: string, args: Args, i: number, expiresAt = 0): void {
    const existing = this.#entries.get(key);
    if (existing === undefined) {
      this.#entries.set(key, { value: args.copy(i), expiresAt });
      return;
    }
    const value = existing.value;
    if (value instanceof Uint8Array && value.length === args.size(i)) args.copyTo(i, value);
    else existing.value = args.copy(i);
    existing.expiresAt = expiresAt;
  }

  delete(key: string): boolean {
    return this.#live(key) !== undefined && this.#entries.delete(key);
  }

  /** Sets an expiry on an existing key; false when there is no such key. */
  expire(key: string, expiresAt: number): boolean {
    const entry = this.#live(key);
    if (entry === undefined) return false;
    if (expiresAt <= Date.now()) this.#entries.delete(key);
    else entry.expiresAt = expiresAt;
    return true;
  }

  /** Removes an expiry; false when there is no such key or it had none. */
  persist(key: string): boolean {
    const entry = this.#live(key);
    if (entry === undefined || entry.expiresAt === 0) return false;
    entry.expiresAt = 0;
    return true;
  }

  /** Remaining time to live in ms: -2 when the key does not exist, -1 when it has no expiry. */
  ttl(key: string): number {
    const now = Date.now();
    const entry = this.#live(key, now);
    if (entry === undefined) return -2;
    return entry.expiresAt === 0 ? -1 : entry.expiresAt - now;
  }

  #purge(): void {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) this.#entries.delete(key);
    }
  }

  size(): number {
    this.#purge();
    return this.#entries.size;
  }

  /** The number of live keys that carry an expiry (INFO keyspace). */
  expiring(): number {
    this.#purge();
    let count = 0;
    for (const entry of this.#entries.values()) if (entry.expiresAt !== 0) count++;
    return count;
  }

  /** Every live key, in insertion order. */
  keys(): string[] {
    this.#purge();
    return [...this.#entries.keys()];
  }

  clear(): void {
    this.#entries.clear();
  }
}
