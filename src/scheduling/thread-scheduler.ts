import { Worker, type ResourceLimits } from 'node:worker_threads';
import {
  abortError,
  InvalidArgumentTypeError,
  PeerExitedError,
  SchedulerClosedError,
  SchedulerDestroyedError,
} from '../errors/index.js';
import { deserializeError } from '../errors/serialization.js';
import { channels } from '../diagnostics/channels.js';
import type { HostMessage, SchedulerMessage } from './host-messages.js';
import { moveEnds, type MovedEnd } from '../ring/movable.js';
import { moduleUrl, validateExportName } from './module-url.js';
import { AbortEscalation, destroyAfter, runRequest, sendFailure, validateCloseOptions, type CloseOptions, type RunOptions } from './run-control.js';
import { newThreadLink } from '../ring/thread-links.js';

export interface ThreadSchedulerOptions {
  /** A name for the thread, shown in diagnostics. */
  name?: string;
  resourceLimits?: ResourceLimits;
}

interface InFlight {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

const kHostEntry = new URL('./thread-host.js', import.meta.url);
/** The moved-ends list is pruned once it holds this many (then twice what survived the last pruning). */
const kPruneMovedAtLeast = 64;

/**
 * One dedicated worker thread: everything run on it stays on it (the dedicated-thread scheduler of
 * the .NET docs), so one connection's parsing always runs on the same thread. Runs are exported
 * functions of a module; shared pipe ends in their arguments move to the thread, all or none, and
 * belong to the run: each end it neither completed nor handed on (moved away, for instance by
 * returning it) is completed when it settles, with its error if it threw.
 */
export class ThreadScheduler {
  readonly module: string;
  readonly name: string;
  readonly #worker: Worker;
  readonly #threadId: number;
  readonly #inFlight = new Map<number, InFlight>();
  readonly #escalation = new AbortEscalation();
  /** Ends moved to the thread, watched in case it dies; finished ones are pruned now and then. */
  #moved: MovedEnd[] = [];
  #pruneMovedAt = kPruneMovedAtLeast;
  #nextId = 1;
  /** No new runs: close() or destroy() was called. */
  #stopped = false;
  #closing: Promise<void> | null = null;
  #destroying: Promise<void> | null = null;
  #exited = false;
  #exitError: Error | undefined;
  #crash: Error | undefined;

