import { InvalidArgumentTypeError, validateInteger } from '../errors/index.js';
import type { MovedEnd } from '../ring/movable.js';

/**
 * How long an aborted run's thread has to show that its event loop got the abort. A thread that
 * does not answer is blocked (in readSync, flushSync or a loop): the run's ends are then failed
 * through shared memory, which wakes an Atomics.wait, so the blocked task throws the AbortError.
 */
export const kAbortGraceMs = 100;

/** The longest timer Node keeps (a longer one fires at once). */
export const kMaxTimerMs = 2 ** 31 - 1;

/** Forces the ends of aborted runs whose threads do not answer the abort in time. */
export class AbortEscalation {
  readonly #timers = new Map<number, NodeJS.Timeout>();

  /** Starts the grace period of run `id`; `threadId` says where the run is by then (-2 while unknown). */
  arm(id: number, moved: readonly MovedEnd[], threadId: () => number, error: Error): void {
    if (moved.length === 0) return;
    const timer = setTimeout(() => {
      this.#timers.delete(id);
      const thread = threadId();
      for (const end of moved) end.interrupt(thread, error);
    }, kAbortGraceMs);
    // An abort never keeps the process alive by itself.
    timer.unref();
    this.#timers.set(id, timer);
  }

  /** The thread answered (or the run finished): no forcing. */
  disarm(id: number): void {
    const timer = this.#timers.get(id);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#timers.delete(id);
  }

  disarmAll(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}

export interface CloseOptions {
  /** After this many ms, the runs still in flight are failed with ERR_SCHEDULER_DESTROYED and the threads terminated (destroy()). */
  timeout?: number;
}

/** The close timeout asked for, if any. */
export function validateCloseOptions(options: unknown): number | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
  const { timeout } = options as CloseOptions;
  return timeout === undefined ? undefined : validateInteger('options.timeout', timeout, 0, kMaxTimerMs);
}

/** Calls `destroy` if `closing` has not settled within `timeout` ms. */
export function destroyAfter(closing: Promise<void>, timeout: number | undefined, destroy: () => unknown): void {
  if (timeout === undefined) return;
  const timer = setTimeout(destroy, timeout);
  const clear = (): void => clearTimeout(timer);
  closing.then(clear, clear);
}
