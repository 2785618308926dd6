// Runs one exported function of a user module on this worker thread, with the pipe ends found in its
// arguments revived here. Shared by the dedicated-thread host and the pool task.
import { threadId, type TransferListItem } from 'node:worker_threads';
import { ExportNotFoundError } from '../errors/index.js';
import { reviveEnds } from '../ring/revive.js';
import type { SharedPipeReader } from '../ring/shared-pipe-reader.js';
import type { SharedPipeWriter } from '../ring/shared-pipe-writer.js';
import { moveEnds, type MovedEnd } from '../ring/movable.js';
import { unwrapMoved } from './transfer.js';

/** What a scheduled function receives besides its arguments. */
export interface TaskContext {
  readonly signal: AbortSignal;
  readonly threadId: number;
}

type TaskFunction = (args: unknown, context: TaskContext) => unknown;

const modules = new Map<string, Promise<Record<string, unknown>>>();

function load(moduleUrl: string): Promise<Record<string, unknown>> {
  let loading = modules.get(moduleUrl);
  if (loading === undefined) {
    loading = import(moduleUrl) as Promise<Record<string, unknown>>;
    modules.set(moduleUrl, loading);
    // A failed import is not cached, so a later run reports the same clear error rather than a stale one.
    loading.catch(() => modules.delete(moduleUrl));
  }
  return loading;
}

/** What a result's transfer list is called in the errors about it. */
export const kResultList = 'result.transferList';

/** What a task's function returned, ready to send: the value, and what moves with it (from `move()`). */
export interface TaskResult {
  readonly value: unknown;
  readonly transferList: TransferListItem[];
}

/**
 * Runs `exportName(args, context)` with the pipe ends in `args` revived here. The run owns those
 * ends: when it settles, each one it did not complete or hand on is completed, with the run's error
 * if it threw, so the far end never waits for a task that has returned. Handing an end on means
 * moving it away: returning it (or its handle) in the result, or calling its `handle()` to send it
 * elsewhere. A result made by `move()` is unwrapped, its transfer list checked here, on the task's side.
 */
export async function runTask(moduleUrl: string, exportName: string, args: unknown, signal: AbortSignal): Promise<TaskResult> {
  const revived: (SharedPipeReader | SharedPipeWriter)[] = [];
  // Aborting the task cancels its pipes' pending reads and flushes, so a function blocked on them wakes.
  const onAbort = (): void => {
    for (const end of revived) {
      if ('cancelPendingRead' in end) end.cancelPendingRead();
      else end.cancelPendingFlush();
    }
  };
  let failure: { error: unknown } | undefined;
  try {
    // Revived first: a module that fails to load still settles the ends it was given.
    const input = reviveEnds(args, revived);
    const module = await load(moduleUrl);
    const fn = module[exportName];
    if (typeof fn !== 'function') throw new ExportNotFoundError(moduleUrl, exportName);
    signal.addEventListener('abort', onAbort, { once: true });
    const result = unwrapMoved(await (fn as TaskFunction)(input, { signal, threadId }), 'result');
    const moved: MovedEnd[] = [];
    return { value: moveEnds(result.value, moved, 'result'), transferList: result.transferList };
  } catch (error) {
    failure = { error };
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    completeEnds(revived, failure);
  }
}

/** Completes each end still held here; one moved on (handed on) is left alone. */
function completeEnds(ends: readonly (SharedPipeReader | SharedPipeWriter)[], failure: { error: unknown } | undefined): void {
  const error = failure === undefined ? undefined : failure.error instanceof Error ? failure.error : new Error(String(failure.error));
  for (const end of ends) {
    try {
      end.complete(error);
    } catch (problem) {
      if ((problem as { code?: unknown }).code !== 'ERR_PIPE_END_MOVED') throw problem;
    }
  }
}
