export { MemoryPool, type MemoryPoolOptions } from './memory-pool.js';
export { ReadOnlySequence } from './read-only-sequence.js';
export { SequencePosition } from './sequence-position.js';
export { SequenceReader } from './sequence-reader.js';
export type { SequenceSegment } from './sequence-segment.js';
