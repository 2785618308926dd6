import { isPlainObject } from '../scheduling/movable.js';
import { isSharedPipeHandle } from './shared-pipe-handle.js';
import { SharedPipe } from './shared-pipe.js';
import type { SharedPipeReader } from './shared-pipe-reader.js';
import type { SharedPipeWriter } from './shared-pipe-writer.js';

/** Revives every shared pipe handle found in plain objects and arrays (any depth) on this thread. */
export function reviveEnds(value: unknown, revived: (SharedPipeReader | SharedPipeWriter)[]): unknown {
  if (isSharedPipeHandle(value)) {
    const end = value.side === 'reader' ? SharedPipe.reader(value) : SharedPipe.writer(value);
    revived.push(end);
    return end;
  }
  if (Array.isArray(value)) return value.map((item) => reviveEnds(item, revived));
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = reviveEnds(item, revived);
    return copy;
  }
  return value;
}
