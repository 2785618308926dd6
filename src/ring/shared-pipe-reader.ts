import type { SequencePosition } from '../buffers/sequence-position.js';
import { AdvanceOutOfRangeError, FrameTooLargeError, PipeCompletedError, ReadPendingError, SameThreadWaitError } from '../errors/index.js';
import { trackPending, untrackPending } from '../diagnostics/pending-operations.js';
import { checkAdvanceOrder, positionOutsideLastRead } from '../pipe/advance-range.js';
import { PipeReader } from '../pipe/pipe-reader.js';
import { ReadResultSlot, type ReadResult } from '../pipe/results.js';
import { kCheckMove, kMove, type MovedEnd } from './movable.js';
import { PipeScheduler, resumeOn } from '../pipe/pipe-scheduler.js';
import * as L from './layout.js';
import { RingSegment } from './ring-segment.js';
import { blockUntil, kReaderChannel, spin, spinIfAlone, waitUntil } from './ring-wait.js';
import { movedEnd, SharedRing, type RingStats } from './shared-ring.js';
import { makeHandle, type SharedPipeHandle } from './shared-pipe-handle.js';

/**
 * The reading end of a SharedPipe. Reads are views straight over the ring (two segments when the
 * data runs over the end of the ring); `advanceTo` publishes the consumed and examined positions.
 */
export class SharedPipeReader extends PipeReader {
  readonly #ring: SharedRing;
  /** Where a suspended operation of this end resumes, in this thread. */
  readonly #scheduler: PipeScheduler;
  readonly #h: Int32Array;
  /** The capacity this end maps positions with, and its data view: both change when it takes up a growth. */
  #capacity: number;
  #mask: number;
  #data: Uint8Array;
  /** Whether the ring may still grow: only then does a read look for a new capacity. */
  #growable: boolean;
  /** READER_VIEWS as this end last stored it. */
  #holdsViews = false;

  /** Consumed ring position; mirrors READ_POS. */
  #read: number;
  /** Examined ring position; mirrors EXAMINED_POS. */
  #examined: number;
  /** Data offset of `#read` and of `#examined`, for comparing positions (skipped tails excluded). */
  #readOffset = 0;
  #examinedOffset = 0;
  #lap: RingSegment | null = null;
  #nextLap: RingSegment | null = null;
  /** The last result's segments, which `advanceTo` positions must fall within. */
  #first: RingSegment | null = null;
  #firstStart = 0;
  #second: RingSegment | null = null;
  #writerError: Error | undefined;
  /** The one result this end hands out, rewritten by each read (valid until the next advanceTo, as its views). */
  readonly #slot = new ReadResultSlot();
  /** The minimum of the wait in progress, for its check (one function per end, not one per wait). */
  #waitMinimum = 0;
  // Made on the first wait: an end that never waits (most of a server's idle connections) keeps no closure.
  #waitCheckFn: (() => ReadResult | null) | null = null;
  get #waitCheck(): () => ReadResult | null {
    return (this.#waitCheckFn ??= () => this.#checkWaiting(this.#waitMinimum));
  }

