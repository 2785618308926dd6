import { MemoryPool } from '../buffers/memory-pool.js';
import { channels, pipeName } from '../diagnostics/channels.js';
import { trackPending } from '../diagnostics/pending-operations.js';
import { SequencePosition } from '../buffers/sequence-position.js';
import {
  abortError,
  PipeCompletedError,
  PipeNotCompletedError,
} from '../errors/index.js';
import type { PipeScheduler } from './pipe-scheduler.js';
import { BufferSegment, BufferSegmentStack } from './buffer-segment.js';
import { checkAdvanceOrder, positionOutsideLastRead } from './advance-range.js';
import { PipeAwaitable, type Waiter } from './pipe-awaitable.js';
import { resolvePipeOptions, type PipeOptions } from './pipe-options.js';
import { PipeReader } from './pipe-reader.js';
import { PipeWriter } from './pipe-writer.js';
import { ReadResultSlot, settledFlush, flushResult, type FlushResult, type ReadResult } from './results.js';

const kMaxSegmentPoolSize = 256;

const enum Operation {
  None = 0,
  Reading = 1,
  ReadingTentative = 2,
  Writing = 4,
}

/**
 * The state machine of an in-thread pipe, a port of .NET's `Pipe`. Every public step updates the
 * state first and collects the waiter it released, then resumes that waiter through the side's
 * scheduler, so an inline continuation may call back into the pipe safely.
 */
class PipeState {
  readonly name = pipeName('Pipe');
  readonly #pool: MemoryPool;
  readonly #readerScheduler: PipeScheduler;
  readonly #writerScheduler: PipeScheduler;
  readonly #pauseWriterThreshold: number;
  readonly #resumeWriterThreshold: number;
  readonly #minimumSegmentSize: number;
  /** What a paused flush waits for, as the pending-operation list says it (built once, not per pause). */
  readonly #flushWaitsFor: string;
  readonly #segmentPool = new BufferSegmentStack(kMaxSegmentPoolSize);
  /** The reader's one result, rewritten by each read. */
  readonly #result = new ReadResultSlot();

  readonly #readerAwaitable = new PipeAwaitable<ReadResult>(false);
  readonly #writerAwaitable = new PipeAwaitable<FlushResult>(true);
  readonly #resumeRead = (waiter: Waiter<ReadResult>): void => this.#completeRead(waiter);
  readonly #resumeFlush = (waiter: Waiter<FlushResult>): void => this.#completeFlush(waiter);
  readonly #abortRead = (waiter: Waiter<ReadResult>): void => {
    if (this.#readerAwaitable.isCurrent(waiter)) this.#schedule(this.#readerScheduler, this.#resumeRead, this.#readerAwaitable.cancel());
  };
  readonly #abortFlush = (waiter: Waiter<FlushResult>): void => {
    if (this.#writerAwaitable.isCurrent(waiter)) this.#schedule(this.#writerScheduler, this.#resumeFlush, this.#writerAwaitable.cancel());
  };

  #readHead: BufferSegment | null = null;
  #readHeadIndex = 0;
  #readTail: BufferSegment | null = null;
  #readTailIndex = 0;
  #writingHead: BufferSegment | null = null;
  /** Bytes advanced into the writing head but not yet added to its committed length. */
  #writingHeadBytesBuffered = 0;
  #memoryView: Uint8Array | null = null;

  #unflushedBytes = 0;
  /** Flushed bytes not yet examined: the backpressure counter. */
  #unconsumedBytes = 0;
  /** Chain offset of the last examined byte; -1 when no segment exists. */
  #lastExaminedIndex = -1;
  /** Chain offset of the end of the last buffer handed to the reader. */
  #lastReadEnd = 0;
  #minimumReadBytes = 0;
  #operation = Operation.None;

  #readerCompleted = false;
  #readerError: Error | undefined;
  #writerCompleted = false;
  #writerError: Error | undefined;
  #disposed = false;

  constructor(options: PipeOptions | undefined) {
    const o = resolvePipeOptions(options);
    this.#pool = o.pool;
    this.#readerScheduler = o.readerScheduler;
    this.#writerScheduler = o.writerScheduler;
    this.#pauseWriterThreshold = o.pauseWriterThreshold;
    this.#resumeWriterThreshold = o.resumeWriterThreshold;
    this.#minimumSegmentSize = o.minimumSegmentSize;
    this.#flushWaitsFor = `the reader to examine below ${o.resumeWriterThreshold} bytes`;
  }

