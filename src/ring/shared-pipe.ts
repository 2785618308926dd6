import type { DuplexPipe } from '../pipe/duplex-pipe.js';
import { registerSnapshotSource } from '../diagnostics/pending-operations.js';
import { PipeScheduler, validateScheduler } from '../pipe/pipe-scheduler.js';
import { watchHeldEnd } from './end-monitor.js';
import { checkHandle, type SharedPipeHandle } from './shared-pipe-handle.js';
import { SharedPipeReader } from './shared-pipe-reader.js';
import { SharedPipeWriter } from './shared-pipe-writer.js';
import { SharedRing, type RingSide, type SharedPipeOptions } from './shared-ring.js';

/**
 * A pipe whose ends may live in different threads: a lock-free single-producer/single-consumer ring
 * in a SharedArrayBuffer. Both ends start on the creating thread; `handle()` moves one, and the
 * receiving thread revives it with `SharedPipe.reader(handle)` / `SharedPipe.writer(handle)` (the
 * handle is plain data: post it in any message, no transferList). A worker thread that revives an
 * end, or keeps one whose other end moved away, is watched: if it dies holding it, the far end fails
 * with ERR_PIPE_PEER_EXITED (see end-monitor.ts).
 */
export class SharedPipe {
  readonly reader: SharedPipeReader;
  readonly writer: SharedPipeWriter;

  constructor(options?: SharedPipeOptions & LocalEndOptions) {
    const ring = SharedRing.create(options);
    const readerScheduler = validateScheduler('readerScheduler', options?.readerScheduler);
    const writerScheduler = validateScheduler('writerScheduler', options?.writerScheduler);
    ring.attach('reader');
    ring.attach('writer');
    registerSnapshotSource(ring.name, ring);
    this.reader = new SharedPipeReader(ring, readerScheduler);
    this.writer = new SharedPipeWriter(ring, writerScheduler);
  }

  /** Takes over a reader sent to this thread; refused with ERR_PIPE_END_IN_USE if another thread holds it. */
  static reader(handle: SharedPipeHandle, options?: { scheduler?: PipeScheduler }): SharedPipeReader {
    const scheduler = validateScheduler('scheduler', options?.scheduler);
    const ring = new SharedRing(checkHandle(handle, 'reader').buffer);
    ring.attach('reader');
    revived(ring, 'reader', handle);
    return new SharedPipeReader(ring, scheduler);
  }

  /** Takes over a writer sent to this thread; refused with ERR_PIPE_END_IN_USE if another thread holds it. */
  static writer(handle: SharedPipeHandle, options?: { scheduler?: PipeScheduler }): SharedPipeWriter {
    const scheduler = validateScheduler('scheduler', options?.scheduler);
    const ring = new SharedRing(checkHandle(handle, 'writer').buffer);
    ring.attach('writer');
    revived(ring, 'writer', handle);
    return new SharedPipeWriter(ring, scheduler);
  }
}

/** An end taken over here is watched: if this thread dies holding it, its far end fails with ERR_PIPE_PEER_EXITED. */
function revived(ring: SharedRing, side: RingSide, handle: SharedPipeHandle): void {
  registerSnapshotSource(ring.name, ring);
  watchHeldEnd(ring, side, handle.monitor);
}

/** Schedulers of the ends this thread keeps; they do not travel with a handle (each thread picks its own). */
export interface LocalEndOptions {
  /** Where a suspended read of the local reader resumes. Default inline. */
  readerScheduler?: PipeScheduler;
  /** Where a suspended flush of the local writer resumes. Default inline. */
  writerScheduler?: PipeScheduler;
}

/** Two rings, crossed: what one side writes to its `output`, the other reads from its `input`. */
export function createDuplexPair(options?: SharedPipeOptions): [DuplexPipe, DuplexPipe] {
  const forward = new SharedPipe(options);
  const backward = new SharedPipe(options);
  return [
    { input: backward.reader, output: forward.writer },
    { input: forward.reader, output: backward.writer },
  ];
}
