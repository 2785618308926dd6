import { InvalidArgumentTypeError } from '../errors/index.js';

/** Decides where a suspended read or flush resumes. */
export interface PipeScheduler {
  schedule<T>(callback: (state: T) => void, state: T): void;
}

const inline: PipeScheduler = Object.freeze({
  schedule<T>(callback: (state: T) => void, state: T): void {
    callback(state);
  },
});

const immediate: PipeScheduler = Object.freeze({
  schedule<T>(callback: (state: T) => void, state: T): void {
    setImmediate(callback, state);
  },
});

/**
 * `inline` resumes from inside the call that released the operation (the awaiting code still runs
 * as a promise continuation after that call returns); `immediate` defers to `setImmediate`, so I/O
 * callbacks interleave and the releasing call never runs the resumed side's work.
 */
export const PipeScheduler: { readonly inline: PipeScheduler; readonly immediate: PipeScheduler } = Object.freeze({ inline, immediate });

/** A scheduler option's value, defaulting to inline. */
export function validateScheduler(name: string, scheduler: PipeScheduler | undefined): PipeScheduler {
  if (scheduler === undefined) return PipeScheduler.inline;
  if (typeof scheduler !== 'object' || scheduler === null || typeof scheduler.schedule !== 'function') {
    throw new InvalidArgumentTypeError(name, scheduler, 'a PipeScheduler (an object with a schedule method)');
  }
  return scheduler;
}

/**
 * `value` delivered through `scheduler`: as it is for inline (no extra promise on the hot path), else
 * a promise the scheduler settles. For async waits that end on another thread's signal.
 */
export function resumeOn<T>(scheduler: PipeScheduler, value: T): T | Promise<T> {
  if (scheduler === PipeScheduler.inline) return value;
  return new Promise<T>((resolve) => scheduler.schedule(resolve, value));
}
