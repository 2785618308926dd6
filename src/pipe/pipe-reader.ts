import { ReadOnlySequence, wholeOrView } from '../buffers/read-only-sequence.js';
import { SequencePosition } from '../buffers/sequence-position.js';
import type { SequenceSegment } from '../buffers/sequence-segment.js';
import {
  abortError,
  FlushCanceledError,
  InvalidArgumentTypeError,
  NoReadToAdvanceError,
  PipeCompletedError,
  PipeEndMovedError,
  ReadCanceledError,
  ReadPendingError,
  validateInteger,
  validateSignal,
} from '../errors/index.js';
import { ReadResultSlot, type OperationOptions, type ReadResult } from './results.js';
import { PipeWriter } from './pipe-writer.js';
import { readerChunks, type ChunksOptions } from './reader-iteration.js';

const enum ReadState {
  Idle = 0,
  /** A read is suspended; its promise has not settled. */
  Pending = 1,
  /** A result is out: the next read needs an `advanceTo` first. */
  Outstanding = 2,
  /** A canceled result or a `tryRead()` that found nothing: `advanceTo` is allowed, not required. */
  Tentative = 3,
}

/** The read state once `result` is out: a canceled result allows an `advanceTo`, any other requires one. */
function stateAfter(result: ReadResult): ReadState {
  return result.isCanceled ? ReadState.Tentative : ReadState.Outstanding;
}

/**
 * The reading end of a pipe. `read()` hands out every unconsumed byte as a sequence; `advanceTo`
 * says how far the reader consumed (memory the pipe may release) and examined (the next read waits
 * for bytes beyond it).
 *
 * A result and its buffer are valid until the next `advanceTo` (or, after a canceled result, the next
 * read): a reader may hand out the very same objects again, rewritten (the in-thread `Pipe` and
 * `createReader` do; see `ReadResultSlot`), so a steady read allocates nothing. What outlives that:
 * values read out of it (flags, lengths), copies (`buffer.toUint8Array()`, `buffer.toString()`,
 * the chunks of `for await`), positions (values, never changed in place), and slices
 * (`buffer.slice(...)`, sequences of their own) for as long as their bytes are not consumed.
 *
 * The contract lives here once: argument checks, the read state (idle, pending, result out),
 * completion and move checks, signal wiring and iteration. Implementations supply the `…Core`
 * methods, which run only after the checks passed.
 */
