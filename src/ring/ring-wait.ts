/** How long one wait may sleep before it re-checks the ring's state (a dead peer or a lost wake-up). */
export const kWaitSliceMs = 250;

const noop = (): void => {};

/**
 * Sleeps on `header[index]` while it still holds `value`, for at most one slice. A pending
 * `Atomics.waitAsync` does not keep the event loop alive, so a ref'd timer does while the wait lasts.
 */
export function waitAsyncSlice(header: Int32Array, index: number, value: number, ms = kWaitSliceMs): Promise<string> | string {
  const result = Atomics.waitAsync(header, index, value, ms);
  if (!result.async) return result.value;
  const keepAlive = setTimeout(noop, ms + 1000);
  return result.value.then((outcome) => {
    clearTimeout(keepAlive);
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
