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

/** Blocks the thread in `Atomics.wait` for at most one slice. */
export function waitSyncSlice(header: Int32Array, index: number, value: number, ms = kWaitSliceMs): string {
  return Atomics.wait(header, index, value, ms);
}

/** Spins up to `iterations` times for the word to move away from `value`; true when it did. */
export function spinUntilChanged(header: Int32Array, index: number, value: number, iterations: number): boolean {
  for (let i = 0; i < iterations; i++) {
    if (Atomics.load(header, index) !== value) return true;
  }
  return false;
}
