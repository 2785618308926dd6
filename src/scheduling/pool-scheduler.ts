import { createRequire } from 'node:module';
import { MessageChannel, type TransferListItem } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import {
  abortError,
  InvalidArgumentTypeError,
  PeerExitedError,
  SchedulerClosedError,
  SchedulerDestroyedError,
  validateInteger,
} from '../errors/index.js';
import { deserializeError } from '../errors/serialization.js';
import { channels } from '../diagnostics/channels.js';
import type { PoolOutcome, PoolTask, TaskControl, TaskReport } from './host-messages.js';
import { moveEnds, type MovedEnd } from '../ring/movable.js';
import { moduleUrl, validateExportName } from './module-url.js';
import { AbortEscalation, destroyAfter, kAnsweredGraceMs, kMaxTimerMs, runRequest, sendFailure, validateCloseOptions, type CloseOptions, type RunOptions } from './run-control.js';
import { newThreadLink } from '../ring/thread-links.js';

export interface PoolSchedulerOptions {
  minThreads?: number;
  maxThreads?: number;
  /** How many tasks one thread runs at once: long-running pipe handlers interleave on its event loop. */
  concurrentTasksPerThread?: number;
  /** How long an idle thread lives, in ms. */
  idleTimeout?: number;
}

let runIds = 0;

const kTaskEntry = new URL('./pool-task.js', import.meta.url).href;

let PiscinaClass: typeof Piscina | undefined;

/** piscina is loaded by the first PoolScheduler, so importing threadpipe does not load it. */
function loadPiscina(): typeof Piscina {
  PiscinaClass ??= (createRequire(import.meta.url)('piscina') as typeof import('piscina')).Piscina;
  return PiscinaClass;
}

/** The code of the warning for a pool thread's error that no run can take. */
const kPoolThreadErrorWarning = 'THREADPIPE_POOL_THREAD_ERROR';

/** A thread id not known yet: the task has not started. */
const kNoThread = -2;

/**
 * The same `run()` contract as ThreadScheduler over a pool of threads (piscina underneath). Aborting
 * a run rejects it at once and cancels that task cooperatively (its function sees the signal, its
 * pipes are canceled); the thread and the tasks beside it keep running.
 */
