// Argument validation shared by every public constructor and method: each check names the argument
// it refuses, so the message points at the caller's mistake.
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
