// Argument validation shared by every public constructor and method: each check names the argument
// it refuses, so the message points at the caller's mistake.
import { isArrayBuffer, isArrayBufferView, isSharedArrayBuffer } from 'node:util/types';
import type { TransferListItem } from 'node:worker_threads';
import { AbortError, InvalidArgumentTypeError, InvalidArgumentValueError } from './catalogue.js';

export function validateInteger(name: string, value: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw new InvalidArgumentTypeError(name, value, 'a number');
  if (!Number.isInteger(value)) throw new InvalidArgumentValueError(name, value, 'must be an integer');
  if (value < min || value > max) {
    throw new InvalidArgumentValueError(name, value, max === Number.MAX_SAFE_INTEGER ? `must be >= ${min}` : `must be >= ${min} and <= ${max}`);
  }
  return value;
}

export function validateSignal(name: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined || signal === null) return undefined;
  if (typeof signal !== 'object' || typeof (signal as AbortSignal).aborted !== 'boolean' || typeof (signal as AbortSignal).addEventListener !== 'function') {
    throw new InvalidArgumentTypeError(name, signal, 'an AbortSignal');
  }
  return signal as AbortSignal;
}

/** The error an operation rejects with when its signal aborts; the signal's reason is its cause. */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError('The operation was aborted', { cause: signal.reason });
}

const kTransferable = 'an ArrayBuffer, a MessagePort or another transferable object';

/**
 * One item of a transfer list. The mistakes `postMessage` lets through silently (a detached
 * ArrayBuffer: the task would get nothing) or reports without saying which item (a typed array
 * instead of its buffer, a SharedArrayBuffer, a primitive) are refused here by name; any other
 * object is left for `postMessage` to judge.
 */
export function validateTransferable(name: string, item: unknown): TransferListItem {
  if (typeof item !== 'object' || item === null) throw new InvalidArgumentTypeError(name, item, kTransferable);
  if (isArrayBufferView(item)) throw new InvalidArgumentTypeError(name, item, `${kTransferable}, not a view of one (list its .buffer)`);
  if (isSharedArrayBuffer(item)) throw new InvalidArgumentValueError(name, item, 'is a SharedArrayBuffer, which is shared, never moved (leave it out of the list)');
  if (isArrayBuffer(item) && isDetached(item)) throw new InvalidArgumentValueError(name, item, 'is a detached ArrayBuffer (it was moved already)');
  return item as TransferListItem;
}

/** A transfer list as `postMessage` takes it: an array of distinct transferable objects (see `validateTransferable`). */
export function validateTransferList(name: string, value: unknown): TransferListItem[] {
  if (!Array.isArray(value)) throw new InvalidArgumentTypeError(name, value, 'an array');
  const seen = new Map<unknown, number>();
  for (let i = 0; i < value.length; i++) {
    const item = validateTransferable(`${name}[${i}]`, value[i]);
    const first = seen.get(item);
    if (first !== undefined) throw new InvalidArgumentValueError(`${name}[${i}]`, item, `is listed twice (also at index ${first})`);
    seen.set(item, i);
  }
  return value as TransferListItem[];
}

/** Node 20 has no `ArrayBuffer.prototype.detached`: only a detached buffer refuses a view over it. */
function isDetached(buffer: ArrayBuffer): boolean {
  if (buffer.byteLength > 0) return false;
  try {
    new Uint8Array(buffer);
    return false;
  } catch {
    return true;
  }
}
