import { abortError } from '../errors/index.js';
import * as L from './layout.js';

/** How long one wait may sleep before it re-checks the ring's state (a dead peer or a lost wake-up). */
export const kWaitSliceMs = 250;

/** The watchdog's period: a slice ends between kSliceTicks and kSliceTicks + 1 periods after it began. */
const kTickMs = 50;
const kSliceTicks = Math.ceil(kWaitSliceMs / kTickMs) - 1;

interface SliceWait {
  readonly header: Int32Array;
  readonly index: number;
  /** The watchdog tick the wait began in. */
  readonly born: number;
  /** Set when the watchdog ended the slice, so the wait reports a time-out, not a wake-up. */
  expired: boolean;
}

/**
 * A pending `Atomics.waitAsync` does not keep the event loop alive, and one given a timeout costs a
 * platform timer per wait, which the event loop books and cancels in time linear in the number of
 * pending timers: with many connections waiting, that bookkeeping costs more than the wake-ups. So the
 * waits here have no timeout; one interval timer per thread ends the slices instead (a notify on the
 * word of each wait that has slept a slice) and keeps the loop alive, ref'd while any wait of this
 * thread is pending and unref'd otherwise: a pipe alone never keeps a process alive, and a thousand
 * pending waits cost one timer, not a thousand.
 */
const waits = new Set<SliceWait>();
let ticks = 0;
let watchdog: NodeJS.Timeout | undefined;
/** Waits with a timeout of their own (not a slice), which only need the loop kept alive. */
let timedWaits = 0;

function tick(): void {
  ticks++;
  if (waits.size === 0 && timedWaits === 0) {
    // A whole period with nothing pending: stop, so an idle thread is not woken 20 times a second.
    // A busy pipe restarts it at most once a period.
    clearInterval(watchdog);
    watchdog = undefined;
    return;
  }
  for (const wait of waits) {
    if (!wait.expired && ticks - wait.born > kSliceTicks) {
      wait.expired = true;
      Atomics.notify(wait.header, wait.index);
    }
  }
}

function track(wait: SliceWait): void {
  waits.add(wait);
  if (waits.size === 1 && timedWaits === 0) {
    watchdog ??= setInterval(tick, kTickMs);
    watchdog.ref();
  }
}

function untrack(wait: SliceWait): void {
  waits.delete(wait);
  if (waits.size === 0 && timedWaits === 0) watchdog?.unref();
}

/** Sleeps on `header[index]` while it still holds `value`, for at most one slice (about `ms`). */
export function waitAsyncSlice(header: Int32Array, index: number, value: number, ms = kWaitSliceMs): Promise<string> | string {
  if (ms !== kWaitSliceMs) return waitAsyncTimed(header, index, value, ms);
  const result = Atomics.waitAsync(header, index, value);
  if (!result.async) return result.value;
  const wait: SliceWait = { header, index, born: ticks, expired: false };
  track(wait);
  return result.value.then((outcome) => {
    untrack(wait);
    return wait.expired ? 'timed-out' : outcome;
  });
}

/** A wait of another length than a slice: a timeout of its own, and the watchdog only to keep the loop alive. */
function waitAsyncTimed(header: Int32Array, index: number, value: number, ms: number): Promise<string> | string {
  const result = Atomics.waitAsync(header, index, value, ms);
  if (!result.async) return result.value;
  if (timedWaits++ === 0 && waits.size === 0) {
    watchdog ??= setInterval(tick, kTickMs);
    watchdog.ref();
  }
  return result.value.then((outcome) => {
    if (--timedWaits === 0 && waits.size === 0) watchdog?.unref();
    return outcome;
  });
}

/**
 * What one side sleeps on: its sequence word (bumped by whoever changes what the side waits for),
 * the flag it announces itself with (claimed by the publisher, so a notify is sent only to a side that
 * asked for one) and its counters.
 */
export interface WaitChannel {
  readonly seq: number;
  readonly announce: number;
  readonly waits: number;
  readonly wakeups: number;
}

/** The reader sleeps on the data word; the writer wakes it after publishing. */
export const kReaderChannel: WaitChannel = { seq: L.DATA_SEQ, announce: L.READER_WAITING, waits: L.READER_WAITS, wakeups: L.READER_WAKEUPS };
/** The writer sleeps on the space word; the reader wakes it after advancing. */
export const kWriterChannel: WaitChannel = { seq: L.SPACE_SEQ, announce: L.WRITER_WAITING, waits: L.WRITER_WAITS, wakeups: L.WRITER_WAKEUPS };

/** The sample `arm` took: read right after it returns, before anything else can run on this thread. */
let sampled = 0;

/**
 * The first three steps of the one wait protocol: sample the sequence word, announce, re-check. The
 * outcome if the re-check found one, else null, with the sample in `sampled` for the sleep.
 */
function arm<T>(header: Int32Array, channel: WaitChannel, check: () => T | null): T | null {
  sampled = Atomics.load(header, channel.seq);
  Atomics.store(header, channel.announce, 1);
  return check();
}

/** Re-checks a while before announcing: a change that comes within microseconds costs no wake-up. */
function spin<T>(check: () => T | null): T | null {
  for (let i = 0; i < L.kSpinBeforeSleep; i++) {
    const ready = check();
    if (ready !== null) return ready;
  }
  return null;
}

/**
 * The one wait protocol of the ring, for both ends: sample the sequence word, announce, re-check,
 * sleep while the word still holds the sample. A publisher changes state first, then claims the
 * announcement and bumps the word. Either the re-check sees the change, or the publisher's claim
 * comes after the announcement and its bump comes after the sample, so the sleep returns at once:
 * a wake-up is never lost, and the slices only guard against a peer that died mid-publish.
 * `check` returns the outcome, or null to keep waiting; it may throw.
 */
export function blockUntil<T>(header: Int32Array, channel: WaitChannel, check: () => T | null): T {
  const spun = spin(check);
  if (spun !== null) return spun;
  try {
    for (;;) {
      const ready = arm(header, channel, check);
      if (ready !== null) return ready;
      header[channel.waits]!++;
      if (Atomics.wait(header, channel.seq, sampled, kWaitSliceMs) === 'ok') header[channel.wakeups]!++;
    }
  } finally {
    Atomics.store(header, channel.announce, 0);
  }
}

/** The same protocol with `Atomics.waitAsync`; an abort of `signal` wakes the wait and rejects it. */
export async function waitUntil<T>(header: Int32Array, channel: WaitChannel, check: () => T | null, signal: AbortSignal | undefined): Promise<T> {
  const spun = spin(check);
  if (spun !== null) return spun;
  const onAbort = (): void => {
    Atomics.notify(header, channel.seq);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const ready = arm(header, channel, check);
      if (ready !== null) return ready;
      if (signal?.aborted) throw abortError(signal);
      header[channel.waits]!++;
      if ((await waitAsyncSlice(header, channel.seq, sampled)) === 'ok') header[channel.wakeups]!++;
    }
  } finally {
    Atomics.store(header, channel.announce, 0);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * The same protocol for work that must not keep the process alive (a writer placing bytes after its
 * caller stopped waiting): no slices, so no timer; whatever ends the wait (the reader advancing or
 * completing, a peer's death) bumps the word.
 */
export async function waitUntilUnref<T>(header: Int32Array, channel: WaitChannel, check: () => T | null): Promise<T> {
  try {
    for (;;) {
      const ready = arm(header, channel, check);
      if (ready !== null) return ready;
      const result = Atomics.waitAsync(header, channel.seq, sampled);
      if (result.async) await result.value;
    }
  } finally {
    Atomics.store(header, channel.announce, 0);
  }
}
