// Every error threadpipe raises: one class per failure, each with a stable `code`. Misuse throws
// synchronously; failures of the other end reach the next read or flush as a rejection.
//
// Each class carries its own brand, a registered symbol (Symbol.for) on its prototype, and its
// `instanceof` checks that brand. So `instanceof` is specific (a PeerExitedError is not a
// ReadCanceledError), a subclass instance still matches its base (it inherits the base's brand), and
// errors made by another copy of this module or in another realm match too: registered symbols are
// shared by every realm of the process.

const kThreadpipeError = Symbol.for('threadpipe.error');
const kErrorType = Symbol.for('threadpipe.error.type');

type ErrorClass = abstract new (...args: never[]) => Error;

/** Every class of the catalogue by its type name, the name a serialized error is rebuilt from. */
export const errorClasses: ReadonlyMap<string, ErrorClass> = new Map();

function brand(errorClass: ErrorClass, type: string, key = Symbol.for(`threadpipe.error.${type}`)): void {
  const prototype = errorClass.prototype as object;
  Object.defineProperty(prototype, key, { value: true });
  // Classes that derive from RangeError or TypeError rather than ThreadpipeError need the common brand too.
  Object.defineProperty(prototype, kThreadpipeError, { value: true });
  Object.defineProperty(prototype, kErrorType, { value: type });
  Object.defineProperty(errorClass, Symbol.hasInstance, { value: (instance: unknown) => hasBrand(instance, key), configurable: true });
  (errorClasses as Map<string, ErrorClass>).set(type, errorClass);
}

function hasBrand(instance: unknown, key: symbol): boolean {
  return typeof instance === 'object' && instance !== null && (instance as Record<symbol, unknown>)[key] === true;
}

/** The catalogue type of a threadpipe error (one from another copy of this module too); undefined for any other value. */
export function errorTypeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const type = (error as Record<symbol, unknown>)[kErrorType];
  return typeof type === 'string' ? type : undefined;
}

export type PipeSide = 'reader' | 'writer';

/** Base class of threadpipe's own errors: `instanceof ThreadpipeError` matches every one of them. */
export class ThreadpipeError extends Error {
  readonly code: string;

  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ThreadpipeError';
    this.code = code;
  }

  static {
    brand(this, 'ThreadpipeError', kThreadpipeError);
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
  }

  static {
    brand(this, 'InvalidArgumentValueError');
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
  }

  static {
    brand(this, 'InvalidArgumentTypeError');
  }
}

export class NoReadToAdvanceError extends ThreadpipeError {
  constructor() {
    super('No reading operation to complete: advanceTo() needs an outstanding read result.', 'ERR_PIPE_NO_READ_TO_ADVANCE');
    this.name = 'NoReadToAdvanceError';
  }

  static {
    brand(this, 'NoReadToAdvanceError');
  }
}

const kAdvanceMessages = {
  'examined-before-consumed': () => 'The examined position must be greater than or equal to the consumed position.',
  'examined-moved-back': () => 'The examined position cannot be less than the previously examined position.',
  'consumed-moved-back': () => 'The consumed position is before what was already consumed.',
  'outside-buffer': (position: 'consumed' | 'examined') =>
    `The ${position} position is outside the last read buffer: the reader has already advanced past it, or it belongs to another buffer.`,
} as const;

/** Why an `advanceTo` position was refused. */
export type AdvanceOutOfRangeReason = keyof typeof kAdvanceMessages;

function isAdvanceReason(value: string): value is AdvanceOutOfRangeReason {
  return Object.hasOwn(kAdvanceMessages, value);
}

export class AdvanceOutOfRangeError extends ThreadpipeError {
  /** Why the position was refused. */
  readonly reason: AdvanceOutOfRangeReason;
  /** The position refused. */
  readonly position: 'consumed' | 'examined';

  constructor(reason: AdvanceOutOfRangeReason, position?: 'consumed' | 'examined') {
    // An unknown reason (a record from a newer or older copy) still builds, with a generic wording.
    const known = isAdvanceReason(reason);
    const at = position ?? (reason === 'consumed-moved-back' ? 'consumed' : 'examined');
    super(known ? kAdvanceMessages[reason](at) : `The ${at} position is out of range.`, 'ERR_PIPE_ADVANCE_OUT_OF_RANGE');
    this.name = 'AdvanceOutOfRangeError';
    this.reason = reason;
    this.position = at;
  }

  static {
    brand(this, 'AdvanceOutOfRangeError');
  }
}

