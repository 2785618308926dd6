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
  /** The block's ArrayBuffer and offset, read once per block when a view into it is first needed. */
  #arrayBuffer: ArrayBufferLike | null = null;
  #byteOffset = 0;

  setOwnedMemory(block: Uint8Array, pool: MemoryPool): void {
    this.buffer = block;
    this.#pool = pool;
    this.#arrayBuffer = null;
  }

  /**
   * The block from `start` to its end. A view built from the block's ArrayBuffer costs less than
   * `subarray`, which looks up a species constructor each time; a writer asking for memory after
   * every small advance needs one per call.
   */
  viewFrom(start: number): Uint8Array {
    const block = this.buffer;
    if (start === 0) return block;
    if (this.#arrayBuffer === null) {
      this.#arrayBuffer = block.buffer;
      this.#byteOffset = block.byteOffset;
    }
    return new Uint8Array(this.#arrayBuffer, this.#byteOffset + start, block.length - start);
  }

  /** Memory the caller handed over: read in place, never written by the pipe, never pooled. */
  setTransferredMemory(view: Uint8Array): void {
    this.buffer = view;
    this.#pool = null;
    this.#arrayBuffer = null;
  }

  /** Returns the block to its pool; the segment keeps its place in the chain (an empty head taking other memory). */
  releaseMemory(): void {
    const pool = this.#pool;
    if (pool !== null) pool[kReturnRented](this.buffer);
    this.#pool = null;
    this.buffer = noMemory;
    this.#arrayBuffer = null;
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
