import type { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import { InvalidArgumentTypeError, ReadCanceledError } from '../errors/index.js';
import { PipeReader, segmentsOf } from './pipe-reader.js';

export interface ChunksOptions {
  /**
   * `true` (the default): each chunk is a copy the consumer owns, one per read. `false`: each chunk is
   * a view over the pipe's own memory, valid only until the loop takes its next step.
   */
  copy?: boolean;
}

/** The bytes of a sequence in a Buffer of their own (its ArrayBuffer holds nothing else, so it can be transferred). */
export function copyOut(sequence: ReadOnlySequence): Buffer {
  const copy = Buffer.allocUnsafeSlow(sequence.length);
  sequence.copyTo(copy);
  return copy;
}

export function validateReader(reader: unknown, name = 'reader'): PipeReader {
  if (!(reader instanceof PipeReader)) throw new InvalidArgumentTypeError(name, reader, 'a PipeReader');
  return reader;
}

/** Checks the options when called, then iterates: a bad option fails at the call, not at the first step. */
export function readerChunks(reader: PipeReader, options?: ChunksOptions): AsyncGenerator<Uint8Array, void, undefined> {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new InvalidArgumentTypeError('options', options, 'an object');
  const copy = options?.copy ?? true;
  if (typeof copy !== 'boolean') throw new InvalidArgumentTypeError('options.copy', copy, 'a boolean');
  return iterate(reader, copy);
}

async function* iterate(reader: PipeReader, copy: boolean): AsyncGenerator<Uint8Array, void, undefined> {
  let failure: Error | undefined;
  try {
    for (;;) {
      const result = await reader.read();
      const buffer = result.buffer;
      if (result.isCanceled) {
        reader.advanceTo(buffer.start);
        throw new ReadCanceledError();
      }
      if (copy) {
        // The whole read in one copy, and the pipe's memory released before the consumer gets it: a
        // paused writer goes on while the consumer works on its chunk.
        const chunk = buffer.length > 0 ? copyOut(buffer) : null;
        reader.advanceTo(buffer.end);
        if (chunk !== null) yield chunk;
      } else {
        let consumed = buffer.start;
        try {
          for (const [chunk, end] of segmentsOf(buffer)) {
            yield chunk;
            consumed = end;
          }
        } finally {
          reader.advanceTo(consumed);
        }
      }
      if (result.isCompleted) return;
    }
  } catch (error) {
    failure = error as Error;
    throw error;
  } finally {
    reader.complete(failure);
  }
}
