import { InvalidArgumentTypeError } from '../errors/index.js';
import type { RingSide } from './shared-ring.js';

const kHandleKind = 'threadpipe.SharedPipeHandle';

/** A structured-cloneable ticket for one end of a SharedPipe; post it to the thread that takes the end over. */
export interface SharedPipeHandle {
  readonly kind: typeof kHandleKind;
  readonly side: RingSide;
  readonly buffer: SharedArrayBuffer;
}

export function makeHandle(side: RingSide, buffer: SharedArrayBuffer): SharedPipeHandle {
  return { kind: kHandleKind, side, buffer };
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
