// Runs one exported function of a user module on this worker thread, with the pipe ends found in its
// arguments revived here. Shared by the dedicated-thread host and the pool task.
import { threadId } from 'node:worker_threads';
import { ExportNotFoundError } from '../src/errors/index.js';
import { reviveEnds } from '../src/ring/revive.js';
import type { SharedPipeReader } from '../src/ring/shared-pipe-reader.js';
import type { SharedPipeWriter } from '../src/ring/shared-pipe-writer.js';
import { moveEnds, type MovedEnd } from '../src/scheduling/movable.js';

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

export async function runTask(moduleUrl: string, exportName: string, args: unknown, signal: AbortSignal): Promise<unknown> {
  const module = await load(moduleUrl);
  const fn = module[exportName];
  if (typeof fn !== 'function') throw new ExportNotFoundError(moduleUrl, exportName);
  const revived: (SharedPipeReader | SharedPipeWriter)[] = [];
  const input = reviveEnds(args, revived);
  // Aborting the task cancels its pipes' pending reads and flushes, so a function blocked on them wakes.
  const onAbort = (): void => {
    for (const end of revived) {
      if ('cancelPendingRead' in end) end.cancelPendingRead();
      else end.cancelPendingFlush();
    }
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const value = await (fn as TaskFunction)(input, { signal, threadId });
    const moved: MovedEnd[] = [];
    return moveEnds(value, moved);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
