export { createDuplexPair, SharedPipe } from './shared-pipe.js';
export { isSharedPipeHandle, type SharedPipeHandle } from './shared-pipe-handle.js';
export { SharedPipeReader } from './shared-pipe-reader.js';
export { SharedPipeWriter } from './shared-pipe-writer.js';
export type { RingStats, SharedPipeOptions } from './shared-ring.js';
export { reviveEnds } from './revive.js';
export { ReadySet, type ReadySetHandle, type ReadySetOptions, type ReadySetStats } from './ready-set.js';
