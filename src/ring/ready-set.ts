/*
 * A set of slots that any thread marks ready and one thread takes, in one SharedArrayBuffer: how a
 * thread serving many rings waits once for all of them instead of once per ring.
 *
 *   byte   line  sole writer        Int32 words (index = byte / 4)
 *   0      L0    creator            [0] MAGIC  [1] VERSION  [2] SIZE (slots)  [3] SET_ID
 *                taker (CAS)        [4] TAKER_HOLDER (threadId + 1, 0 = nobody listens)
 *   128    L1    markers and taker  [32] SEQ (the taker sleeps on it)  [33] TAKER_WAITING (a wake-up
 *                                   is wanted; a marker claims it)  [34] ANY (a slot may be marked)
 *                                   [35] WAITS  [36] WAKEUPS  [37] RESCUES (as a ring's: 0 expected)
 *   256    BITS  markers (OR),      one bit per slot, SIZE bits rounded up to whole words
 *                taker (exchange)
 *
 * A marker sets the slot's bit; only the marker that set it (the bit was clear) goes on: it stores
 * ANY, then claims TAKER_WAITING and bumps SEQ. So a slot is in the set at most once, however often
 * it is marked before it is taken, and the set never overflows. The taker clears ANY, then takes
 * whole words with an exchange: a bit set after its word was taken has its ANY stored after the
 * clear, so the next wait sees it. The wait itself is the rings' one protocol (ring-wait.ts): sample
 * SEQ, announce, re-check ANY, sleep while SEQ holds the sample.
 */
import { InvalidArgumentTypeError, InvalidArgumentValueError, ReadySetInUseError, validateInteger } from '../errors/index.js';
import { waitUntil, type WaitChannel } from './ring-wait.js';
import { kHolderId } from './shared-ring.js';

const kMagic = 0x52454459; // 'REDY'
const kVersion = 1;
const MAGIC = 0;
const VERSION = 1;
const SIZE = 2;
const SET_ID = 3;
const TAKER_HOLDER = 4;
const SEQ = 32;
const TAKER_WAITING = 33;
const ANY = 34;
const WAITS = 35;
const WAKEUPS = 36;
const RESCUES = 37;
const kBitsOffset = 256;
const kHeaderWords = kBitsOffset / 4;
/** The most slots a set holds: 2^20 slots are 128 KiB of bits. */
const kMaxSlots = 1 << 20;

const kChannel: WaitChannel = { seq: SEQ, announce: TAKER_WAITING, waits: WAITS, wakeups: WAKEUPS, rescues: RESCUES };
const kHandleKind = 'threadpipe.ReadySetHandle';
/** The constructor's option that revives a set from its buffer (ReadySet.from). */
const kAdopt = Symbol('adopt');

/** A structured-cloneable ticket for a ReadySet: post it to another thread and revive it with `ReadySet.from(handle)`. */
export interface ReadySetHandle {
  readonly kind: typeof kHandleKind;
  readonly buffer: SharedArrayBuffer;
}

export interface ReadySetOptions {
  /** Slots 0 to size - 1. */
  size: number;
}

export interface ReadySetStats {
  /** Times the taking thread slept, and times a mark woke it. */
  readonly waits: number;
  readonly wakeups: number;
  /** Sleeps a wait slice ended that then found a mark with no wake-up sent: lost wake-ups, 0 expected. */
  readonly rescues: number;
}

/** The sets this thread revived or made, by id: one object per set and thread, so its listeners are in one place. */
const known = new Map<number, WeakRef<ReadySet>>();

/**
 * Slots that any thread marks ready and one thread takes: the taking thread listens on the slots it
 * serves and sleeps once for all of them, and a mark wakes it only if it sleeps. A slot marked again
 * before it is taken is taken once. Pair it with a ring's writer (`SharedPipeWriter#markOnPublish`)
 * and a reader that uses `tryRead()`: a thousand connections on a worker then cost the worker one
 * wait, not a thousand, and a burst of marks one wake-up.
 */
export class ReadySet {
  readonly size: number;
  readonly #buffer: SharedArrayBuffer;
  readonly #h: Int32Array;
  readonly #bits: Int32Array;
  /** This thread's listeners by slot. */
  #listeners: Array<((slot: number) => void) | undefined> = [];
  #listening = 0;
  /** Words of the bits that hold a listened slot: a take looks no further (slots reused low stay few words). */
  #words = 0;
  #loop: Promise<void> | null = null;

