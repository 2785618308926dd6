import { createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { abortError, InvalidArgumentTypeError, PeerExitedError, SchedulerClosedError, validateInteger, validateSignal } from '../errors/index.js';
import { deserializeError, type ErrorRecord } from '../errors/serialization.js';
import type { OperationOptions } from '../pipe/results.js';
import { channels } from '../diagnostics/channels.js';
import { moveEnds, type MovedEnd } from './movable.js';
import { moduleUrl, validateExportName } from './module-url.js';

export interface PoolSchedulerOptions {
  minThreads?: number;
  maxThreads?: number;
  /** How many tasks one thread runs at once: long-running pipe handlers interleave on its event loop. */
  concurrentTasksPerThread?: number;
  /** How long an idle thread lives, in ms. */
  idleTimeout?: number;
}

type PoolOutcome = { ok: true; value: unknown } | { ok: false; error: ErrorRecord };

let runIds = 0;

const kTaskEntry = new URL('../../workers/pool-task.js', import.meta.url).href;

let PiscinaClass: typeof Piscina | undefined;

/** piscina is loaded by the first PoolScheduler, so importing threadpipe does not load it. */
function loadPiscina(): typeof Piscina {
  PiscinaClass ??= (createRequire(import.meta.url)('piscina') as typeof import('piscina')).Piscina;
  return PiscinaClass;
}

/**
 * The same `run()` contract as ThreadScheduler over a pool of threads (piscina underneath). Aborting
 * a run cancels that task cooperatively (its function sees the signal, its pipes are canceled); the
 * thread and the tasks beside it keep running.
 */
export class PoolScheduler {
  readonly module: string;
  readonly #pool: Piscina;
  #closing: Promise<void> | null = null;

  constructor(module: string | URL, options: PoolSchedulerOptions = {}) {
    this.module = moduleUrl(module);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
    const settings: Record<string, unknown> = { filename: kTaskEntry };
    if (options.minThreads !== undefined) settings.minThreads = validateInteger('minThreads', options.minThreads, 0, 1024);
    if (options.maxThreads !== undefined) settings.maxThreads = validateInteger('maxThreads', options.maxThreads, 1, 1024);
    if (options.concurrentTasksPerThread !== undefined) {
      settings.concurrentTasksPerWorker = validateInteger('concurrentTasksPerThread', options.concurrentTasksPerThread, 1, 100_000);
    }
    if (options.idleTimeout !== undefined) settings.idleTimeout = validateInteger('idleTimeout', options.idleTimeout, 0);
    const Pool = loadPiscina();
    this.#pool = new Pool(settings);
  }

  get threads(): number {
    return this.#pool.threads.length;
  }

  run<T>(exportName: string, args?: unknown, options?: OperationOptions): Promise<T> {
    validateExportName(exportName);
    const signal = validateSignal('options.signal', options?.signal);
    if (this.#closing !== null) return Promise.reject(new SchedulerClosedError());
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const moved: MovedEnd[] = [];
    const task = { module: this.module, exportName, args: moveEnds(args, moved), port: undefined as unknown };
    const { port1, port2 } = new MessageChannel();
    task.port = port2;
    let threadId = -2;
    port1.on('message', (message: { threadId?: number }) => {
      if (typeof message.threadId === 'number') threadId = message.threadId;
    });
    port1.unref();
    // The task's thread aborts its signal, then cancels its pipes: the function sees the abort first.
    const onAbort = (): void => port1.postMessage('abort');
    signal?.addEventListener('abort', onAbort, { once: true });
    const event = { scheduler: 'PoolScheduler', thread: -1, exportName, id: ++runIds };
    if (channels.runStart.hasSubscribers) channels.runStart.publish(event);
    const finish = (error?: unknown): void => {
      if (channels.runEnd.hasSubscribers) channels.runEnd.publish({ ...event, thread: threadId, ...(error === undefined ? {} : { error }) });
      signal?.removeEventListener('abort', onAbort);
      port1.close();
    };
    return (this.#pool.run(task, { transferList: [port2] }) as Promise<PoolOutcome>).then(
      (outcome) => {
        if (outcome.ok) {
          finish();
          return outcome.value as T;
        }
        const error = deserializeError(outcome.error);
        finish(error);
        const aborted = (error as { code?: unknown }).code === 'ABORT_ERR' || error.name === 'AbortError';
        throw signal?.aborted && aborted ? abortError(signal) : error;
      },
      (failure: unknown) => {
        finish(failure);
        if ((failure as Error | undefined)?.name === 'DataCloneError') {
          // The task never left this thread: its arguments could not be sent.
          for (const end of moved) end.abandon(failure as Error);
          throw failure;
        }
        // The task did not report back: its thread died. Its pipes fail on the far side too.
        for (const end of moved) end.markPeerExited(threadId);
        const error = new PeerExitedError(`The pool thread running '${exportName}' exited: ${(failure as Error)?.message ?? failure}`);
        Object.defineProperty(error, 'cause', { value: failure, configurable: true, writable: true });
        throw error;
      },
    );
  }

  /** Lets queued and running tasks finish, then ends the threads. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.close();
    return this.#closing;
  }
}
