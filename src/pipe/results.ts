import { ReadOnlySequence, reusableSequence, reuseSequence } from '../buffers/read-only-sequence.js';
import type { SequenceSegment } from '../buffers/sequence-segment.js';

/**
 * What a read hands out. Like its buffer, it is valid until the reader's next `advanceTo` or read: a reader
 * may hand out the same object again for its next read, rewritten (the in-thread `Pipe` and
 * `createReader` do, so a steady read allocates nothing). Keep what you need before advancing: the
 * flags, copies of the bytes (`buffer.toUint8Array()`, `buffer.toString()`) and positions, which are
 * values and keep naming the place they named.
 */
export interface ReadResult {
  readonly buffer: ReadOnlySequence;
  readonly isCanceled: boolean;
  readonly isCompleted: boolean;
}

export interface FlushResult {
  readonly isCanceled: boolean;
  readonly isCompleted: boolean;
}

export interface OperationOptions {
  signal?: AbortSignal;
}

export interface WriteOptions extends OperationOptions {
  /**
   * `true` hands `data` (a `Uint8Array`) over to the pipe: the caller stops using it, as with a chunk
   * given to a Node stream's `write()`. The in-thread `Pipe` links it as a segment (no copy) and
   * `createWriter` passes it to its destination as it is; a `SharedPipe` copies it into the ring, the
   * floor for memory another thread cannot see. The pipe never writes to it and never returns it to
   * a pool. Default `false`: the bytes are copied and `data` is the caller's again once `write` returns.
   */
  transfer?: boolean;
}

/** @internal The options of a write that hands over a buffer the caller made for it (one object for every such write). */
export const kTransfer: WriteOptions = Object.freeze({ transfer: true });


/**
 * A reader's one result object, with its one sequence: each read rewrites both instead of allocating
 * them, as .NET's `ReadResult` and `ReadOnlySequence` are values there. A reader owns one slot and
 * returns `over(...)` or `empty(...)` from every read. Nothing of an earlier result survives in the
 * slot except positions: they are never changed in place, and one the sequence handed out lately is
 * handed out again when a read starts or ends at the same place.
 */
export class ReadResultSlot implements ReadResult {
  buffer: ReadOnlySequence = ReadOnlySequence.empty;
  isCanceled = false;
  isCompleted = false;
  readonly #sequence = reusableSequence();
  /**
   * A promise settled with this slot, which `read()` hands out whenever it has the result at once:
   * the slot is the same object every time, so one settled promise serves every read, as the shared
   * settled flush promises serve every flush.
   */
  readonly settled: Promise<ReadResult> = Promise.resolve(this);

  /** The result over a chain of segments, from (startSegment, startIndex) to (endSegment, endIndex). */
  over(startSegment: SequenceSegment, startIndex: number, endSegment: SequenceSegment, endIndex: number, isCanceled: boolean, isCompleted: boolean): ReadResult {
    this.buffer = reuseSequence(this.#sequence, startSegment, startIndex, endSegment, endIndex);
    this.isCanceled = isCanceled;
    this.isCompleted = isCompleted;
    return this;
  }

  /** The result with no bytes and no segment (`ReadOnlySequence.empty`). */
  empty(isCanceled: boolean, isCompleted: boolean): ReadResult {
    this.buffer = ReadOnlySequence.empty;
    this.isCanceled = isCanceled;
    this.isCompleted = isCompleted;
    return this;
  }
}

const flushResults: readonly FlushResult[] = [
  Object.freeze({ isCanceled: false, isCompleted: false }),
  Object.freeze({ isCanceled: false, isCompleted: true }),
  Object.freeze({ isCanceled: true, isCompleted: false }),
  Object.freeze({ isCanceled: true, isCompleted: true }),
];

// Resolved promises can be handed out any number of times, so a flush that completes at once allocates nothing.
const settledFlushes: readonly Promise<FlushResult>[] = flushResults.map((result) => Promise.resolve(result));

/** One of four frozen results: flush results carry no data, so they are shared. */
export function flushResult(isCanceled: boolean, isCompleted: boolean): FlushResult {
  return flushResults[(isCanceled ? 2 : 0) + (isCompleted ? 1 : 0)]!;
}

export function settledFlush(isCanceled: boolean, isCompleted: boolean): Promise<FlushResult> {
  return settledFlushes[(isCanceled ? 2 : 0) + (isCompleted ? 1 : 0)]!;
}

/** @internal True when a flush promise is one of the shared settled ones: it completed without waiting. */
export function settledFlushResult(promise: Promise<FlushResult>): FlushResult | null {
  const index = settledFlushes.indexOf(promise);
  return index < 0 ? null : flushResults[index]!;
}
