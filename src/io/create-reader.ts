import { SequencePosition } from '../buffers/sequence-position.js';
import { ChunkSegment } from '../buffers/sequence-segment.js';
import { abortError, InvalidArgumentTypeError, PipeCompletedError, validateInteger } from '../errors/index.js';
import { checkAdvanceOrder, positionOutsideLastRead } from '../pipe/advance-range.js';
import { PipeReader } from '../pipe/pipe-reader.js';
import { ReadResultSlot, type ReadResult } from '../pipe/results.js';
import { openSource, type ChunkSource } from './chunk-source.js';

export interface CreateReaderOptions {
  /** Leave the source open when the reader completes (default: destroy / cancel it). */
  leaveOpen?: boolean;
  /** Unconsumed bytes at which the source is paused; it resumes below half of it. Default 65536. */
  pauseThreshold?: number;
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
  /** Wakes a read that waits for the source. */
  #wake: (() => void) | null = null;
  /** The one result of this reader, rewritten by each read. */
  readonly #result = new ReadResultSlot();

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

  protected readCore(signal: AbortSignal | undefined): ReadResult | Promise<ReadResult> {
    return this.#tryComplete() ?? this.#wait(signal);
  }

  protected tryReadCore(): ReadResult | null {
    return this.#tryComplete();
  }

  protected advanceToCore(consumed: SequencePosition, examined: SequencePosition): void {
    const consumedOffset = consumed.segment === null ? -1 : this.#offsetOf(consumed, 'consumed');
    const examinedOffset = examined.segment === null ? -1 : examined === consumed ? consumedOffset : this.#offsetOf(examined, 'examined');
    checkAdvanceOrder(consumedOffset, examinedOffset, this.#examined);
    if (examinedOffset >= 0) this.#examined = examinedOffset;
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
    if (this.#paused && this.#end - this.#consumed < this.#pauseThreshold / 2) {
      this.#paused = false;
      this.#source.resume();
    }
  }

  protected cancelPendingReadCore(): void {
    this.#cancel = true;
    this.#signal();
  }

  protected completeCore(error: Error | undefined): void {
    this.#head = this.#tail = null;
    this.#source.close(error, this.#leaveOpen);
    this.#signal();
  }

  #append(chunk: Uint8Array): void {
    if (chunk.length === 0 || this.isCompletedEnd) return;
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
    this.#lastReadEnd = this.#end;
    return this.#head === null
      ? this.#result.empty(canceled, this.#ended)
      : this.#result.over(this.#head, this.#headIndex, this.#tail!, this.#tail!.length, canceled, this.#ended);
  }

  async #wait(signal: AbortSignal | undefined): Promise<ReadResult> {
    const onAbort = (): void => this.#signal();
    signal?.addEventListener('abort', onAbort, { once: true });
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
        if (this.isCompletedEnd) throw new PipeCompletedError('reader');
        if (signal?.aborted) throw abortError(signal);
        const result = this.#tryComplete();
        if (result !== null) return result;
      }
    } finally {
      this.#wake = null;
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #offsetOf(position: SequencePosition, name: 'consumed' | 'examined'): number {
    let segment: ChunkSegment | null = this.#head;
    while (segment !== null && segment !== position.segment) segment = segment === this.#tail ? null : segment.next;
    const offset = segment === null ? -1 : segment.runningIndex + position.index;
    if (segment === null || position.index > segment.length || offset < this.#consumed || offset > this.#lastReadEnd) {
      throw positionOutsideLastRead(name);
    }
    return offset;
  }
}
