import { threadId } from 'node:worker_threads';
import { InvalidArgumentTypeError, InvalidArgumentValueError, PeerExitedError, PipeCompletedError, PipeEndInUseError, validateInteger } from '../errors/index.js';
import { decodeErrorRecord, encodeErrorRecord } from '../errors/serialization.js';
import type { MovedEnd } from './movable.js';
import { channels } from '../diagnostics/channels.js';
import type { RingSnapshot } from '../diagnostics/pending-operations.js';
import * as L from './layout.js';
import { ringSnapshot } from './ring-snapshot.js';
import { newGrowableBuffer } from './growable-budget.js';
import type { ReadySet } from './ready-set.js';

export interface SharedPipeOptions {
  /** Ring bytes to start with: a power of two from 16 to 2^30. Default 1 MiB. */
  capacity?: number;
  /**
   * What the ring may grow to: a power of two from `capacity` to 2^30. Default `capacity` (the ring
   * never grows). Above it, the ring starts at `capacity` and doubles (or more) when a read waits for
   * more than the ring holds while the writer has bytes that do not fit: a line or frame longer than
   * the ring, or a `readAtLeast` beyond it. Only past `maxCapacity` do such reads fail with
   * ERR_FRAME_TOO_LARGE. A ring never shrinks. A process holds a limited number of growing rings
   * (each takes memory mappings, see growable-budget.ts): one more fails with ERR_PIPE_RING_LIMIT.
   */
  maxCapacity?: number;
  /**
   * Unexamined bytes at which a flush waits; at most `maxCapacity`; 0 turns it off. Default the
   * capacity; for a ring that grows, 1 MiB (the default ring's size) within [capacity, maxCapacity],
   * so that a small ring grows for a fast writer instead of making each write wait for the reader.
   */
  pauseWriterThreshold?: number;
  /** A paused writer resumes below this. Default half the pause threshold, rounded up. */
  resumeWriterThreshold?: number;
}

export interface RingStats {
  /** Bytes the writer published. */
  readonly bytesWritten: number;
  /** Bytes the reader consumed (data only, skipped tails excluded from neither: positions count ring bytes). */
  readonly bytesConsumed: number;
  readonly flushes: number;
  readonly reads: number;
  readonly readerWaits: number;
  readonly readerWakeups: number;
  readonly writerWaits: number;
  readonly writerWakeups: number;
  readonly writerPauses: number;
  /** Tails skipped at the end of the ring so that `getMemory` could hand out contiguous memory. */
  readonly wraps: number;
  /**
   * Waits of the reader / writer that a 250 ms slice ended and that then found their condition met
   * with no wake-up sent: lost wake-ups. The wait protocol never loses one, so these stay 0.
   */
  readonly readerRescues: number;
  readonly writerRescues: number;
  /** Times the writer grew the ring. */
  readonly grows: number;
}

export type RingSide = 'reader' | 'writer';

/** A growing ring's default pause threshold (bounded by its capacity and maximum): the default ring's size. */
const kGrowingDefaultPause = 1 << 20;

/** The calling thread's holder id: threadId + 1, since the main thread is 0 and 0 marks a free end. */
export const kHolderId = threadId + 1;

/** Views of one ring's SharedArrayBuffer and the operations both ends share. */
export class SharedRing {
  readonly buffer: SharedArrayBuffer;
  readonly header: Int32Array;
  /** The most the ring may grow to; the capacity itself is read from the header (see `capacity`). */
  readonly maxCapacity: number;
  readonly pauseWriterThreshold: number;
  readonly resumeWriterThreshold: number;
  /** The same in every thread: `SharedPipe#<id>`, for events and the pending list. */
  readonly name: string;

