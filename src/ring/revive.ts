import { replaceDeep } from './movable.js';
import { isSharedPipeHandle, type SharedPipeHandle } from './shared-pipe-handle.js';
import { SharedPipe } from './shared-pipe.js';
import type { SharedPipeReader } from './shared-pipe-reader.js';
import type { SharedPipeWriter } from './shared-pipe-writer.js';

/**
 * Revives every shared pipe handle found in plain objects and arrays (any depth) on this thread. A
 * handle found twice (structured clone keeps identity within one message) gives the same end twice.
 */
export function reviveEnds(value: unknown, revived: (SharedPipeReader | SharedPipeWriter)[]): unknown {
  const ends = new Map<SharedPipeHandle, SharedPipeReader | SharedPipeWriter>();
  return replaceDeep(value, isSharedPipeHandle, (handle) => {
    let end = ends.get(handle);
    if (end === undefined) {
      end = handle.side === 'reader' ? SharedPipe.reader(handle) : SharedPipe.writer(handle);
      ends.set(handle, end);
      revived.push(end);
    }
    return end;
  });
}