export class ReadPendingError extends ThreadpipeError {
  constructor() {
    super('Reading is already in progress: advance the last result or await the pending read first.', 'ERR_PIPE_READ_PENDING');
    this.name = 'ReadPendingError';
  }

  static {
    brand(this, 'ReadPendingError');
  }
}

export class FlushPendingError extends ThreadpipeError {
  constructor() {
    super('A flush is already pending: await it before flushing or writing again.', 'ERR_PIPE_FLUSH_PENDING');
    this.name = 'FlushPendingError';
  }

  static {
    brand(this, 'FlushPendingError');
  }
}

/** `advance(n)` beyond what `getMemory` handed out; a `RangeError` too. */
export class WriteBeyondMemoryError extends RangeError {
  readonly code = 'ERR_PIPE_WRITE_BEYOND_MEMORY';
  readonly bytes: number;
  readonly available: number;

  constructor(bytes: number, available: number) {
    super(`Cannot advance ${bytes} bytes: only ${available} bytes of memory were handed out by getMemory().`);
    this.name = 'RangeError';
    this.bytes = bytes;
    this.available = available;
  }

  static {
    brand(this, 'WriteBeyondMemoryError');
  }
}

export class PipeCompletedError extends ThreadpipeError {
  readonly side: PipeSide;

  constructor(side: PipeSide) {
    super(
      side === 'reader'
        ? 'Reading is not allowed after the reader was completed.'
        : 'Writing is not allowed after the writer was completed.',
      'ERR_PIPE_COMPLETED',
    );
    this.name = 'PipeCompletedError';
    this.side = side;
  }

  static {
    brand(this, 'PipeCompletedError');
  }
}

export class PipeNotCompletedError extends ThreadpipeError {
  constructor() {
    super('Both the reader and the writer have to be completed to reset the pipe.', 'ERR_PIPE_NOT_COMPLETED');
    this.name = 'PipeNotCompletedError';
  }

  static {
    brand(this, 'PipeNotCompletedError');
  }
}

export class PipeEndMovedError extends ThreadpipeError {
  readonly side: PipeSide;

  constructor(side: PipeSide) {
    super(`This ${side} end was moved to another thread by handle(); only cancelPending${side === 'reader' ? 'Read' : 'Flush'}() still works here.`, 'ERR_PIPE_END_MOVED');
    this.name = 'PipeEndMovedError';
    this.side = side;
  }

  static {
    brand(this, 'PipeEndMovedError');
  }
}

export class PipeEndInUseError extends ThreadpipeError {
  readonly side: PipeSide;
  /** The thread that holds the end. */
  readonly threadId: number;

  constructor(side: PipeSide, threadId: number) {
    super(`The ${side} end of this shared pipe is already held by thread ${threadId}.`, 'ERR_PIPE_END_IN_USE');
    this.name = 'PipeEndInUseError';
    this.side = side;
    this.threadId = threadId;
  }

  static {
    brand(this, 'PipeEndInUseError');
  }
}

export class PeerExitedError extends ThreadpipeError {
  constructor(message = 'The thread holding the other end of the pipe exited without completing it.') {
    super(message, 'ERR_PIPE_PEER_EXITED');
    this.name = 'PeerExitedError';
  }

  static {
    brand(this, 'PeerExitedError');
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

  static {
    brand(this, 'FrameTooLargeError');
  }
}

/**
 * A write through `toWritable` / `toWritableStream` after the pipe's reader completed: the bytes could
 * never be read, so the write fails rather than succeed while discarding them.
 */
export class ReaderCompletedError extends ThreadpipeError {
  constructor() {
    super('The reader of the pipe has completed: the bytes written can never be read.', 'ERR_PIPE_READER_COMPLETED');
    this.name = 'ReaderCompletedError';
  }

  static {
    brand(this, 'ReaderCompletedError');
  }
}

/** A blocking wait (`readSync` / `flushSync` / `writeSync`) on a shared pipe whose other end this same thread holds: it could never end. */
export class SameThreadWaitError extends ThreadpipeError {
  readonly operation: string;

  constructor(operation: 'readSync' | 'flushSync' | 'writeSync') {
    super(`${operation}() would block this thread forever: the other end of the pipe is held by this same thread. Use the async ${operation === 'readSync' ? 'read' : 'flush'}() here, or move one end to another thread.`, 'ERR_PIPE_SAME_THREAD_WAIT');
    this.name = 'SameThreadWaitError';
    this.operation = operation;
  }