  static create(options: SharedPipeOptions | undefined): SharedRing {
    if (options === null || (options !== undefined && typeof options !== 'object')) {
      throw new InvalidArgumentTypeError('options', options, 'an object');
    }
    const o = options ?? {};
    const capacity = validateInteger('capacity', o.capacity ?? 1 << 20, L.kMinCapacity, L.kMaxCapacity);
    if ((capacity & (capacity - 1)) !== 0) throw new InvalidArgumentValueError('capacity', capacity, 'must be a power of two');
    const maxCapacity = validateInteger('maxCapacity', o.maxCapacity ?? capacity, L.kMinCapacity, L.kMaxCapacity);
    if ((maxCapacity & (maxCapacity - 1)) !== 0) throw new InvalidArgumentValueError('maxCapacity', maxCapacity, 'must be a power of two');
    if (maxCapacity < capacity) throw new InvalidArgumentValueError('maxCapacity', maxCapacity, `must be >= capacity (${capacity})`);
    const defaultPause = maxCapacity > capacity ? Math.min(maxCapacity, Math.max(capacity, kGrowingDefaultPause)) : capacity;
    const pause = validateInteger('pauseWriterThreshold', o.pauseWriterThreshold ?? defaultPause, 0);
    if (pause > maxCapacity) throw new InvalidArgumentValueError('pauseWriterThreshold', pause, `must be <= maxCapacity (${maxCapacity})`);
    const resume = validateInteger('resumeWriterThreshold', o.resumeWriterThreshold ?? Math.ceil(pause / 2), 0);
    if (resume > pause) throw new InvalidArgumentValueError('resumeWriterThreshold', resume, `must be <= pauseWriterThreshold (${pause})`);
    // A growable buffer reserves its maximum as address space only: memory is taken as it grows.
    const buffer = maxCapacity > capacity
      ? newGrowableBuffer(L.kDataOffset + capacity, L.kDataOffset + maxCapacity)
      : new SharedArrayBuffer(L.kDataOffset + capacity);
    const header = new Int32Array(buffer, 0, L.kHeaderBytes / 4);
    header[L.MAGIC] = L.kMagic;
    header[L.VERSION] = L.kLayoutVersion;
    header[L.CAPACITY] = capacity;
    header[L.MAX_CAPACITY] = maxCapacity;
    header[L.READER_CAPACITY] = capacity;
    header[L.PAUSE] = pause;
    header[L.RESUME] = resume;
    header[L.RING_ID] = (Math.random() * 0x7fffffff) | 0;
    return new SharedRing(buffer);
  }