export class PoolScheduler {
  readonly module: string;
  readonly #pool: Piscina;
  readonly #inFlight = new Set<(error: Error) => void>();
  readonly #escalation = new AbortEscalation();
  /** Pool threads that reported having their link. */
  #linked = new Set<number>();
  #stopped = false;
  #closing: Promise<void> | null = null;
  /** Runs whose callers were told they aborted, while their tasks still run. */
  readonly #abortedRunning = new Set<number>();
  #lingerTimer: NodeJS.Timeout | undefined;
  #destroying: Promise<void> | null = null;
  #markDestroyed: () => void = () => {};
  /** Settles once destroy() has ended every thread. */
  readonly #destroyed = new Promise<void>((resolve) => {
    this.#markDestroyed = resolve;
  });

  constructor(module: string | URL, options: PoolSchedulerOptions = {}) {
    this.module = moduleUrl(module);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
    // close() waits for the runs in flight as long as they take, unless given a timeout of its own.
    const settings: Record<string, unknown> = { filename: kTaskEntry, closeTimeout: kMaxTimerMs };
    if (options.minThreads !== undefined) settings.minThreads = validateInteger('minThreads', options.minThreads, 0, 1024);
    if (options.maxThreads !== undefined) settings.maxThreads = validateInteger('maxThreads', options.maxThreads, 1, 1024);
    if (options.concurrentTasksPerThread !== undefined) {
      settings.concurrentTasksPerWorker = validateInteger('concurrentTasksPerThread', options.concurrentTasksPerThread, 1, 100_000);
    }
    if (options.idleTimeout !== undefined) settings.idleTimeout = validateInteger('idleTimeout', options.idleTimeout, 0);
    const Pool = loadPiscina();
    this.#pool = new Pool(settings);
    // The pool reports here what belongs to no task: a thread's 'error' with no task on it (the pool
    // replaces the thread; ends it held are failed by its link), or a reply for a task it no longer
    // tracks, as when a reply races destroy(). Unheard, either is an uncaught exception in the caller's
    // process; once destroy() or close() began, they are expected and dropped.
    this.#pool.on('error', (error: unknown) => {
      if (this.#stopped) return;
      process.emitWarning(`A PoolScheduler thread failed outside any run: ${(error as Error)?.message ?? String(error)}`, {
        code: kPoolThreadErrorWarning,
        detail: (error as Error)?.stack,
      });
    });
  }

  get threads(): number {
    return this.#pool.threads.length;
  }

  /** See ThreadScheduler.run: the same contract, on whichever pool thread takes the task. */
  run<T>(exportName: string, args?: unknown, options?: RunOptions): Promise<T> {
    validateExportName(exportName);
    const request = runRequest(args, options);
    const signal = request.signal;
    if (this.#stopped) return Promise.reject(new SchedulerClosedError());
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const moved: MovedEnd[] = [];
    let movedArgs = moveEnds(request.args, moved);
    let transferList = request.transferList;
    if (transferList.length > 0) {
      // piscina posts a task only when a thread is free: moved here and now, the listed objects are
      // detached when run() returns, as on a ThreadScheduler, and a bad one is refused at once.
      // Moving is not copying: the second transfer, to the thread, takes the same memory along.
      try {
        ({ args: movedArgs, transferList } = structuredClone({ args: movedArgs, transferList }, { transfer: transferList }));
      } catch (error) {
        const failure = sendFailure(error, transferList);
        for (const end of moved) end.abandon(failure as Error);
        return Promise.reject(failure);
      }
    }
    const { port1, port2 } = new MessageChannel();
    // A link for the pool thread, which keeps the first one it gets: its ends are watched for as long
    // as it lives. Once every thread the pool can have is linked, tasks travel without one.
    const link = this.#needsLink() ? newThreadLink() : undefined;
    const task: PoolTask = { module: this.module, exportName, args: movedArgs, port: port2, ...(link === undefined ? {} : { link: link.port, monitor: link.monitor }) };
    const id = ++runIds;
    let threadId = kNoThread;
    const event = { scheduler: 'PoolScheduler', thread: -1, exportName, id };
    if (channels.runStart.hasSubscribers) channels.runStart.publish(event);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (error: unknown, value?: unknown): void => {
        if (settled) return;
        settled = true;
        if (channels.runEnd.hasSubscribers) channels.runEnd.publish({ ...event, thread: threadId, ...(error === undefined ? {} : { error }) });
        signal?.removeEventListener('abort', onAbort);
        this.#inFlight.delete(fail);
        if (error === undefined) resolve(value as T);
        else reject(error);
      };
      const fail = (error: Error): void => settle(error);
      port1.on('message', (report: TaskReport) => {
        if (report.type === 'started') {
          threadId = report.threadId;
          if (report.linked) this.#linked.add(threadId);
        }
        else if (report.type === 'abort-seen') this.#escalation.answered(id);
      });
      port1.unref();
      // The task's thread aborts its signal, then cancels its pipes: the function sees the abort first.
      const onAbort = (): void => {
        const error = abortError(signal!);
        port1.postMessage('abort' satisfies TaskControl);
        this.#escalation.arm(id, moved, () => threadId, error);
        this.#abortedRunning.add(id);
        settle(error);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#inFlight.add(fail);
      const ports: TransferListItem[] = link === undefined ? [port2] : [port2, link.port];
      (this.#pool.run(task, { transferList: transferList.length === 0 ? ports : [...ports, ...transferList] }) as Promise<PoolOutcome>).then(
        (outcome) => {
          if (outcome.ok) return settle(undefined, outcome.value);
          const error = deserializeError(outcome.error);
          const aborted = (error as { code?: unknown }).code === 'ABORT_ERR' || error.name === 'AbortError';
          settle(signal?.aborted && aborted ? abortError(signal) : error);
        },
        (failure: unknown) => {
          if ((failure as Error | undefined)?.name === 'DataCloneError') {
            // The task never left this thread: its arguments could not be sent.
            for (const end of moved) end.abandon(failure as Error);
            link?.port.close();
            return settle(failure);
          }
          // The task did not report back: its thread died (or the pool was destroyed). Its pipes fail on the far side too.
          for (const end of moved) end.markPeerExited(threadId);
          const error = new PeerExitedError(`The pool thread running '${exportName}' exited: ${(failure as Error)?.message ?? failure}`);
          Object.defineProperty(error, 'cause', { value: failure, configurable: true, writable: true });
          settle(error);
        },
      ).finally(() => {
        this.#escalation.disarm(id);
        this.#abortedRunning.delete(id);
        port1.close();
        this.#endLingering();
      });
    });
  }

  /** True unless every thread the pool has, and may start, is known to have its link. */
  #needsLink(): boolean {
    const threads = this.#pool.threads;
    if (this.#linked.size > 2 * this.#pool.maxThreads) this.#linked = new Set(threads.map((thread) => thread.threadId).filter((id) => this.#linked.has(id)));
    return threads.length < this.#pool.maxThreads || threads.some((thread) => !this.#linked.has(thread.threadId));
  }

  /**
   * Lets queued and running tasks finish, then ends the threads. With `timeout`, the runs still
   * pending after that many ms are failed as by destroy().
   */
  close(options?: CloseOptions): Promise<void> {
    const timeout = validateCloseOptions(options);
    this.#stopped = true;
    this.#closing ??= new Promise<void>((resolve) => {
      this.#pool.close().then(resolve, resolve);
      // destroy() ends the wait too, whatever the pool's own close makes of it.
      this.#destroyed.then(resolve);
    });
    this.#endLingering();
    destroyAfter(this.#closing, timeout, () => this.destroy());
    return this.#closing;
  }

  /**
   * While closing, once no run a caller waits for is left, aborted tasks that still run (ignoring
   * their signal) are not waited for: after their grace their threads are ended, as by destroy().
   */
  #endLingering(): void {
    if (this.#closing === null || this.#inFlight.size > 0 || this.#abortedRunning.size === 0 || this.#lingerTimer !== undefined) return;
    this.#lingerTimer = setTimeout(() => {
      if (this.#abortedRunning.size > 0) void this.destroy();
    }, kAnsweredGraceMs);
    this.#lingerTimer.unref();
  }

  /**
   * Terminates every thread now: queued and running runs reject with ERR_SCHEDULER_DESTROYED, and the
   * ends their threads held fail on their far side with ERR_PIPE_PEER_EXITED. New runs are refused.
   */
  destroy(): Promise<void> {
    this.#stopped = true;
    this.#destroying ??= (async () => {
      const runs = [...this.#inFlight];
      const error = new SchedulerDestroyedError(`PoolScheduler was destroyed with ${runs.length} run(s) pending.`);
      for (const fail of runs) fail(error);
      await this.#pool.destroy();
      this.#escalation.disarmAll();
      this.#markDestroyed();
    })();
    return this.#destroying;
  }
}
