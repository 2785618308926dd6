import {
  abortError,
  FlushPendingError,
  FrameTooLargeError,
  InvalidArgumentTypeError,
  InvalidArgumentValueError,
  PipeCompletedError,
  PipeEndMovedError,
  RingFullError,
  validateInteger,
  validateSignal,
  WriteBeyondMemoryError,
} from '../errors.js';
import { channels } from '../diagnostics/channels.js';
import { trackPending, untrackPending, type PendingOperation } from '../diagnostics/pending-operations.js';
import { PipeWriter, toBytes } from '../pipe/pipe-writer.js';
import { flushResult, settledFlush, type FlushResult, type OperationOptions } from '../pipe/results.js';
import { kCheckMove, kMove, type MovedEnd } from '../scheduling/movable.js';
import { PipeScheduler, resumeOn } from '../scheduling/scheduler.js';
import * as L from './layout.js';
import { kDataOffset } from './layout.js';
import { kWaitSliceMs, waitAsyncSlice, waitSyncSlice } from './ring-wait.js';
import { movedEnd, SharedRing, type RingStats } from './shared-ring.js';
import { makeHandle, type SharedPipeHandle } from './shared-pipe-handle.js';

/** The smallest room a flush waits for, so the next small write never finds the ring full. */
const kMinimumReserve = 4096;

const enum Until {
  /** The flush may return: not paused, and room for the next batch. */
  Flushed,
  /** Any room at all, for a write() larger than the free space. */
  Room,
}

/**
 * The writing end of a SharedPipe. `getMemory` hands out contiguous free ring bytes (skipping the
 * tail of the ring when a request does not fit before the end); `flush` publishes them.
 */
export class SharedPipeWriter extends PipeWriter {
  readonly #ring: SharedRing;
  /** Where a suspended operation of this end resumes, in this thread. */
  readonly #scheduler: PipeScheduler;
  readonly #h: Int32Array;
  readonly #data: Uint8Array;
  readonly #buffer: SharedArrayBuffer;
  readonly #capacity: number;
  readonly #mask: number;
  readonly #maxMemory: number;

  /** Published write position (WRITE_POS). */
  #write: number;
  /** Where the next advanced byte lands: #write plus unflushed bytes and an applied skip. */
  #cursor: number;
  /** Cached consumed and examined positions of the reader; reloaded only when they are not enough. */
  #read: number;
  #examined: number;
  #unflushed = 0;
  #skipPosition = 0;
  #skipLength = 0;
  #skipApplied = false;
  #publishedSkipEnd = 0;
  #view: Uint8Array | null = null;
  #paused = false;
  #largestHint = 0;
  #lastBatch = 0;
  #pending = false;
  /** A write() larger than the free space is copying in turns. */
  #writing = false;
  #moved = false;
  #completed = false;
  #readerError: Error | undefined;