  /** Views over a buffer received from another thread; validates that it is a ring. */
  constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < L.kDataOffset + L.kMinCapacity) {
      throw new InvalidArgumentTypeError('handle', buffer, 'a handle from SharedPipeReader.handle() or SharedPipeWriter.handle()');
    }
    this.buffer = buffer;
    this.header = new Int32Array(buffer, 0, L.kHeaderBytes / 4);
    if (this.header[L.MAGIC] !== L.kMagic || this.header[L.VERSION] !== L.kLayoutVersion) {
      throw new InvalidArgumentValueError('handle', buffer, 'is not a threadpipe ring of this version');
    }
    this.maxCapacity = this.header[L.MAX_CAPACITY]!;
    this.pauseWriterThreshold = this.header[L.PAUSE]!;
    this.resumeWriterThreshold = this.header[L.RESUME]!;
    this.name = `SharedPipe#${(this.header[L.RING_ID]! >>> 0).toString(16)}`;
  }

  state(): number {
    return Atomics.load(this.header, L.STATE);
  }

  /** The capacity the writer maps positions with now; a reader may still map with the one before (READER_CAPACITY). */
  get capacity(): number {
    return Atomics.load(this.header, L.CAPACITY);
  }

  /** The data region for a capacity: a fixed-length view, valid for as long as the ring does not grow past it. */
  dataView(capacity: number): Uint8Array {
    return new Uint8Array(this.buffer, L.kDataOffset, capacity);
  }

  /** What a growth may still reach: the maximum, or the capacity now once the system refused memory. */
  growthLimit(capacity: number): number {
    return (Atomics.load(this.header, L.STATE) & L.GROWTH_FAILED) !== 0 ? capacity : this.maxCapacity;
  }

  /** Grows the buffer for a capacity; false (and the ring stops growing) when the system refuses the memory. */
  growBuffer(capacity: number): boolean {
    try {
      this.buffer.grow(L.kDataOffset + capacity);
      return true;
    } catch {
      Atomics.or(this.header, L.STATE, L.GROWTH_FAILED);
      return false;
    }
  }

  /** Where a skipped tail starts inside [from, from + used), or -1. */
  skipWithin(from: number, used: number): number {
    if (Atomics.load(this.header, L.SKIP_ACTIVE) === 0) return -1;
    const skip = Atomics.load(this.header, L.SKIP_POS) >>> 0;
    return ((skip - from) >>> 0) < used ? skip : -1;
  }

  /**
   * Data bytes between two ring positions: a skipped tail between them is no data (wrap arithmetic on
   * uint32). A tail is skipped only while both ends map with the same capacity, and the ring grows only
   * with none inside [READ_POS, WRITE_POS): a skip in range ends where the capacity now says.
   */
  dataBetween(from: number, to: number): number {
    const used = (to - from) >>> 0;
    if (used === 0) return 0;
    const skip = this.skipWithin(from, used);
    if (skip < 0) return used;
    const capacity = this.capacity;
    return used - (capacity - (skip & (capacity - 1)));
  }

  /** True when this thread holds the given end: a blocking wait for it could never end. */
  heldHere(side: RingSide): boolean {
    return Atomics.load(this.header, side === 'reader' ? L.READER_HOLDER : L.WRITER_HOLDER) === kHolderId;
  }

  /** True once the given side completed (or its thread died). */
  isCompleted(side: RingSide): boolean {
    return (Atomics.load(this.header, L.STATE) & (side === 'reader' ? L.READER_COMPLETED : L.WRITER_COMPLETED)) !== 0;
  }

  /** Takes an end for this thread; a second holder is refused. */
  attach(side: RingSide): void {
    // A completed end is finished for good: reviving it would let a second writer or reader appear.
    if (this.isCompleted(side)) throw new PipeCompletedError(side);
    const word = side === 'reader' ? L.READER_HOLDER : L.WRITER_HOLDER;
    const previous = Atomics.compareExchange(this.header, word, 0, kHolderId);
    if (previous !== 0) throw new PipeEndInUseError(side, previous - 1);
  }

  /** Lets the end go, so that the thread it is sent to can attach it. */
  detach(side: RingSide): void {
    Atomics.store(this.header, side === 'reader' ? L.READER_HOLDER : L.WRITER_HOLDER, 0);
  }

  /** The thread holding an end, or -1 when it is free. */
  holder(side: RingSide): number {
    return Atomics.load(this.header, side === 'reader' ? L.READER_HOLDER : L.WRITER_HOLDER) - 1;
  }

  /** The shared state now: positions, pause state, who holds and who waits for what. */
  snapshot(): RingSnapshot {
    return ringSnapshot(this);
  }

  /**
   * Completes one side; the first completion of a side wins. The error record is written before the
   * bit that announces it, and both sleepers are woken after the state change.
   */
  complete(side: RingSide, error: Error | undefined, extraBits = 0): boolean {
    const completionWord = side === 'writer' ? L.WRITER_COMPLETION : L.READER_COMPLETION;
    const outcome = error === undefined ? L.COMPLETION_OK : L.COMPLETION_FAULTED;
    if (Atomics.compareExchange(this.header, completionWord, L.COMPLETION_NONE, outcome) !== L.COMPLETION_NONE) return false;
    let bits = extraBits | (side === 'writer' ? L.WRITER_COMPLETED : L.READER_COMPLETED);
    if (error !== undefined) {
      this.#writeErrorRecord(side, error);
      bits |= side === 'writer' ? L.WRITER_FAULTED : L.READER_FAULTED;
    }
    Atomics.or(this.header, L.STATE, bits);
    this.wakeAll();
    return true;
  }

  /** Marks the side held by a thread that died: its far end fails instead of waiting forever. */
  markExited(side: RingSide, message?: string): boolean {
    if (channels.peerExit.hasSubscribers) channels.peerExit.publish({ pipe: this.name, side, thread: this.holder(side) });
    const exited = side === 'writer' ? L.WRITER_EXITED : L.READER_EXITED;
    const completed = this.complete(side, new PeerExitedError(message), exited);
    if (!completed) {
      // The side had completed already; a clean completion stays clean, but record the exit anyway.
      Atomics.or(this.header, L.STATE, exited);
      this.wakeAll();
    }
    return completed;
  }

  /** The error a side completed with, rebuilt with its class and code. */
  readError(side: RingSide): Error {
    const offset = side === 'writer' ? L.kWriterErrorOffset : L.kReaderErrorOffset;
    const length = Atomics.load(this.header, side === 'writer' ? L.WRITER_ERROR_LEN : L.READER_ERROR_LEN);
    const error = decodeErrorRecord(new Uint8Array(this.buffer, offset, length).slice());
    // A dead peer explains itself: what the ring looked like when this end learned of it.
    if ((this.state() & (side === 'writer' ? L.WRITER_EXITED : L.READER_EXITED)) !== 0 && (error as { code?: unknown }).code === 'ERR_PIPE_PEER_EXITED') {
      Object.defineProperty(error, 'snapshot', { value: this.snapshot(), enumerable: true, configurable: true, writable: true });
    }
    return error;
  }

  setBits(bits: number): void {
    Atomics.or(this.header, L.STATE, bits);
  }

  /** Clears a one-shot bit; true when it was set. */
  takeBit(bit: number): boolean {
    return (Atomics.and(this.header, L.STATE, ~bit) & bit) !== 0;
  }

  /**
   * Where wake-ups of the reader are also marked, set by a writer on this thread (`markOnPublish`):
   * for a reader that takes its readiness from the set and never sleeps on the ring itself.
   */
  readySet: ReadySet | null = null;
  readySlot = 0;

  /** Wakes the reader if it asked for a wake-up, claiming the request so later publishes skip the notify. */
  claimReaderWakeup(): void {
    const h = this.header;
    if (Atomics.load(h, L.READER_WAITING) !== 0 && Atomics.exchange(h, L.READER_WAITING, 0) !== 0) this.wakeReader();
    else this.readySet?.mark(this.readySlot);
  }

  /** Wakes the writer if it asked for a wake-up, likewise. */
  claimWriterWakeup(): void {
    const h = this.header;
    if (Atomics.load(h, L.WRITER_WAITING) !== 0 && Atomics.exchange(h, L.WRITER_WAITING, 0) !== 0) this.wakeWriter();
  }

  /** Wakes a reader sleeping on the data sequence word. */
  wakeReader(): void {
    Atomics.add(this.header, L.DATA_SEQ, 1);
    Atomics.notify(this.header, L.DATA_SEQ);
    this.readySet?.mark(this.readySlot);
  }

  /** Wakes a writer sleeping on the space sequence word. */
  wakeWriter(): void {
    Atomics.add(this.header, L.SPACE_SEQ, 1);
    Atomics.notify(this.header, L.SPACE_SEQ);
  }

  wakeAll(): void {
    this.wakeReader();
    this.wakeWriter();
  }

  stats(): RingStats {
    const h = this.header;
    const laps = (lapsWord: number, posWord: number): number => Atomics.load(h, lapsWord) * 2 ** 32 + (Atomics.load(h, posWord) >>> 0);
    return {
      bytesWritten: laps(L.WRITE_LAPS, L.WRITE_POS),
      bytesConsumed: laps(L.READ_LAPS, L.READ_POS),
      flushes: h[L.FLUSHES]! >>> 0,
      reads: h[L.READS]! >>> 0,
      readerWaits: h[L.READER_WAITS]! >>> 0,
      readerWakeups: h[L.READER_WAKEUPS]! >>> 0,
      writerWaits: h[L.WRITER_WAITS]! >>> 0,
      writerWakeups: h[L.WRITER_WAKEUPS]! >>> 0,
      writerPauses: h[L.PAUSES]! >>> 0,
      wraps: h[L.WRAPS]! >>> 0,
      readerRescues: h[L.READER_RESCUES]! >>> 0,
      writerRescues: h[L.WRITER_RESCUES]! >>> 0,
      grows: h[L.GROWS]! >>> 0,
    };
  }

  #writeErrorRecord(side: RingSide, error: Error): void {
    // Cut to fit in its message or stack, never in its class, code or fields.
    const bytes = encodeErrorRecord(error, L.kErrorRecordBytes);
    const offset = side === 'writer' ? L.kWriterErrorOffset : L.kReaderErrorOffset;
    new Uint8Array(this.buffer, offset, bytes.length).set(bytes);
    Atomics.store(this.header, side === 'writer' ? L.WRITER_ERROR_LEN : L.READER_ERROR_LEN, bytes.length);
  }
}

