import { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import type { SequencePosition } from '../buffers/sequence-position.js';
import type { SequenceSegment } from '../buffers/sequence-segment.js';
import { FrameTooLargeError, InvalidArgumentTypeError, InvalidArgumentValueError, InvalidFrameError, validateInteger, validateSignal } from '../errors/index.js';
import type { PipeReader } from '../pipe/pipe-reader.js';
import { validateReader } from '../pipe/reader-iteration.js';
import type { PipeWriter } from '../pipe/pipe-writer.js';
import { forEachItem, itemBatches, items, positionIn, validateCallback, type ItemScanner } from './item-loops.js';

/** How a frame's length is written before it: big- or little-endian integers, or an unsigned LEB128 varint. */
export type FramePrefix = 'u16be' | 'u32be' | 'u32le' | 'varint';

export interface ReadFramesOptions {
  prefix: FramePrefix;
  /** The largest payload accepted, in bytes. */
  maxFrameSize: number;
  /** Ends the loop with an `AbortError` (its `cause` the signal's reason), also while it waits for data. */
  signal?: AbortSignal;
}

/** What `forEachFrame` calls per payload; return `false` to stop after this frame. */
export type FrameCallback = (payload: ReadOnlySequence) => boolean | void;

const kPrefixLimit: Record<FramePrefix, number> = { u16be: 0xffff, u32be: 0xffffffff, u32le: 0xffffffff, varint: 0xffffffff };
const kMaxVarintBytes = 5;

function validatePrefix(prefix: unknown): FramePrefix {
  if (prefix !== 'u16be' && prefix !== 'u32be' && prefix !== 'u32le' && prefix !== 'varint') {
    throw new InvalidArgumentValueError('prefix', prefix, "must be 'u16be', 'u32be', 'u32le' or 'varint'");
  }
  return prefix;
}

function checkedOptions(reader: PipeReader, options: ReadFramesOptions): { scanner: FrameScanner; signal: AbortSignal | undefined } {
  validateReader(reader);
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object with prefix and maxFrameSize');
  const prefix = validatePrefix(options.prefix);
  const maxFrameSize = Math.min(validateInteger('maxFrameSize', options.maxFrameSize, 0), kPrefixLimit[prefix]);
  const signal = validateSignal('signal', options.signal);
  // A ring holds at most what it can grow to: a frame larger than that could never be read whole.
  const ring = reader as { capacity?: unknown; maxCapacity?: unknown };
  const capacity = typeof ring.maxCapacity === 'number' ? ring.maxCapacity : ring.capacity;
  return { scanner: new FrameScanner(prefix, maxFrameSize, typeof capacity === 'number' ? capacity : Infinity), signal };
}

/**
 * The length-prefixed frames of a reader, one step per frame: `for await (const frame of
 * readFrames(reader, { prefix, maxFrameSize }))`. Each payload is a sequence over the pipe's memory,
 * valid until the next step: copy what you keep. A length over `maxFrameSize` (or larger than a
 * shared ring could ever hold) rejects with ERR_FRAME_TOO_LARGE as soon as the prefix is read, before
 * the body is buffered; a stream that ends inside a frame rejects with ERR_FRAME_INVALID rather than
 * dropping it silently. A `maxFrameSize` above the largest length the prefix can express means that
 * largest length. Leaving the loop consumes the frames handed out. The reader is not completed: the
 * caller owns it. The arguments are checked at the call.
 *
 * Each frame costs an await here. Where frames are small and many, `forEachFrame` (a callback per
 * frame) or `readFrameBatches` (one step per read) parse a whole read at once.
 */
export function readFrames(reader: PipeReader, options: ReadFramesOptions): AsyncGenerator<ReadOnlySequence> {
  const { scanner, signal } = checkedOptions(reader, options);
  return items(reader, scanner, signal);
}

/**
 * The frames of a reader, one step per read: each step yields every complete frame of a read as an
 * array, the same array object every step, refilled; its payloads are valid until the next step.
 * Limits and errors are as `readFrames`; a failure found after some frames of a read is raised at
 * the step after their batch. The reader is not completed. The arguments are checked at the call.
 */
export function readFrameBatches(reader: PipeReader, options: ReadFramesOptions): AsyncGenerator<readonly ReadOnlySequence[]> {
  const { scanner, signal } = checkedOptions(reader, options);
  return itemBatches(reader, scanner, signal);
}

/**
 * Calls `onFrame` synchronously with each payload, in order, and awaits only for more data: the
 * fastest form. A payload is valid until `onFrame` returns: copy what you keep. Returning `false`
 * stops the loop after that frame (the promise resolves; the frames after it stay in the pipe,
 * unexamined, so the next read returns them at once). The promise resolves at the end of the stream
 * and rejects with what `onFrame` threw (that frame counts as consumed), with ERR_FRAME_TOO_LARGE or
 * ERR_FRAME_INVALID as `readFrames` (after the frames before were handled), or with an `AbortError`
 * when `signal` aborts. The reader is not completed. The arguments are checked at the call.
 */
export function forEachFrame(reader: PipeReader, onFrame: FrameCallback, options: ReadFramesOptions): Promise<void> {
  const callback = validateCallback('onFrame', onFrame);
  const { scanner, signal } = checkedOptions(reader, options);
  return forEachItem(reader, scanner, callback, 'onFrame', signal);
}

/**
 * Finds the frames of one read after another, reading prefixes straight from the segment's memory
 * when they lie in one segment. It creates one sequence per frame and nothing else per frame.
 */
class FrameScanner implements ItemScanner {
  readonly #prefix: FramePrefix;
  readonly #maxFrameSize: number;
  readonly #capacity: number;
  #buffer: ReadOnlySequence = ReadOnlySequence.empty;
  #completed = false;
  // Where the next frame starts (the consumed position), where the data ends in its segment, and
  // how many bytes of the buffer are left from there.
  #segment: SequenceSegment | null = null;
  #index = 0;
  #end = 0;
  #remaining = 0;
  // What the last prefix read found (its length is the frame's payload length).
  #prefixBytes = 0;

  constructor(prefix: FramePrefix, maxFrameSize: number, capacity: number) {
    this.#prefix = prefix;
    this.#maxFrameSize = maxFrameSize;
    this.#capacity = capacity;
  }

  begin(buffer: ReadOnlySequence, isCompleted: boolean): void {
    this.#buffer = buffer;
    this.#completed = isCompleted;
    this.#enter(buffer.startSegment, buffer.startIndex);
    this.#remaining = buffer.length;
  }

  next(): ReadOnlySequence | null {
    const length = this.#readPrefix();
    if (length === null) return this.#rest();
    const prefixBytes = this.#prefixBytes;
    if (length > this.#maxFrameSize) throw new FrameTooLargeError('A frame', length, this.#maxFrameSize);
    if (prefixBytes + length > this.#capacity) throw new FrameTooLargeError('A frame (with its prefix)', prefixBytes + length, this.#capacity);
    if (this.#remaining - prefixBytes < length) return this.#rest();
    this.#advance(prefixBytes);
    this.#leaveExhausted();
    const startSegment = this.#segment;
    const startIndex = this.#index;
    this.#advance(length);
    return new ReadOnlySequence(startSegment, startIndex, this.#segment, this.#index);
  }

  consumed(): SequencePosition {
    return positionIn(this.#buffer, this.#segment, this.#index);
  }

  /** The payload length at the next frame, or null when its prefix is not complete yet; sets #prefixBytes. */
  #readPrefix(): number | null {
    switch (this.#prefix) {
      case 'u16be': {
        if (this.#remaining < 2) return null;
        this.#prefixBytes = 2;
        return this.#byteAt(0) * 0x100 + this.#byteAt(1);
      }
      case 'u32be':
      case 'u32le': {
        if (this.#remaining < 4) return null;
        this.#prefixBytes = 4;
        const b0 = this.#byteAt(0);
        const b1 = this.#byteAt(1);
        const b2 = this.#byteAt(2);
        const b3 = this.#byteAt(3);
        return this.#prefix === 'u32be' ? ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0 : ((b3 << 24) | (b2 << 16) | (b1 << 8) | b0) >>> 0;
      }
      case 'varint': {
        let value = 0;
        for (let i = 0; i < kMaxVarintBytes; i++) {
          if (i >= this.#remaining) return null;
          const byte = this.#byteAt(i);
          value += (byte & 0x7f) * 2 ** (7 * i);
          if ((byte & 0x80) === 0) {
            if (value > kPrefixLimit.varint) throw new InvalidFrameError(`A varint frame length of ${value} does not fit in 32 bits.`);
            this.#prefixBytes = i + 1;
            return value;
          }
        }
        throw new InvalidFrameError(`A varint frame length runs past ${kMaxVarintBytes} bytes.`);
      }
    }
  }

  /** The byte `offset` bytes after the frame's start (within the buffer). */
  #byteAt(offset: number): number {
    let index = this.#index + offset;
    if (index < this.#end) return this.#segment!.buffer[index]!;
    // A prefix split across segments: walk on (positions in later segments start at 0).
    let segment = this.#segment!;
    let end = this.#end;
    while (index >= end) {
      index -= end;
      segment = segment.next!;
      end = segment === this.#buffer.endSegment ? this.#buffer.endIndex : segment.length;
    }
    return segment.buffer[index]!;
  }

  /** The rest holds no complete frame: at the end of the stream that is a frame cut short. */
  #rest(): null {
    if (this.#completed && this.#remaining > 0) {
      throw new InvalidFrameError(`The stream ended inside a frame: ${this.#remaining} bytes of an incomplete frame were left.`);
    }
    return null;
  }

  /** Moves on `count` bytes (at most what remains); a position at a segment's end stays there. */
  #advance(count: number): void {
    this.#remaining -= count;
    let left = count;
    while (left > this.#end - this.#index) {
      left -= this.#end - this.#index;
      this.#enter(this.#segment!.next, 0);
    }
    this.#index += left;
  }

  /** A payload that would start at the very end of a segment starts at the next one instead. */
  #leaveExhausted(): void {
    while (this.#index === this.#end && this.#segment !== null && this.#segment !== this.#buffer.endSegment) this.#enter(this.#segment.next, 0);
  }

  #enter(segment: SequenceSegment | null, index: number): void {
    this.#segment = segment;
    this.#index = index;
    this.#end = segment === null ? 0 : segment === this.#buffer.endSegment ? this.#buffer.endIndex : segment.length;
  }
}

/** Writes the prefix and the payload into the writer's memory; flushing is left to the caller. */
export function writeFrame(writer: PipeWriter, payload: Uint8Array, prefix: FramePrefix): void {
  validatePrefix(prefix);
  if (!(payload instanceof Uint8Array)) throw new InvalidArgumentValueError('payload', payload, 'must be a Uint8Array');
  const length = payload.length;
  if (length > kPrefixLimit[prefix]) throw new FrameTooLargeError(`A ${prefix} frame`, length, kPrefixLimit[prefix]);
  const header = encodePrefix(length, prefix);
  const memory = writer.getMemory(header.length);
  memory.set(header);
  if (memory.length - header.length >= length) {
    memory.set(payload, header.length);
    writer.advance(header.length + length);
    return;
  }
  writer.advance(header.length);
  for (let offset = 0; offset < length;) {
    const block = writer.getMemory(1);
    const count = Math.min(block.length, length - offset);
    block.set(payload.subarray(offset, offset + count));
    writer.advance(count);
    offset += count;
  }
}

const scratch = new Uint8Array(kMaxVarintBytes);
const scratchView = new DataView(scratch.buffer);

function encodePrefix(length: number, prefix: FramePrefix): Uint8Array {
  switch (prefix) {
    case 'u16be':
      scratchView.setUint16(0, length, false);
      return scratch.subarray(0, 2);
    case 'u32be':
      scratchView.setUint32(0, length, false);
      return scratch.subarray(0, 4);
    case 'u32le':
      scratchView.setUint32(0, length, true);
      return scratch.subarray(0, 4);
    case 'varint': {
      let value = length;
      let i = 0;
      while (value >= 0x80) {
        scratch[i++] = (value % 0x80) | 0x80;
        value = Math.floor(value / 0x80);
      }
      scratch[i++] = value;
      return scratch.subarray(0, i);
    }
  }
}
