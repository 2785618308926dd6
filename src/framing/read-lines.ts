import { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import { SequencePosition } from '../buffers/sequence-position.js';
import type { SequenceSegment } from '../buffers/sequence-segment.js';
import { FrameTooLargeError, InvalidArgumentTypeError, ReadCanceledError, validateInteger } from '../errors/index.js';
import type { PipeReader } from '../pipe/pipe-reader.js';
import { validateReader } from '../pipe/reader-iteration.js';

export interface ReadLinesOptions {
  /** The longest line accepted, terminator excluded. Default 65536. */
  maxLineLength?: number;
}

const kDefaultMaxLineLength = 65536;
const kLF = 0x0a;
const kCR = 0x0d;

/**
 * The lines of a reader, split at `\n` (a `\r` before it is dropped), without copying: each line is a
 * sequence over the pipe's memory, valid until the next step. A final line without a terminator is
 * yielded at the end of the stream. A line longer than `maxLineLength` rejects with
 * ERR_FRAME_TOO_LARGE as soon as that is known, before the rest of it is buffered. The reader is not
 * completed: the caller owns it. The arguments are checked at the call.
 */
export function readLines(reader: PipeReader, options: ReadLinesOptions = {}): AsyncGenerator<ReadOnlySequence> {
  validateReader(reader);
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
  return lines(reader, validateInteger('maxLineLength', options.maxLineLength ?? kDefaultMaxLineLength, 1));
}

async function* lines(reader: PipeReader, maxLineLength: number): AsyncGenerator<ReadOnlySequence> {
  // With a \r\n terminator, the \r is not part of the line: allow one byte for it while searching.
  const longestRun = maxLineLength + 1;
  for (;;) {
    const result = await reader.read();
    const buffer = result.buffer;
    let rest = buffer;
    try {
      if (result.isCanceled) throw new ReadCanceledError();
      for (;;) {
        const newline = rest.positionOf(kLF);
        if (newline === null) break;
        // Built straight from the found position: no offset round trips, and the \r is the byte just before it.
        const segment = newline.segment as SequenceSegment;
        const crlf = newline.index > 0 ? segment.buffer[newline.index - 1] === kCR : byteBefore(rest, newline) === kCR;
        let line = new ReadOnlySequence(rest.startSegment, rest.startIndex, segment, newline.index);
        if (crlf) line = line.slice(0, line.length - 1);
        if (line.length > maxLineLength) throw new FrameTooLargeError('A line', line.length, maxLineLength);
        rest = new ReadOnlySequence(segment, newline.index + 1, rest.endSegment, rest.endIndex);
        yield line;
      }
      if (rest.length > longestRun || (result.isCompleted && rest.length > maxLineLength)) {
        throw new FrameTooLargeError('A line', rest.length, maxLineLength);
      }
      if (result.isCompleted) {
        if (rest.length > 0) {
          const last = rest;
          rest = rest.slice(rest.length);
          yield last;
        }
        return;
      }
    } finally {
      reader.advanceTo(rest.start, buffer.end);
    }
  }
}

/** The byte before a position that starts its segment: the last byte of the segment before it, if any. */
function byteBefore(sequence: ReadOnlySequence, position: SequencePosition): number {
  let previous = -1;
  let segment = sequence.startSegment;
  let start = sequence.startIndex;
  while (segment !== null && segment !== position.segment) {
    if (segment.length > start) previous = segment.buffer[segment.length - 1]!;
    segment = segment.next;
    start = 0;
  }
  return previous;
}
