import type { DuplexPipe } from '../pipe/duplex-pipe.js';
import { checkHandle, type SharedPipeHandle } from './shared-pipe-handle.js';
import { SharedPipeReader } from './shared-pipe-reader.js';
import { SharedPipeWriter } from './shared-pipe-writer.js';
import { SharedRing, type SharedPipeOptions } from './shared-ring.js';

/**
 * A pipe whose ends may live in different threads: a lock-free single-producer/single-consumer ring
 * in a SharedArrayBuffer. Both ends start on the creating thread; `handle()` moves one, and the
 * receiving thread revives it with `SharedPipe.reader(handle)` / `SharedPipe.writer(handle)`.
 */
export class SharedPipe {
  readonly reader: SharedPipeReader;
  readonly writer: SharedPipeWriter;

  constructor(options?: SharedPipeOptions) {
    const ring = SharedRing.create(options);
    ring.attach('reader');
    ring.attach('writer');
    this.reader = new SharedPipeReader(ring);
    this.writer = new SharedPipeWriter(ring);
  }

  /** Takes over a reader sent to this thread; refused with ERR_PIPE_END_IN_USE if another thread holds it. */
  static reader(handle: SharedPipeHandle): SharedPipeReader {
    const ring = new SharedRing(checkHandle(handle, 'reader').buffer);
    ring.attach('reader');
    return new SharedPipeReader(ring);
  }

  /** Takes over a writer sent to this thread; refused with ERR_PIPE_END_IN_USE if another thread holds it. */
  static writer(handle: SharedPipeHandle): SharedPipeWriter {
    const ring = new SharedRing(checkHandle(handle, 'writer').buffer);
    ring.attach('writer');
    return new SharedPipeWriter(ring);
  }
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
