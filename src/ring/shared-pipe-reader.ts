import { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import { SequencePosition } from '../buffers/sequence-position.js';
import {
  AdvanceOutOfRangeError,
  abortError,
  FrameTooLargeError,
  InvalidArgumentTypeError,
  NoReadToAdvanceError,
  PipeCompletedError,
  PipeEndMovedError,
  ReadPendingError,
  validateSignal,
} from '../errors.js';
import { trackPending, untrackPending } from '../diagnostics/pending-operations.js';
import { PipeReader } from '../pipe/pipe-reader.js';
import { readResult, type OperationOptions, type ReadResult } from '../pipe/results.js';
import { kCheckMove, kMove, type MovedEnd } from '../scheduling/movable.js';
import { PipeScheduler, resumeOn } from '../scheduling/scheduler.js';
import * as L from './layout.js';
import { RingSegment } from './ring-segment.js';
import { kWaitSliceMs, waitAsyncSlice, waitSyncSlice } from './ring-wait.js';
import { movedEnd, SharedRing, type RingStats } from './shared-ring.js';
import { makeHandle, type SharedPipeHandle } from './shared-pipe-handle.js';

const enum Reading {
  None = 0,
  Active = 1,
  Tentative = 2,
}

/**
 * The reading end of a SharedPipe. Reads are views straight over the ring (two segments when the
 * data runs over the end of the ring); `advanceTo` publishes the consumed and examined positions.
 */
export class SharedPipeReader extends PipeReader {
  readonly #ring: SharedRing;
  /** Where a suspended operation of this end resumes, in this thread. */
  readonly #scheduler: PipeScheduler;
  readonly #h: Int32Array;
  readonly #capacity: number;
  readonly #mask: number;

  /** Consumed ring position; mirrors READ_POS. */
  #read: number;
  /** Examined ring position; mirrors EXAMINED_POS. */
  #examined: number;
  /** Data offset of `#read` and of `#examined`, for comparing positions (skipped tails excluded). */
  #readOffset = 0;
  #examinedOffset = 0;
  #lap: RingSegment | null = null;
  #nextLap: RingSegment | null = null;

  #reading = Reading.None;
  #pending = false;
  #moved = false;
  #completed = false;
  /** The last result's segments and end, which `advanceTo` positions must fall within. */
  #first: RingSegment | null = null;
  #firstStart = 0;
  #second: RingSegment | null = null;
  #writerError: Error | undefined;

  /** @internal Use `new SharedPipe().reader` or `SharedPipe.reader(handle)`. */
  constructor(ring: SharedRing, scheduler: PipeScheduler = PipeScheduler.inline) {
    super();
    this.#ring = ring;
    this.#scheduler = scheduler;
    this.#h = ring.header;
    this.#capacity = ring.capacity;
    this.#mask = ring.mask;
    this.#read = Atomics.load(this.#h, L.READ_POS) >>> 0;
    this.#examined = Atomics.load(this.#h, L.EXAMINED_POS) >>> 0;
    this.#examinedOffset = this.#readOffset + this.#dataBetween(this.#read, this.#examined);
  }

  read(options?: OperationOptions): Promise<ReadResult> {
    const signal = validateSignal('options.signal', options?.signal);
    this.#beginRead();
    if (signal?.aborted) return Promise.reject(abortError(signal));
    let result: ReadResult | null;
    try {
      result = this.#tryComplete(0);
    } catch (error) {
      return Promise.reject(error);
    }
    return result !== null ? Promise.resolve(result) : this.#waitAsync(0, signal);
  }

  protected override readAtLeastCore(minimumSize: number, options?: OperationOptions): Promise<ReadResult> {
    const signal = validateSignal('options.signal', options?.signal);
    this.#beginRead();
    if (signal?.aborted) return Promise.reject(abortError(signal));
    try {
      this.#checkFits(minimumSize);
      const result = this.#tryComplete(minimumSize);
      if (result !== null) return Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#waitAsync(minimumSize, signal);
  }

  /** Blocks the thread (in `Atomics.wait`) until data, completion or a cancel arrives: for CPU-only workers. */
  readSync(): ReadResult {
    this.#beginRead();
    const result = this.#tryComplete(0);
    if (result !== null) return result;
    this.#pending = true;
    const entry = trackPending(this.#ring.name, 'readSync', 'data');
    try {
      const spun = this.#spin(0);
      if (spun !== null) return spun;
      let announced = false;
      for (;;) {
        const seq = this.#prepareWait(0);
        if (!announced) {
          announced = true;
          this.#ring.claimWriterWakeup();
        }
        const ready = this.#tryComplete(0);
        if (ready !== null) return ready;
        this.#checkWhileWaiting(0);
        this.#h[L.READER_WAITS]!++;
        if (waitSyncSlice(this.#h, L.DATA_SEQ, seq) === 'ok') this.#h[L.READER_WAKEUPS]!++;
      }
    } finally {
      untrackPending(entry);
      this.#endWait();
    }
  }

  tryRead(): ReadResult | null {
    this.#beginRead();
    const result = this.#tryComplete(0);
    if (result === null) this.#reading = Reading.Tentative;
    return result;
  }

  advanceTo(consumed: SequencePosition, examined: SequencePosition = consumed): void {
    if (!(consumed instanceof SequencePosition)) throw new InvalidArgumentTypeError('consumed', consumed, 'a SequencePosition');
    if (!(examined instanceof SequencePosition)) throw new InvalidArgumentTypeError('examined', examined, 'a SequencePosition');
    this.#checkUsable();
    if (this.#reading === Reading.None) throw new NoReadToAdvanceError();
    const consumedOffset = consumed.segment === null ? -1 : this.#offsetInLastRead(consumed, 'consumed');
    const examinedOffset = examined.segment === null ? -1 : examined === consumed ? consumedOffset : this.#offsetInLastRead(examined, 'examined');
    if (consumedOffset >= 0 && examinedOffset >= 0 && examinedOffset < consumedOffset) {
      throw new AdvanceOutOfRangeError('The examined position must be greater than or equal to the consumed position.');
    }
    if (examinedOffset >= 0 && examinedOffset < this.#examinedOffset) {
      throw new AdvanceOutOfRangeError('The examined position cannot be less than the previously examined position.');
    }
    if (consumedOffset >= 0 && consumedOffset < this.#readOffset) {
      throw new AdvanceOutOfRangeError('The consumed position is before what was already consumed.');
    }
    const h = this.#h;
    // READ_POS before EXAMINED_POS (the writer loads them in the other order): a writer that sees the
    // new examined position also sees the consumed one that came with it.
    if (consumedOffset >= 0) {
      const next = this.#ringPosition(consumed);
      if (next < this.#read) Atomics.add(h, L.READ_LAPS, 1);
      this.#read = next;
      this.#readOffset = consumedOffset;
      Atomics.store(h, L.READ_POS, next | 0);
    }
    if (examinedOffset >= 0 || consumedOffset > this.#examinedOffset) {
      // A single-argument advanceTo that consumed past what was examined moves examined along.
      const position = examinedOffset >= consumedOffset ? examined : consumed;
      this.#examined = position === consumed && consumedOffset >= 0 ? this.#read : this.#ringPosition(position);
      this.#examinedOffset = Math.max(examinedOffset, consumedOffset);
      Atomics.store(h, L.EXAMINED_POS, this.#examined | 0);
    }
    this.#reading = Reading.None;
    this.#first = this.#second = null;
    // Decide under the state change, signal after it: positions are stored, now wake a sleeping writer.
    this.#ring.claimWriterWakeup();
  }

  /** Thread-safe: works on a moved end too, and wakes a reader blocked in another thread. */
  cancelPendingRead(): void {
    this.#ring.setBits(L.READ_CANCEL);
    this.#ring.wakeReader();
  }

  complete(error?: Error): void {
    if (error !== undefined && error !== null && !(error instanceof Error)) throw new InvalidArgumentTypeError('error', error, 'an Error or undefined');
    if (this.#moved) throw new PipeEndMovedError('reader');
    if (this.#completed) return;
    this.#completed = true;
    this.#reading = Reading.None;
    this.#ring.complete('reader', error ?? undefined);
    this.#ring.detach('reader');
  }

  /** Moves this end: send the handle to another thread and revive it there with `SharedPipe.reader(handle)`. */
  handle(): SharedPipeHandle {
    this[kCheckMove]();
    this.#moved = true;
    this.#ring.detach('reader');
    return makeHandle('reader', this.#ring.buffer);
  }

  stats(): RingStats {
    return this.#ring.stats();
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** @internal Throws what handle() would, without moving: a scheduler moves all ends of a run or none. */
  [kCheckMove](): void {
    this.#checkUsable();
    if (this.#pending || this.#reading !== Reading.None) throw new ReadPendingError();
  }

  /** @internal Moves this end for a scheduler: the handle plus the controls the sending thread keeps. */
  [kMove](): MovedEnd {
    return movedEnd(this.#ring, 'reader', this.handle());
  }

  // ---- internals

  #checkUsable(): void {
    if (this.#moved) throw new PipeEndMovedError('reader');
    if (this.#completed) throw new PipeCompletedError('reader');
  }

  #beginRead(): void {
    this.#checkUsable();
    if (this.#pending || this.#reading === Reading.Active) throw new ReadPendingError();
  }

  #checkFits(minimumSize: number): void {
    const held = this.#dataBetween(this.#read, this.#examined);
    if (minimumSize > this.#capacity || held + minimumSize > this.#capacity) {
      throw new FrameTooLargeError(held > 0 ? `Reading at least ${minimumSize} more bytes beyond the ${held} unconsumed bytes held` : `Reading at least ${minimumSize} bytes`, held + minimumSize, this.#capacity);
    }
  }

  /** The read result if one is due now (data beyond examined, completion or a cancel), else null. */
  #tryComplete(minimumSize: number): ReadResult | null {
    const h = this.#h;
    const state = Atomics.load(h, L.STATE);
    if ((state & L.WRITER_FAULTED) !== 0) throw (this.#writerError ??= this.#ring.readError('writer'));
    const write = Atomics.load(h, L.WRITE_POS) >>> 0;
    const completed = (state & L.WRITER_COMPLETED) !== 0;
    const canceled = (state & L.READ_CANCEL) !== 0 && this.#ring.takeBit(L.READ_CANCEL);
    if (!canceled && !completed) {
      const unexamined = this.#dataBetween(this.#examined, write);
      if (unexamined === 0 || unexamined < minimumSize) return null;
    }
    return this.#result(write, canceled, completed);
  }

  #result(write: number, canceled: boolean, completed: boolean): ReadResult {
    this.#reading = canceled ? Reading.Tentative : Reading.Active;
    this.#h[L.READS]!++;
    const used = (write - this.#read) >>> 0;
    if (used === 0) {
      this.#first = this.#second = null;
      return readResult(ReadOnlySequence.empty, canceled, completed);
    }
    const capacity = this.#capacity;
    const readIndex = this.#read & this.#mask;
    const lapBase = (this.#read - readIndex) >>> 0;
    const lap = this.#lapAt(lapBase, this.#readOffset - readIndex);
    const skip = this.#skipWithin(this.#read, used);
    let first: RingSegment = lap;
    let second: RingSegment | null = null;
    if (skip >= 0 || readIndex + used > capacity) {
      lap.length = skip >= 0 ? skip & this.#mask : capacity;
      lap.cut = skip >= 0;
      second = this.#nextLap?.ringBase === ((lapBase + capacity) >>> 0) ? this.#nextLap : new RingSegment(lap.buffer, lapBase + capacity, lap.runningIndex + lap.length);
      second.length = write & this.#mask;
      lap.next = second;
      this.#nextLap = second;
      if (lap.length === readIndex) {
        // Everything before the skipped tail is consumed: the data starts at the next lap.
        first = second;
        second = null;
      }
    } else {
      lap.length = readIndex + used;
      lap.cut = false;
    }
    this.#first = first;
    this.#firstStart = first === lap ? readIndex : 0;
    this.#second = second;
    const last = second ?? first;
    return readResult(new ReadOnlySequence(first, this.#firstStart, last, last.length), canceled, completed);
  }

  #lapAt(lapBase: number, runningIndex: number): RingSegment {
    if (this.#lap?.ringBase === lapBase) return this.#lap;
    const lap = this.#nextLap?.ringBase === lapBase ? this.#nextLap : new RingSegment(this.#ring.data, lapBase, runningIndex);
    this.#lap = lap;
    return lap;
  }

  /** Where a skipped tail starts inside [from, from + used), or -1. */
  #skipWithin(from: number, used: number): number {
    if (Atomics.load(this.#h, L.SKIP_ACTIVE) === 0) return -1;
    const skip = Atomics.load(this.#h, L.SKIP_POS) >>> 0;
    return ((skip - from) >>> 0) < used ? skip : -1;
  }

  /** Data bytes between two ring positions, less a skipped tail between them. */
  #dataBetween(from: number, to: number): number {
    const used = (to - from) >>> 0;
    if (used === 0) return 0;
    const skip = this.#skipWithin(from, used);
    return skip < 0 ? used : used - (this.#capacity - (skip & this.#mask));
  }

  #offsetInLastRead(position: SequencePosition, name: string): number {
    const segment = position.segment;
    const index = position.index;
    let low: number;
    let high: number;
    if (segment !== null && segment === this.#first) {
      low = this.#firstStart;
      high = this.#first.length;
    } else if (segment !== null && segment === this.#second) {
      low = 0;
      high = this.#second.length;
    } else {
      throw new AdvanceOutOfRangeError(`The ${name} position is outside the last read buffer: the reader has already advanced past it, or it belongs to another buffer.`);
    }
    if (index < low || index > high) {
      throw new AdvanceOutOfRangeError(`The ${name} position is outside the last read buffer.`);
    }
    return (segment as RingSegment).runningIndex + index;
  }

  #ringPosition(position: SequencePosition): number {
    const segment = position.segment as RingSegment;
    const index = position.index;
    // The end of a lap cut by a skipped tail is the start of the next lap.
    if (segment.cut && index === segment.length) return (segment.ringBase + this.#capacity) >>> 0;
    return (segment.ringBase + index) >>> 0;
  }

  /** Announces a sleeping reader, then samples the sequence word: a publish after this is never lost. */
  #prepareWait(minimumSize: number): number {
    const h = this.#h;
    Atomics.store(h, L.READ_MINIMUM, minimumSize);
    Atomics.store(h, L.READER_BLOCKED, 1);
    Atomics.store(h, L.READER_WAITING, 1);
    return Atomics.load(h, L.DATA_SEQ);
  }

  /** Re-checks a while before sleeping: data that arrives within microseconds costs no wake-up. */
  #spin(minimumSize: number): ReadResult | null {
    for (let i = 0; i < L.kSpinBeforeSleep; i++) {
      const result = this.#tryComplete(minimumSize);
      if (result !== null) return result;
    }
    return null;
  }

  /** Fails instead of sleeping when no progress is possible. */
  #checkWhileWaiting(minimumSize: number): void {
    const h = this.#h;
    const need = Atomics.load(h, L.WRITER_NEED);
    const write = Atomics.load(h, L.WRITE_POS) >>> 0;
    const free = this.#capacity - ((write - this.#read) >>> 0);
    // Waiting for data with the ring full of unconsumed bytes, or while the writer waits for room that
    // only this reader can free: no byte can ever arrive. Only a completion could still come; failing
    // now names the real problem (a message larger than the ring) instead of waiting on that.
    if (free === 0 || need > 0) {
      const unexamined = this.#dataBetween(this.#examined, write);
      if ((free === 0 || free < need) && unexamined < Math.max(1, minimumSize) && (Atomics.load(h, L.STATE) & L.WRITER_COMPLETED) === 0) {
        const held = this.#dataBetween(this.#read, write);
        throw new FrameTooLargeError(`Waiting for ${Math.max(1, minimumSize)} more bytes while holding ${held} unconsumed bytes`, held + Math.max(1, minimumSize), this.#capacity);
      }
      this.#ring.wakeWriter();
    }
  }

  #endWait(): void {
    const h = this.#h;
    Atomics.store(h, L.READER_WAITING, 0);
    Atomics.store(h, L.READER_BLOCKED, 0);
    Atomics.store(h, L.READ_MINIMUM, 0);
    this.#pending = false;
  }

  async #waitAsync(minimumSize: number, signal: AbortSignal | undefined): Promise<ReadResult> {
    this.#pending = true;
    const h = this.#h;
    const onAbort = (): void => {
      Atomics.notify(h, L.DATA_SEQ);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let announced = false;
    const entry = trackPending(this.#ring.name, minimumSize > 0 ? 'readAtLeast' : 'read', minimumSize > 0 ? `at least ${minimumSize} unexamined bytes` : 'data');
    try {
      const spun = this.#spin(minimumSize);
      if (spun !== null) return resumeOn(this.#scheduler, spun);
      for (;;) {
        if (this.#completed) throw new PipeCompletedError('reader');
        const seq = this.#prepareWait(minimumSize);
        if (!announced) {
          announced = true;
          // A writer that waits (paused, or keeping room for its next batch) must hear that this
          // reader now waits for data: it will free nothing until more arrives.
          this.#ring.claimWriterWakeup();
        }
        const ready = this.#tryComplete(minimumSize);
        if (ready !== null) return resumeOn(this.#scheduler, ready);
        if (signal?.aborted) throw abortError(signal);
        this.#checkWhileWaiting(minimumSize);
        h[L.READER_WAITS]!++;
        if ((await waitAsyncSlice(h, L.DATA_SEQ, seq, kWaitSliceMs)) === 'ok') h[L.READER_WAKEUPS]!++;
      }
    } finally {
      untrackPending(entry);
      signal?.removeEventListener('abort', onAbort);
      this.#endWait();
    }
  }
}
