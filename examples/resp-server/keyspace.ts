// The data the RESP server serves: string keys with optional expiry. Owned by exactly one thread,
// so it needs no locks.

interface Entry {
  value: Uint8Array;
  /** Expiry time (Date.now() ms), or 0 for none. */
  expiresAt: number;
}

export class Keyspace {
  readonly #entries = new Map<string, Entry>();

  #live(key: string, now = Date.now()): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  get(key: string): Uint8Array | undefined {
    return this.#live(key)?.value;
  }

  has(key: string): boolean {
    return this.#live(key) !== undefined;
  }

  /** Stores a value; `keepTtl` keeps an existing expiry (APPEND, INCR), otherwise it is replaced. */
  set(key: string, value: Uint8Array, expiresAt = 0, keepTtl = false): void {
    const existing = keepTtl ? this.#live(key) : undefined;
    this.#entries.set(key, { value, expiresAt: existing?.expiresAt ?? expiresAt });
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

  /** Remaining time to live in ms: -2 when the key does not exist, -1 when it has no expiry. */
  ttl(key: string): number {
    const now = Date.now();
    const entry = this.#live(key, now);
    if (entry === undefined) return -2;
    return entry.expiresAt === 0 ? -1 : entry.expiresAt - now;
  }

  size(): number {
    const now = Date.now();
    for (const [key, entry] of this.#entries) {
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) this.#entries.delete(key);
    }
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }
}
