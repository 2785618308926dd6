import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';

/** A read or flush suspended right now in this thread. */
export interface PendingOperation {
  /** The pipe, as `Pipe#3` or `SharedPipe#7`. */
  readonly pipe: string;
  readonly operation: 'read' | 'readAtLeast' | 'readSync' | 'flush' | 'flushSync' | 'write';
  /** What would release it: `data`, `at least N bytes`, `the reader to examine below N bytes`, `room in the ring`. */
  readonly waitingFor: string;
  /** When it started waiting (`performance.now()` clock). */
  readonly since: number;
  readonly thread: number;
}

const pending = new Set<PendingOperation>();

/** @internal */
export function trackPending(pipe: string, operation: PendingOperation['operation'], waitingFor: string): PendingOperation {
  const entry: PendingOperation = { pipe, operation, waitingFor, since: performance.now(), thread: threadId };
  pending.add(entry);
  return entry;
}

/** @internal */
export function untrackPending(entry: PendingOperation | null | undefined): void {
  if (entry) pending.delete(entry);
}

/**
 * Every read and flush suspended in this thread — on which pipe, waiting for what, for how long —
 * oldest first, to diagnose a hang.
 */
export function pendingOperations(): (PendingOperation & { readonly waitingMs: number })[] {
  const now = performance.now();
  return [...pending].sort((a, b) => a.since - b.since).map((entry) => ({ ...entry, waitingMs: now - entry.since }));
}
