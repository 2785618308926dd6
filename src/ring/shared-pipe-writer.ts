import { constants as bufferConstants } from 'node:buffer';
import { FlushPendingError, InvalidArgumentTypeError, InvalidArgumentValueError, PipeCompletedError, SameThreadWaitError, validateInteger } from '../errors/index.js';
import { channels } from '../diagnostics/channels.js';
import { trackPending, untrackPending, type PendingOperation } from '../diagnostics/pending-operations.js';
import { PipeWriter, toBytes } from '../pipe/pipe-writer.js';
import { flushResult, type FlushResult } from '../pipe/results.js';
import { kCheckMove, kMove, type MovedEnd } from './movable.js';
import { PipeScheduler, resumeOn } from '../pipe/pipe-scheduler.js';
import * as L from './layout.js';
import { kDataOffset } from './layout.js';
import { blockUntil, kWriterChannel, spin, spinIfAlone, waitUntil } from './ring-wait.js';
import { ReadySet } from './ready-set.js';
import { movedEnd, SharedRing, type RingStats } from './shared-ring.js';
import { makeHandle, type SharedPipeHandle } from './shared-pipe-handle.js';

/** The smallest block the writer owns when the ring has no room: the next flush copies it in. */
const kMinimumOwnedBlock = 16 * 1024;
/** The largest: what one typed array may hold. */
const kMaxOwnedBlock = bufferConstants.MAX_LENGTH;

const enum Memory {
  None = 0,
  /** The last `getMemory` handed out ring bytes at the cursor (zero copy). */
  Ring = 1,
  /** It handed out a block the writer owns; advanced bytes queue behind what the ring holds. */
  Owned = 2,
}

/**
 * The writing end of a SharedPipe. `getMemory` hands out contiguous free ring bytes when there are
 * some (skipping the tail of the ring when a request does not fit before the end), otherwise a block
 * this end owns; `flush` publishes what is in the ring and copies owned bytes in as room frees up.
 *
 * A flush waits only when .NET's Pipe would (the flush made the unexamined data reach the pause
 * threshold, until it falls below the resume threshold) and while bytes the pipe owns cannot yet be
 * placed in the ring. Canceling or aborting that wait never drops a byte: what is owned is still
 * placed, in order, before anything written later.
 */
export class SharedPipeWriter extends PipeWriter {
  readonly #ring: SharedRing;
  /** Where a suspended operation of this end resumes, in this thread. */
  readonly #scheduler: PipeScheduler;
  readonly #h: Int32Array;
  readonly #buffer: SharedArrayBuffer;
  /** The capacity positions map with (index = pos & #mask), and its data view: they change when this end grows the ring. */
  #data: Uint8Array;
  #capacity: number;
  #mask: number;
  /** The capacity the room is counted with: the reader's (READER_CAPACITY), which lags #capacity after a growth. */
  #room: number;