  get length(): number {
    return this.#unconsumedBytes;
  }

  get unflushedBytes(): number {
    return this.#unflushedBytes;
  }

  // ---- reading

  read(signal: AbortSignal | undefined): ReadResult | Promise<ReadResult> {
    if (this.#readerAwaitable.isCompleted) return this.#getReadResult();
    return this.#readerAwaitable.suspend(signal, this.#abortRead, trackPending(this.name, 'read', 'data'));
  }

  readAtLeast(minimumSize: number, signal: AbortSignal | undefined): ReadResult | Promise<ReadResult> {
    if (this.#readerAwaitable.isCompleted) {
      const result = this.#getReadResult();
      if (this.#unconsumedBytes >= minimumSize || result.isCanceled || result.isCompleted) return result;
      // Not enough yet: take the result back and wait for `minimumSize` unexamined bytes.
      this.#readerAwaitable.setUncompleted();
      this.#operation &= ~(Operation.Reading | Operation.ReadingTentative);
    }
    // A writer paused at its threshold could never deliver the minimum: release it.
    const writer = this.#writerAwaitable.isCompleted ? null : this.#writerAwaitable.complete();
    this.#minimumReadBytes = minimumSize;
    const promise = this.#readerAwaitable.suspend(signal, this.#abortRead, trackPending(this.name, 'readAtLeast', `at least ${minimumSize} unexamined bytes`));
    this.#schedule(this.#writerScheduler, this.#resumeFlush, writer);
    return promise;
  }

  tryRead(): ReadResult | null {
    if (this.#unconsumedBytes > 0 || this.#readerAwaitable.isCompleted) return this.#getReadResult();
    this.#operation |= Operation.ReadingTentative;
    return null;
  }

  advanceTo(consumed: SequencePosition, examined: SequencePosition): void {
    const consumedSegment = consumed.segment as BufferSegment | null;
    const examinedSegment = examined.segment as BufferSegment | null;
    const consumedOffset = consumedSegment === null ? -1 : this.#offsetInLastRead(consumed, 'consumed');
    const examinedOffset = examinedSegment === null ? -1 : examined === consumed ? consumedOffset : this.#offsetInLastRead(examined, 'examined');
    checkAdvanceOrder(consumedOffset, examinedOffset, this.#lastExaminedIndex);

    let resumeWriter: Waiter<FlushResult> | null = null;
    const examinedEverything = examinedSegment !== null && this.#readTail !== null &&
      examinedOffset === this.#readTail.runningIndex + this.#readTailIndex;

    if (examinedSegment !== null && this.#lastExaminedIndex >= 0) {
      const oldLength = this.#unconsumedBytes;
      this.#unconsumedBytes -= examinedOffset - this.#lastExaminedIndex;
      this.#lastExaminedIndex = examinedOffset;
      if (oldLength >= this.#resumeWriterThreshold && this.#unconsumedBytes < this.#resumeWriterThreshold) {
        const wasPaused = !this.#writerAwaitable.isSet;
        resumeWriter = this.#writerAwaitable.complete();
        if (wasPaused && channels.resume.hasSubscribers) channels.resume.publish({ pipe: this.name, unexamined: this.#unconsumedBytes });
      }
    }

    let returnStart: BufferSegment | null = null;
    let returnEnd: BufferSegment | null = null;
    if (consumedSegment !== null) {
      returnStart = this.#readHead;
      returnEnd = consumedSegment;
      if (consumed.index === consumedSegment.length) {
        if (this.#writingHead !== consumedSegment) {
          returnEnd = this.#moveReadHeadPast(consumedSegment);
        } else if (this.#writingHeadBytesBuffered === 0 && (this.#operation & Operation.Writing) === 0) {
          // The write head is fully read and idle: drop it so the next write starts a fresh chain.
          this.#writingHead = null;
          this.#memoryView = null;
          returnEnd = this.#moveReadHeadPast(consumedSegment);
        } else {
          this.#readHead = consumedSegment;
          this.#readHeadIndex = consumed.index;
        }
      } else {
        this.#readHead = consumedSegment;
        this.#readHeadIndex = consumed.index;
      }
    }

    // Examining everything makes the next read wait for new data, unless no more can come.
    if (examinedEverything && !this.#writerCompleted) this.#readerAwaitable.setUncompleted();

    while (returnStart !== null && returnStart !== returnEnd) {
      const next: BufferSegment | null = returnStart.next;
      returnStart.resetMemory();
      this.#segmentPool.push(returnStart);
      returnStart = next;
    }

    this.#operation &= ~(Operation.Reading | Operation.ReadingTentative);
    this.#schedule(this.#writerScheduler, this.#resumeFlush, resumeWriter);
  }

  cancelPendingRead(): void {
    this.#schedule(this.#readerScheduler, this.#resumeRead, this.#readerAwaitable.cancel());
  }

  completeReader(error: Error | undefined): void {
    this.#operation &= ~(Operation.Reading | Operation.ReadingTentative);
    if (!this.#readerCompleted) {
      this.#readerCompleted = true;
      this.#readerError = error;
    }
    const writer = this.#writerAwaitable.complete();
    // A read still pending on this reader can never be satisfied now: end it rather than leave it hanging.
    const ownRead = this.#readerAwaitable.take();
    this.#schedule(this.#writerScheduler, this.#resumeFlush, writer);
    if (ownRead !== null) {
      this.#readerAwaitable.settle(ownRead);
      ownRead.reject(new PipeCompletedError('reader'));
    }
    if (this.#writerCompleted) this.#completePipe();
  }

  // ---- writing

  getMemory(sizeHint: number): Uint8Array {
    const view = this.#memoryView;
    if ((this.#operation & Operation.Writing) !== 0 && view !== null && view.length > 0 && view.length >= sizeHint) return view;
    this.#allocateWriteHead(sizeHint);
    return (this.#memoryView = this.#freeMemory());
  }

  advance(bytes: number): void {
    // A completed reader discards what is written; the memory stays rented for reuse.
    if (this.#readerCompleted) return;
    this.#unflushedBytes += bytes;
    this.#writingHeadBytesBuffered += bytes;
    this.#memoryView = null;
  }

  flush(signal: AbortSignal | undefined): Promise<FlushResult> {
    return this.#commitAndFlush(signal);
  }

  write(bytes: Uint8Array, signal: AbortSignal | undefined): Promise<FlushResult> {
    if (this.#readerCompleted) return this.#writeToCompletedReader();
    this.#allocateWriteHead(0);
    const largest = this.#pool.maxBufferSize;
    let offset = 0;
    for (;;) {
      const head = this.#writingHead!;
      const start = head.length + this.#writingHeadBytesBuffered;
      const count = Math.min(head.buffer.length - start, bytes.length - offset);
      head.buffer.set(count === bytes.length ? bytes : bytes.subarray(offset, offset + count), start);
      offset += count;
      this.#unflushedBytes += count;
      this.#writingHeadBytesBuffered += count;
      if (offset === bytes.length) break;
      // The head is full: commit its bytes to it and link a segment sized for the rest (at most
      // the pool's largest block, so a custom pool still serves it).
      this.#linkWriteHead(this.#allocateSegment(Math.min(bytes.length - offset, largest)));
    }
    this.#memoryView = null;
    return this.#commitAndFlush(signal);
  }

  /** What a write gets once the reader completed: its error, else a completed flush; the bytes are dropped. */
  #writeToCompletedReader(): Promise<FlushResult> {
    return this.#readerError !== undefined ? Promise.reject(this.#readerError) : settledFlush(false, true);
  }

  /** Links `bytes` the caller handed over as the next segment: no copy; the pipe only reads it. */
  writeTransferred(bytes: Uint8Array, signal: AbortSignal | undefined): Promise<FlushResult> {
    if (this.#readerCompleted) return this.#writeToCompletedReader();
    if (bytes.length > 0) {
      const head = this.#writingHead;
      if (head !== null && head.length + this.#writingHeadBytesBuffered === 0) {
        // Nothing written to the head yet: it carries the buffer instead of its block.
        head.releaseMemory();
        head.setTransferredMemory(bytes);
      } else {
        const segment = this.#segmentPool.pop() ?? new BufferSegment();
        segment.setTransferredMemory(bytes);
        this.#linkWriteHead(segment);
      }
      // The segment is full: the next getMemory or write links a fresh block after it.
      this.#writingHeadBytesBuffered = bytes.length;
      this.#unflushedBytes += bytes.length;
      this.#memoryView = null;
    }
    return this.#commitAndFlush(signal);
  }

  cancelPendingFlush(): void {
    this.#schedule(this.#writerScheduler, this.#resumeFlush, this.#writerAwaitable.cancel());
  }

  completeWriter(error: Error | undefined): void {
    this.#commit();
    if (!this.#writerCompleted) {
      this.#writerCompleted = true;
      this.#writerError = error;
    }
    const reader = this.#readerAwaitable.complete();
    // A flush still pending on this writer ends here too: its writer is gone.
    const ownFlush = this.#writerAwaitable.take();
    this.#schedule(this.#readerScheduler, this.#resumeRead, reader);
    if (ownFlush !== null) {
      this.#writerAwaitable.settle(ownFlush);
      ownFlush.reject(new PipeCompletedError('writer'));
    }
    if (this.#readerCompleted) this.#completePipe();
  }

  reset(): void {
    if (!this.#disposed) throw new PipeNotCompletedError();
    this.#disposed = false;
    this.#readerCompleted = false;
    this.#readerError = undefined;
    this.#writerCompleted = false;
    this.#writerError = undefined;
    this.#readerAwaitable.reset(false);
    this.#writerAwaitable.reset(true);
    this.#readHeadIndex = 0;
    this.#readTailIndex = 0;
    this.#lastExaminedIndex = -1;
    this.#lastReadEnd = 0;
    this.#unflushedBytes = 0;
    this.#unconsumedBytes = 0;
    this.#minimumReadBytes = 0;
    this.#writingHeadBytesBuffered = 0;
    this.#operation = Operation.None;
  }

  // ---- internals

  #getReadResult(): ReadResult {
    // A writer's error hides whatever is still buffered, as in .NET.
    if (this.#writerError !== undefined) throw this.#writerError;
    const isCompleted = this.#writerCompleted;
    const isCanceled = this.#readerAwaitable.observeCancellation();
    const head = this.#readHead;
    const tail = this.#readTail;
    this.#lastReadEnd = tail === null ? 0 : tail.runningIndex + this.#readTailIndex;
    this.#operation |= isCanceled ? Operation.ReadingTentative : Operation.Reading;
    this.#minimumReadBytes = 0;
    return head === null || tail === null
      ? this.#result.empty(isCanceled, isCompleted)
      : this.#result.over(head, this.#readHeadIndex, tail, this.#readTailIndex, isCanceled, isCompleted);
  }

  #completeRead(waiter: Waiter<ReadResult>): void {
    this.#readerAwaitable.settle(waiter);
    if (this.#readerCompleted) {
      waiter.reject(new PipeCompletedError('reader'));
      return;
    }
    let result: ReadResult;
    try {
      result = this.#getReadResult();
    } catch (error) {
      waiter.reject(error);
      return;
    }
    if (result.isCanceled && waiter.signal?.aborted) waiter.reject(abortError(waiter.signal));
    else waiter.resolve(result);
  }

  #completeFlush(waiter: Waiter<FlushResult>): void {
    this.#writerAwaitable.settle(waiter);
    let result: FlushResult;
    try {
      result = this.#getFlushResult();
    } catch (error) {
      waiter.reject(error);
      return;
    }
    if (result.isCanceled && waiter.signal?.aborted) waiter.reject(abortError(waiter.signal));
    else waiter.resolve(result);
  }

  #getFlushResult(): FlushResult {
    const isCanceled = this.#writerAwaitable.observeCancellation();
    if (this.#readerError !== undefined) throw this.#readerError;
    return flushResult(isCanceled, this.#readerCompleted);
  }

  #commitAndFlush(signal: AbortSignal | undefined): Promise<FlushResult> {
    const wasEmpty = this.#commit();
    const reader = wasEmpty ? null : this.#readerAwaitable.complete();
    let result: Promise<FlushResult>;
    if (this.#writerAwaitable.isCompleted) {
      try {
        const flush = this.#getFlushResult();
        result = settledFlush(flush.isCanceled, flush.isCompleted);
      } catch (error) {
        result = Promise.reject(error);
      }
    } else {
      result = this.#writerAwaitable.suspend(signal, this.#abortFlush, trackPending(this.name, 'flush', this.#flushWaitsFor));
    }
    this.#schedule(this.#readerScheduler, this.#resumeRead, reader);
    return result;
  }

  /** Makes advanced bytes readable; returns true when there was nothing to commit or the reader must not wake yet. */
  #commit(): boolean {
    this.#operation &= ~Operation.Writing;
    if (this.#unflushedBytes === 0) return true;
    const head = this.#writingHead!;
    head.length += this.#writingHeadBytesBuffered;
    this.#readTail = head;
    this.#readTailIndex = head.length;
    const oldLength = this.#unconsumedBytes;
    this.#unconsumedBytes += this.#unflushedBytes;
    let resumeReader = true;
    if (this.#unconsumedBytes < this.#minimumReadBytes) {
      // A reader waiting for a minimum stays asleep, and a writer feeding it is never paused.
      resumeReader = false;
    } else if (
      this.#pauseWriterThreshold > 0 &&
      oldLength < this.#pauseWriterThreshold &&
      this.#unconsumedBytes >= this.#pauseWriterThreshold &&
      !this.#readerCompleted
    ) {
      this.#writerAwaitable.setUncompleted();
      if (channels.pause.hasSubscribers) channels.pause.publish({ pipe: this.name, unexamined: this.#unconsumedBytes });
    }
    this.#unflushedBytes = 0;
    this.#writingHeadBytesBuffered = 0;
    return !resumeReader;
  }

  #allocateWriteHead(sizeHint: number): void {
    this.#operation |= Operation.Writing;
    const head = this.#writingHead;
    if (head === null) {
      this.#linkWriteHead(this.#allocateSegment(sizeHint));
      this.#memoryView = null;
      return;
    }
    const free = head.buffer.length - head.length - this.#writingHeadBytesBuffered;
    if (free > 0 && free >= sizeHint) return;
    if (this.#writingHeadBytesBuffered > 0) {
      head.length += this.#writingHeadBytesBuffered;
      this.#writingHeadBytesBuffered = 0;
    }
    if (head.length === 0) {
      // Nothing written to the head yet: swap its block for a bigger one instead of linking an empty
      // segment. It keeps its running index: it may follow segments that hold data.
      head.releaseMemory();
      this.#rentMemory(head, sizeHint);
    } else {
      this.#linkWriteHead(this.#allocateSegment(sizeHint));
    }
    this.#memoryView = null;
  }

  /**
   * Makes `segment` the writing head: the whole chain when there is none, else linked after the head,
   * whose buffered bytes are committed to it first.
   */
  #linkWriteHead(segment: BufferSegment): void {
    const head = this.#writingHead;
    if (head === null) {
      this.#writingHead = this.#readHead = this.#readTail = segment;
      this.#readHeadIndex = this.#readTailIndex = 0;
      this.#lastExaminedIndex = 0;
    } else {
      head.length += this.#writingHeadBytesBuffered;
      head.setNext(segment);
      this.#writingHead = segment;
    }
    this.#writingHeadBytesBuffered = 0;
  }

  #allocateSegment(sizeHint: number): BufferSegment {
    const segment = this.#segmentPool.pop() ?? new BufferSegment();
    this.#rentMemory(segment, sizeHint);
    return segment;
  }

  #rentMemory(segment: BufferSegment, sizeHint: number): void {
    const size = Math.max(1, this.#minimumSegmentSize, sizeHint);
    const pool = this.#pool;
    if (pool !== MemoryPool.shared && sizeHint <= pool.maxBufferSize) {
      segment.setOwnedMemory(pool.rent(Math.min(pool.maxBufferSize, size)), pool);
    } else {
      segment.setOwnedMemory(MemoryPool.shared.rent(size), MemoryPool.shared);
    }
  }

  #freeMemory(): Uint8Array {
    const head = this.#writingHead!;
    // A fresh block is handed out whole: no view to allocate.
    return head.viewFrom(head.length + this.#writingHeadBytesBuffered);
  }

  #moveReadHeadPast(segment: BufferSegment): BufferSegment | null {
    const next = segment.next;
    if (this.#readTail === segment) {
      this.#readTail = next;
      this.#readTailIndex = 0;
    }
    this.#readHead = next;
    this.#readHeadIndex = 0;
    return next;
  }

  /** The chain offset of a position handed out by the last read; anything else is out of range. */
  #offsetInLastRead(position: SequencePosition, name: 'consumed' | 'examined'): number {
    const target = position.segment;
    let segment = this.#readHead;
    while (segment !== null && segment !== target) segment = segment === this.#readTail ? null : segment.next;
    const offset = target!.runningIndex + position.index;
    const start = this.#readHead === null ? 0 : this.#readHead.runningIndex + this.#readHeadIndex;
    if (segment === null || position.index > target!.length || offset < start || offset > this.#lastReadEnd) {
      throw positionOutsideLastRead(name);
    }
    return offset;
  }

  #completePipe(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    let segment = this.#readHead ?? this.#readTail ?? this.#writingHead;
    while (segment !== null) {
      const next: BufferSegment | null = segment.next;
      segment.resetMemory();
      segment = next;
    }
    this.#writingHead = this.#readHead = this.#readTail = null;
    this.#memoryView = null;
    this.#writingHeadBytesBuffered = 0;
    this.#lastExaminedIndex = -1;
  }

  #schedule<T>(scheduler: PipeScheduler, resume: (waiter: Waiter<T>) => void, waiter: Waiter<T> | null): void {
    if (waiter !== null) scheduler.schedule(resume, waiter);
  }
}

class DefaultPipeReader extends PipeReader {
  readonly #state: PipeState;

  constructor(state: PipeState) {
    super();
    this.#state = state;
  }

  protected readCore(signal: AbortSignal | undefined): ReadResult | Promise<ReadResult> {
    return this.#state.read(signal);
  }

  protected override readAtLeastCore(minimumSize: number, signal: AbortSignal | undefined): ReadResult | Promise<ReadResult> {
    return this.#state.readAtLeast(minimumSize, signal);
  }

  protected tryReadCore(): ReadResult | null {
    return this.#state.tryRead();
  }

  protected advanceToCore(consumed: SequencePosition, examined: SequencePosition): void {
    this.#state.advanceTo(consumed, examined);
  }

  protected cancelPendingReadCore(): void {
    this.#state.cancelPendingRead();
  }

  protected completeCore(error: Error | undefined): void {
    this.#state.completeReader(error);
  }

  /** @internal After `Pipe.reset()`. */
  reopenAfterReset(): void {
    this.reopen();
  }
}

class DefaultPipeWriter extends PipeWriter {
  readonly #state: PipeState;

  constructor(state: PipeState) {
    super();
    this.#state = state;
  }

  protected getMemoryCore(size: number): Uint8Array {
    return this.#state.getMemory(size);
  }

  protected advanceCore(bytes: number): void {
    this.#state.advance(bytes);
  }

  protected flushCore(signal: AbortSignal | undefined): Promise<FlushResult> {
    return this.#state.flush(signal);
  }

  protected override writeCore(bytes: Uint8Array, signal: AbortSignal | undefined): Promise<FlushResult> {
    return this.#state.write(bytes, signal);
  }

  protected override writeTransferredCore(bytes: Uint8Array, signal: AbortSignal | undefined): Promise<FlushResult> {
    return this.#state.writeTransferred(bytes, signal);
  }

  protected cancelPendingFlushCore(): void {
    this.#state.cancelPendingFlush();
  }

  protected completeCore(error: Error | undefined): void {
    this.#state.completeWriter(error);
  }

  /** @internal After `Pipe.reset()`. */
  reopenAfterReset(): void {
    this.reopen();
  }

  get unflushedBytes(): number {
    return this.#state.unflushedBytes;
  }
}

/** An in-thread pipe with .NET Pipelines semantics. */
export class Pipe {
  readonly reader: PipeReader;
  readonly writer: PipeWriter;
  readonly #state: PipeState;
  readonly #reader: DefaultPipeReader;
  readonly #writer: DefaultPipeWriter;

  constructor(options?: PipeOptions) {
    this.#state = new PipeState(options);
    this.reader = this.#reader = new DefaultPipeReader(this.#state);
    this.writer = this.#writer = new DefaultPipeWriter(this.#state);
  }

  /** Flushed bytes not yet examined by the reader: what backpressure counts. */
  get length(): number {
    return this.#state.length;
  }

  /** Makes the pipe reusable; only after both ends completed. */
  reset(): void {
    this.#state.reset();
    this.#reader.reopenAfterReset();
    this.#writer.reopenAfterReset();
  }
}
