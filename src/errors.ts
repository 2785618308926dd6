// Every error threadpipe raises has a stable `code`. Misuse throws synchronously; failures of the
// other end reach the next read or flush as a rejection. Errors that cross threads travel as an
// `ErrorRecord` and are rebuilt here with their class and code.

const kThreadpipeError = Symbol.for('threadpipe.error');

function brand(error: Error): void {
  Object.defineProperty(error, kThreadpipeError, { value: true, enumerable: false });
}

/** Base class of threadpipe's own errors. `instanceof` also works across realms and threads. */
export class ThreadpipeError extends Error {
  readonly code: string;

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ThreadpipeError';
    this.code = code;
    brand(this);
  }

  static override [Symbol.hasInstance](instance: unknown): boolean {
    return typeof instance === 'object' && instance !== null && (instance as Record<symbol, unknown>)[kThreadpipeError] === true;
  }
}

/** A bad option or argument value (`ERR_INVALID_ARG_VALUE`), a `RangeError` as in Node. */
export class InvalidArgumentValueError extends RangeError {
  readonly code = 'ERR_INVALID_ARG_VALUE';
  readonly argument: string;

  constructor(argument: string, value: unknown, reason: string) {
    super(`The argument '${argument}' ${reason}. Received ${describe(value)}`);
    this.name = 'RangeError';
    this.argument = argument;
    brand(this);
  }
}

/** An argument of the wrong kind (`ERR_INVALID_ARG_VALUE`), a `TypeError` as in Node. */
export class InvalidArgumentTypeError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_VALUE';
  readonly argument: string;

  constructor(argument: string, value: unknown, expected: string) {
    super(`The argument '${argument}' must be ${expected}. Received ${describe(value)}`);
    this.name = 'TypeError';
    this.argument = argument;
    brand(this);
  }
}

export class NoReadToAdvanceError extends ThreadpipeError {
  constructor() {
    super('No reading operation to complete: advanceTo() needs an outstanding read result.', 'ERR_PIPE_NO_READ_TO_ADVANCE');
    this.name = 'NoReadToAdvanceError';
  }
}

export class AdvanceOutOfRangeError extends ThreadpipeError {
  constructor(message: string) {
    super(message, 'ERR_PIPE_ADVANCE_OUT_OF_RANGE');
    this.name = 'AdvanceOutOfRangeError';
  }
}

export class ReadPendingError extends ThreadpipeError {
  constructor() {
    super('Reading is already in progress: advance the last result or await the pending read first.', 'ERR_PIPE_READ_PENDING');
    this.name = 'ReadPendingError';
  }
}

export class FlushPendingError extends ThreadpipeError {
  constructor() {
    super('A flush is already pending: await it before flushing or writing again.', 'ERR_PIPE_FLUSH_PENDING');
    this.name = 'FlushPendingError';
  }
}

/** `advance(n)` beyond what `getMemory` handed out; a `RangeError` too. */
export class WriteBeyondMemoryError extends RangeError {
  readonly code = 'ERR_PIPE_WRITE_BEYOND_MEMORY';

  constructor(bytes: number, available: number) {
    super(`Cannot advance ${bytes} bytes: only ${available} bytes of memory were handed out by getMemory().`);
    this.name = 'RangeError';
    brand(this);
  }
}

export class PipeCompletedError extends ThreadpipeError {
  constructor(side: 'reader' | 'writer') {
    super(
      side === 'reader'
        ? 'Reading is not allowed after the reader was completed.'
        : 'Writing is not allowed after the writer was completed.',
      'ERR_PIPE_COMPLETED',
    );
    this.name = 'PipeCompletedError';
  }
}

export class PipeNotCompletedError extends ThreadpipeError {
  constructor() {
    super('Both the reader and the writer have to be completed to reset the pipe.', 'ERR_PIPE_NOT_COMPLETED');
    this.name = 'PipeNotCompletedError';
  }
}

export class PipeEndMovedError extends ThreadpipeError {
  constructor(side: 'reader' | 'writer') {
    super(`This ${side} end was moved to another thread by handle(); only cancelPending${side === 'reader' ? 'Read' : 'Flush'}() still works here.`, 'ERR_PIPE_END_MOVED');
    this.name = 'PipeEndMovedError';
  }
}

export class PipeEndInUseError extends ThreadpipeError {
  constructor(side: 'reader' | 'writer', holder: number) {
    super(`The ${side} end of this shared pipe is already held by thread ${holder}.`, 'ERR_PIPE_END_IN_USE');
    this.name = 'PipeEndInUseError';
  }
}

export class PeerExitedError extends ThreadpipeError {
  constructor(message = 'The thread holding the other end of the pipe exited without completing it.') {
    super(message, 'ERR_PIPE_PEER_EXITED');
    this.name = 'PeerExitedError';
  }
}

export class FrameTooLargeError extends ThreadpipeError {
  readonly size: number;
  readonly limit: number;

  constructor(what: string, size: number, limit: number) {
    super(`${what} of ${size} bytes exceeds the limit of ${limit} bytes.`, 'ERR_FRAME_TOO_LARGE');
    this.name = 'FrameTooLargeError';
    this.size = size;
    this.limit = limit;
  }
}

/** `getMemory` on a shared ring with no contiguous room right now: flush, await it, then ask again. */
export class RingFullError extends ThreadpipeError {
  readonly requested: number;
  readonly available: number;