export abstract class PipeReader implements AsyncIterable<Uint8Array> {
  #state = ReadState.Idle;
  #completed = false;
  #moved = false;
  // Attached to every suspended read before the caller sees its promise, so the state is up to date
  // when the caller's continuation runs; created once per reader, not per read.
  // Made on the first read that is not settled at once: an end read only by `tryRead()` (or whose reads
  // always find data) keeps no closures; an end with a read waiting has them either way.
  #onResultFn: ((result: ReadResult) => void) | null = null;
  #onFailureFn: (() => void) | null = null;
  get #onResult(): (result: ReadResult) => void {
    return (this.#onResultFn ??= (result) => {
      if (this.#state === ReadState.Pending) this.#state = stateAfter(result);
    });
  }
  get #onFailure(): () => void {
    return (this.#onFailureFn ??= () => {
      if (this.#state === ReadState.Pending) this.#state = ReadState.Idle;
    });
  }

  /**
   * Waits for data beyond what was examined, the writer's completion or a cancel. When the result is
   * there already, the promise is settled; a reader that reuses its result (`ReadResultSlot`) hands
   * out the same settled promise every time, so such a read allocates nothing.
   */
  read(options?: OperationOptions): Promise<ReadResult> {
    const signal = validateSignal('options.signal', options?.signal);
    this.#beginRead();
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let result: ReadResult | Promise<ReadResult>;
    try {
      result = this.readCore(signal);
    } catch (error) {
      // A failure found at once (the writer's error) rejects the read; misuse above throws.
      return Promise.reject(error);
    }
    return this.#deliver(result);
  }

  /** Waits until at least `minimumSize` bytes are buffered, the writer completed or the read was canceled. */
  readAtLeast(minimumSize: number, options?: OperationOptions): Promise<ReadResult> {
    validateInteger('minimumSize', minimumSize, 0);
    const signal = validateSignal('options.signal', options?.signal);
    this.#beginRead();
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let result: ReadResult | Promise<ReadResult>;
    try {
      result = this.readAtLeastCore(minimumSize, signal);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#deliver(result);
  }

  /** The result at once, or null when there is nothing new (then no `advanceTo` is needed). Allocates nothing on a warm `Pipe`. */
  tryRead(): ReadResult | null {
    this.#beginRead();
    const result = this.tryReadCore();
    this.#state = result === null ? ReadState.Tentative : stateAfter(result);
    return result;
  }

  advanceTo(consumed: SequencePosition, examined: SequencePosition = consumed): void {
    if (!(consumed instanceof SequencePosition)) throw new InvalidArgumentTypeError('consumed', consumed, 'a SequencePosition');
    if (!(examined instanceof SequencePosition)) throw new InvalidArgumentTypeError('examined', examined, 'a SequencePosition');
    this.checkUsable();
    if (this.#state === ReadState.Idle || this.#state === ReadState.Pending) throw new NoReadToAdvanceError();
    this.advanceToCore(consumed, examined);
    this.#state = ReadState.Idle;
  }

  /** Makes the pending read, or the next one, return `isCanceled: true`. */
  cancelPendingRead(): void {
    this.cancelPendingReadCore();
  }

  /** Ends reading; the writer's next flush reports `isCompleted` (or fails with `error`). A second call does nothing. */
  complete(error?: Error): void {
    if (error !== undefined && error !== null && !(error instanceof Error)) throw new InvalidArgumentTypeError('error', error, 'an Error or undefined');
    if (this.#moved) throw new PipeEndMovedError('reader');
    if (this.#completed) return;
    this.#completed = true;
    this.#state = ReadState.Idle;
    this.completeCore(error ?? undefined);
  }

  /** True once `complete()` ran on this end. */
  protected get isCompletedEnd(): boolean {
    return this.#completed;
  }

  /** True while a read is suspended. */
  protected get isReadPending(): boolean {
    return this.#state === ReadState.Pending;
  }

  /** True while a result is out that still needs its `advanceTo`. */
  protected get isResultOutstanding(): boolean {
    return this.#state === ReadState.Outstanding;
  }

  /** Throws unless this end may be used on this thread now. */
  protected checkUsable(): void {
    if (this.#moved) throw new PipeEndMovedError('reader');
    if (this.#completed) throw new PipeCompletedError('reader');
  }

  /** For a pipe that can be reset: this end is usable again, with no read in progress. */
  protected reopen(): void {
    this.#completed = false;
    this.#state = ReadState.Idle;
  }

  /** Records a result a blocking read of the implementation hands out, as `read()` does for its own. */
  protected deliveredSync(result: ReadResult): ReadResult {
    this.#state = stateAfter(result);
    return result;
  }

  /** For an end that moves to another thread: after this only `cancelPendingRead()` works here. */
  protected markMoved(): void {
    this.#moved = true;
    this.#state = ReadState.Idle;
  }

  /** The result now (a plain value) or a promise of it; may throw for a failure the call itself reports. */
  protected abstract readCore(signal: AbortSignal | undefined): ReadResult | Promise<ReadResult>;

  protected abstract tryReadCore(): ReadResult | null;

  protected abstract advanceToCore(consumed: SequencePosition, examined: SequencePosition): void;

  protected abstract cancelPendingReadCore(): void;

  protected abstract completeCore(error: Error | undefined): void;

  /** The generic loop: examine everything and read again until enough is buffered. */
  protected readAtLeastCore(minimumSize: number, signal: AbortSignal | undefined): ReadResult | Promise<ReadResult> {
    return this.#readAtLeastLoop(minimumSize, signal);
  }

  async #readAtLeastLoop(minimumSize: number, signal: AbortSignal | undefined): Promise<ReadResult> {
    for (;;) {
      const result = await this.readCore(signal);
      if (result.buffer.length >= minimumSize || result.isCompleted || result.isCanceled) return result;
      this.advanceToCore(result.buffer.start, result.buffer.end);
    }
  }

  #beginRead(): void {
    this.checkUsable();
    if (this.#state === ReadState.Pending || this.#state === ReadState.Outstanding) throw new ReadPendingError();
  }

  #deliver(result: ReadResult | Promise<ReadResult>): Promise<ReadResult> {
    if (!(result instanceof Promise)) {
      this.#state = stateAfter(result);
      return result instanceof ReadResultSlot ? result.settled : Promise.resolve(result);
    }
    this.#state = ReadState.Pending;
    result.then(this.#onResult, this.#onFailure);
    return result;
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
   * Iterates the bytes, one chunk per read. Each chunk is a copy the consumer owns: safe to keep, to
   * collect or to hand to a stream (`stream.pipeline(reader, file)`, `Readable.from(reader)`). The loop
   * owns the reader: when it ends (done, break or error) the reader is completed, as a Node stream is
   * destroyed. For zero-copy views use `chunks({ copy: false })`.
   */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return readerChunks(this);
  }

  /**
   * The chunks of `for await (const chunk of reader)`; with `{ copy: false }`, views over the pipe's
   * own memory instead of copies (zero copy): each view is valid only until the loop takes its next
   * step, so copy what you keep. The loop owns the reader either way. Options are checked at the call.
   */
  chunks(options?: ChunksOptions): AsyncGenerator<Uint8Array, void, undefined> {
    return readerChunks(this, options);
  }
}

/** Each non-empty segment of a sequence with the position just after it. */
export function* segmentsOf(sequence: ReadOnlySequence): Generator<[Uint8Array, SequencePosition]> {
  let segment: SequenceSegment | null = sequence.startSegment;
  let index = sequence.startIndex;
  while (segment !== null) {
    const last = segment === sequence.endSegment;
    const end = last ? sequence.endIndex : segment.length;
    if (end > index) yield [wholeOrView(segment.buffer, index, end), last ? sequence.end : new SequencePosition(segment, end)];
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
