import { ReadOnlySequence } from '../buffers/read-only-sequence.js';

export interface ReadResult {
  readonly buffer: ReadOnlySequence;
  readonly isCanceled: boolean;
  readonly isCompleted: boolean;
}

export interface FlushResult {
  readonly isCanceled: boolean;
  readonly isCompleted: boolean;
}

export interface OperationOptions {
  signal?: AbortSignal;
}

export function readResult(buffer: ReadOnlySequence, isCanceled: boolean, isCompleted: boolean): ReadResult {
  return { buffer, isCanceled, isCompleted };
}

const flushResults: readonly FlushResult[] = [
  Object.freeze({ isCanceled: false, isCompleted: false }),
  Object.freeze({ isCanceled: false, isCompleted: true }),
  Object.freeze({ isCanceled: true, isCompleted: false }),
  Object.freeze({ isCanceled: true, isCompleted: true }),
];

// Resolved promises can be handed out any number of times, so a flush that completes at once allocates nothing.
const settledFlushes: readonly Promise<FlushResult>[] = flushResults.map((result) => Promise.resolve(result));

/** One of four frozen results: flush results carry no data, so they are shared. */
export function flushResult(isCanceled: boolean, isCompleted: boolean): FlushResult {
  return flushResults[(isCanceled ? 2 : 0) + (isCompleted ? 1 : 0)]!;
}

export function settledFlush(isCanceled: boolean, isCompleted: boolean): Promise<FlushResult> {
  return settledFlushes[(isCanceled ? 2 : 0) + (isCompleted ? 1 : 0)]!;
}

/** @internal True when a flush promise is one of the shared settled ones: it completed without waiting. */
export function settledFlushResult(promise: Promise<FlushResult>): FlushResult | null {
  const index = settledFlushes.indexOf(promise);
  return index < 0 ? null : flushResults[index]!;
}
