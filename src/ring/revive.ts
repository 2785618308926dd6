import { replaceDeep } from '../scheduling/movable.js';
import { isSharedPipeHandle } from './shared-pipe-handle.js';
import { SharedPipe } from './shared-pipe.js';
import type { SharedPipeReader } from './shared-pipe-reader.js';
import type { SharedPipeWriter } from './shared-pipe-writer.js';

/** Revives every shared pipe handle found in plain objects and arrays (any depth) on this thread. */
export function reviveEnds(value: unknown, revived: (SharedPipeReader | SharedPipeWriter)[]): unknown {
  return replaceDeep(value, isSharedPipeHandle, (handle) => {
    const end = handle.side === 'reader' ? SharedPipe.reader(handle) : SharedPipe.writer(handle);
    revived.push(end);
    return end;
  });
}
