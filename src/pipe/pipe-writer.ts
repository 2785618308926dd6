import { InvalidArgumentTypeError } from '../errors/index.js';
import type { FlushResult, OperationOptions } from './results.js';

const encoder = new TextEncoder();

/** The writing end of a pipe: ask for memory, fill it, `advance`, then `flush` to make it readable. */
export abstract class PipeWriter {
  /** At least `max(sizeHint, 1)` writable bytes. */
  abstract getMemory(sizeHint?: number): Uint8Array;

  /** Marks `bytes` of the last `getMemory` block as written. */
  abstract advance(bytes: number): void;

  /** Makes everything advanced so far readable; waits while the reader is behind the pause threshold. */
  abstract flush(options?: OperationOptions): Promise<FlushResult>;

  /** Makes the pending flush, or the next one, return `isCanceled: true`. */
  abstract cancelPendingFlush(): void;

  abstract complete(error?: Error): void;

  /** Bytes advanced since the last flush. */
  abstract readonly unflushedBytes: number;

  /** Copies `data` (strings as UTF-8) into the pipe's memory and flushes. */
  write(data: Uint8Array | string, options?: OperationOptions): Promise<FlushResult> {
    const bytes = toBytes(data);
    let offset = 0;
    while (offset < bytes.length) {
      const memory = this.getMemory(1);
      const count = Math.min(memory.length, bytes.length - offset);
      memory.set(bytes.subarray(offset, offset + count));
      this.advance(count);
      offset += count;
    }
    return this.flush(options);
  }
}

export function toBytes(data: Uint8Array | string): Uint8Array {
  if (typeof data === 'string') return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  throw new InvalidArgumentTypeError('data', data, 'a Uint8Array or a string');
}
