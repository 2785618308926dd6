export { MemoryPool, ReadOnlySequence, SequencePosition, SequenceReader } from './buffers/index.js';
export type { MemoryPoolOptions, SequenceSegment } from './buffers/index.js';
export { Pipe, PipeReader, PipeScheduler, PipeWriter } from './pipe/index.js';
export type { ChunksOptions, DuplexPipe, FlushResult, OperationOptions, PipeOptions, ReadResult, WriteOptions } from './pipe/index.js';
export { channels, pendingOperations, type PendingOperation, type RingEndSnapshot, type RingSnapshot } from './diagnostics/index.js';
export { move, PoolScheduler, ThreadScheduler, watchWorker } from './scheduling/index.js';
export type { CloseOptions, Moved, PoolSchedulerOptions, RunOptions, TaskContext, ThreadSchedulerOptions } from './scheduling/index.js';
export { createDuplexPair, isSharedPipeHandle, ReadySet, SharedPipe, SharedPipeReader, SharedPipeWriter } from './ring/index.js';
export type { ReadySetHandle, ReadySetOptions, ReadySetStats, RingStats, SharedPipeHandle, SharedPipeOptions } from './ring/index.js';
export {
  AbortError,
  AdvanceOutOfRangeError,
  ExportNotFoundError,
  FlushCanceledError,
  FlushPendingError,
  FrameTooLargeError,
  InvalidArgumentTypeError,
  InvalidArgumentValueError,
  InvalidFrameError,
  NoReadToAdvanceError,
  PeerExitedError,
  PipeCompletedError,
  PipeEndInUseError,
  PipeEndMovedError,
  PipeNotCompletedError,
  ReadCanceledError,
  ReaderCompletedError,
  ReadPendingError,
  ReadySetInUseError,
  RingLimitError,
  SameThreadWaitError,
  SchedulerClosedError,
  SchedulerDestroyedError,
  ThreadpipeError,
  UnreadableErrorRecordError,
  WriteBeyondMemoryError,
  type AdvanceOutOfRangeReason,
  type PipeSide,
} from './errors/index.js';
export {
  createReader,
  createWriter,
  duplex,
  PipeShutdownKind,
  SocketConnection,
  StreamConnection,
  toReadable,
  toReadableStream,
  toWritable,
  toWritableStream,
  type ConnectionReadiness,
  type CreateReaderOptions,
  type CreateWriterOptions,
  type DuplexTransport,
  type SocketConnectionOptions,
  type StreamConnectionOptions,
} from './io/index.js';
export {
  forEachFrame,
  forEachLine,
  readFrameBatches,
  readFrames,
  readLineBatches,
  readLines,
  writeFrame,
  type FrameCallback,
  type FramePrefix,
  type LineCallback,
  type ReadFramesOptions,
  type ReadLinesOptions,
} from './framing/index.js';
