import { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import { SequencePosition } from '../buffers/sequence-position.js';
import { ChunkSegment } from '../buffers/sequence-segment.js';
import {
  AdvanceOutOfRangeError,
  abortError,
  InvalidArgumentTypeError,
  NoReadToAdvanceError,
  PipeCompletedError,
  ReadPendingError,
  validateInteger,
  validateSignal,
} from '../errors/index.js';
import { PipeReader } from '../pipe/pipe-reader.js';
import { readResult, type OperationOptions, type ReadResult } from '../pipe/results.js';
import { openSource, type ChunkSource } from './chunk-source.js';

export interface CreateReaderOptions {
  /** Leave the source open when the reader completes (default: destroy / cancel it). */
  leaveOpen?: boolean;
  /** Unconsumed bytes at which the source is paused; it resumes below half of it. Default 65536. */
  pauseThreshold?: number;
}

const enum Reading {
  None = 0,
  Active = 1,
  Tentative = 2,
}

/**
 * A PipeReader over a Node `Readable`, a WHATWG `ReadableStream` or any `AsyncIterable<Uint8Array>`:
 * each chunk the source delivers becomes a segment of the read buffer, uncopied.
 */
export function createReader(
  source: NodeJS.ReadableStream | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  options: CreateReaderOptions = {},
): PipeReader {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
  const leaveOpen = options.leaveOpen ?? false;
  if (typeof leaveOpen !== 'boolean') throw new InvalidArgumentTypeError('leaveOpen', leaveOpen, 'a boolean');
  const pauseThreshold = validateInteger('pauseThreshold', options.pauseThreshold ?? 65536, 1);
  return new SourcePipeReader(source, leaveOpen, pauseThreshold);
}

class SourcePipeReader extends PipeReader {
  readonly #source: ChunkSource;
  readonly #leaveOpen: boolean;
  readonly #pauseThreshold: number;
  #head: ChunkSegment | null = null;
  #headIndex = 0;
  #tail: ChunkSegment | null = null;
  /** Chain offsets: everything before #consumed is released; the next read waits for data past #examined. */
  #consumed = 0;
  #examined = 0;
  #end = 0;
  #lastReadEnd = 0;
  #ended = false;
  #error: Error | undefined;
  #paused = false;
  #cancel = false;
  #reading = Reading.None;
  #completed = false;
  #pending = false;
  /** Wakes a read that waits for the source. */
  #wake: (() => void) | null = null;

  constructor(source: unknown, leaveOpen: boolean, pauseThreshold: number) {
    super();
    this.#leaveOpen = leaveOpen;
    this.#pauseThreshold = pauseThreshold;
    this.#source = openSource(source, {
      chunk: (chunk) => this.#append(chunk),
      end: () => {
        this.#ended = true;
        this.#signal();
      },
      fail: (error) => {
        this.#error ??= error;
        this.#signal();
      },
    });
    this.#source.resume();
  }

  read(options?: OperationOptions): Promise<ReadResult> {
    const signal = validateSignal('options.signal', options?.signal);
    this.#beginRead();
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let result: ReadResult | null;
    try {
      result = this.#tryComplete();
    } catch (error) {
      return Promise.reject(error);
    }
    return result !== null ? Promise.resolve(result) : this.#wait(signal);
  }

  tryRead(): ReadResult | null {
    this.#beginRead();
    const result = this.#tryComplete();
    if (result === null) this.#reading = Reading.Tentative;
    return result;
  }

  advanceTo(consumed: SequencePosition, examined: SequencePosition = consumed): void {
    if (!(consumed instanceof SequencePosition)) throw new InvalidArgumentTypeError('consumed', consumed, 'a SequencePosition');
    if (!(examined instanceof SequencePosition)) throw new InvalidArgumentTypeError('examined', examined, 'a SequencePosition');
    if (this.#completed) throw new PipeCompletedError('reader');
    if (this.#reading === Reading.None) throw new NoReadToAdvanceError();
    const consumedOffset = consumed.segment === null ? -1 : this.#offsetOf(consumed, 'consumed');
    const examinedOffset = examined.segment === null ? -1 : this.#offsetOf(examined, 'examined');
    if (consumedOffset >= 0 && examinedOffset >= 0 && examinedOffset < consumedOffset) {
      throw new AdvanceOutOfRangeError('examined-before-consumed');
    }
    if (examinedOffset >= 0) this.#examined = Math.max(this.#examined, examinedOffset);
    if (consumedOffset >= 0) {
      this.#consumed = consumedOffset;
      if (this.#examined < consumedOffset) this.#examined = consumedOffset;
      // Drop every chunk that is wholly consumed; the source's memory goes with it.
      let head = this.#head;
      while (head !== null && head.runningIndex + head.length <= consumedOffset && head !== this.#tail) head = head.next;
      if (head !== null && head === this.#tail && head.runningIndex + head.length <= consumedOffset) {
        this.#head = this.#tail = null;
        this.#headIndex = 0;
      } else if (head !== null) {
        this.#head = head;
        this.#headIndex = consumedOffset - head.runningIndex;
      }
    }
    this.#reading = Reading.None;
    if (this.#paused && this.#end - this.#consumed < this.#pauseThreshold / 2) {
      this.#paused = false;
      this.#source.resume();
    }
  }

  cancelPendingRead(): void {
    this.#cancel = true;
    this.#signal();
  }

  complete(error?: Error): void {
    if (error !== undefined && error !== null && !(error instanceof Error)) throw new InvalidArgumentTypeError('error', error, 'an Error or undefined');
    if (this.#completed) return;
    this.#completed = true;
    this.#reading = Reading.None;
    this.#head = this.#tail = null;
    this.#source.close(error ?? undefined, this.#leaveOpen);
    this.#signal();
  }

  #beginRead(): void {
    if (this.#completed) throw new PipeCompletedError('reader');
    if (this.#pending || this.#reading === Reading.Active) throw new ReadPendingError();
  }

  #append(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.#completed) return;
    if (this.#tail === null) {
      const segment = new ChunkSegment(chunk);
      segment.runningIndex = this.#end;
      this.#head = this.#tail = segment;
      this.#headIndex = 0;
    } else {
      this.#tail = this.#tail.append(chunk);
    }
    this.#end += chunk.length;
    // Past the threshold the source pauses even while a read waits: a source that pushes synchronously
    // would otherwise flood memory before the woken read runs. The waiting read resumes it (see #wait).
    if (!this.#paused && this.#end - this.#consumed >= this.#pauseThreshold) {
      this.#paused = true;
      this.#source.pause();
    }
    this.#signal();
  }

  #signal(): void {
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      wake();
    }
  }

  #tryComplete(): ReadResult | null {
    if (this.#error !== undefined) throw this.#error;
    const canceled = this.#cancel;
    if (!canceled && !this.#ended && this.#end <= this.#examined) return null;
    this.#cancel = false;
    this.#reading = canceled ? Reading.Tentative : Reading.Active;
    this.#lastReadEnd = this.#end;
    const buffer = this.#head === null ? ReadOnlySequence.empty : new ReadOnlySequence(this.#head, this.#headIndex, this.#tail!, this.#tail!.length);
    return readResult(buffer, canceled, this.#ended);
  }

  async #wait(signal: AbortSignal | undefined): Promise<ReadResult> {
    const onAbort = (): void => this.#signal();
    signal?.addEventListener('abort', onAbort, { once: true });
    this.#pending = true;
    try {
      for (;;) {
        if (this.#paused) {
          // Everything buffered was examined and the reader needs more (a line or frame longer than
          // the threshold): resume, or it would wait for bytes that never come.
          this.#paused = false;
          this.#source.resume();
        }
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
        if (this.#completed) throw new PipeCompletedError('reader');
        if (signal?.aborted) throw abortError(signal);
        const result = this.#tryComplete();
        if (result !== null) return result;
      }
    } finally {
      this.#pending = false;
      this.#wake = null;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #offsetOf(position: SequencePosition, name: 'consumed' | 'examined'): number {
    let segment: ChunkSegment | null = this.#head;
    while (segment !== null && segment !== position.segment) segment = segment === this.#tail ? null : segment.next;
    const offset = segment === null ? -1 : segment.runningIndex + position.index;
    if (segment === null || position.index > segment.length || offset < this.#consumed || offset > this.#lastReadEnd) {
      throw new AdvanceOutOfRangeError('outside-buffer', name);
    }
    return offset;
  }
}
