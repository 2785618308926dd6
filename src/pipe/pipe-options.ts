import { MemoryPool } from '../buffers/memory-pool.js';
import { InvalidArgumentTypeError, InvalidArgumentValueError, validateInteger } from '../errors/index.js';
import { PipeScheduler, validateScheduler } from './pipe-scheduler.js';

export interface PipeOptions {
  /** Where segments' memory comes from. Default `MemoryPool.shared`. */
  pool?: MemoryPool;
  /** Where a suspended read resumes. Default `PipeScheduler.inline`. */
  readerScheduler?: PipeScheduler;
  /** Where a suspended flush resumes. Default `PipeScheduler.inline`. */
  writerScheduler?: PipeScheduler;
  /** Unexamined bytes at which a flush waits. Default 65536; 0 turns backpressure off. */
  pauseWriterThreshold?: number;
  /** A paused writer resumes when unexamined bytes fall below this. Default half the pause threshold, rounded up. */
  resumeWriterThreshold?: number;
  /** The smallest block a segment rents. Default 4096. */
  minimumSegmentSize?: number;
}

export const kDefaultPauseWriterThreshold = 65536;
export const kDefaultMinimumSegmentSize = 4096;

/** Validated options with every default filled in. */
export interface ResolvedPipeOptions {
  readonly pool: MemoryPool;
  readonly readerScheduler: PipeScheduler;
  readonly writerScheduler: PipeScheduler;
  readonly pauseWriterThreshold: number;
  readonly resumeWriterThreshold: number;
  readonly minimumSegmentSize: number;
}

export function resolvePipeOptions(options: PipeOptions | undefined): ResolvedPipeOptions {
  if (options === null || (options !== undefined && typeof options !== 'object')) {
    throw new InvalidArgumentTypeError('options', options, 'an object');
  }
  const o = options ?? {};
  const pool = o.pool ?? MemoryPool.shared;
  if (!(pool instanceof MemoryPool)) throw new InvalidArgumentTypeError('pool', pool, 'a MemoryPool');
  const pause = validateInteger('pauseWriterThreshold', o.pauseWriterThreshold ?? kDefaultPauseWriterThreshold, 0);
  // Half the pause threshold, rounded up: an explicit small pause stays valid, and a pause of 1
  // still gets a resume threshold (1) that the reader can fall below.
  const resume = validateInteger('resumeWriterThreshold', o.resumeWriterThreshold ?? Math.ceil(pause / 2), 0);
  if (resume > pause) {
    throw new InvalidArgumentValueError('resumeWriterThreshold', resume, `must be <= pauseWriterThreshold (${pause})`);
  }
  return {
    pool,
    readerScheduler: validateScheduler('readerScheduler', o.readerScheduler),
    writerScheduler: validateScheduler('writerScheduler', o.writerScheduler),
    pauseWriterThreshold: pause,
    resumeWriterThreshold: resume,
    minimumSegmentSize: validateInteger('minimumSegmentSize', o.minimumSegmentSize ?? kDefaultMinimumSegmentSize, 0, 1 << 30),
  };
}