/**
 * What the sending thread keeps of an end it moved: enough to watch over the thread it went to. A
 * class, not an object of closures: a server keeps one per moved end for each of its connections.
 */
class MovedRingEnd implements MovedEnd {
  readonly #ring: SharedRing;
  readonly #side: RingSide;
  readonly handle: unknown;

  constructor(ring: SharedRing, side: RingSide, handle: unknown) {
    this.#ring = ring;
    this.#side = side;
    this.handle = handle;
  }

  markPeerExited(threadId: number): boolean {
    const ring = this.#ring;
    const holder = ring.holder(this.#side);
    // Held by that thread, or never taken: either way nobody can complete it any more.
    if (holder !== threadId && holder !== -1) return false;
    if ((ring.state() & (this.#side === 'reader' ? L.READER_COMPLETED : L.WRITER_COMPLETED)) !== 0) return false;
    return ring.markExited(this.#side);
  }

  abandon(error: Error): void {
    if (this.#ring.holder(this.#side) === -1) this.#ring.complete(this.#side, error);
  }

  interrupt(threadId: number, error: Error): boolean {
    const ring = this.#ring;
    const side = this.#side;
    const holder = ring.holder(side);
    if ((holder !== threadId && holder !== -1) || ring.isCompleted(side)) return false;
    // The end's own completion reaches its far end; failing the far side too is what wakes a
    // read or flush blocked on this end (Atomics.wait included) and makes it throw `error`.
    ring.complete(side, error);
    ring.complete(side === 'reader' ? 'writer' : 'reader', error);
    return true;
  }

  get finished(): boolean {
    const done = L.READER_COMPLETED | L.WRITER_COMPLETED;
    return (this.#ring.state() & done) === done;
  }
}

export function movedEnd(ring: SharedRing, side: RingSide, handle: unknown): MovedEnd {
  return new MovedRingEnd(ring, side, handle);
}
