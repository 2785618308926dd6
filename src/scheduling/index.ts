export { ThreadScheduler, type ThreadSchedulerOptions } from './thread-scheduler.js';
export { PoolScheduler, type PoolSchedulerOptions } from './pool-scheduler.js';
export { watchWorker } from './watch-worker.js';
export type { CloseOptions, RunOptions } from './run-control.js';
export { move, type Moved } from './transfer.js';
export type { TaskContext } from './task-runner.js';
