/**
 * A Redis list: a deque over a power-of-two ring of slots, so LPUSH / LPOP cost the same as RPUSH /
 * RPOP (an array's unshift and splice(0, n) move every element).
 */
export class ListValue {
  #slots: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(8);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** The element at `index` from the head (0 ≤ index < length). */
  at(index: number): Uint8Array {
    return this.#slots[(this.#head + index) & (this.#slots.length - 1)]!;
  }

  pushFront(value: Uint8Array): void {
    this.#ensureRoom();
    this.#head = (this.#head - 1) & (this.#slots.length - 1);
    this.#slots[this.#head] = value;
    this.#length++;
  }

  pushBack(value: Uint8Array): void {
    this.#ensureRoom();
    this.#slots[(this.#head + this.#length) & (this.#slots.length - 1)] = value;
    this.#length++;
  }

  /** Removes up to `count` elements from the head, in order. */
  popFront(count: number): Uint8Array[] {
    const taken: Uint8Array[] = [];
    const mask = this.#slots.length - 1;
    while (taken.length < count && this.#length > 0) {
      taken.push(this.#slots[this.#head]!);
      // Drop the reference: a popped value must not stay alive in the ring.
      this.#slots[this.#head] = undefined;
      this.#head = (this.#head + 1) & mask;
      this.#length--;
    }
    return taken;
  }

  /** Removes up to `count` elements from the tail, last first. */
  popBack(count: number): Uint8Array[] {
    const taken: Uint8Array[] = [];
    const mask = this.#slots.length - 1;
    while (taken.length < count && this.#length > 0) {
      const index = (this.#head + this.#length - 1) & mask;
      taken.push(this.#slots[index]!);
      this.#slots[index] = undefined;
      this.#length--;
    }
    return taken;
  }

  #ensureRoom(): void {
    const slots = this.#slots;
    if (this.#length < slots.length) return;
    const grown = new Array<Uint8Array | undefined>(slots.length * 2);
    for (let i = 0; i < this.#length; i++) grown[i] = slots[(this.#head + i) & (slots.length - 1)];
    this.#slots = grown;
    this.#head = 0;
  }
}
