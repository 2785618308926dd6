import type { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import { FrameTooLargeError, ReadCanceledError, validateInteger } from '../errors.js';
import type { PipeReader } from '../pipe/pipe-reader.js';

export interface ReadLinesOptions {
  /** The longest line accepted, terminator excluded. Default 65536. */
  maxLineLength?: number;
}

const kLF = 0x0a;
const kCR = 0x0d;

/**
 * The lines of a reader, split at `\n` (a `\r` before it is dropped), without copying: each line is a
 * sequence over the pipe's memory, valid until the next step. A final line without a terminator is
 * yielded at the end of the stream. A line longer than `maxLineLength` rejects with
 * ERR_FRAME_TOO_LARGE as soon as that is known, before the rest of it is buffered. The reader is not
 * completed: the caller owns it.
 */
export async function* readLines(reader: PipeReader, options: ReadLinesOptions = {}): AsyncGenerator<ReadOnlySequence> {
  const maxLineLength = validateInteger('maxLineLength', options.maxLineLength ?? 65536, 1);
  // With a \r\n terminator, the \r is not part of the line: allow one byte for it while searching.
  const longestRun = maxLineLength + 1;
  for (;;) {
    const result = await reader.read();
    const buffer = result.buffer;
    let rest = buffer;
    try {
      if (result.isCanceled) throw new ReadCanceledError();
      for (;;) {
        const newline = rest.indexOf(kLF);
        if (newline < 0) break;
        let line = rest.slice(0, newline);
        if (line.length > 0 && lastByte(line) === kCR) line = line.slice(0, line.length - 1);
        if (line.length > maxLineLength) throw new FrameTooLargeError('A line', line.length, maxLineLength);
        rest = rest.slice(newline + 1);
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

function lastByte(sequence: ReadOnlySequence): number {
  let last = -1;
  for (const chunk of sequence) if (chunk.length > 0) last = chunk[chunk.length - 1]!;
  return last;
}
