import { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import { SequencePosition } from '../buffers/sequence-position.js';
import type { SequenceSegment } from '../buffers/sequence-segment.js';
import { abortError, FlushCanceledError, InvalidArgumentTypeError, ReadCanceledError, validateInteger, validateSignal } from '../errors/index.js';
import type { OperationOptions, ReadResult } from './results.js';
import { PipeWriter } from './pipe-writer.js';

/**
 * The reading end of a pipe. `read()` hands out every unconsumed byte as a sequence; `advanceTo`
 * says how far the reader consumed (memory the pipe may release) and examined (the next read waits
 * for bytes beyond it).
 */
export abstract class PipeReader implements AsyncIterable<Uint8Array> {
  abstract read(options?: OperationOptions): Promise<ReadResult>;

  /** The result at once, or null when there is nothing new (then no `advanceTo` is needed). */
  abstract tryRead(): ReadResult | null;

  abstract advanceTo(consumed: SequencePosition, examined?: SequencePosition): void;

  /** Makes the pending read, or the next one, return `isCanceled: true`. */
  abstract cancelPendingRead(): void;

  abstract complete(error?: Error): void;

  /** Waits until at least `minimumSize` bytes are buffered, the writer completed or the read was canceled. */
  readAtLeast(minimumSize: number, options?: OperationOptions): Promise<ReadResult> {
    validateInteger('minimumSize', minimumSize, 0);
    return this.readAtLeastCore(minimumSize, options);
  }

  /** The generic loop: examine everything and read again until enough is buffered. */
  protected async readAtLeastCore(minimumSize: number, options?: OperationOptions): Promise<ReadResult> {
    for (;;) {
      const result = await this.read(options);
      if (result.buffer.length >= minimumSize || result.isCompleted || result.isCanceled) return result;
      this.advanceTo(result.buffer.start, result.buffer.end);
    }
  }

  /**
   * Copies everything up to the writer's completion into `destination`, consuming as it goes. A
   * completed destination writer stops the copy; neither side is completed by it.
   */
  copyTo(destination: PipeWriter | NodeJS.WritableStream, options?: OperationOptions): Promise<void> {
    const isWriter = destination instanceof PipeWriter;
    if (!isWriter && !isWritableStream(destination)) {
      throw new InvalidArgumentTypeError('destination', destination, 'a PipeWriter or a writable stream');
    }
    const signal = validateSignal('options.signal', options?.signal);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return isWriter
      ? this.#copyToWriter(destination as PipeWriter, options)
      : this.#copyToStream(destination as NodeJS.WritableStream, signal);
  }

  async #copyToWriter(destination: PipeWriter, options?: OperationOptions): Promise<void> {
    for (;;) {
      const result = await this.read(options);
      const buffer = result.buffer;
      let consumed = buffer.start;
      try {
        if (result.isCanceled) throw new ReadCanceledError();
        for (const [chunk, end] of segmentsOf(buffer)) {
          const flush = await destination.write(chunk, options);
          if (flush.isCanceled) throw new FlushCanceledError();
          consumed = end;
          if (flush.isCompleted) return;
        }
        if (result.isCompleted) return;
      } finally {
        this.advanceTo(consumed);
      }
    }
  }

  async #copyToStream(destination: NodeJS.WritableStream, signal: AbortSignal | undefined): Promise<void> {
    // The stream reports a failed write on 'error' too; the copy's rejection carries it to the caller.
    const onError = (): void => {};
    destination.on('error', onError);
    try {
      for (;;) {
        const result = await this.read(signal === undefined ? undefined : { signal });
        const buffer = result.buffer;
        let consumed = buffer.start;
        try {
          if (result.isCanceled) throw new ReadCanceledError();
          // A stream keeps a reference to what it is given until the write callback runs, so the
          // pipe's memory is advanced past a segment only once its callback reported success.
          const writes: [Promise<void>, SequencePosition][] = [];
          for (const [chunk, end] of segmentsOf(buffer)) {
            const written = writeChunk(destination, chunk, signal);
            written.catch(() => {});
            writes.push([written, end]);
          }
          for (const [written, end] of writes) {
            await written;
            consumed = end;
          }
          if (result.isCompleted) return;
        } finally {
          this.advanceTo(consumed);
        }
      }
    } finally {
      destination.removeListener('error', onError);
    }
  }

  /**
   * Iterates the bytes chunk by chunk; each chunk is valid until the next step. The loop owns the
   * reader: when it ends (done, break or error) the reader is completed, as a Node stream is destroyed.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    let failure: Error | undefined;
    try {
      for (;;) {
        const result = await this.read();
        const buffer = result.buffer;
        if (result.isCanceled) {
          this.advanceTo(buffer.start);
          throw new ReadCanceledError();
        }
        let consumed = buffer.start;
        try {
          for (const [chunk, end] of segmentsOf(buffer)) {
            yield chunk;
            consumed = end;
          }
        } finally {
          this.advanceTo(consumed);
        }
        if (result.isCompleted) return;
      }
    } catch (error) {
      failure = error as Error;
      throw error;
    } finally {
      this.complete(failure);
    }
  }
}

/** Each non-empty segment of a sequence with the position just after it. */
export function* segmentsOf(sequence: ReadOnlySequence): Generator<[Uint8Array, SequencePosition]> {
  let segment: SequenceSegment | null = sequence.startSegment;
  let index = sequence.startIndex;
  while (segment !== null) {
    const last = segment === sequence.endSegment;
    const end = last ? sequence.endIndex : segment.length;
    if (end > index) yield [segment.buffer.subarray(index, end), last ? sequence.end : new SequencePosition(segment, end)];
    if (last) return;
    segment = segment.next;
    index = 0;
  }
}

function isWritableStream(value: unknown): value is NodeJS.WritableStream {
  return typeof value === 'object' && value !== null && typeof (value as NodeJS.WritableStream).write === 'function' && typeof (value as NodeJS.WritableStream).on === 'function';
}

function writeChunk(stream: NodeJS.WritableStream, chunk: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.write(chunk, (error?: Error | null) => {
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    });
  });
}