  constructor(options: ReadySetOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
    let buffer = (options as { [kAdopt]?: SharedArrayBuffer })[kAdopt];
    if (buffer === undefined) {
      const size = validateInteger('size', options.size, 1, kMaxSlots);
      buffer = new SharedArrayBuffer(kBitsOffset + Math.ceil(size / 32) * 4);
      const h = new Int32Array(buffer, 0, kHeaderWords);
      h[MAGIC] = kMagic;
      h[VERSION] = kVersion;
      h[SIZE] = size;
      let id: number;
      do id = (Math.random() * 0x7fffffff) | 0;
      while (known.get(id)?.deref() !== undefined);
      h[SET_ID] = id;
    }
    this.#buffer = buffer;
    this.#h = new Int32Array(buffer, 0, kHeaderWords);
    this.size = this.#h[SIZE]!;
    this.#bits = new Int32Array(buffer, kBitsOffset);
    known.set(this.#h[SET_ID]!, new WeakRef(this));
  }

  /** This thread's object for a set made elsewhere (the same object each time for the same set). */
  static from(handle: ReadySetHandle): ReadySet {
    if (typeof handle !== 'object' || handle === null || handle.kind !== kHandleKind || !(handle.buffer instanceof SharedArrayBuffer) || handle.buffer.byteLength < kBitsOffset + 4) {
      throw new InvalidArgumentTypeError('handle', handle, 'a handle from ReadySet#handle()');
    }
    const h = new Int32Array(handle.buffer, 0, kHeaderWords);
    if (h[MAGIC] !== kMagic || h[VERSION] !== kVersion) throw new InvalidArgumentValueError('handle', handle, 'is not a threadpipe ready set of this version');
    return known.get(h[SET_ID]!)?.deref() ?? new ReadySet({ [kAdopt]: handle.buffer } as unknown as ReadySetOptions);
  }

  /** Plain data for another thread; the set stays usable here. */
  handle(): ReadySetHandle {
    return { kind: kHandleKind, buffer: this.#buffer };
  }

  /**
   * Marks a slot ready, from any thread; wakes the taking thread if it sleeps. Cheap when the slot
   * is marked already (one atomic OR) or the taker is awake (no notify).
   */
  mark(slot: number): void {
    // Checked by hand, not with validateInteger: this runs on every publish of every marking ring.
    if ((slot >>> 0) !== slot || slot >= this.size) throw new InvalidArgumentValueError('slot', slot, `must be an integer >= 0 and < ${this.size}`);
    const bit = 1 << (slot & 31);
    if ((Atomics.or(this.#bits, slot >>> 5, bit) & bit) !== 0) return;
    const h = this.#h;
    Atomics.store(h, ANY, 1);
    if (Atomics.load(h, TAKER_WAITING) !== 0 && Atomics.exchange(h, TAKER_WAITING, 0) !== 0) {
      Atomics.add(h, SEQ, 1);
      Atomics.notify(h, SEQ);
    }
  }

  /**
   * Calls `onReady(slot)` on this thread each time the slot is taken after a mark. One thread takes
   * from a set at a time (ERR_READY_SET_IN_USE for another); it waits while any slot has a listener.
   * Marks that came before the first listener are taken once this tick's listeners are in place; a
   * mark taken while a slot had no listener is gone, so a listener checks its source once itself.
   */
  listen(slot: number, onReady: (slot: number) => void): void {
    validateInteger('slot', slot, 0, this.size - 1);
    if (typeof onReady !== 'function') throw new InvalidArgumentTypeError('onReady', onReady, 'a function');
    if (this.#listeners[slot] !== undefined) throw new InvalidArgumentValueError('slot', slot, 'has a listener already');
    if (this.#listening === 0) {
      const previous = Atomics.compareExchange(this.#h, TAKER_HOLDER, 0, kHolderId);
      if (previous !== 0 && previous !== kHolderId) throw new ReadySetInUseError(previous - 1);
    }
    this.#listeners[slot] = onReady;
    this.#listening++;
    this.#words = Math.max(this.#words, (slot >>> 5) + 1);
    this.#loop ??= this.#run();
  }

  /** Stops calling the slot's listener; the last one to go ends this thread's wait and frees the set for another taker. */
  unlisten(slot: number): void {
    if (this.#listeners[slot] === undefined) return;
    this.#listeners[slot] = undefined;
    if (--this.#listening === 0) {
      Atomics.store(this.#h, TAKER_HOLDER, 0);
      // Wakes this thread's own wait, which ends: a set nobody listens to holds no promise.
      Atomics.add(this.#h, SEQ, 1);
      Atomics.notify(this.#h, SEQ);
    }
  }

  stats(): ReadySetStats {
    return { waits: this.#h[WAITS]! >>> 0, wakeups: this.#h[WAKEUPS]! >>> 0, rescues: this.#h[RESCUES]! >>> 0 };
  }

  async #run(): Promise<void> {
    const h = this.#h;
    const ready = (): true | null => (Atomics.load(h, ANY) !== 0 || this.#listening === 0 ? true : null);
    try {
      // Listeners added in the same tick all see the first take, and none is called inside listen().
      await null;
      while (this.#listening > 0) {
        this.#take();
        if (this.#listening === 0) break;
        await waitUntil(h, kChannel, ready, undefined);
        // Awake: marks need not notify until this thread announces its next sleep.
        Atomics.store(h, TAKER_WAITING, 0);
      }
    } finally {
      this.#loop = null;
      // A listener added while the loop was ending starts a new one.
      if (this.#listening > 0) this.#loop = this.#run();
    }
  }

  /** Takes every marked slot and calls its listener. */
  #take(): void {
    const bits = this.#bits;
    Atomics.store(this.#h, ANY, 0);
    for (let word = 0, words = this.#words; word < words; word++) {
      if (Atomics.load(bits, word) === 0) continue;
      let taken = Atomics.exchange(bits, word, 0);
      while (taken !== 0) {
        const low = taken & -taken;
        taken ^= low;
        const slot = word * 32 + (31 - Math.clz32(low));
        const onReady = this.#listeners[slot];
        if (onReady === undefined) continue;
        try {
          onReady(slot);
        } catch (error) {
          // One listener's failure is its own; the others still run. It surfaces as an uncaught exception, as an event listener's would.
          process.nextTick(() => {
            throw error;
          });
        }
      }
    }
  }
}
