import {
  abortError,
  FlushPendingError,
  InvalidArgumentTypeError,
  PipeCompletedError,
  PipeEndMovedError,
  validateInteger,
  validateSignal,
  WriteBeyondMemoryError,
} from '../errors/index.js';
import { settledFlush, settledFlushResult, type FlushResult, type OperationOptions, type WriteOptions } from './results.js';

const encoder = new TextEncoder();

/**
 * The writing end of a pipe: ask for memory, fill it, `advance`, then `flush` to make it readable.
 *
 * The contract lives here once: argument checks, completion and move checks, one flush at a time,
 * signal wiring, and the memory an `advance` may cover. Implementations supply the `…Core` methods,
 * which run only after the checks passed.
 */
export abstract class PipeWriter {
  #completed = false;
  #moved = false;
  #flushPending = false;
  /** Bytes of the last `getMemory` block an `advance` may still cover. */
  #memoryLength = 0;
  // Made on the first flush that does not settle at once: an end whose flushes never wait keeps no closure.
  #onFlushSettledFn: (() => void) | null = null;
  get #onFlushSettled(): () => void {
    return (this.#onFlushSettledFn ??= () => {
      this.#flushPending = false;
    });
  }

  /**
   * At least `max(sizeHint, 1)` writable bytes, valid until the next `advance`, `flush` or `write`.
   * On a `Pipe` memory that starts a block is the block itself, and a second call with nothing
   * advanced in between returns the same memory: neither allocates. Memory further into a block is a
   * new view (a typed array cannot be moved); a writer of many small records that must allocate
   * nothing asks for their total once, or uses `write()`.
   */
  getMemory(sizeHint = 0): Uint8Array {
    validateInteger('sizeHint', sizeHint, 0);
    this.checkUsable();
    const memory = this.getMemoryCore(Math.max(1, sizeHint));
    this.#memoryLength = memory.length;
    return memory;
  }

  /** Marks `bytes` of the last `getMemory` block as written. */
  advance(bytes: number): void {
    validateInteger('bytes', bytes, 0);
    this.checkUsable();
    if (bytes > this.#memoryLength) throw new WriteBeyondMemoryError(bytes, this.#memoryLength);
    if (bytes === 0) return;
    // As in .NET, several advances may share one block; each shrinks what the next may cover.
    this.#memoryLength -= bytes;
    this.advanceCore(bytes);
  }

  /** Makes everything advanced so far readable; waits while the reader is behind the pause threshold. */
  flush(options?: OperationOptions): Promise<FlushResult> {
    const signal = validateSignal('options.signal', options?.signal);
    // A flush after complete() is allowed and commits nothing new, as in .NET.
    if (this.#moved) throw new PipeEndMovedError('writer');
    if (this.#flushPending) throw new FlushPendingError();
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let result: FlushResult | Promise<FlushResult>;
    try {
      result = this.flushCore(signal);
    } catch (error) {
      // A failure found at once (the reader's error) rejects the flush; misuse above throws.
      return Promise.reject(error);
    }
    return this.#deliver(result);
  }

  /**
   * Hands all of `data` (strings as UTF-8) to the pipe, after the bytes advanced so far, and flushes.
   * A canceled or aborted flush cancels the wait, never the data: every byte is still delivered,
   * before anything written later.
   *
   * By default the bytes are copied: `data` is the caller's again as soon as `write` returns. With
   * `{ transfer: true }` the caller hands the buffer over and stops using it (never writes to it
   * again; in general never touches it again), as with a chunk given to a Node stream: then the
   * in-thread `Pipe` links it as a segment without copying, and the reader's memory is that very
   * buffer (a whole-buffer `result.buffer.first` is the object itself); `createWriter` passes it to
   * its destination as it is; a `SharedPipe` copies it into the ring, the floor for memory another
   * thread cannot see. The pipe never writes to a transferred buffer and never returns it to a pool;
   * backpressure counts its bytes as any others.
   */
  write(data: Uint8Array | string, options?: WriteOptions): Promise<FlushResult> {
    this.checkUsable();
    const transfer = options?.transfer ?? false;
    if (typeof transfer !== 'boolean') throw new InvalidArgumentTypeError('options.transfer', transfer, 'a boolean');
    if (transfer && !(data instanceof Uint8Array)) throw new InvalidArgumentTypeError('data', data, 'a Uint8Array when options.transfer is true (a string is always copied)');
    const bytes = toBytes(data);
    const signal = validateSignal('options.signal', options?.signal);
    if (this.#flushPending) throw new FlushPendingError();
    if (signal?.aborted) return Promise.reject(abortError(signal));
    this.#memoryLength = 0;
    let result: FlushResult | Promise<FlushResult>;
    try {
      result = transfer ? this.writeTransferredCore(bytes, signal) : this.writeCore(bytes, signal);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#deliver(result);
  }

  /** Makes the pending flush, or the next one, return `isCanceled: true`. */
  cancelPendingFlush(): void {
    this.cancelPendingFlushCore();
  }

  /** Ends writing; the reader sees `isCompleted` after the last byte (or fails with `error`). A second call does nothing. */
  complete(error?: Error): void {
    if (error !== undefined && error !== null && !(error instanceof Error)) throw new InvalidArgumentTypeError('error', error, 'an Error or undefined');
    if (this.#moved) throw new PipeEndMovedError('writer');
    if (this.#completed) return;
    this.#completed = true;
    this.#memoryLength = 0;
    this.completeCore(error ?? undefined);
  }

  /** Bytes advanced since the last flush. */
  abstract readonly unflushedBytes: number;

  protected get isCompletedEnd(): boolean {
    return this.#completed;
  }

  protected get isFlushPending(): boolean {
    return this.#flushPending;
  }

  protected checkUsable(): void {
    if (this.#moved) throw new PipeEndMovedError('writer');
    if (this.#completed) throw new PipeCompletedError('writer');
  }

  /** For a pipe that can be reset: this end is usable again, with no flush in progress. */
  protected reopen(): void {
    this.#completed = false;
    this.#flushPending = false;
    this.#memoryLength = 0;
  }

  /** For an end that moves to another thread: after this only `cancelPendingFlush()` works here. */
  protected markMoved(): void {
    this.#moved = true;
    this.#memoryLength = 0;
  }

  /** At least `size` (>= 1) writable bytes. */
  protected abstract getMemoryCore(size: number): Uint8Array;

  /** `bytes` (>= 1, within the last block) were written. */
  protected abstract advanceCore(bytes: number): void;

  /** The result now (a plain value or a settled promise) or a promise of it. */
  protected abstract flushCore(signal: AbortSignal | undefined): FlushResult | Promise<FlushResult>;

  protected abstract cancelPendingFlushCore(): void;

  protected abstract completeCore(error: Error | undefined): void;

  /** The generic copy through `getMemoryCore`, then a flush. */
  protected writeCore(bytes: Uint8Array, signal: AbortSignal | undefined): FlushResult | Promise<FlushResult> {
    let offset = 0;
    while (offset < bytes.length) {
      const memory = this.getMemoryCore(1);
      const count = Math.min(memory.length, bytes.length - offset);
      memory.set(bytes.subarray(offset, offset + count));
      this.advanceCore(count);
      offset += count;
    }
    return this.flushCore(signal);
  }

  /**
   * `bytes` the caller handed over (`write(data, { transfer: true })`), then a flush. This default
   * copies, as `writeCore` does: right for an end that cannot keep memory it does not own, such as a
   * ring another thread reads. An end that can keep a reference (and never write to it) overrides it.
   */
  protected writeTransferredCore(bytes: Uint8Array, signal: AbortSignal | undefined): FlushResult | Promise<FlushResult> {
    return this.writeCore(bytes, signal);
  }

  #deliver(result: FlushResult | Promise<FlushResult>): Promise<FlushResult> {
    if (!(result instanceof Promise)) return settledFlush(result.isCanceled, result.isCompleted);
    // A flush that completed at once hands out a shared settled promise: nothing is pending.
    if (settledFlushResult(result) !== null) return result;
    this.#flushPending = true;
    result.then(this.#onFlushSettled, this.#onFlushSettled);
    return result;
  }
}

export function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new InvalidArgumentTypeError('data', data, 'a Uint8Array or a string');
}
