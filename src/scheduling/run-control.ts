import type { TransferListItem } from 'node:worker_threads';
import { InvalidArgumentTypeError, validateInteger, validateSignal, validateTransferList } from '../errors/index.js';
import type { OperationOptions } from '../pipe/results.js';
import type { MovedEnd } from '../ring/movable.js';
import { sendable, unwrapMoved } from './transfer.js';

/**
 * How long an aborted run's thread has to show that its event loop got the abort. A thread that
 * does not answer is blocked (in readSync, flushSync or a loop): the run's ends are then failed
 * through shared memory, which wakes an Atomics.wait, so the blocked task throws the AbortError.
 */
const kAbortGraceMs = 100;

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

export interface RunOptions extends OperationOptions {
  /**
   * Objects in the arguments to move to the task's thread rather than copy, as `postMessage` takes
   * them: ArrayBuffers (the buffer itself, not a view), MessagePorts, other transferables. Once
   * run() has returned they are detached here, whether the task starts at once or waits for a
   * pool thread; when run() rejects at once (closed scheduler, aborted signal, bad arguments)
   * nothing has moved.
   */
  transferList?: readonly TransferListItem[];
}

/** A run's arguments, signal and transfer list, checked; arguments from `move()` are unwrapped. */
export interface RunRequest {
  readonly args: unknown;
  readonly signal: AbortSignal | undefined;
  readonly transferList: TransferListItem[];
}

export function runRequest(args: unknown, options: unknown): RunRequest {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidArgumentTypeError('options', options, 'an object');
  const { signal, transferList } = (options ?? {}) as RunOptions;
  const checkedSignal = validateSignal('options.signal', signal);
  const listed = transferList === undefined ? [] : validateTransferList('options.transferList', transferList);
  const moved = unwrapMoved(args, 'args');
  // An object both in move()'s list and in options.transferList moves once: postMessage refuses a list naming it twice.
  const extra = listed.filter((item) => !moved.transferList.includes(item));
  return { args: moved.value, signal: checkedSignal, transferList: sendable(moved.transferList.length === 0 ? [...listed] : [...moved.transferList, ...extra]) };
}

/**
 * What a failed send rejects with: Node's own error, except that an object of the transfer list
 * that cannot be transferred (seen only by postMessage) is reported against the list, `name`, with
 * Node's error as the cause.
 */
export function sendFailure(error: unknown, transferList: readonly TransferListItem[], name = 'options.transferList'): unknown {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_INVALID_TRANSFER_OBJECT') return error;
  const refused = new InvalidArgumentTypeError(name, transferList, 'a list of transferable objects (ArrayBuffer, MessagePort, FileHandle, web streams)');
  Object.defineProperty(refused, 'cause', { value: error, configurable: true, writable: true });
  return refused;
}