  static {
    brand(this, 'SameThreadWaitError');
  }
}

/**
 * No room for another growing ring in this process: each growable SharedArrayBuffer takes memory
 * mappings, of which a process has a fixed number (vm.max_map_count), and running out aborts it.
 */
export class RingLimitError extends ThreadpipeError {
  readonly limit: number;

  constructor(limit: number) {
    super(`No room for another growing ring: ${limit} are live in this process, as many as its memory mappings (vm.max_map_count) allow. Use a ring of fixed size (no maxCapacity), or fewer rings at a time.`, 'ERR_PIPE_RING_LIMIT');
    this.name = 'RingLimitError';
    this.limit = limit;
  }

  static {
    brand(this, 'RingLimitError');
  }
}

/** A second thread listened on a ReadySet: one thread takes from a set at a time. */
export class ReadySetInUseError extends ThreadpipeError {
  /** The thread that takes from the set. */
  readonly threadId: number;

  constructor(threadId: number) {
    super(`This ready set is taken from by thread ${threadId}: one thread listens on a set at a time.`, 'ERR_READY_SET_IN_USE');
    this.name = 'ReadySetInUseError';
    this.threadId = threadId;
  }

  static {
    brand(this, 'ReadySetInUseError');
  }
}

/** A run still pending when its scheduler was destroyed (or its close timeout ran out). */
export class SchedulerDestroyedError extends ThreadpipeError {
  constructor(message = 'The scheduler was destroyed before this run finished.') {
    super(message, 'ERR_SCHEDULER_DESTROYED');
    this.name = 'SchedulerDestroyedError';
  }

  static {
    brand(this, 'SchedulerDestroyedError');
  }
}

/** The record a faulted end left in a shared ring could not be read back. */
export class UnreadableErrorRecordError extends ThreadpipeError {
  constructor(options?: ErrorOptions) {
    super('The other end of the pipe failed, but its error record could not be read.', 'ERR_PIPE_ERROR_RECORD_UNREADABLE', options);
    this.name = 'UnreadableErrorRecordError';
  }

  static {
    brand(this, 'UnreadableErrorRecordError');
  }
}

export class SchedulerClosedError extends ThreadpipeError {
  constructor(message = 'The scheduler is closed: it accepts no more work.') {
    super(message, 'ERR_SCHEDULER_CLOSED');
    this.name = 'SchedulerClosedError';
  }

  static {
    brand(this, 'SchedulerClosedError');
  }
}

export class ExportNotFoundError extends ThreadpipeError {
  readonly module: string;
  readonly exportName: string;

  constructor(module: string, exportName: string) {
    super(`The module ${module} has no exported function named '${exportName}'.`, 'ERR_SCHEDULER_EXPORT_NOT_FOUND');
    this.name = 'ExportNotFoundError';
    this.module = module;
    this.exportName = exportName;
  }

  static {
    brand(this, 'ExportNotFoundError');
  }
}

/** A frame that is malformed (a bad length prefix) or cut short by the end of the stream. */
export class InvalidFrameError extends ThreadpipeError {
  constructor(message: string) {
    super(message, 'ERR_FRAME_INVALID');
    this.name = 'InvalidFrameError';
  }

  static {
    brand(this, 'InvalidFrameError');
  }
}

/** An operation stopped by an `AbortSignal` or by a pending-read/flush cancellation. */
export class AbortError extends ThreadpipeError {
  constructor(message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, 'ABORT_ERR', options);
    this.name = 'AbortError';
  }

  static {
    brand(this, 'AbortError');
  }
}

/** A read that `cancelPendingRead()` ended, raised where a canceled result cannot be returned. */
export class ReadCanceledError extends AbortError {
  constructor() {
    super('Read was canceled on the underlying PipeReader.');
  }

  static {
    brand(this, 'ReadCanceledError');
  }
}

/** A flush that `cancelPendingFlush()` ended, raised where a canceled result cannot be returned. */
export class FlushCanceledError extends AbortError {
  constructor() {
    super('Flush was canceled on the underlying PipeWriter.');
  }

  static {
    brand(this, 'FlushCanceledError');
  }
}

const kMaxQuotedChars = 40;

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > kMaxQuotedChars ? value.slice(0, kMaxQuotedChars) + '…' : value}'`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `function ${value.name || '<anonymous>'}`;
  if (value === null || typeof value !== 'object') return String(value);
  return `an instance of ${value.constructor?.name ?? 'Object'}`;
}
