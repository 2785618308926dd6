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

/**
 * How long an aborted task whose thread did answer may keep the run's ends before they are failed the
 * same way: a task that ignores its signal does not hold its pipes (and its producer) forever.
 */
export const kAnsweredGraceMs = 1000;

interface Escalation {
  timer: NodeJS.Timeout;
  readonly moved: readonly MovedEnd[];
  readonly threadId: () => number;
  readonly error: Error;
}

/** Forces the ends of aborted runs whose tasks do not let go of them in time. */
export class AbortEscalation {
  readonly #pending = new Map<number, Escalation>();

  /** Starts the grace period of run `id`; `threadId` says where the run is by then (-2 while unknown). */
  arm(id: number, moved: readonly MovedEnd[], threadId: () => number, error: Error): void {
    if (moved.length === 0) return;
    const entry: Escalation = { timer: this.#timer(id, kAbortGraceMs), moved, threadId, error };
    this.#pending.set(id, entry);
  }

  /** The thread took the abort: its task gets the longer grace to finish and let its ends go. */
  answered(id: number): void {
    const entry = this.#pending.get(id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    entry.timer = this.#timer(id, kAnsweredGraceMs);
  }

  /** The run's task finished: no forcing. */
  disarm(id: number): void {
    const entry = this.#pending.get(id);
    if (entry === undefined) return;
    clearTimeout(entry.timer);
    this.#pending.delete(id);
  }

  disarmAll(): void {
    for (const entry of this.#pending.values()) clearTimeout(entry.timer);
    this.#pending.clear();
  }

  #timer(id: number, ms: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const entry = this.#pending.get(id);
      if (entry === undefined) return;
      this.#pending.delete(id);
      const thread = entry.threadId();
      for (const end of entry.moved) end.interrupt(thread, entry.error);
    }, ms);
    // An abort never keeps the process alive by itself.
    timer.unref();
    return timer;
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