  constructor(requested: number, available: number) {
    super(`The ring has ${available} free bytes, not the ${requested} contiguous bytes asked for: await flush() (it waits for room) before asking for more memory, or use write().`, 'ERR_PIPE_RING_FULL');
    this.name = 'RingFullError';
    this.requested = requested;
    this.available = available;
  }
}

export class SchedulerClosedError extends ThreadpipeError {
  constructor(message = 'The scheduler is closed: it accepts no more work.') {
    super(message, 'ERR_SCHEDULER_CLOSED');
    this.name = 'SchedulerClosedError';
  }
}

export class ExportNotFoundError extends ThreadpipeError {
  constructor(module: string, exportName: string) {
    super(`The module ${module} has no exported function named '${exportName}'.`, 'ERR_SCHEDULER_EXPORT_NOT_FOUND');
    this.name = 'ExportNotFoundError';
  }
}

/** A frame that is malformed (a bad length prefix) or cut short by the end of the stream. */
export class InvalidFrameError extends ThreadpipeError {
  constructor(message: string) {
    super(message, 'ERR_FRAME_INVALID');
    this.name = 'InvalidFrameError';
  }
}

/** An operation stopped by an `AbortSignal` or by a pending-read/flush cancellation. */
export class AbortError extends ThreadpipeError {
  constructor(message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, 'ABORT_ERR', options);
    this.name = 'AbortError';
  }
}

export class ReadCanceledError extends AbortError {
  constructor() {
    super('Read was canceled on the underlying PipeReader.');
  }
}

export class FlushCanceledError extends AbortError {
  constructor() {
    super('Flush was canceled on the underlying PipeWriter.');
  }
}

export function abortError(signal: AbortSignal): AbortError {
  return new AbortError('The operation was aborted', { cause: signal.reason });
}

// ---- argument validation, shared by every public constructor and method

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

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 40 ? value.slice(0, 40) + '…' : value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (value === null || typeof value !== 'object') return String(value);
  return `an instance of ${value.constructor?.name ?? 'Object'}`;
}

// ---- errors across threads

export interface ErrorRecord {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: ErrorRecord;
}

const kMaxStack = 512;

type Rebuild = (record: ErrorRecord) => Error;

const rebuilders: Record<string, Rebuild> = {
  ERR_PIPE_NO_READ_TO_ADVANCE: () => new NoReadToAdvanceError(),
  ERR_PIPE_ADVANCE_OUT_OF_RANGE: (r) => new AdvanceOutOfRangeError(r.message),
  ERR_PIPE_READ_PENDING: () => new ReadPendingError(),
  ERR_PIPE_FLUSH_PENDING: () => new FlushPendingError(),
  ERR_PIPE_NOT_COMPLETED: () => new PipeNotCompletedError(),
  ERR_PIPE_PEER_EXITED: (r) => new PeerExitedError(r.message),
  ABORT_ERR: (r) => new AbortError(r.message),
  ERR_SCHEDULER_CLOSED: (r) => new SchedulerClosedError(r.message),
  ERR_FRAME_TOO_LARGE: (r) => Object.assign(new ThreadpipeError(r.message, 'ERR_FRAME_TOO_LARGE'), { name: 'FrameTooLargeError' }),
};

export function serializeError(error: unknown, depth = 0): ErrorRecord {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: String(error) };
  }
  const record: ErrorRecord = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') record.code = code;
  if (typeof error.stack === 'string') record.stack = error.stack.slice(0, kMaxStack);
  if (error.cause !== undefined && depth < 2) record.cause = serializeError(error.cause, depth + 1);
  return record;
}

/** Rebuilds an error with threadpipe's own class where the code names one, else a plain Error carrying name and code. */
export function deserializeError(record: ErrorRecord): Error {
  const rebuild = record.code !== undefined ? rebuilders[record.code] : undefined;
  let error: Error;
  if (rebuild !== undefined) {
    error = rebuild(record);
    if (error.message !== record.message) error.message = record.message;
  } else if (record.code !== undefined && /^(ERR_PIPE_|ERR_SCHEDULER_|ERR_FRAME_)/.test(record.code)) {
    error = new ThreadpipeError(record.message, record.code);
  } else {
    const Base = record.name === 'TypeError' ? TypeError : record.name === 'RangeError' ? RangeError : Error;
    error = new Base(record.message);
    if (record.code !== undefined) Object.defineProperty(error, 'code', { value: record.code, enumerable: true, writable: true, configurable: true });
  }
  if (error.name !== record.name) {
    Object.defineProperty(error, 'name', { value: record.name, enumerable: false, writable: true, configurable: true });
  }
  if (record.stack !== undefined) error.stack = record.stack;
  if (record.cause !== undefined) Object.defineProperty(error, 'cause', { value: deserializeError(record.cause), enumerable: false, writable: true, configurable: true });
  return error;
}

// ---- scheduler shutdown (kept in one block)

/** A run still pending when its scheduler was destroyed (or its close timeout ran out). */
export class SchedulerDestroyedError extends ThreadpipeError {
  constructor(message = 'The scheduler was destroyed before this run finished.') {
    super(message, 'ERR_SCHEDULER_DESTROYED');
    this.name = 'SchedulerDestroyedError';
  }
}

rebuilders.ERR_SCHEDULER_DESTROYED = (r) => new SchedulerDestroyedError(r.message);
