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

/** One end of a shared ring, as a snapshot sees it. */
export interface RingEndSnapshot {
  /** The thread holding the end (a thread that died holding it stays named), or -1 when none does (in transit, or completed). */
  readonly thread: number;
  readonly state: 'open' | 'completed' | 'faulted';
  /** Marked as held by a thread that died. */
  readonly exited: boolean;
  /** What the end waits for right now (`data`, `at least N unexamined bytes`, `room for N bytes`, …), or null. */
  readonly waitingFor: string | null;
}

/** The shared state of a ring at one moment, read from its shared memory: who holds what, who waits for what. */
export interface RingSnapshot {
  readonly pipe: string;
  readonly capacity: number;
  /** What the ring may grow to (the capacity when it cannot grow). */
  readonly maxCapacity: number;
  /** Running byte totals: published by the writer, consumed and examined by the reader. */
  readonly written: number;
  readonly consumed: number;
  readonly examined: number;
  /** Published data bytes not yet consumed, and not yet examined. */
  readonly unconsumed: number;
  readonly unexamined: number;
  readonly pauseWriterThreshold: number;
  readonly resumeWriterThreshold: number;
  /** The unexamined bytes reach the pause threshold: a flush that got there waits for the reader. */
  readonly paused: boolean;
  readonly reader: RingEndSnapshot;
  readonly writer: RingEndSnapshot;
}

/** What can describe a pipe's shared state (a ring); held weakly. */
export interface SnapshotSource {
  snapshot(): RingSnapshot;
}

const pending = new Set<PendingOperation>();
const sources = new Map<string, WeakRef<SnapshotSource>>();
const forget = new FinalizationRegistry<string>((pipe) => {
  if (sources.get(pipe)?.deref() === undefined) sources.delete(pipe);
});

/** @internal Lets pending operations on `pipe` carry a snapshot of its shared state. */
export function registerSnapshotSource(pipe: string, source: SnapshotSource): void {
  sources.set(pipe, new WeakRef(source));
  forget.register(source, pipe);
}

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
 * oldest first, to diagnose a hang. An operation on a shared ring carries a `snapshot` of the ring's
 * shared state: positions, unexamined bytes, pause state, what each end waits for and which thread
 * holds it.
 */
export function pendingOperations(): (PendingOperation & { readonly waitingMs: number; readonly snapshot?: RingSnapshot })[] {
  const now = performance.now();
  return [...pending].sort((a, b) => a.since - b.since).map((entry) => {
    const snapshot = sources.get(entry.pipe)?.deref()?.snapshot();
    return snapshot === undefined ? { ...entry, waitingMs: now - entry.since } : { ...entry, waitingMs: now - entry.since, snapshot };
  });
}
