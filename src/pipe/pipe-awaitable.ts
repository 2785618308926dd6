import { untrackPending, type PendingOperation } from '../diagnostics/pending-operations.js';

/** A suspended read or flush: how to settle its promise, and the abort listener to remove when it does. */
export interface Waiter<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  readonly pending: PendingOperation | null;
}

/**
 * One side's readiness, as .NET's `PipeAwaitable`: a completed flag (data ready / writer not
 * paused), a one-shot canceled flag and at most one suspended operation. Every state change that
 * releases the operation hands back its waiter instead of settling it, so the pipe can finish its
 * own state changes first and only then resume the waiter through the side's scheduler.
 */
export class PipeAwaitable<T> {
  #completed: boolean;
  #canceled = false;
  #waiter: Waiter<T> | null = null;
  #inFlight: Waiter<T> | null = null;

  constructor(completed: boolean) {
    this.#completed = completed;
  }

  /** True when an operation would not wait: completed, or a cancel is pending. */
  get isCompleted(): boolean {
    return this.#completed || this.#canceled;
  }

  /** The completed flag alone, whatever the cancel flag says (for the writer: not paused). */
  get isSet(): boolean {
    return this.#completed;
  }

  get isCanceled(): boolean {
    return this.#canceled;
  }

  /** True from suspension until the waiter has been settled (also while it sits in a scheduler). */
  get isPending(): boolean {
    return this.#inFlight !== null;
  }

  /** The operation suspended now and not yet released, if any (for diagnostics). */
  get waiter(): Waiter<T> | null {
    return this.#waiter;
  }

  setUncompleted(): void {
    this.#completed = false;
  }

  complete(): Waiter<T> | null {
    this.#completed = true;
    return this.take();
  }

  cancel(): Waiter<T> | null {
    this.#canceled = true;
    return this.take();
  }

  /** Reads and clears the cancel flag: a cancel is seen by exactly one operation. */
  observeCancellation(): boolean {
    const canceled = this.#canceled;
    this.#canceled = false;
    return canceled;
  }

  /** Releases the suspended operation without changing the flags. */
  take(): Waiter<T> | null {
    const waiter = this.#waiter;
    this.#waiter = null;
    return waiter;
  }

  /** True when `waiter` is the operation suspended now (an abort of an earlier one is stale). */
  isCurrent(waiter: Waiter<T>): boolean {
    return this.#waiter === waiter;
  }

  suspend(signal: AbortSignal | undefined, onAbort: (waiter: Waiter<T>) => void, pending: PendingOperation | null = null): Promise<T> {
    let resolve!: (value: T) => void;
    let reject!: (reason: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const waiter: Waiter<T> = { resolve, reject, signal, onAbort: undefined, pending };
    if (signal !== undefined) {
      waiter.onAbort = () => onAbort(waiter);
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    this.#waiter = waiter;
    this.#inFlight = waiter;
    return promise;
  }

  /** Called when a released waiter runs: ends the operation and drops its abort listener. */
  settle(waiter: Waiter<T>): void {
    untrackPending(waiter.pending);
    if (this.#inFlight === waiter) this.#inFlight = null;
    if (this.#waiter === waiter) this.#waiter = null;
    if (waiter.onAbort !== undefined) {
      waiter.signal!.removeEventListener('abort', waiter.onAbort);
      waiter.onAbort = undefined;
    }
  }

  reset(completed: boolean): void {
    if (this.#inFlight !== null) untrackPending(this.#inFlight.pending);
    this.#completed = completed;
    this.#canceled = false;
    this.#waiter = null;
    this.#inFlight = null;
  }
}