  /** Published write position (WRITE_POS). */
  #write: number;
  /** Where the next ring byte lands: #write plus advanced, unpublished bytes and an applied skip. */
  #cursor: number;
  /** Cached consumed and examined positions of the reader; reloaded only when they are not enough. */
  #read: number;
  #examined: number;
  #unflushed = 0;
  #skipPosition = 0;
  #skipLength = 0;
  #skipApplied = false;
  #publishedSkipEnd = 0;
  #memory = Memory.None;
  /** The block of the last owned `getMemory`, and how much of it is already queued. */
  #block: Uint8Array | null = null;
  #blockUsed = 0;
  /** Bytes the pipe owns that are not in the ring yet, oldest first. */
  #owned: Uint8Array[] = [];
  #ownedStart = 0;
  #ownedBytes = 0;
  #paused = false;
  /** A background placement of owned bytes (after a canceled wait, or a completion that must wait for them). */
  #draining: Promise<void> | null = null;
  /** complete() came while owned bytes were still outside the ring: the completion follows the last byte. */
  #completing = false;
  #readerError: Error | undefined;
  /** Whether the wait in progress began after complete(), for its check (one function per end). */
  #completedBefore = false;
  // Made on the first wait or cork, like #endOfTick: an end that never needs one keeps no closure.
  #waitCheckFn: (() => FlushResult | null) | null = null;
  get #waitCheck(): () => FlushResult | null {
    return (this.#waitCheckFn ??= () => this.#checkWaiting(this.#completedBefore));
  }
  /** cork() depth: while above 0, a flush that need not wait hands its bytes over without publishing them. */
  #corked = 0;
  /** Flushed ring bytes not yet published because of a cork. */
  #corkedBytes = false;
  #endOfTickFn: (() => void) | null = null;
  get #endOfTick(): () => void {
    return (this.#endOfTickFn ??= () => {
      this.#corked = 0;
      this.#releaseCork();
    });
  }

  /** @internal Use `new SharedPipe().writer` or `SharedPipe.writer(handle)`. */
  constructor(ring: SharedRing, scheduler: PipeScheduler = PipeScheduler.inline) {
    super();
    this.#ring = ring;
    this.#scheduler = scheduler;
    this.#h = ring.header;
    this.#buffer = ring.buffer;
    this.#capacity = ring.capacity;
    this.#mask = this.#capacity - 1;
    this.#data = ring.dataView(this.#capacity);
    this.#room = Atomics.load(this.#h, L.READER_CAPACITY);
    this.#write = this.#cursor = Atomics.load(this.#h, L.WRITE_POS) >>> 0;
    this.#read = Atomics.load(this.#h, L.READ_POS) >>> 0;
    this.#examined = Atomics.load(this.#h, L.EXAMINED_POS) >>> 0;
    if (Atomics.load(this.#h, L.SKIP_ACTIVE) !== 0) {
      const skip = Atomics.load(this.#h, L.SKIP_POS) >>> 0;
      this.#publishedSkipEnd = (skip + this.#capacity - (skip & this.#mask)) >>> 0;
    }
  }

  protected getMemoryCore(need: number): Uint8Array {
    this.#dropUnappliedSkip();
    if (this.#ownedBytes === 0 && !this.#completing) {
      let view = this.#ringMemory(need);
      if (view === null && this.#capacity < this.#ring.maxCapacity) {
        // A ring that may grow grows for memory as it does for a flush: no views of this end are out now.
        const before = this.#capacity;
        this.#growForRoom(need);
        if (this.#capacity !== before) view = this.#ringMemory(need);
      }
      if (view !== null) {
        this.#memory = Memory.Ring;
        return view;
      }
    }
    this.#memory = Memory.Owned;
    const block = this.#block;
    // Once everything owned is in the ring, the block is free again: reuse it rather than allocate.
    if (block !== null && this.#ownedBytes === 0) this.#blockUsed = 0;
    if (block !== null && block.length - this.#blockUsed >= need) return this.#blockUsed === 0 ? block : block.subarray(this.#blockUsed);
    if (need > kMaxOwnedBlock) throw new InvalidArgumentValueError('sizeHint', need, `must be at most ${kMaxOwnedBlock} (the largest block this end can own)`);
    this.#block = new Uint8Array(Math.max(kMinimumOwnedBlock, need));
    this.#blockUsed = 0;
    return this.#block;
  }

  protected advanceCore(bytes: number): void {
    // Bytes advanced now are unflushed: corked ones before them go out first, so a publish never shows these.
    if (this.#corkedBytes) this.#releaseCork();
    // A completed reader discards what is written: the memory stays free for reuse.
    if (this.#ring.isCompleted('reader')) {
      this.#skipLength = 0;
      return;
    }
    if (this.#memory === Memory.Owned) {
      const block = this.#block!;
      this.#queue(block.subarray(this.#blockUsed, this.#blockUsed + bytes));
      this.#blockUsed += bytes;
    } else {
      if (this.#skipLength > 0 && !this.#skipApplied) {
        this.#cursor = (this.#cursor + this.#skipLength) >>> 0;
        this.#skipApplied = true;
      }
      this.#cursor = (this.#cursor + bytes) >>> 0;
    }
    this.#unflushed += bytes;
  }

  protected flushCore(signal: AbortSignal | undefined): FlushResult | Promise<FlushResult> {
    this.#countFlush();
    // Corked, a flush with nothing to wait for leaves publishing (and waking the reader) to the uncork.
    if (this.#corked > 0 && this.#ownedBytes === 0 && !this.#paused && (Atomics.load(this.#h, L.STATE) & (L.READER_COMPLETED | L.READER_FAULTED | L.FLUSH_CANCEL)) === 0) {
      this.#unflushed = 0;
      if (this.#cursor !== this.#write) this.#corkedBytes = true;
      return flushResult(false, false);
    }
    this.#publish();
    return this.#check() ?? this.#spin() ?? this.#waitAsync(signal);
  }

  /** Room or a resume that comes within microseconds ends the flush at once: no promise, no wake-up. */
  #spin(): FlushResult | null {
    this.#completedBefore = this.isCompletedEnd;
    const done = spinIfAlone(this.#waitCheck);
    if (done !== null) this.#endWait();
    return done;
  }

  protected override writeCore(bytes: Uint8Array, signal: AbortSignal | undefined): FlushResult | Promise<FlushResult> {
    return this.#writeBytes(bytes, false, signal);
  }

  /**
   * A handed-over buffer is copied into the ring, once: the floor for memory another thread cannot
   * see. What does not fit yet waits in the buffer itself, by reference, instead of in a copy.
   */
  protected override writeTransferredCore(bytes: Uint8Array, signal: AbortSignal | undefined): FlushResult | Promise<FlushResult> {
    return this.#writeBytes(bytes, true, signal);
  }

  #writeBytes(bytes: Uint8Array, handedOver: boolean, signal: AbortSignal | undefined): FlushResult | Promise<FlushResult> {
    const state = Atomics.load(this.#h, L.STATE);
    if ((state & L.READER_FAULTED) !== 0) throw this.#readerFailure();
    if ((state & L.READER_COMPLETED) !== 0) return flushResult(false, true);
    this.#take(bytes, handedOver);
    return this.flushCore(signal);
  }

  /**
   * Blocks the thread (in `Atomics.wait`) while the flush must wait: for workers that may block.
   * Fails at once with ERR_PIPE_SAME_THREAD_WAIT when it would wait for a reader held by this thread.
   */
  flushSync(): FlushResult {
    this.#beginSync();
    this.#refuseSameThreadWait('flushSync', 0);
    this.#countFlush();
    this.#publish();
    return this.#check() ?? this.#waitSync('flushSync');
  }

  /** Blocking `write` for workers: hands all of `data` to the pipe, then waits as `flushSync` does. */
  writeSync(data: Uint8Array | string): FlushResult {
    this.#beginSync();
    const bytes = toBytes(data);
    const state = Atomics.load(this.#h, L.STATE);
    if ((state & L.READER_FAULTED) !== 0) throw this.#readerFailure();
    if ((state & L.READER_COMPLETED) !== 0) return flushResult(false, true);
    this.#refuseSameThreadWait('writeSync', bytes.length);
    this.#take(bytes);
    this.#countFlush();
    this.#publish();
    return this.#check() ?? this.#waitSync('writeSync');
  }

  /**
   * Coalesces small flushes, as `Writable.cork()` does: until `uncork()` or the end of the current
   * tick (whichever comes first), a flush that need not wait hands its bytes to the pipe and returns
   * at once, and one publish (one wake-up of the reader at most) makes them all readable. Calls nest:
   * the bytes are published when each cork() has its uncork(), or at the end of the tick regardless,
   * so a forgotten uncork() never holds bytes back.
   */
  cork(): void {
    this.checkUsable();
    if (this.#corked++ === 0) process.nextTick(this.#endOfTick);
  }

  /** Ends one cork(); the last one publishes what the corked flushes handed over. */
  uncork(): void {
    if (this.#corked === 0) return;
    if (--this.#corked === 0) this.#releaseCork();
  }

  #releaseCork(): void {
    if (!this.#corkedBytes) return;
    this.#corkedBytes = false;
    // Nothing was advanced since the corked flush (an advance publishes first): the cursor is what was flushed.
    this.#publish();
  }

  /** Thread-safe: works on a moved end too, and wakes a writer blocked in another thread. */
  protected cancelPendingFlushCore(): void {
    this.#ring.setBits(L.FLUSH_CANCEL);
    this.#ring.wakeWriter();
  }

  protected completeCore(error: Error | undefined): void {
    this.#corkedBytes = false;
    this.#memory = Memory.None;
    this.#block = null;
    this.#publish();
    if (error === undefined && this.#ownedBytes > 0 && !this.#ring.isCompleted('reader')) {
      // The reader must see every byte before it sees the completion: place the rest first. A flush
      // pending here ends now, as on a Pipe: wake it so it sees the completion.
      this.#completing = true;
      this.#drainInBackground();
      this.#ring.wakeWriter();
      return;
    }
    this.#finishCompletion(error);
  }

  get unflushedBytes(): number {
    return this.#unflushed;
  }

  /** The ring's capacity now; it grows up to `maxCapacity`. */
  get capacity(): number {
    return this.#capacity;
  }

  /** What the ring may grow to (the capacity itself when it cannot grow). */
  get maxCapacity(): number {
    return this.#ring.maxCapacity;
  }

  /**
   * Marks `slot` in `set` each time this end publishes (bytes, a growth, its completion), for a
   * reader that takes its readiness from the set and reads with `tryRead()` instead of sleeping on
   * this ring: many rings then cost the reader's thread one wait. `null` stops it. It holds for this
   * thread only: a moved end marks nothing until told again where it was revived. A writer whose
   * thread dies marks nothing either; whoever moved it there (a scheduler's run) learns of the death.
   */
  markOnPublish(set: ReadySet | null, slot = 0): void {
    this.checkUsable();
    if (set !== null && !(set instanceof ReadySet)) throw new InvalidArgumentTypeError('set', set, 'a ReadySet or null');
    if (set !== null) validateInteger('slot', slot, 0, set.size - 1);
    this.#ring.readySet = set;
    this.#ring.readySlot = slot;
  }

  /** Moves this end: send the handle to another thread and revive it there with `SharedPipe.writer(handle)`. */
  handle(): SharedPipeHandle {
    this[kCheckMove]();
    this.#releaseCork();
    this.markMoved();
    this.#ring.readySet = null;
    this.#memory = Memory.None;
    this.#ring.detach('writer');
    return makeHandle('writer', this.#ring.buffer);
  }

  stats(): RingStats {
    return this.#ring.stats();
  }

  /** @internal Throws what handle() would, without moving: a scheduler moves all ends of a run or none. */
  [kCheckMove](): void {
    this.checkUsable();
    if (this.isFlushPending || this.#unflushed > 0 || this.#ownedBytes > 0 || this.#draining !== null) throw new FlushPendingError();
  }

  /** @internal Moves this end for a scheduler: the handle plus the controls the sending thread keeps. */
  [kMove](): MovedEnd {
    return movedEnd(this.#ring, 'writer', this.handle());
  }

  #beginSync(): void {
    this.checkUsable();
    if (this.isFlushPending) throw new FlushPendingError();
  }

  /**
   * A blocking flush that would wait for a reader held by this same thread could never end, so it
   * fails before it takes or publishes anything: the caller keeps its bytes (and may use the async
   * flush). Judged on the room and the pause state now, erring towards refusing; a ring that may
   * grow grows first, as placing the bytes would, so a flush that would not wait is not refused.
   */
  #refuseSameThreadWait(operation: 'flushSync' | 'writeSync', extra: number): void {
    const ring = this.#ring;
    if (!ring.heldHere('reader') || ring.isCompleted('reader')) return;
    this.#reloadRead();
    this.#examined = Atomics.load(this.#h, L.EXAMINED_POS) >>> 0;
    const placing = this.#ownedBytes + extra;
    const pause = ring.pauseWriterThreshold;
    const unexamined = ring.dataBetween(this.#examined, this.#cursor) + placing;
    // A reader waiting for more than there will be keeps the writer from pausing, as in .NET's J7.
    const minimum = Atomics.load(this.#h, L.READ_MINIMUM);
    const wouldPause = pause > 0 && (this.#paused ? unexamined >= ring.resumeWriterThreshold && unexamined >= minimum : ring.dataBetween(this.#examined, this.#write) < pause && unexamined >= pause && unexamined >= minimum);
    if (wouldPause) throw new SameThreadWaitError(operation);
    let free = this.#room - ((this.#cursor - this.#read) >>> 0);
    if (placing > free && this.#capacity < ring.maxCapacity) {
      // Grown here rather than in the copy, so the room it gives is known before anything is taken.
      this.#growForRoom(placing);
      free = this.#room - ((this.#cursor - this.#read) >>> 0);
    }
    if (placing > free) throw new SameThreadWaitError(operation);
  }

  /** Stats count the flushes that had bytes to hand over, however many publishes placing them takes. */
  #countFlush(): void {
    if (this.#unflushed > 0) this.#h[L.FLUSHES]!++;
  }

  #readerFailure(): Error {
    return (this.#readerError ??= this.#ring.readError('reader'));
  }

  #dropUnappliedSkip(): void {
    if (!this.#skipApplied) this.#skipLength = 0;
  }

  /** Contiguous free ring bytes at the cursor (or after skipping the tail), or null when there are too few. */
  #ringMemory(need: number): Uint8Array | null {
    const cursor = this.#cursor;
    const index = cursor & this.#mask;
    const tail = this.#capacity - index;
    if (tail < need) {
      // Skipping a tail wastes it until the reader passes it: only for blocks up to half the ring,
      // and only while the reader holds nothing before it. A tail skipped behind bytes the reader
      // holds could fill the ring with less data than it holds and starve a reader waiting for one
      // more byte; a tail at the read position the reader simply steps over (see its passDeadTail).
      // Nor while the reader has not taken up a growth: a skip's end depends on the capacity.
      if (this.#skipApplied || need > this.#capacity / 2 || this.#room !== this.#capacity) return null;
      this.#reloadRead();
      if (this.#read !== cursor) return null;
    }
    const needed = tail >= need ? need : tail + need;
    let free = this.#room - ((cursor - this.#read) >>> 0);
    if (free < needed) {
      this.#reloadRead();
      free = this.#room - ((cursor - this.#read) >>> 0);
      if (free < needed) return null;
    }
    if (tail >= need) {
      // A view made from the buffer costs half of a subarray of the data view.
      return new Uint8Array(this.#buffer, kDataOffset + index, Math.min(tail, free));
    }
    // Skip the tail rather than hand out memory that wraps: the reader is told where the skip starts.
    this.#skipPosition = cursor;
    this.#skipLength = tail;
    return new Uint8Array(this.#buffer, kDataOffset, Math.min(this.#capacity, free - tail));
  }

  #reloadRead(): void {
    const h = this.#h;
    // The room follows a growth once the reader's views of the old indexes are gone.
    if (this.#room !== this.#capacity && (Atomics.load(h, L.READER_VIEWS) === 0 || Atomics.load(h, L.READER_CAPACITY) === this.#capacity)) this.#room = this.#capacity;
    this.#read = Atomics.load(h, L.READ_POS) >>> 0;
    // Retire a published skip once the reader is past it, so an old SKIP_POS can never look current again.
    if (Atomics.load(h, L.SKIP_ACTIVE) !== 0 && ((this.#read - this.#publishedSkipEnd) | 0) >= 0) {
      Atomics.store(h, L.SKIP_ACTIVE, 0);
    }
  }

  /** Hands all of `bytes` to the pipe: into the ring as far as it fits, the rest copied into owned memory (or kept, when handed over). */
  #take(bytes: Uint8Array, handedOver = false): void {
    this.#memory = Memory.None;
    this.#dropUnappliedSkip();
    let copied = 0;
    if (this.#ownedBytes === 0) copied = this.#copyIn(bytes, 0);
    // The caller may reuse its buffer as soon as the returned promise settles (even canceled), so
    // what does not fit now is copied, never kept by reference, unless the buffer was handed over.
    if (copied < bytes.length) this.#queue(handedOver ? bytes.subarray(copied) : bytes.slice(copied));
    this.#unflushed += bytes.length;
  }

  #queue(chunk: Uint8Array): void {
    this.#owned.push(chunk);
    this.#ownedBytes += chunk.length;
  }

  /** Copies as much of `bytes` from `offset` as fits at the cursor, across the end of the ring if need be. */
  #copyIn(bytes: Uint8Array, offset: number): number {
    const want = bytes.length - offset;
    let free = this.#room - ((this.#cursor - this.#read) >>> 0);
    if (free < want) {
      this.#reloadRead();
      free = this.#room - ((this.#cursor - this.#read) >>> 0);
      if (free < want && this.#capacity < this.#ring.maxCapacity) {
        this.#growForRoom(Math.max(want, this.#ownedBytes));
        free = this.#room - ((this.#cursor - this.#read) >>> 0);
      }
    }
    const count = Math.min(free, want);
    if (count === 0) return offset;
    const index = this.#cursor & this.#mask;
    const first = Math.min(count, this.#capacity - index);
    this.#data.set(offset === 0 && first === bytes.length ? bytes : bytes.subarray(offset, offset + first), index);
    if (count > first) this.#data.set(bytes.subarray(offset + first, offset + count), 0);
    this.#cursor = (this.#cursor + count) >>> 0;
    return offset + count;
  }

  /**
   * Grows the ring for bytes that do not fit, when waiting for room is not what a flush should do:
   * the unexamined bytes are below the pause threshold (a Pipe takes all of a flush then), or the reader waits
   * for more than the ring holds once everything in it is published (it holds no result, so it
   * cannot free room). The new capacity holds them, or what the reader waits for, and at least
   * doubles. Layout and proof of the re-placement: layout.ts.
   */
  #growForRoom(placing: number): void {
    const h = this.#h;
    const ring = this.#ring;
    if (this.#room !== this.#capacity || this.#skipApplied) return;
    const limit = ring.growthLimit(this.#capacity);
    if (this.#capacity >= limit || (Atomics.load(h, L.STATE) & L.READER_COMPLETED) !== 0) return;
    const read = this.#read;
    const cursor = this.#cursor;
    const used = (cursor - read) >>> 0;
    if (ring.skipWithin(read, used) >= 0) return;
    const examined = Atomics.load(h, L.EXAMINED_POS) >>> 0;
    const unexamined = ring.dataBetween(examined, cursor);
    const pause = ring.pauseWriterThreshold;
    const wanted = Math.max(1, Atomics.load(h, L.READ_MINIMUM));
    let needed: number;
    // A flush that starts below the pause threshold hands all its bytes over, as on a Pipe (it may pause after).
    if (pause === 0 || unexamined < pause) needed = used + placing;
    else if (Atomics.load(h, L.READER_BLOCKED) !== 0 && unexamined < wanted) needed = ((examined - read) >>> 0) + wanted;
    else return;
    let capacity = this.#capacity * 2;
    while (capacity < needed && capacity < limit) capacity *= 2;
    capacity = Math.min(capacity, limit);
    if (!ring.growBuffer(capacity)) {
      // The reader fails a read that waits for more than this capacity (ERR_FRAME_TOO_LARGE) rather than wait for room.
      ring.wakeReader();
      return;
    }
    const data = ring.dataView(capacity);
    const oldMask = this.#mask;
    const newMask = capacity - 1;
    // Positions whose index changes move into the new part of the region; nothing at an old index is overwritten.
    for (let position = read; position !== cursor;) {
      const from = position & oldMask;
      const to = position & newMask;
      const run = Math.min((cursor - position) >>> 0, this.#capacity - from, capacity - to);
      if (from !== to) data.copyWithin(to, from, from + run);
      position = (position + run) >>> 0;
    }
    this.#data = data;
    this.#capacity = capacity;
    this.#mask = newMask;
    h[L.GROWS]!++;
    if (channels.grow.hasSubscribers) channels.grow.publish({ pipe: ring.name, capacity });
    // The copy is done: the store that tells the reader comes after it, and before any byte placed for the new index.
    Atomics.store(h, L.CAPACITY, capacity);
    // Loaded after that store: a reader holding no views now makes its next ones for the new capacity.
    if (Atomics.load(h, L.READER_VIEWS) === 0) this.#room = capacity;
    ring.wakeReader();
  }

  /** Moves owned bytes into the ring as far as they fit, oldest first. */
  #place(): void {
    const owned = this.#owned;
    while (owned.length > 0) {
      const chunk = owned[0]!;
      const end = this.#copyIn(chunk, this.#ownedStart);
      this.#ownedBytes -= end - this.#ownedStart;
      if (end < chunk.length) {
        this.#ownedStart = end;
        return;
      }
      owned.shift();
      this.#ownedStart = 0;
    }
  }

  /** Places what it can, then makes the ring bytes readable, wakes the reader if it sleeps and decides a pause. */
  #publish(): void {
    if (this.#ownedBytes > 0) this.#place();
    this.#unflushed = 0;
    const next = this.#cursor;
    const previous = this.#write;
    if (next === previous) return;
    const h = this.#h;
    if (this.#skipApplied) {
      Atomics.store(h, L.SKIP_POS, this.#skipPosition | 0);
      Atomics.store(h, L.SKIP_ACTIVE, 1);
      this.#publishedSkipEnd = (this.#skipPosition + this.#skipLength) >>> 0;
      h[L.WRAPS]!++;
      this.#skipApplied = false;
      this.#skipLength = 0;
    }
    if (next < previous) Atomics.add(h, L.WRITE_LAPS, 1);
    Atomics.store(h, L.WRITE_POS, next | 0);
    this.#write = next;
    // Decide the pause under the state change (the position is stored), then signal the reader.
    this.#decidePause(previous, next);
    this.#ring.claimReaderWakeup();
  }

  /**
   * Pausing is an edge, as in .NET: the flush whose data crosses the threshold pauses, not every flush
   * above it, and counting data bytes only (a skipped tail is none). A reader waiting for more than
   * has been sent must get it: such a flush never pauses.
   */
  #decidePause(previous: number, next: number): void {
    const pause = this.#ring.pauseWriterThreshold;
    if (pause === 0 || this.#paused) return;
    const ring = this.#ring;
    if (ring.dataBetween(this.#examined, next) < pause) return;
    const h = this.#h;
    this.#examined = Atomics.load(h, L.EXAMINED_POS) >>> 0;
    const unexamined = ring.dataBetween(this.#examined, next);
    const before = ring.dataBetween(this.#examined, previous);
    if (before < pause && unexamined >= pause && unexamined >= Atomics.load(h, L.READ_MINIMUM) && !ring.isCompleted('reader')) {
      this.#paused = true;
      h[L.PAUSES]!++;
      if (channels.pause.hasSubscribers) channels.pause.publish({ pipe: ring.name, unexamined });
    }
  }

  /** The flush result if the flush need not wait (or a completion or a cancel ends it), else null. */
  #check(): FlushResult | null {
    const h = this.#h;
    const state = Atomics.load(h, L.STATE);
    if ((state & L.READER_FAULTED) !== 0) throw this.#readerFailure();
    const canceled = (state & L.FLUSH_CANCEL) !== 0 && this.#ring.takeBit(L.FLUSH_CANCEL);
    if ((state & L.READER_COMPLETED) !== 0) {
      this.#dropOwned();
      return flushResult(canceled, true);
    }
    if (this.#ownedBytes > 0) this.#publish();
    if (canceled) {
      // A cancel ends the wait, not the data: owned bytes keep being placed in the background. The
      // writer stays paused, as in .NET (E18): the next flush waits again.
      if (this.#ownedBytes > 0) this.#drainInBackground();
      return flushResult(true, false);
    }
    if (this.#ownedBytes > 0) return null;
    if (this.#paused) {
      this.#examined = Atomics.load(h, L.EXAMINED_POS) >>> 0;
      const unexamined = this.#ring.dataBetween(this.#examined, this.#write);
      // A reader waiting for more than is buffered could never get it from a paused writer (.NET's J7).
      if (unexamined >= this.#ring.resumeWriterThreshold && Atomics.load(h, L.READ_MINIMUM) <= unexamined) return null;
      this.#paused = false;
      if (channels.resume.hasSubscribers) channels.resume.publish({ pipe: this.#ring.name, unexamined });
    }
    return flushResult(false, false);
  }

  /** The wait's check; while owned bytes wait for room it says how much, and lets a sleeping reader re-check. */
  #checkWaiting(completedBefore: boolean): FlushResult | null {
    // complete() during a pending flush ends that flush, as on a Pipe (the bytes still go out); a
    // flush called after complete() waits as any flush does.
    if (!completedBefore && this.isCompletedEnd) throw new PipeCompletedError('writer');
    const done = this.#check();
    const need = done === null && this.#ownedBytes > 0 ? Math.min(this.#ownedBytes, this.#capacity) : 0;
    const h = this.#h;
    if (Atomics.load(h, L.WRITER_NEED) !== need) {
      Atomics.store(h, L.WRITER_NEED, need);
      // A reader sleeping with the whole ring held must learn that this writer now waits for room.
      if (need > 0) this.#ring.wakeReader();
    }
    return done;
  }

  #endWait(): void {
    Atomics.store(this.#h, L.WRITER_NEED, 0);
  }

  async #waitAsync(signal: AbortSignal | undefined): Promise<FlushResult> {
    const entry = this.#track('flush');
    this.#completedBefore = this.isCompletedEnd;
    try {
      // A reader held by this thread is the only one that could end the wait: it keeps nothing alive.
      const result = await waitUntil(this.#h, kWriterChannel, this.#waitCheck, signal, !this.#ring.heldHere('reader'));
      return resumeOn(this.#scheduler, result);
    } catch (error) {
      // An abort ends the wait, not the data.
      if (this.#ownedBytes > 0) this.#drainInBackground();
      throw error;
    } finally {
      untrackPending(entry);
      this.#endWait();
    }
  }

  #waitSync(operation: 'flushSync' | 'writeSync'): FlushResult {
    if (this.#ring.heldHere('reader')) {
      // The check before taking the bytes erred the other way: what is owned is placed as room frees.
      if (this.#ownedBytes > 0) this.#drainInBackground();
      throw new SameThreadWaitError(operation);
    }
    const entry = this.#track(operation === 'writeSync' ? 'write' : 'flushSync');
    this.#completedBefore = this.isCompletedEnd;
    try {
      return spin(this.#waitCheck) ?? blockUntil(this.#h, kWriterChannel, this.#waitCheck);
    } finally {
      untrackPending(entry);
      this.#endWait();
    }
  }

  /**
   * Keeps placing owned bytes after nobody waits for them any more. It ends when the bytes are placed
   * or the reader completes, and whatever frees room (the reader advancing or completing, a peer's
   * death) wakes it. While the reader is on another thread it keeps this thread alive, so a worker
   * whose script ends still delivers them; a reader on this thread is the only one that could end it,
   * so then it keeps nothing alive.
   */
  #drainInBackground(): void {
    if (this.#draining !== null) return;
    const check = (): true | null => {
      if ((Atomics.load(this.#h, L.STATE) & (L.READER_COMPLETED | L.READER_FAULTED)) !== 0) return true;
      this.#publish();
      return this.#ownedBytes === 0 ? true : null;
    };
    const keepAlive = !this.#ring.heldHere('reader');
    this.#draining = (async () => {
      try {
        await waitUntil(this.#h, kWriterChannel, check, undefined, keepAlive);
      } finally {
        this.#draining = null;
        if (this.#completing && (this.#ownedBytes === 0 || this.#ring.isCompleted('reader'))) this.#finishCompletion(undefined);
      }
    })();
  }

  #finishCompletion(error: Error | undefined): void {
    this.#completing = false;
    this.#dropOwned();
    this.#ring.complete('writer', error);
    this.#ring.detach('writer');
  }

  #dropOwned(): void {
    this.#owned = [];
    this.#ownedStart = 0;
    this.#ownedBytes = 0;
    this.#block = null;
  }

  #track(operation: PendingOperation['operation']): PendingOperation {
    const waitingFor = this.#ownedBytes > 0
      ? `room in the ring for ${this.#ownedBytes} bytes the pipe holds`
      : `the reader to examine below ${this.#ring.resumeWriterThreshold} bytes`;
    return trackPending(this.#ring.name, operation, waitingFor);
  }
}