  /** @internal Use `new SharedPipe().reader` or `SharedPipe.reader(handle)`. */
  constructor(ring: SharedRing, scheduler: PipeScheduler = PipeScheduler.inline) {
    super();
    this.#ring = ring;
    this.#scheduler = scheduler;
    this.#h = ring.header;
    this.#capacity = ring.capacity;
    this.#mask = this.#capacity - 1;
    this.#data = ring.dataView(this.#capacity);
    this.#growable = this.#capacity < ring.maxCapacity;
    // A reader revived while a growth waited for the one before it to take it up: this one holds no views.
    if (Atomics.load(this.#h, L.READER_CAPACITY) !== this.#capacity) {
      Atomics.store(this.#h, L.READER_CAPACITY, this.#capacity);
      ring.claimWriterWakeup();
    }
    this.#read = Atomics.load(this.#h, L.READ_POS) >>> 0;
    this.#examined = Atomics.load(this.#h, L.EXAMINED_POS) >>> 0;
    // Offsets are relative to where this end was revived: only differences between them matter.
    this.#examinedOffset = this.#readOffset + ring.dataBetween(this.#read, this.#examined);
  }

  protected readCore(signal: AbortSignal | undefined): ReadResult | Promise<ReadResult> {
    return this.#tryComplete(0) ?? this.#spinFor(0) ?? this.#waitAsync(0, signal);
  }

  protected override readAtLeastCore(minimumSize: number, signal: AbortSignal | undefined): ReadResult | Promise<ReadResult> {
    this.#checkFits(minimumSize);
    return this.#tryComplete(minimumSize) ?? this.#spinFor(minimumSize) ?? this.#waitAsync(minimumSize, signal);
  }

  /** Data that comes within microseconds is returned at once: no promise, no wake-up. */
  #spinFor(minimumSize: number): ReadResult | null {
    this.#waitMinimum = minimumSize;
    return spinIfAlone(this.#waitCheck);
  }

  protected tryReadCore(): ReadResult | null {
    return this.#tryComplete(0);
  }

  /**
   * Blocks the thread (in `Atomics.wait`) until data, completion or a cancel arrives: for CPU-only
   * workers. Fails at once with ERR_PIPE_SAME_THREAD_WAIT when the writer is held by this thread.
   */
  readSync(): ReadResult {
    this.checkUsable();
    if (this.isReadPending || this.isResultOutstanding) throw new ReadPendingError();
    const ready = this.#tryComplete(0);
    if (ready !== null) return this.deliveredSync(ready);
    if (this.#ring.heldHere('writer')) throw new SameThreadWaitError('readSync');
    const entry = trackPending(this.#ring.name, 'readSync', 'data');
    this.#beginWait(0);
    this.#waitMinimum = 0;
    try {
      return this.deliveredSync(spin(this.#waitCheck) ?? blockUntil(this.#h, kReaderChannel, this.#waitCheck));
    } finally {
      untrackPending(entry);
      this.#endWait();
    }
  }

  protected advanceToCore(consumed: SequencePosition, examined: SequencePosition): void {
    const consumedOffset = consumed.segment === null ? -1 : this.#offsetInLastRead(consumed, 'consumed');
    const examinedOffset = examined.segment === null ? -1 : examined === consumed ? consumedOffset : this.#offsetInLastRead(examined, 'examined');
    checkAdvanceOrder(consumedOffset, examinedOffset, this.#examinedOffset);
    if (consumedOffset >= 0 && consumedOffset < this.#readOffset) throw new AdvanceOutOfRangeError('consumed-moved-back');
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
      const position = examinedOffset >= consumedOffset ? examined : consumed;
      this.#examined = position === consumed && consumedOffset >= 0 ? this.#read : this.#ringPosition(position);
      this.#examinedOffset = Math.max(examinedOffset, consumedOffset);
      Atomics.store(h, L.EXAMINED_POS, this.#examined | 0);
    }
    this.#first = this.#second = null;
    // No views are held now: the moment to take up a growth, so the writer gets the room soon.
    if (this.#growable) this.#releaseViews();
    // Decide under the state change, signal after it: positions are stored, now wake a sleeping writer.
    this.#ring.claimWriterWakeup();
  }

  /** Thread-safe: works on a moved end too, and wakes a reader blocked in another thread. */
  protected cancelPendingReadCore(): void {
    this.#ring.setBits(L.READ_CANCEL);
    this.#ring.wakeReader();
  }

  protected completeCore(error: Error | undefined): void {
    this.#first = this.#second = null;
    if (this.#holdsViews) this.#releaseViews();
    this.#ring.complete('reader', error);
    this.#ring.detach('reader');
  }

  /**
   * Moves this end: send the handle to another thread and revive it there with
   * `SharedPipe.reader(handle)`. Not while a read is pending or its result still needs `advanceTo`.
   */
  handle(): SharedPipeHandle {
    this[kCheckMove]();
    this.markMoved();
    this.#first = this.#second = null;
    if (this.#holdsViews) this.#releaseViews();
    this.#ring.detach('reader');
    return makeHandle('reader', this.#ring.buffer);
  }

  stats(): RingStats {
    return this.#ring.stats();
  }

  /** The ring's capacity as this end maps it now; it grows up to `maxCapacity`. */
  get capacity(): number {
    return this.#capacity;
  }

  /** What the ring may grow to (the capacity itself when it cannot grow). */
  get maxCapacity(): number {
    return this.#ring.maxCapacity;
  }

  /** @internal Throws what handle() would, without moving: a scheduler moves all ends of a run or none. */
  [kCheckMove](): void {
    this.checkUsable();
    if (this.isReadPending || this.isResultOutstanding) throw new ReadPendingError();
  }

  /** @internal Moves this end for a scheduler: the handle plus the controls the sending thread keeps. */
  [kMove](): MovedEnd {
    return movedEnd(this.#ring, 'reader', this.handle());
  }

  #checkFits(minimumSize: number): void {
    const held = this.#ring.dataBetween(this.#read, this.#examined);
    // The capacity the writer reached, not the one this end maps with: it may not have taken up a growth yet.
    const limit = this.#ring.growthLimit(this.#ring.capacity);
    if (minimumSize > limit || held + minimumSize > limit) {
      throw new FrameTooLargeError(held > 0 ? `Reading at least ${minimumSize} more bytes beyond the ${held} unconsumed bytes held` : `Reading at least ${minimumSize} bytes`, held + minimumSize, limit);
    }
  }

  /**
   * Maps positions with the capacity the writer grew the ring to: the bytes are already re-placed for
   * it. Only while this end holds no views (the old ones read the old indexes, which the writer keeps
   * until it learns of this from READER_CAPACITY).
   */
  /** The views of the last result are dead (an advanceTo, or a new read replacing them): a growth may take effect. */
  #releaseViews(): void {
    if (this.#holdsViews) {
      this.#holdsViews = false;
      Atomics.store(this.#h, L.READER_VIEWS, 0);
    }
    if (Atomics.load(this.#h, L.CAPACITY) !== this.#capacity) this.#takeUpGrowth();
  }

  #takeUpGrowth(): void {
    const capacity = Atomics.load(this.#h, L.CAPACITY);
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    this.#data = this.#ring.dataView(capacity);
    this.#growable = capacity < this.#ring.maxCapacity;
    // Laps are views of the old data region, at the old lap bases.
    this.#lap = this.#nextLap = null;
    Atomics.store(this.#h, L.READER_CAPACITY, capacity);
    this.#ring.claimWriterWakeup();
  }

  /** The read result if one is due now (data beyond examined, completion or a cancel), else null. */
  #tryComplete(minimumSize: number): ReadResult | null {
    const h = this.#h;
    // A read replaces the views of any result before it: they no longer hold a growth back.
    if (this.#growable) this.#releaseViews();
    const state = Atomics.load(h, L.STATE);
    if ((state & L.WRITER_FAULTED) !== 0) throw (this.#writerError ??= this.#ring.readError('writer'));
    const write = Atomics.load(h, L.WRITE_POS) >>> 0;
    const completed = (state & L.WRITER_COMPLETED) !== 0;
    const canceled = (state & L.READ_CANCEL) !== 0 && this.#ring.takeBit(L.READ_CANCEL);
    if (!canceled && !completed) {
      const unexamined = this.#ring.dataBetween(this.#examined, write);
      if (unexamined === 0 || unexamined < minimumSize) return null;
    }
    return this.#result(write, canceled, completed);
  }

  #result(write: number, canceled: boolean, completed: boolean): ReadResult {
    this.#h[L.READS]!++;
    if (this.#growable) {
      // Announced before CAPACITY is loaded (and that after WRITE_POS): either the writer sees these
      // views and keeps its room, or the load sees its growth and the views are made for it.
      this.#holdsViews = true;
      Atomics.store(this.#h, L.READER_VIEWS, 1);
      if (Atomics.load(this.#h, L.CAPACITY) !== this.#capacity) this.#takeUpGrowth();
    }
    const used = (write - this.#read) >>> 0;
    if (used === 0) {
      this.#first = this.#second = null;
      return this.#slot.empty(canceled, completed);
    }
    const capacity = this.#capacity;
    const readIndex = this.#read & this.#mask;
    const lapBase = (this.#read - readIndex) >>> 0;
    const lap = this.#lapAt(lapBase, this.#readOffset - readIndex);
    const skip = this.#ring.skipWithin(this.#read, used);
    let first: RingSegment = lap;
    let second: RingSegment | null = null;
    if (skip >= 0 || readIndex + used > capacity) {
      lap.length = skip >= 0 ? skip & this.#mask : capacity;
      lap.cut = skip >= 0;
      const nextBase = (lapBase + capacity) >>> 0;
      const nextRunning = lap.runningIndex + lap.length;
      // Ring positions repeat every 2^32 bytes; running indexes never do, so a lap is reused only
      // when both match: a segment from an earlier lap of the counter would give wrong offsets.
      const cached = this.#nextLap;
      second = cached !== null && cached !== lap && cached.ringBase === nextBase && cached.runningIndex === nextRunning ? cached : new RingSegment(lap.buffer, nextBase, nextRunning);
      second.length = write & this.#mask;
      second.cut = false;
      second.next = null;
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
      lap.next = null;
    }
    this.#first = first;
    this.#firstStart = first === lap ? readIndex : 0;
    this.#second = second;
    const last = second ?? first;
    return this.#slot.over(first, this.#firstStart, last, last.length, canceled, completed);
  }

  #lapAt(lapBase: number, runningIndex: number): RingSegment {
    const current = this.#lap;
    if (current !== null && current.ringBase === lapBase && current.runningIndex === runningIndex) return current;
    const next = this.#nextLap;
    const lap = next !== null && next.ringBase === lapBase && next.runningIndex === runningIndex ? next : new RingSegment(this.#data, lapBase, runningIndex);
    this.#lap = lap;
    if (this.#nextLap === lap) this.#nextLap = null;
    return lap;
  }

  #offsetInLastRead(position: SequencePosition, name: 'consumed' | 'examined'): number {
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
      throw positionOutsideLastRead(name);
    }
    if (index < low || index > high) throw positionOutsideLastRead(name);
    return (segment as RingSegment).runningIndex + index;
  }

  #ringPosition(position: SequencePosition): number {
    const segment = position.segment as RingSegment;
    const index = position.index;
    // The end of a lap cut by a skipped tail is the start of the next lap.
    if (segment.cut && index === segment.length) return (segment.ringBase + this.#capacity) >>> 0;
    return (segment.ringBase + index) >>> 0;
  }

  /** Tells the writer this reader now waits (and for how much), then wakes it if it sleeps: a paused writer may have to let go. */
  #beginWait(minimumSize: number): void {
    const h = this.#h;
    Atomics.store(h, L.READ_MINIMUM, minimumSize);
    Atomics.store(h, L.READER_BLOCKED, 1);
    this.#ring.claimWriterWakeup();
  }

  #endWait(): void {
    const h = this.#h;
    Atomics.store(h, L.READER_BLOCKED, 0);
    Atomics.store(h, L.READ_MINIMUM, 0);
  }

  /** The wait's check: a result, or null to sleep; fails when no byte can ever arrive. */
  #checkWaiting(minimumSize: number): ReadResult | null {
    if (this.isCompletedEnd) throw new PipeCompletedError('reader');
    const ready = this.#tryComplete(minimumSize);
    if (ready !== null) return ready;
    // The ring is full of bytes this reader holds and it waits for more: no byte can ever arrive
    // (a line or frame larger than the ring). Nothing waits forever for that: the read fails and names it.
    const h = this.#h;
    const write = Atomics.load(h, L.WRITE_POS) >>> 0;
    if (((write - this.#read) >>> 0) === this.#capacity && this.#passDeadTail(write)) return this.#tryComplete(minimumSize);
    if (((write - this.#read) >>> 0) === this.#capacity && this.#capacity < this.#ring.growthLimit(this.#capacity)) {
      // The writer grows the ring when it has bytes that do not fit: wait for them (and for the growth).
      return null;
    }
    if (((write - this.#read) >>> 0) === this.#capacity) {
      const wanted = Math.max(1, minimumSize);
      // Judged on this one load of the write position: bytes published since the check above are
      // not a deadlock, the next check returns them.
      if (this.#ring.dataBetween(this.#examined, write) < wanted && (Atomics.load(h, L.STATE) & L.WRITER_COMPLETED) === 0) {
        const held = this.#ring.dataBetween(this.#read, write);
        throw new FrameTooLargeError(`Waiting for ${wanted} more bytes while holding ${held} unconsumed bytes`, held + wanted, this.#capacity);
      }
    }
    return null;
  }

  /**
   * A skipped tail that starts right at the consumed position holds no data and nothing before it is
   * held: moving the consumed position past it frees that room for the writer (a ring full of it and
   * of a waiting minimum is no deadlock). True when it moved. A canceled result this end did not
   * advance past may still be out: its data starts after the tail too, so its positions stay right.
   */
  #passDeadTail(write: number): boolean {
    const skip = this.#ring.skipWithin(this.#read, (write - this.#read) >>> 0);
    if (skip < 0 || skip !== this.#read) return false;
    const next = (skip + this.#capacity - (skip & this.#mask)) >>> 0;
    if (next < this.#read) Atomics.add(this.#h, L.READ_LAPS, 1);
    const examinedToo = this.#examined === this.#read;
    // READ_POS before EXAMINED_POS, as in advanceTo.
    this.#read = next;
    Atomics.store(this.#h, L.READ_POS, next | 0);
    if (examinedToo) {
      this.#examined = next;
      Atomics.store(this.#h, L.EXAMINED_POS, next | 0);
    }
    this.#ring.claimWriterWakeup();
    return true;
  }

  async #waitAsync(minimumSize: number, signal: AbortSignal | undefined): Promise<ReadResult> {
    const entry = trackPending(this.#ring.name, minimumSize > 0 ? 'readAtLeast' : 'read', minimumSize > 0 ? `at least ${minimumSize} unexamined bytes` : 'data');
    this.#beginWait(minimumSize);
    this.#waitMinimum = minimumSize;
    try {
      // A writer held by this thread is the only one that could end the wait: it keeps nothing alive.
      const result = await waitUntil(this.#h, kReaderChannel, this.#waitCheck, signal, !this.#ring.heldHere('writer'));
      return resumeOn(this.#scheduler, result);
    } finally {
      untrackPending(entry);
      this.#endWait();
    }
  }
}
