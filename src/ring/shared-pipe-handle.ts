import { InvalidArgumentTypeError } from '../errors/index.js';
import { monitorForHandles } from './thread-links.js';
import { watchHeldEnd } from './end-monitor.js';
import * as L from './layout.js';
import { kHolderId, SharedRing, type RingSide } from './shared-ring.js';

const kHandleKind = 'threadpipe.SharedPipeHandle';

/** A structured-cloneable ticket for one end of a SharedPipe; post it to the thread that takes the end over. */
export interface SharedPipeHandle {
  readonly kind: typeof kHandleKind;
  readonly side: RingSide;
  readonly buffer: SharedArrayBuffer;
  /** The thread id of the monitor the reviving thread asks for a link, when it has none. */
  readonly monitor?: number;
}

/**
 * The handle of an end that just moved (its holder word is cleared). When this thread keeps the
 * other end, that end is watched from now on: the thread reviving this handle may be left waiting on
 * it if this thread dies.
 */
export function makeHandle(side: RingSide, buffer: SharedArrayBuffer): SharedPipeHandle {
  let monitor: number | undefined;
  try {
    // Before the watch below, so that a thread that starts its own monitor links to it directly.
    monitor = monitorForHandles();
    const other = side === 'reader' ? L.WRITER_HOLDER : L.READER_HOLDER;
    if (Atomics.load(new Int32Array(buffer, 0, L.kHeaderBytes / 4), other) === kHolderId) {
      watchHeldEnd(new SharedRing(buffer), side === 'reader' ? 'writer' : 'reader');
    }
  } catch {
    // The end has moved already; watching is a safety net that must not make the move fail.
  }
  return monitor === undefined ? { kind: kHandleKind, side, buffer } : { kind: kHandleKind, side, buffer, monitor };
}

export function isSharedPipeHandle(value: unknown): value is SharedPipeHandle {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as SharedPipeHandle).kind === kHandleKind &&
    ((value as SharedPipeHandle).side === 'reader' || (value as SharedPipeHandle).side === 'writer') &&
    (value as SharedPipeHandle).buffer instanceof SharedArrayBuffer
  );
}

export function checkHandle(value: unknown, side: RingSide): SharedPipeHandle {
  if (!isSharedPipeHandle(value) || value.side !== side) {
    throw new InvalidArgumentTypeError('handle', value, `a handle from SharedPipe${side === 'reader' ? 'Reader' : 'Writer'}.handle()`);
  }
  return value;
}
