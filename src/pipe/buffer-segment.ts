import { kReturnRented, type MemoryPool } from '../buffers/memory-pool.js';
import type { SequenceSegment } from '../buffers/sequence-segment.js';

const noMemory = new Uint8Array(0);

/** A pipe's segment: a rented block (or a transferred buffer), how much of it is committed, and the next segment. */
export class BufferSegment implements SequenceSegment {
  buffer: Uint8Array = noMemory;
  /** Committed bytes (.NET's `End`); bytes advanced but not yet flushed are counted by the pipe. */
  length = 0;
  next: BufferSegment | null = null;
  runningIndex = 0;
  #pool: MemoryPool | null = null;

  setOwnedMemory(block: Uint8Array, pool: MemoryPool): void {
    this.buffer = block;
    this.#pool = pool;
  }

  /** Memory the caller handed over: read in place, never written by the pipe, never pooled. */
  setTransferredMemory(view: Uint8Array): void {
    this.buffer = view;
    this.#pool = null;
  }

  /** Returns the block to its pool; the segment keeps its place in the chain (an empty head taking other memory). */
  releaseMemory(): void {
    const pool = this.#pool;
    if (pool !== null) pool[kReturnRented](this.buffer);
    this.#pool = null;
    this.buffer = noMemory;
  }

  /** Returns the block to its pool and clears the links, ready for the segment pool. */
  resetMemory(): void {
    this.releaseMemory();
    this.length = 0;
    this.next = null;
    this.runningIndex = 0;
  }

  setNext(segment: BufferSegment): void {
    this.next = segment;
    let current: BufferSegment = this;
    while (current.next !== null) {
      current.next.runningIndex = current.runningIndex + current.length;
      current = current.next;
    }
  }
}

/** The pipe's bounded LIFO of spare segment objects. */
export class BufferSegmentStack {
  readonly #items: BufferSegment[] = [];
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  pop(): BufferSegment | undefined {
    return this.#items.pop();
  }

  push(segment: BufferSegment): void {
    if (this.#items.length < this.#capacity) this.#items.push(segment);
  }
}