  /** @internal Use `new SharedPipe().writer` or `SharedPipe.writer(handle)`. */
  constructor(ring: SharedRing, scheduler: PipeScheduler = PipeScheduler.inline) {
    super();
    this.#ring = ring;
    this.#scheduler = scheduler;
    this.#h = ring.header;
    this.#data = ring.data;
    this.#buffer = ring.buffer;
    this.#capacity = ring.capacity;
    this.#mask = ring.mask;
    this.#maxMemory = ring.capacity / 2;
    this.#write = this.#cursor = Atomics.load(this.#h, L.WRITE_POS) >>> 0;
    this.#read = Atomics.load(this.#h, L.READ_POS) >>> 0;
    this.#examined = Atomics.load(this.#h, L.EXAMINED_POS) >>> 0;
    if (Atomics.load(this.#h, L.SKIP_ACTIVE) !== 0) {
      const skip = Atomics.load(this.#h, L.SKIP_POS) >>> 0;
      this.#publishedSkipEnd = (skip + this.#capacity - (skip & this.#mask)) >>> 0;
    }
    const pause = ring.pauseWriterThreshold;
    this.#paused = pause > 0 && ((this.#write - this.#examined) >>> 0) >= pause;
  }

  /** Contiguous ring memory of at least `max(sizeHint, 1)` bytes (at most half the capacity). */
  getMemory(sizeHint = 0): Uint8Array {
    this.#checkUsable();
    validateInteger('sizeHint', sizeHint, 0);
    if (sizeHint > this.#maxMemory) {
      throw new InvalidArgumentValueError('sizeHint', sizeHint, `must be <= ${this.#maxMemory} (half the ring capacity): a larger block could never be contiguous`);
    }
    const need = Math.max(1, sizeHint);
    const view = this.#view;
    if (view !== null && view.length >= need) return view;
    if (need > this.#largestHint) this.#largestHint = need;
    if (!this.#skipApplied) this.#skipLength = 0;
    const cursor = this.#cursor;
    const index = cursor & this.#mask;
    const tail = this.#capacity - index;
    const needed = tail >= need ? need : tail + need;
    let free = this.#capacity - ((cursor - this.#read) >>> 0);
    if (free < needed) {
      this.#reloadRead();
      free = this.#capacity - ((cursor - this.#read) >>> 0);
      if (free < needed) throw new RingFullError(need, free);
    }
    if (tail >= need) {
      // A view made from the buffer costs half of a subarray of the data view.
      this.#view = new Uint8Array(this.#buffer, kDataOffset + index, Math.min(tail, free));
    } else {
      // Skip the tail rather than hand out memory that wraps: the reader is told where the skip starts.
      this.#skipPosition = cursor;
      this.#skipLength = tail;
      this.#view = new Uint8Array(this.#buffer, kDataOffset, Math.min(this.#capacity, free - tail));
    }
    return this.#view;
  }

  advance(bytes: number): void {
    validateInteger('bytes', bytes, 0);
    if (this.#moved) throw new PipeEndMovedError('writer');
    const available = this.#view === null ? 0 : this.#view.length;
    if (bytes > available) throw new WriteBeyondMemoryError(bytes, available);
    if (bytes === 0) return;
    this.#view = null;
    // A completed reader discards what is written: the memory stays free for reuse.
    if ((Atomics.load(this.#h, L.STATE) & L.READER_COMPLETED) !== 0) {
      this.#skipLength = 0;
      return;
    }
    if (this.#skipLength > 0 && !this.#skipApplied) {
      this.#cursor = (this.#cursor + this.#skipLength) >>> 0;
      this.#skipApplied = true;
    }
    this.#cursor = (this.#cursor + bytes) >>> 0;
    this.#unflushed += bytes;
  }

  flush(options?: OperationOptions): Promise<FlushResult> {
    const signal = validateSignal('options.signal', options?.signal);
    if (this.#moved) throw new PipeEndMovedError('writer');
    if (this.#pending || this.#writing) throw new FlushPendingError();
    if (signal?.aborted) return Promise.reject(abortError(signal));
    this.#publish();
    return this.#finish(signal);
  }

  /** Blocks the thread (in `Atomics.wait`) while the reader is behind: for workers that may block. */
  flushSync(): FlushResult {
    if (this.#moved) throw new PipeEndMovedError('writer');
    if (this.#pending) throw new FlushPendingError();
    this.#publish();
    return this.#waitSync(Until.Flushed);
  }

  /** Copies `data` into the ring (across its end if need be; larger than the ring, in turns) and flushes. */
  override write(data: Uint8Array | string, options?: OperationOptions): Promise<FlushResult> {
    this.#checkUsable();
    const bytes = toBytes(data);
    const signal = validateSignal('options.signal', options?.signal);
    if (this.#pending || this.#writing) throw new FlushPendingError();
    const state = Atomics.load(this.#h, L.STATE);
    if ((state & L.READER_FAULTED) !== 0) return Promise.reject(this.#readerFailure());
    if ((state & L.READER_COMPLETED) !== 0) return settledFlush(false, true);
    if (signal?.aborted) return Promise.reject(abortError(signal));
    this.#view = null;
    if (!this.#skipApplied) this.#skipLength = 0;
    const copied = this.#copyIn(bytes, 0);
    if (copied === bytes.length) {
      this.#publish();
      return this.#finish(signal);
    }
    return this.#writeInTurns(bytes, copied, signal);
  }

  /** Blocking `write` for workers: waits for room in `Atomics.wait`. */
  writeSync(data: Uint8Array | string): FlushResult {
    this.#checkUsable();
    const bytes = toBytes(data);
    if (this.#pending) throw new FlushPendingError();
    this.#view = null;
    if (!this.#skipApplied) this.#skipLength = 0;
    let offset = 0;
    for (;;) {
      const state = Atomics.load(this.#h, L.STATE);
      if ((state & L.READER_FAULTED) !== 0) throw this.#readerFailure();
      if ((state & L.READER_COMPLETED) !== 0) return flushResult(false, true);
      offset = this.#copyIn(bytes, offset);
      this.#publish();
      if (offset === bytes.length) return this.#waitSync(Until.Flushed);
      const room = this.#waitSync(Until.Room);
      if (room.isCanceled || room.isCompleted) return room;
    }
  }

  /** Thread-safe: works on a moved end too, and wakes a writer blocked in another thread. */
  cancelPendingFlush(): void {
    this.#ring.setBits(L.FLUSH_CANCEL);
    this.#ring.wakeWriter();
  }

  complete(error?: Error): void {
    if (error !== undefined && error !== null && !(error instanceof Error)) throw new InvalidArgumentTypeError('error', error, 'an Error or undefined');
    if (this.#moved) throw new PipeEndMovedError('writer');
    if (this.#completed) return;
    this.#publish();
    this.#completed = true;
    this.#view = null;
    this.#ring.complete('writer', error ?? undefined);
    this.#ring.detach('writer');
  }

  get unflushedBytes(): number {
    return this.#unflushed;
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Moves this end: send the handle to another thread and revive it there with `SharedPipe.writer(handle)`. */
  handle(): SharedPipeHandle {
    this[kCheckMove]();
    this.#moved = true;
    this.#view = null;
    this.#ring.detach('writer');
    return makeHandle('writer', this.#ring.buffer);
  }

  stats(): RingStats {
    return this.#ring.stats();
  }

  /** @internal Throws what handle() would, without moving: a scheduler moves all ends of a run or none. */
  [kCheckMove](): void {
    this.#checkUsable();
    if (this.#pending || this.#writing || this.#unflushed > 0) throw new FlushPendingError();
  }

  /** @internal Moves this end for a scheduler: the handle plus the controls the sending thread keeps. */
  [kMove](): MovedEnd {
    return movedEnd(this.#ring, 'writer', this.handle());
  }

  // ---- internals

  #checkUsable(): void {
    if (this.#moved) throw new PipeEndMovedError('writer');
    if (this.#completed) throw new PipeCompletedError('writer');
  }

  #readerFailure(): Error {
    return (this.#readerError ??= this.#ring.readError('reader'));
  }

  #reloadRead(): void {
    const h = this.#h;
    this.#read = Atomics.load(h, L.READ_POS) >>> 0;
    // Retire a published skip once the reader is past it, so an old SKIP_POS can never look current again.
    if (Atomics.load(h, L.SKIP_ACTIVE) !== 0 && ((this.#read - this.#publishedSkipEnd) | 0) >= 0) {
      Atomics.store(h, L.SKIP_ACTIVE, 0);
    }
  }

  /** Copies as much of `bytes` from `offset` as fits, across the end of the ring if need be. */
  #copyIn(bytes: Uint8Array, offset: number): number {
    const want = bytes.length - offset;
    let free = this.#capacity - ((this.#cursor - this.#read) >>> 0);
    if (free < want) {
      this.#reloadRead();
      free = this.#capacity - ((this.#cursor - this.#read) >>> 0);
    }
    const count = Math.min(free, want);
    if (count === 0) return offset;
    const index = this.#cursor & this.#mask;
    const first = Math.min(count, this.#capacity - index);
    this.#data.set(offset === 0 && first === bytes.length ? bytes : bytes.subarray(offset, offset + first), index);
    if (count > first) this.#data.set(bytes.subarray(offset + first, offset + count), 0);
    this.#cursor = (this.#cursor + count) >>> 0;
    this.#unflushed += count;
    return offset + count;
  }

  /** Makes advanced bytes readable, then wakes the reader if it sleeps. */
  #publish(): void {
    if (this.#unflushed === 0) return;
    const h = this.#h;
    if (this.#skipApplied) {
      Atomics.store(h, L.SKIP_POS, this.#skipPosition | 0);
      Atomics.store(h, L.SKIP_ACTIVE, 1);
      this.#publishedSkipEnd = (this.#skipPosition + this.#skipLength) >>> 0;
      h[L.WRAPS]!++;
      this.#skipApplied = false;
      this.#skipLength = 0;
    }
    const next = this.#cursor;
    const previous = this.#write;
    if (next < previous) Atomics.add(h, L.WRITE_LAPS, 1);
    Atomics.store(h, L.WRITE_POS, next | 0);
    this.#write = next;
    this.#lastBatch = this.#unflushed;
    this.#unflushed = 0;
    h[L.FLUSHES]!++;
    this.#ring.claimReaderWakeup();
    const pause = this.#ring.pauseWriterThreshold;
    if (pause > 0 && !this.#paused && ((next - this.#examined) >>> 0) >= pause) {
      this.#examined = Atomics.load(h, L.EXAMINED_POS) >>> 0;
      const unexamined = (next - this.#examined) >>> 0;
      // Pausing is an edge, as in .NET: the flush that crosses the threshold pauses, not every flush
      // above it. A reader waiting for more than has been sent must get it: such a flush never pauses.
      const crossed = ((previous - this.#examined) >>> 0) < pause && unexamined >= pause;
      if (crossed && unexamined >= Atomics.load(h, L.READ_MINIMUM) && (Atomics.load(h, L.STATE) & L.READER_COMPLETED) === 0) {
        this.#paused = true;
        h[L.PAUSES]!++;
        if (channels.pause.hasSubscribers) channels.pause.publish({ pipe: this.#ring.name, unexamined });
      }
    }
  }

  #finish(signal: AbortSignal | undefined): Promise<FlushResult> {
    let result: FlushResult | null;
    try {
      result = this.#check(Until.Flushed, 0);
    } catch (error) {
      return Promise.reject(error);
    }
    return result !== null ? settledFlush(result.isCanceled, result.isCompleted) : this.#waitAsync(Until.Flushed, signal);
  }

  /**
   * The room a returning flush keeps for the next batch of the same size: contiguous (counting a
   * tail to skip) when the writer uses getMemory, plain room when it only uses write().
   */
  #reserve(): number {
    const size = Math.min(this.#maxMemory, Math.max(kMinimumReserve, this.#largestHint, this.#lastBatch));
    return this.#largestHint > 0 ? this.#needed(size) : size;
  }

  /** Room needed for `size` contiguous bytes at the cursor, counting a tail that would be skipped. */
  #needed(size: number): number {
    const tail = this.#capacity - (this.#cursor & this.#mask);
    return tail >= size ? size : tail + size;
  }

  #hasRoom(needed: number): boolean {
    if (this.#capacity - ((this.#cursor - this.#read) >>> 0) >= needed) return true;
    this.#reloadRead();
    return this.#capacity - ((this.#cursor - this.#read) >>> 0) >= needed;
  }

  /** The flush result if the wait `until` is over (or completion / a cancel ends it), else null. */
  #check(until: Until, needed: number): FlushResult | null {
    const h = this.#h;
    const state = Atomics.load(h, L.STATE);
    if ((state & L.READER_FAULTED) !== 0) throw this.#readerFailure();
    const canceled = (state & L.FLUSH_CANCEL) !== 0 && this.#ring.takeBit(L.FLUSH_CANCEL);
    if ((state & L.READER_COMPLETED) !== 0) return flushResult(canceled, true);
    if (canceled) return flushResult(true, false);
    if (until === Until.Room) return this.#hasRoom(needed) ? flushResult(false, false) : null;
    if (this.#paused) {
      this.#examined = Atomics.load(h, L.EXAMINED_POS) >>> 0;
      const unexamined = (this.#write - this.#examined) >>> 0;
      if (unexamined >= this.#ring.resumeWriterThreshold && Atomics.load(h, L.READ_MINIMUM) <= unexamined) return null;
      this.#paused = false;
      if (channels.resume.hasSubscribers) channels.resume.publish({ pipe: this.#ring.name, unexamined });
    }
    // Keeping room for the next batch is a courtesy: a reader waiting for data frees nothing until it
    // gets more, so then the flush returns at once.
    return this.#hasRoom(this.#reserve()) || this.#readerStarved() ? flushResult(false, false) : null;
  }

  /** Announces a sleeping writer and the room it waits for (0: the reader to examine), then samples the sequence word. */
  #prepareWait(until: Until, needed: number): number {
    const h = this.#h;
    // Only a write that must place bytes announces a need: the reader may call a wait for it a deadlock.
    Atomics.store(h, L.WRITER_NEED, until === Until.Room ? needed : 0);
    Atomics.store(h, L.WRITER_WAITING, 1);
    return Atomics.load(h, L.SPACE_SEQ);
  }

  /** Re-checks a while before sleeping: room that frees within microseconds costs no wake-up. */
  #spin(until: Until, needed: number): FlushResult | null {
    for (let i = 0; i < L.kSpinBeforeSleep; i++) {
      const done = this.#check(until, needed);
      if (done !== null) return done;
    }
    return null;
  }

  /** True when the reader waits for data and has examined all there is: it frees nothing until more comes. */
  #readerStarved(): boolean {
    const h = this.#h;
    if (Atomics.load(h, L.READER_BLOCKED) === 0) return false;
    const unexamined = (this.#write - (Atomics.load(h, L.EXAMINED_POS) >>> 0)) >>> 0;
    return unexamined < Math.max(1, Atomics.load(h, L.READ_MINIMUM));
  }

  /** Fails instead of sleeping when the reader can never make room. */
  #checkWhileWaiting(): void {
    const h = this.#h;
    const need = Atomics.load(h, L.WRITER_NEED);
    if (need === 0) return;
    const write = this.#write;
    // EXAMINED_POS (in #readerStarved) before READ_POS, the reverse of the reader's stores (see its advanceTo).
    const starved = this.#readerStarved();
    this.#reloadRead();
    const free = this.#capacity - ((write - this.#read) >>> 0);
    if (free < need && starved) {
      const held = (write - this.#read) >>> 0;
      throw new FrameTooLargeError(`The reader holds ${held} unconsumed bytes and waits for more; writing ${need} more`, held + need, this.#capacity);
    }
    // Let a sleeping reader see that this writer waits for room, so it can tell the same.
    this.#ring.wakeReader();
  }

  #endWait(): void {
    Atomics.store(this.#h, L.WRITER_WAITING, 0);
    Atomics.store(this.#h, L.WRITER_NEED, 0);
  }

  async #waitAsync(until: Until, signal: AbortSignal | undefined, needed = 0): Promise<FlushResult> {
    this.#pending = true;
    const h = this.#h;
    const onAbort = (): void => {
      Atomics.notify(h, L.SPACE_SEQ);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const entry = this.#track(until === Until.Room ? 'write' : 'flush', until);
    try {
      const spun = this.#spin(until, needed);
      if (spun !== null) return resumeOn(this.#scheduler, spun);
      for (;;) {
        if (this.#completed && until === Until.Flushed) throw new PipeCompletedError('writer');
        const seq = this.#prepareWait(until, needed);
        const done = this.#check(until, needed);
        if (done !== null) return resumeOn(this.#scheduler, done);
        if (signal?.aborted) throw abortError(signal);
        this.#checkWhileWaiting();
        h[L.WRITER_WAITS]!++;
        if ((await waitAsyncSlice(h, L.SPACE_SEQ, seq, kWaitSliceMs)) === 'ok') h[L.WRITER_WAKEUPS]!++;
      }
    } finally {
      untrackPending(entry);
      signal?.removeEventListener('abort', onAbort);
      this.#endWait();
      this.#pending = false;
    }
  }

  #waitSync(until: Until, needed = 1): FlushResult {
    const done = this.#check(until, needed);
    if (done !== null) return done;
    this.#pending = true;
    const h = this.#h;
    const entry = this.#track('flushSync', until);
    try {
      const spun = this.#spin(until, needed);
      if (spun !== null) return spun;
      for (;;) {
        const seq = this.#prepareWait(until, needed);
        const ready = this.#check(until, needed);
        if (ready !== null) return ready;
        this.#checkWhileWaiting();
        h[L.WRITER_WAITS]!++;
        if (waitSyncSlice(h, L.SPACE_SEQ, seq) === 'ok') h[L.WRITER_WAKEUPS]!++;
      }
    } finally {
      untrackPending(entry);
      this.#endWait();
      this.#pending = false;
    }
  }

  #track(operation: PendingOperation['operation'], until: Until): PendingOperation {
    const waitingFor = until === Until.Flushed && this.#paused
      ? `the reader to examine below ${this.#ring.resumeWriterThreshold} bytes`
      : 'room in the ring';
    return trackPending(this.#ring.name, operation, waitingFor);
  }

  async #writeInTurns(bytes: Uint8Array, offset: number, signal: AbortSignal | undefined): Promise<FlushResult> {
    this.#writing = true;
    try {
      let done = offset;
      while (done < bytes.length) {
        this.#publish();
        const room = await this.#waitAsync(Until.Room, signal, 1);
        if (room.isCanceled || room.isCompleted) return room;
        done = this.#copyIn(bytes, done);
      }
      this.#publish();
    } finally {
      this.#writing = false;
    }
    return this.#finish(signal);
  }
}
