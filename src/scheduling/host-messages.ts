import type { ErrorRecord } from '../errors/serialization.js';

/*
 * The messages between a scheduler and the thread that runs its tasks, used on both sides of the
 * thread boundary.
 */

/** ThreadScheduler → its thread. */
export type SchedulerMessage =
  | { type: 'run'; id: number; exportName: string; args: unknown }
  | { type: 'abort'; id: number };

/** Its thread → ThreadScheduler. */
export type HostMessage =
  | { type: 'done'; id: number; value: unknown }
  | { type: 'fail'; id: number; error: ErrorRecord }
  /** The thread's event loop received the abort: it is not blocked, so the run is canceled cooperatively. */
  | { type: 'abort-seen'; id: number };

/** PoolScheduler → a pool task, on the task's port. */
export type TaskControl = 'abort';

/** A pool task → PoolScheduler, on the task's port. */
export type TaskReport =
  /** `linked`: the pool thread has its link, so later tasks on it need not bring one. */
  | { type: 'started'; threadId: number; linked: boolean }
  | { type: 'abort-seen' };

/** What a PoolScheduler hands to piscina. */
export interface PoolTask {
  module: string;
  exportName: string;
  args: unknown;
  /** Abort requests in, reports out. */
  port: unknown;
  /** A link for the pool thread, if it may have none yet (see thread-links). */
  link?: unknown;
  /** The monitor holding the link's partner. */
  monitor?: number | undefined;
}

export type PoolOutcome = { ok: true; value: unknown } | { ok: false; error: ErrorRecord };
