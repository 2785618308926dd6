/** How long one wait may sleep before it re-checks the ring's state (a dead peer or a lost wake-up). */
export const kWaitSliceMs = 250;

/**
 * A pending `Atomics.waitAsync` does not keep the event loop alive. One interval timer does, ref'd
 * while any wait of this thread is pending and unref'd otherwise, so a pipe alone never keeps a
 * process alive and a thousand pending waits cost one timer, not a thousand.
 */
let pendingWaits = 0;
let keepAlive: NodeJS.Timeout | undefined;

function holdAlive(): void {
  if (pendingWaits++ === 0) {
    keepAlive ??= setInterval(() => {}, 1 << 30);
    keepAlive.ref();
  }
}

function releaseAlive(): void {
  if (--pendingWaits === 0) keepAlive!.unref();
}

const release = (outcome: string): string => {
  releaseAlive();
  return outcome;
};

/** Sleeps on `header[index]` while it still holds `value`, for at most one slice. */
export function waitAsyncSlice(header: Int32Array, index: number, value: number, ms = kWaitSliceMs): Promise<string> | string {
  const result = Atomics.waitAsync(header, index, value, ms);
  if (!result.async) return result.value;
  holdAlive();
  return result.value.then(release);
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
