import { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import type { SequencePosition } from '../buffers/sequence-position.js';
import type { SequenceSegment } from '../buffers/sequence-segment.js';
import { FrameTooLargeError, InvalidArgumentTypeError, validateInteger, validateSignal } from '../errors/index.js';
import type { PipeReader } from '../pipe/pipe-reader.js';
import { validateReader } from '../pipe/reader-iteration.js';
import { forEachItem, itemBatches, items, positionIn, validateCallback, type ItemScanner } from './item-loops.js';

export interface ReadLinesOptions {
  /** The longest line accepted, terminator excluded. Default 65536. */
  maxLineLength?: number;
  /** Ends the loop with an `AbortError` (its `cause` the signal's reason), also while it waits for data. */
  signal?: AbortSignal;
}

/** What `forEachLine` calls per line; return `false` to stop after this line. */
export type LineCallback = (line: ReadOnlySequence) => boolean | void;

const kDefaultMaxLineLength = 65536;
const kLF = 0x0a;
const kCR = 0x0d;
/**
 * Buffer's indexOf runs to the end of a segment's memory, not of its data. Where more than this
 * many bytes follow the data, the search gets a view that ends with the data, so a read without a
 * newline never scans stale memory.
 */
const kMaxSearchSlack = 1024;
const noBytes = new Uint8Array(0);

// Buffer's indexOf takes any Uint8Array and searches natively: several times faster than
// TypedArray.prototype.indexOf over the few dozen bytes between two newlines.
const indexOfByte = Buffer.prototype.indexOf as (this: Uint8Array, value: number, byteOffset: number) => number;

const kLFx4 = 0x0a0a0a0a;
const kLowBits = 0x01010101;
const kHighBits = 0x80808080;

/**
 * The first '\n' in `memory[from, end)`, for memory in a SharedArrayBuffer (a ring), where Buffer's
 * indexOf cannot take its fast native path and costs several times more per call: four bytes at a
 * time through `words` (the whole buffer as 32-bit words), with the has-a-zero-byte test on
 * `word ^ 0x0a0a0a0a` (exact for whether a word holds a '\n'; the byte loop then finds which).
 * Only bytes inside [from, end) are read: the writer may be filling the ones after `end`.
 */
function findNewlineShared(memory: Uint8Array, words: Int32Array, from: number, end: number): number {
  const base = memory.byteOffset;
  let index = from;
  while (index < end && ((base + index) & 3) !== 0) {
    if (memory[index] === kLF) return index;
    index++;
  }
  const wordEnd = (base + end) >>> 2;
  for (let word = (base + index) >>> 2; word < wordEnd; word++) {
    const bits = words[word]! ^ kLFx4;
    if (((bits - kLowBits) & ~bits & kHighBits) !== 0) {
      let found = word * 4 - base;
      while (memory[found] !== kLF) found++;
      return found;
    }
  }
  for (index = Math.max(index, wordEnd * 4 - base); index < end; index++) {
    if (memory[index] === kLF) return index;
  }
  return -1;
}

function checkedOptions(reader: PipeReader, options: ReadLinesOptions | undefined): { scanner: LineScanner; signal: AbortSignal | undefined } {
  validateReader(reader);
  if (options === undefined) return { scanner: new LineScanner(kDefaultMaxLineLength), signal: undefined };
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
  const maxLineLength = validateInteger('maxLineLength', options.maxLineLength ?? kDefaultMaxLineLength, 1);
  return { scanner: new LineScanner(maxLineLength), signal: validateSignal('signal', options.signal) };
}

/**
 * The lines of a reader, one step per line: `for await (const line of readLines(reader))`. Lines end
 * at `\n` (a `\r` before it is dropped); each is a sequence over the pipe's memory, valid until the
 * next step, so copy what you keep (`toString()`, `toUint8Array()`). A final line without a
 * terminator is yielded at the end of the stream. A line longer than `maxLineLength` rejects with
 * ERR_FRAME_TOO_LARGE as soon as that is known, before the rest of it is buffered. Leaving the loop
 * (`break`, an error) consumes the lines handed out and leaves the rest examined. The reader is not
 * completed: the caller owns it. The arguments are checked at the call.
 *
 * Each line costs an await here. Where lines are small and many, `forEachLine` (a callback per line)
 * or `readLineBatches` (one step per read) parse a whole read at once and await only for more data.
 */
export function readLines(reader: PipeReader, options?: ReadLinesOptions): AsyncGenerator<ReadOnlySequence> {
  const { scanner, signal } = checkedOptions(reader, options);
  return items(reader, scanner, signal);
}

/**
 * The lines of a reader, one step per read: each step yields every complete line of a read as an
 * array, so a read of a thousand lines costs one await. The array is the same object every step,
 * refilled, and its lines are valid until the next step: copy what you keep. Lines, limits, the
 * final line and errors are as `readLines`; a failure found after some lines of a read is raised at
 * the step after their batch. Leaving the loop consumes the batches handed out. The reader is not
 * completed. The arguments are checked at the call.
 */
export function readLineBatches(reader: PipeReader, options?: ReadLinesOptions): AsyncGenerator<readonly ReadOnlySequence[]> {
  const { scanner, signal } = checkedOptions(reader, options);
  return itemBatches(reader, scanner, signal);
}

/**
 * Calls `onLine` synchronously for each line, in order, and awaits only for more data: the fastest
 * form, the one to pick unless a line's handling must await. A line is valid until `onLine` returns:
 * copy what you keep. `onLine` returning `false` stops the loop after that line; the promise then
 * resolves and the lines after it stay in the pipe, unexamined, so the reader's next read returns
 * them at once. The promise resolves at the end of the stream; it rejects with what `onLine` threw
 * (the line it threw on counts as consumed, the rest stays unexamined), with ERR_FRAME_TOO_LARGE for
 * an oversize line (after the lines before it were handled), or with an `AbortError` when `signal`
 * aborts. Lines, limits and the final line are as `readLines`. The reader is not completed: after
 * the promise settles it may be read on. The arguments are checked at the call.
 */
export function forEachLine(reader: PipeReader, onLine: LineCallback, options?: ReadLinesOptions): Promise<void> {
  const callback = validateCallback('onLine', onLine);
  const { scanner, signal } = checkedOptions(reader, options);
  return forEachItem(reader, scanner, callback, 'onLine', signal);
}

/**
 * Finds the lines of one read after another, searching each segment's memory directly. It creates
 * one sequence per line and nothing else per line; between reads it remembers how far the unfinished
 * line was searched, so a long line is not searched again from its start on every read.
 */
class LineScanner implements ItemScanner {
  readonly #maxLineLength: number;
  #buffer: ReadOnlySequence = ReadOnlySequence.empty;
  #completed = false;
  // Where the current line starts: the consumed position.
  #lineSegment: SequenceSegment | null = null;
  #lineIndex = 0;
  // The search: its segment, the index it goes on from, where the data ends there, the memory searched.
  #segment: SequenceSegment | null = null;
  #index = 0;
  #end = 0;
  #memory: Uint8Array = noBytes;
  // For a segment in shared memory: its buffer as 32-bit words (kept while the buffer stays the same).
  #words: Int32Array | null = null;
  #wordsOf: ArrayBufferLike | null = null;
  // The segment before the search's one that holds the line's last bytes so far, and the index of
  // the last of them: a '\r' there and a '\n' at index 0 of the next segment are one terminator.
  #before: SequenceSegment | null = null;
  #beforeIndex = 0;
  // Bytes from the line's start that the last read searched without finding a '\n'.
  #searched = 0;

  constructor(maxLineLength: number) {
    this.#maxLineLength = maxLineLength;
  }

  begin(buffer: ReadOnlySequence, isCompleted: boolean): void {
    this.#buffer = buffer;
    this.#completed = isCompleted;
    this.#lineSegment = buffer.startSegment;
    this.#lineIndex = buffer.startIndex;
    this.#before = null;
    this.#enter(buffer.startSegment, buffer.startIndex);
    // The buffer starts where the unfinished line did (it was consumed up to there, and nothing reads
    // in between), so what was searched then holds no '\n'. A shorter buffer means a reader that
    // does not keep that promise: search it all.
    const searched = this.#searched;
    this.#searched = 0;
    if (searched > 0 && searched <= buffer.length) this.#skip(searched);
  }

  next(): ReadOnlySequence | null {
    for (;;) {
      const segment = this.#segment;
      if (segment === null) return null;
      if (this.#index < this.#end) {
        const words = this.#words;
        const found = words === null ? indexOfByte.call(this.#memory, kLF, this.#index) : findNewlineShared(this.#memory, words, this.#index, this.#end);
        if (found !== -1 && found < this.#end) return this.#lineEndingAt(segment, found);
      }
      if (segment === this.#buffer.endSegment) {
        this.#index = this.#end;
        return this.#rest();
      }
      this.#step();
    }
  }

  consumed(): SequencePosition {
    return positionIn(this.#buffer, this.#lineSegment, this.#lineIndex);
  }

  #lineEndingAt(segment: SequenceSegment, newline: number): ReadOnlySequence {
    let endSegment = segment;
    let endIndex = newline;
    const lineSegment = this.#lineSegment!;
    if (newline > (segment === lineSegment ? this.#lineIndex : 0)) {
      if (segment.buffer[newline - 1] === kCR) endIndex--;
    } else if (this.#before !== null) {
      // The '\n' opens its segment: the line ends with the segment before (without its '\r').
      endSegment = this.#before;
      endIndex = this.#before.buffer[this.#beforeIndex] === kCR ? this.#beforeIndex : this.#beforeIndex + 1;
    }
    // A "\r\n" whose '\r' opens a segment: the line ends with the segment before, so a line within
    // one segment is a single-segment sequence.
    if (endIndex === 0 && endSegment === segment && segment !== lineSegment && this.#before !== null) {
      endSegment = this.#before;
      endIndex = this.#beforeIndex + 1;
    }
    const length = endSegment.runningIndex + endIndex - (lineSegment.runningIndex + this.#lineIndex);
    if (length > this.#maxLineLength) throw new FrameTooLargeError('A line', length, this.#maxLineLength);
    const line = new ReadOnlySequence(lineSegment, this.#lineIndex, endSegment, endIndex);
    this.#lineSegment = segment;
    this.#lineIndex = newline + 1;
    this.#index = newline + 1;
    this.#before = null;
    return line;
  }

  /** No '\n' in the rest of the buffer: check its length; at the end of the stream it is the final line. */
  #rest(): ReadOnlySequence | null {
    const buffer = this.#buffer;
    const lineSegment = this.#lineSegment!;
    const length = buffer.endSegment!.runningIndex + buffer.endIndex - (lineSegment.runningIndex + this.#lineIndex);
    // With a \r\n terminator the \r is not part of the line: one byte more may still end well.
    if (length > this.#maxLineLength + 1 || (this.#completed && length > this.#maxLineLength)) {
      throw new FrameTooLargeError('A line', length, this.#maxLineLength);
    }
    if (!this.#completed) {
      this.#searched = length;
      return null;
    }
    if (length === 0) return null;
    const line = new ReadOnlySequence(lineSegment, this.#lineIndex, buffer.endSegment, buffer.endIndex);
    this.#lineSegment = buffer.endSegment;
    this.#lineIndex = buffer.endIndex;
    return line;
  }

  /** Moves the search to the next segment (the current one is not the buffer's last). */
  #step(): void {
    const segment = this.#segment!;
    if (segment === this.#lineSegment) {
      // A line that would start at the very end of a segment starts at the next one instead, so a
      // line within one segment is a single-segment sequence.
      if (this.#lineIndex === this.#end) {
        this.#lineSegment = segment.next;
        this.#lineIndex = 0;
      } else {
        this.#before = segment;
        this.#beforeIndex = this.#end - 1;
      }
    } else if (this.#end > 0) {
      this.#before = segment;
      this.#beforeIndex = this.#end - 1;
    }
    this.#enter(segment.next, 0);
  }

  #enter(segment: SequenceSegment | null, index: number): void {
    this.#segment = segment;
    this.#index = index;
    if (segment === null) {
      this.#end = 0;
      this.#memory = noBytes;
      return;
    }
    const end = segment === this.#buffer.endSegment ? this.#buffer.endIndex : segment.length;
    const memory = segment.buffer;
    this.#end = end;
    const backing = memory.buffer;
    if (backing instanceof SharedArrayBuffer) {
      // A ring that grew keeps its SharedArrayBuffer; a view made before keeps the length it had.
      if (this.#wordsOf !== backing || this.#words!.length << 2 < memory.byteOffset + end) {
        this.#words = new Int32Array(backing, 0, backing.byteLength >>> 2);
        this.#wordsOf = backing;
      }
      this.#memory = memory;
      return;
    }
    this.#words = null;
    this.#memory = memory.length - end > kMaxSearchSlack ? new Uint8Array(backing, memory.byteOffset, end) : memory;
  }

  #skip(count: number): void {
    let left = count;
    for (;;) {
      const available = this.#end - this.#index;
      if (left <= available || this.#segment === this.#buffer.endSegment) {
        this.#index += Math.min(left, available);
        return;
      }
      left -= available;
      this.#index = this.#end;
      this.#step();
    }
  }
}
