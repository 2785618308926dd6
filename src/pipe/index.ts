export { Pipe } from './pipe.js';
export { PipeScheduler } from './pipe-scheduler.js';
export { PipeReader } from './pipe-reader.js';
export { PipeWriter } from './pipe-writer.js';
export type { PipeOptions } from './pipe-options.js';
export type { FlushResult, OperationOptions, ReadResult, WriteOptions } from './results.js';
export type { DuplexPipe } from './duplex-pipe.js';
export type { ChunksOptions } from './reader-iteration.js';
