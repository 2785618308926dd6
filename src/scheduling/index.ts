export { ThreadScheduler, type ThreadSchedulerOptions } from './thread-scheduler.js';
export { PoolScheduler, type PoolSchedulerOptions } from './pool-scheduler.js';
export { watchWorker } from './watch-worker.js';
export type { CloseOptions } from './run-control.js';
