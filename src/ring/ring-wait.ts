import { abortError } from '../errors/index.js';
import * as L from './layout.js';

/** How long one wait may sleep before it re-checks the ring's state (a dead peer or a lost wake-up). */
const kWaitSliceMs = 250;

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
  /** False for a wait only this thread could end: it must not keep the process alive. */
  readonly keepAlive: boolean;
}

/**
 * A pending `Atomics.waitAsync` does not keep the event loop alive, and one given a timeout costs a
 * platform timer per wait, which the event loop books and cancels in time linear in the number of
 * pending timers: with many connections waiting, that bookkeeping costs more than the wake-ups. So the
 * waits here have no timeout; one interval timer per thread ends the slices instead (a notify on the
 * word of each wait that has slept a slice). It keeps the loop alive while a wait that another thread
 * can end is pending, and is unref'd otherwise: a pipe alone never keeps a process alive, a wait on a
 * peer of this same thread does not either (nothing but this thread could end it), and a thousand
 * pending waits cost one timer, not a thousand.
 */
const waits = new Set<SliceWait>();
let ticks = 0;
let watchdog: NodeJS.Timeout | undefined;
/** Pending waits that keep the loop alive. */
let aliveWaits = 0;

function tick(): void {
  ticks++;
  if (waits.size === 0) {
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
  watchdog ??= setInterval(tick, kTickMs);
  if (wait.keepAlive && aliveWaits++ === 0) watchdog.ref();
  else if (aliveWaits === 0) watchdog.unref();
}

function untrack(wait: SliceWait): void {
  waits.delete(wait);
  if (wait.keepAlive && --aliveWaits === 0) watchdog?.unref();
}

/** Sleeps on `header[index]` while it still holds `value`, for at most one slice. */
function waitAsyncSlice(header: Int32Array, index: number, value: number, keepAlive = true): Promise<string> | string {
  const result = Atomics.waitAsync(header, index, value);
  if (!result.async) return result.value;
  const wait: SliceWait = { header, index, born: ticks, expired: false, keepAlive };
  track(wait);
  return result.value.then((outcome) => {
    untrack(wait);
    return wait.expired ? 'timed-out' : outcome;
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
  /** Waits a slice ended that then found their condition met with the word unchanged: lost wake-ups. */
  readonly rescues: number;
}

/** The reader sleeps on the data word; the writer wakes it after publishing. */
export const kReaderChannel: WaitChannel = { seq: L.DATA_SEQ, announce: L.READER_WAITING, waits: L.READER_WAITS, wakeups: L.READER_WAKEUPS, rescues: L.READER_RESCUES };
/** The writer sleeps on the space word; the reader wakes it after advancing. */
export const kWriterChannel: WaitChannel = { seq: L.SPACE_SEQ, announce: L.WRITER_WAITING, waits: L.WRITER_WAITS, wakeups: L.WRITER_WAKEUPS, rescues: L.WRITER_RESCUES };

/**
 * The first two steps of the one wait protocol: sample the sequence word, then announce. The sample
 * is what the sleep waits on; the caller re-checks in between (and the check may run code of its
 * own, so the sample lives in the caller's frame).
 */
function sampleAndAnnounce(header: Int32Array, channel: WaitChannel): number {
  const sample = Atomics.load(header, channel.seq);
  Atomics.store(header, channel.announce, 1);
  return sample;
}

/**
 * A wait a slice ended and whose re-check then found it over with the word still at the sleep's
 * sample: its state changed with no bump, a lost wake-up the slice hid. Counted, never relied on.
 */
function countRescue(header: Int32Array, channel: WaitChannel, expiredOn: number, sample: number): void {
  if (expiredOn === sample) header[channel.rescues]!++;
}

/**
 * Re-checks a while before announcing: a change that comes within microseconds costs no wake-up.
 * Callers spin before `blockUntil` / `waitUntil`, so a wait that ends here costs no promise at all.
 */
export function spin<T>(check: () => T | null): T | null {
  for (let i = 0; i < L.kSpinBeforeSleep; i++) {
    const ready = check();
    if (ready !== null) return ready;
  }
  return null;
}

/**
 * The spin before an asynchronous wait, taken only by a thread with no other such wait pending. A
 * thread that already waits on other pipes serves many (a socket thread, a worker parsing a thousand
 * connections): the bytes of this one are rarely microseconds away, and a spin is time taken from
 * the others, whose work is what the peer waits for. Its wait costs one promise instead.
 */
export function spinIfAlone<T>(check: () => T | null): T | null {
  return waits.size === 0 ? spin(check) : null;
}

/**
 * The one wait protocol of the ring, for both ends: sample the sequence word, announce, re-check,
 * sleep while the word still holds the sample. A publisher changes state first, then claims the
 * announcement and bumps the word. Either the re-check sees the change, or the publisher's claim
 * comes after the announcement and its bump comes after the sample, so the sleep returns at once:
 * a wake-up is never lost, and the slices only guard against a peer that died mid-publish.
 * A wait leaves its announcement set when it ends: another wait of the same end (a writer's
 * background placement beside a flush) may still rely on it, and a stale one costs the publisher
 * one spare notify, never a lost wake-up.
 * `check` returns the outcome, or null to keep waiting; it may throw.
 */
export function blockUntil<T>(header: Int32Array, channel: WaitChannel, check: () => T | null): T {
  let expiredOn = -1;
  for (;;) {
    const sample = sampleAndAnnounce(header, channel);
    const ready = check();
    if (ready !== null) {
      countRescue(header, channel, expiredOn, sample);
      return ready;
    }
    header[channel.waits]!++;
    const outcome = Atomics.wait(header, channel.seq, sample, kWaitSliceMs);
    if (outcome === 'ok') header[channel.wakeups]!++;
    expiredOn = outcome === 'timed-out' ? sample : -1;
  }
}

/**
 * The same protocol with `Atomics.waitAsync`; an abort of `signal` wakes the wait and rejects it.
 * `keepAlive` false: a wait only this thread could end (or work nobody awaits) keeps no process alive.
 */
export async function waitUntil<T>(header: Int32Array, channel: WaitChannel, check: () => T | null, signal: AbortSignal | undefined, keepAlive = true): Promise<T> {
  const onAbort = (): void => {
    Atomics.notify(header, channel.seq);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  let expiredOn = -1;
  try {
    for (;;) {
      // The signal first: an abort that came before a cancel or the data wins, and leaves them for
      // the next operation (.NET's E12 / E21).
      if (signal?.aborted) throw abortError(signal);
      const sample = sampleAndAnnounce(header, channel);
      const ready = check();
      if (ready !== null) {
        countRescue(header, channel, expiredOn, sample);
        return ready;
      }
      header[channel.waits]!++;
      const outcome = await waitAsyncSlice(header, channel.seq, sample, keepAlive);
      if (outcome === 'ok') header[channel.wakeups]!++;
      expiredOn = outcome === 'timed-out' ? sample : -1;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
