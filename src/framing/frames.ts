import type { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import { SequenceReader } from '../buffers/sequence-reader.js';
import { FrameTooLargeError, InvalidArgumentTypeError, InvalidArgumentValueError, InvalidFrameError, ReadCanceledError, validateInteger } from '../errors/index.js';
import type { PipeReader } from '../pipe/pipe-reader.js';
import { validateReader } from '../pipe/reader-iteration.js';
import type { PipeWriter } from '../pipe/pipe-writer.js';

/** How a frame's length is written before it: big- or little-endian integers, or an unsigned LEB128 varint. */
export type FramePrefix = 'u16be' | 'u32be' | 'u32le' | 'varint';

export interface ReadFramesOptions {
  prefix: FramePrefix;
  /** The largest payload accepted, in bytes. */
  maxFrameSize: number;
}

const kPrefixLimit: Record<FramePrefix, number> = { u16be: 0xffff, u32be: 0xffffffff, u32le: 0xffffffff, varint: 0xffffffff };
const kMaxVarintBytes = 5;

function validatePrefix(prefix: unknown): FramePrefix {
  if (prefix !== 'u16be' && prefix !== 'u32be' && prefix !== 'u32le' && prefix !== 'varint') {
    throw new InvalidArgumentValueError('prefix', prefix, "must be 'u16be', 'u32be', 'u32le' or 'varint'");
  }
  return prefix;
}

/** The payload length at the reader's position, or null when the prefix is not complete yet. */
function readPrefix(reader: SequenceReader, prefix: FramePrefix): number | null {
  switch (prefix) {
    case 'u16be':
      return reader.tryReadUInt16BE();
    case 'u32be':
      return reader.tryReadUInt32BE();
    case 'u32le':
      return reader.tryReadUInt32LE();
    case 'varint': {
      let value = 0;
      for (let i = 0; i < kMaxVarintBytes; i++) {
        const byte = reader.tryRead();
        if (byte === null) return null;
        value += (byte & 0x7f) * 2 ** (7 * i);
        if ((byte & 0x80) === 0) {
          if (value > kPrefixLimit.varint) throw new InvalidFrameError(`A varint frame length of ${value} does not fit in 32 bits.`);
          return value;
        }
      }
      throw new InvalidFrameError(`A varint frame length runs past ${kMaxVarintBytes} bytes.`);
    }
  }
}

/**
 * The length-prefixed frames of a reader. Each payload is a sequence over the pipe's memory, valid
 * until the next step. A length over `maxFrameSize` (or larger than a shared ring could ever hold)
 * rejects with ERR_FRAME_TOO_LARGE as soon as the prefix is read, before the body is buffered; a
 * stream that ends inside a frame rejects with ERR_FRAME_INVALID rather than dropping it silently.
 * A `maxFrameSize` above the largest length the prefix can express means that largest length. The
 * arguments are checked at the call. The reader is not completed: the caller owns it.
 */
export function readFrames(reader: PipeReader, options: ReadFramesOptions): AsyncGenerator<ReadOnlySequence> {
  validateReader(reader);
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object with prefix and maxFrameSize');
  const prefix = validatePrefix(options.prefix);
  const maxFrameSize = Math.min(validateInteger('maxFrameSize', options.maxFrameSize, 0), kPrefixLimit[prefix]);
  return frames(reader, prefix, maxFrameSize);
}

async function* frames(reader: PipeReader, prefix: FramePrefix, maxFrameSize: number): AsyncGenerator<ReadOnlySequence> {
  const capacity = (reader as { capacity?: unknown }).capacity;
  for (;;) {
    const result = await reader.read();
    const buffer = result.buffer;
    let rest = buffer;
    try {
      if (result.isCanceled) throw new ReadCanceledError();
      for (;;) {
        const cursor = new SequenceReader(rest);
        const length = readPrefix(cursor, prefix);
        if (length === null) break;
        if (length > maxFrameSize) throw new FrameTooLargeError('A frame', length, maxFrameSize);
        if (typeof capacity === 'number' && cursor.consumed + length > capacity) {
          throw new FrameTooLargeError('A frame (with its prefix)', cursor.consumed + length, capacity);
        }
        if (cursor.remaining < length) break;
        const payload = cursor.tryReadExact(length)!;
        rest = rest.slice(cursor.position);
        yield payload;
      }
      if (result.isCompleted) {
        if (rest.length > 0) throw new InvalidFrameError(`The stream ended inside a frame: ${rest.length} bytes of an incomplete frame were left.`);
        return;
      }
    } finally {
      reader.advanceTo(rest.start, buffer.end);
    }
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
