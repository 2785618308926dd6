// The three loops every framing reader offers, written once over a scanner of one kind of item
// (lines, length-prefixed frames). Each loop awaits one read, hands out every complete item of it
// synchronously, then advances the reader once and reads again; the forms differ only in how items
// reach the caller: one step per item (`items`), one step per read (`itemBatches`), or a synchronous
// callback per item and one await per read (`forEachItem`).
import type { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import { SequencePosition } from '../buffers/sequence-position.js';
import type { SequenceSegment } from '../buffers/sequence-segment.js';
import { abortError, AdvanceOutOfRangeError, InvalidArgumentTypeError, InvalidArgumentValueError, ReadCanceledError } from '../errors/index.js';
import type { PipeReader } from '../pipe/pipe-reader.js';
import type { OperationOptions } from '../pipe/results.js';

/** A parser of one kind of item over the buffer of one read. */
export interface ItemScanner {
  /** Starts on a read's buffer: the unconsumed bytes from the last consumed position on. */
  begin(buffer: ReadOnlySequence, isCompleted: boolean): void;
  /**
   * The next complete item of the buffer, counted as consumed; null when the rest holds none. Throws
   * for a malformed or oversize item (nothing more is consumed then). At the end of the stream it
   * returns what a final item may be without a terminator, or throws for a cut-short one.
   */
  next(): ReadOnlySequence | null;
  /** The end of the last item handed out: the consumed position of the read. */
  consumed(): SequencePosition;
}

/** The position at `index` of `segment` in a read's buffer: the buffer's own start or end when it is one, so a read that consumed nothing or everything makes no new position. */
export function positionIn(buffer: ReadOnlySequence, segment: SequenceSegment | null, index: number): SequencePosition {
  if (segment === buffer.startSegment && index === buffer.startIndex) return buffer.start;
  if (segment === buffer.endSegment && index === buffer.endIndex) return buffer.end;
  return new SequencePosition(segment, index);
}

/** What `forEachLine` / `forEachFrame` call per item: return `false` to stop after this item. */
export type ItemCallback = (item: ReadOnlySequence) => boolean | void;

export function validateCallback(name: string, callback: unknown): ItemCallback {
  if (typeof callback !== 'function') throw new InvalidArgumentTypeError(name, callback, 'a function');
  return callback as ItemCallback;
}

function readOptionsOf(signal: AbortSignal | undefined): OperationOptions | undefined {
  return signal === undefined ? undefined : { signal };
}

/** One step per item: the item is valid until the next step. */
export function items(reader: PipeReader, scanner: ItemScanner, signal: AbortSignal | undefined): AsyncGenerator<ReadOnlySequence, void, undefined> {
  return new ItemIterator(reader, scanner, signal);
}

type Step = IteratorResult<ReadOnlySequence, void>;

const finished: Step = Object.freeze({ value: undefined, done: true });

/**
 * The async generator of `items`, written out: an item found in the current read is handed out in
 * an already-settled promise, so a step costs that promise and its result, not a generator resume.
 * It keeps what a generator guarantees: calls made while a step waits for a read run after it, in
 * order; `return()` and `throw()` end the loop and advance the reader (the items handed out are
 * consumed, the rest stays examined); a failed step ends it.
 */
class ItemIterator implements AsyncGenerator<ReadOnlySequence, void, undefined> {
  readonly #reader: PipeReader;
  readonly #scanner: ItemScanner;
  readonly #signal: AbortSignal | undefined;
  readonly #readOptions: OperationOptions | undefined;
  /** The buffer of the read whose items are being handed out; null when no result is out. */
  #buffer: ReadOnlySequence | null = null;
  #bufferCompleted = false;
  #done = false;
  /** The step waiting for a read: calls made meanwhile wait for it. */
  #busy: Promise<Step> | null = null;
  readonly #idle = (): void => {
    this.#busy = null;
  };

  constructor(reader: PipeReader, scanner: ItemScanner, signal: AbortSignal | undefined) {
    this.#reader = reader;
    this.#scanner = scanner;
    this.#signal = signal;
    this.#readOptions = readOptionsOf(signal);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<Step> {
    if (this.#busy !== null) return this.#afterBusy(() => this.next());
    if (this.#done) return Promise.resolve(finished);
    if (this.#buffer !== null) {
      let item: ReadOnlySequence | null;
      try {
        item = this.#nextItem();
        if (item === null) this.#release();
      } catch (error) {
        return Promise.reject(this.#fail(error));
      }
      if (item !== null) return Promise.resolve({ value: item, done: false });
      if (this.#bufferCompleted) {
        this.#done = true;
        return Promise.resolve(finished);
      }
    }
    const step = this.#readStep();
    this.#busy = step;
    step.then(this.#idle, this.#idle);
    return step;
  }

  return(value?: void | PromiseLike<void>): Promise<Step> {
    if (this.#busy !== null) return this.#afterBusy(() => this.return(value));
    return this.#end() ?? Promise.resolve(value).then((settled) => ({ value: settled, done: true }));
  }

  throw(error: unknown): Promise<Step> {
    if (this.#busy !== null) return this.#afterBusy(() => this.throw(error));
    return this.#end() ?? Promise.reject(error);
  }

  /** Ends the loop from outside, as a generator's finally would: null, or the rejection of a failed advance. */
  #end(): Promise<never> | null {
    if (this.#done) return null;
    this.#done = true;
    try {
      this.#release();
    } catch (error) {
      return Promise.reject(error);
    }
    return null;
  }

  async #readStep(): Promise<Step> {
    for (;;) {
      let result;
      try {
        result = await this.#reader.read(this.#readOptions);
      } catch (error) {
        this.#done = true;
        throw error;
      }
      this.#buffer = result.buffer;
      this.#bufferCompleted = result.isCompleted;
      this.#scanner.begin(result.buffer, result.isCompleted);
      let item: ReadOnlySequence | null;
      try {
        if (result.isCanceled) throw new ReadCanceledError();
        item = this.#nextItem();
        if (item === null) this.#release();
      } catch (error) {
        throw this.#fail(error);
      }
      if (item !== null) return { value: item, done: false };
      if (result.isCompleted) {
        this.#done = true;
        return finished;
      }
    }
  }

  #nextItem(): ReadOnlySequence | null {
    const signal = this.#signal;
    if (signal !== undefined && signal.aborted) throw abortError(signal);
    return this.#scanner.next();
  }

  /** Advances past the items handed out, the rest examined: the result is no longer out. */
  #release(): void {
    const buffer = this.#buffer;
    if (buffer === null) return;
    this.#buffer = null;
    this.#reader.advanceTo(this.#scanner.consumed(), buffer.end);
  }

  /** Ends the loop after a failed step; a failure to advance replaces the step's error, as in a generator's finally. */
  #fail(error: unknown): unknown {
    this.#done = true;
    try {
      this.#release();
    } catch (failure) {
      return failure;
    }
    return error;
  }

  #afterBusy(call: () => Promise<Step>): Promise<Step> {
    return this.#busy!.then(call, call);
  }
}

/**
 * One step per read: every complete item of it in one array, the same array object each step,
 * refilled. A failure found after some items of a read is raised at the step after their batch.
 */
export async function* itemBatches(reader: PipeReader, scanner: ItemScanner, signal: AbortSignal | undefined): AsyncGenerator<readonly ReadOnlySequence[]> {
  const readOptions = readOptionsOf(signal);
  const batch: ReadOnlySequence[] = [];
  for (;;) {
    const result = await reader.read(readOptions);
    const buffer = result.buffer;
    scanner.begin(buffer, result.isCompleted);
    try {
      if (result.isCanceled) throw new ReadCanceledError();
      if (signal !== undefined && signal.aborted) throw abortError(signal);
      let count = 0;
      let failed = false;
      let failure: unknown;
      try {
        for (let item = scanner.next(); item !== null; item = scanner.next()) batch[count++] = item;
      } catch (error) {
        if (count === 0) throw error;
        failed = true;
        failure = error;
      }
      if (count > 0) {
        batch.length = count;
        yield batch;
      }
      if (failed) throw failure;
      if (result.isCompleted) return;
    } finally {
      reader.advanceTo(scanner.consumed(), buffer.end);
    }
  }
}

/**
 * A synchronous callback per item, one await per read. When the loop stops inside a buffer (the
 * callback returned `false` or threw, the signal aborted), the items after the last one handed out
 * stay unexamined, so the reader's next read returns them at once.
 */
export async function forEachItem(reader: PipeReader, scanner: ItemScanner, onItem: ItemCallback, callbackName: string, signal: AbortSignal | undefined): Promise<void> {
  const readOptions = readOptionsOf(signal);
  for (;;) {
    const result = await reader.read(readOptions);
    const buffer = result.buffer;
    scanner.begin(buffer, result.isCompleted);
    let stoppedInside = false;
    try {
      if (result.isCanceled) throw new ReadCanceledError();
      for (;;) {
        if (signal !== undefined && signal.aborted) {
          stoppedInside = true;
          throw abortError(signal);
        }
        const item = scanner.next();
        if (item === null) break;
        // Set around the call rather than caught: a throwing callback leaves it set for the finally.
        stoppedInside = true;
        const verdict = onItem(item);
        if (verdict === false) return;
        if (verdict !== undefined && isThenable(verdict)) {
          throw new InvalidArgumentValueError(callbackName, onItem, 'must not return a promise: it is called synchronously and the item is valid only until it returns (await per item with the async iterable form)');
        }
        stoppedInside = false;
      }
      if (result.isCompleted) return;
    } finally {
      const consumed = scanner.consumed();
      if (stoppedInside) advanceLeavingRest(reader, consumed, buffer.end);
      else reader.advanceTo(consumed, buffer.end);
    }
  }
}

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function advanceLeavingRest(reader: PipeReader, consumed: SequencePosition, end: SequencePosition): void {
  try {
    reader.advanceTo(consumed);
  } catch (error) {
    // The caller examined past this point before the loop began, and examined cannot move back.
    if (!(error instanceof AdvanceOutOfRangeError) || error.reason !== 'examined-moved-back') throw error;
    reader.advanceTo(consumed, end);
  }
}