  constructor(module: string | URL, options: ThreadSchedulerOptions = {}) {
    this.module = moduleUrl(module);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
    if (options.name !== undefined && typeof options.name !== 'string') throw new InvalidArgumentTypeError('options.name', options.name, 'a string');
    this.name = options.name ?? 'threadpipe';
    // The thread's link: the monitor fails the ends it holds if it dies, even while this thread is blocked.
    const link = newThreadLink();
    this.#worker = new Worker(kHostEntry, {
      name: this.name,
      workerData: { module: this.module, link: link.port, monitor: link.monitor },
      transferList: [link.port],
      ...(options.resourceLimits !== undefined ? { resourceLimits: options.resourceLimits } : {}),
    });
    this.#threadId = this.#worker.threadId;
    this.#worker.on('message', (message: HostMessage) => this.#settle(message));
    this.#worker.on('error', (error: Error) => {
      this.#crash = error;
    });
    this.#worker.on('exit', (code: number) => this.#onExit(code));
    // An idle scheduler does not keep the process alive; a run in flight does.
    this.#worker.unref();
  }

  /** The worker's thread id (as `threadId` inside it). */
  get threadId(): number {
    return this.#threadId;
  }

  /**
   * Runs `exportName(args, { signal, threadId })` on this scheduler's thread. An end in `args` that
   * cannot move throws its coded error here, and then none has moved. Aborting rejects at once; a run
   * whose thread does not take the abort within a grace period (blocked in readSync or flushSync) has
   * its ends failed with the AbortError, which wakes it.
   *
   * `options.transferList` moves the listed objects (ArrayBuffers, MessagePorts) instead of copying
   * them; `args` may also be a `move()` result. A task returns `move(value)` to move its result back.
   */
  run<T>(exportName: string, args?: unknown, options?: RunOptions): Promise<T> {
    validateExportName(exportName);
    const request = runRequest(args, options);
    const { signal, transferList } = request;
    if (this.#exited) return Promise.reject(this.#exitError ?? new SchedulerClosedError());
    if (this.#stopped) return Promise.reject(new SchedulerClosedError());
    if (signal?.aborted) return Promise.reject(abortError(signal));
    // Pruned when the list doubled since the last pruning: a run costs O(1) however many are open.
    if (this.#moved.length >= this.#pruneMovedAt) {
      this.#moved = this.#moved.filter((end) => !end.finished);
      this.#pruneMovedAt = Math.max(kPruneMovedAtLeast, 2 * this.#moved.length);
    }
    const moved: MovedEnd[] = [];
    const id = this.#nextId++;
    const message: SchedulerMessage = { type: 'run', id, exportName, args: moveEnds(request.args, moved) };
    try {
      this.#worker.postMessage(message, transferList);
    } catch (error) {
      const failure = sendFailure(error, transferList);
      for (const end of moved) end.abandon(failure as Error);
      return Promise.reject(failure);
    }
    this.#moved.push(...moved);
    if (this.#inFlight.size === 0) this.#worker.ref();
    const event = { scheduler: this.name, thread: this.#threadId, exportName, id };
    if (channels.runStart.hasSubscribers) channels.runStart.publish(event);
    return new Promise<T>((resolve, reject) => {
      // The worker aborts the run's signal, then cancels its pipes, so the function sees the abort
      // first; this side settles at once through the in-flight entry (which close() may be watching).
      const onAbort = (): void => {
        const error = abortError(signal!);
        this.#worker.postMessage({ type: 'abort', id } satisfies SchedulerMessage);
        this.#escalation.arm(id, moved, () => this.#threadId, error);
        this.#inFlight.get(id)?.reject(error);
      };
      const settle = (error?: unknown): void => {
        if (channels.runEnd.hasSubscribers) channels.runEnd.publish(error === undefined ? event : { ...event, error });
        signal?.removeEventListener('abort', onAbort);
        this.#inFlight.delete(id);
        if (this.#inFlight.size === 0) this.#worker.unref();
      };
      this.#inFlight.set(id, {
        resolve: (value) => {
          settle();
          resolve(value as T);
        },
        reject: (error) => {
          settle(error);
          reject(error);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Lets the runs in flight finish, then ends the thread. New runs are refused. With `timeout`, the
   * runs still in flight after that many ms are failed as by destroy().
   */
  close(options?: CloseOptions): Promise<void> {
    const timeout = validateCloseOptions(options);
    this.#stopped = true;
    this.#closing ??= (async () => {
      const pending = [...this.#inFlight.values()].map(
        (run) => new Promise<void>((resolve) => {
          const { resolve: done, reject: fail } = run;
          run.resolve = (value) => {
            done(value);
            resolve();
          };
          run.reject = (error) => {
            fail(error);
            resolve();
          };
        }),
      );
      await Promise.all(pending);
      if (!this.#exited) await this.#worker.terminate();
    })();
    destroyAfter(this.#closing, timeout, () => this.destroy());
    return this.#closing;
  }

  /**
   * Terminates the thread now: the runs in flight reject with ERR_SCHEDULER_DESTROYED, and the ends
   * the thread held fail on their far side with ERR_PIPE_PEER_EXITED. New runs are refused.
   */
  destroy(): Promise<void> {
    this.#stopped = true;
    this.#destroying ??= (async () => {
      const runs = [...this.#inFlight.values()];
      const error = new SchedulerDestroyedError(`ThreadScheduler '${this.name}' was destroyed with ${runs.length} run(s) in flight.`);
      for (const run of runs) run.reject(error);
      if (!this.#exited) await this.#worker.terminate();
    })();
    return this.#destroying;
  }

  #settle(message: HostMessage): void {
    // The thread took the abort: its event loop runs, so the task gets the longer grace to let go.
    if (message.type === 'abort-seen') {
      this.#escalation.answered(message.id);
      return;
    }
    this.#escalation.disarm(message.id);
    const run = this.#inFlight.get(message.id);
    if (run === undefined) return;
    if (message.type === 'done') run.resolve(message.value);
    else run.reject(deserializeError(message.error));
  }

  #onExit(code: number): void {
    this.#exited = true;
    this.#escalation.disarmAll();
    const expected = this.#stopped && this.#inFlight.size === 0;
    // Every ring whose end this thread held fails at once on the far side, instead of hanging.
    for (const end of this.#moved) end.markPeerExited(this.#threadId);
    this.#moved = [];
    if (expected) return;
    const error = new PeerExitedError(`The thread of ThreadScheduler '${this.name}' exited (code ${code})${this.#crash ? `: ${this.#crash.message}` : ''}.`);
    if (this.#crash !== undefined) Object.defineProperty(error, 'cause', { value: this.#crash, configurable: true, writable: true });
    this.#exitError = error;
    for (const run of [...this.#inFlight.values()]) run.reject(error);
    this.#inFlight.clear();
  }
}
