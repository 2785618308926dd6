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
import { settledFlush, settledFlushResult, type FlushResult, type OperationOptions } from './results.js';

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
  readonly #onFlushSettled = (): void => {
    this.#flushPending = false;
  };

  /** At least `max(sizeHint, 1)` writable bytes, valid until the next `advance`, `flush` or `write`. */
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
   * Hands all of `data` (strings as UTF-8) to the pipe and flushes. A canceled or aborted flush
   * cancels the wait, never the data: every byte is still delivered, before anything written later.
   */
  write(data: Uint8Array | string, options?: OperationOptions): Promise<FlushResult> {
    this.checkUsable();
    const bytes = toBytes(data);
    const signal = validateSignal('options.signal', options?.signal);
    if (this.#flushPending) throw new FlushPendingError();
    if (signal?.aborted) return Promise.reject(abortError(signal));
    this.#memoryLength = 0;
    let result: FlushResult | Promise<FlushResult>;
    try {
      result = this.writeCore(bytes, signal);
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
