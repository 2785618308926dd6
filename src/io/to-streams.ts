import { Readable, Writable } from 'node:stream';
import { FlushCanceledError, InvalidArgumentTypeError, ReadCanceledError, ReaderCompletedError } from '../errors/index.js';
import type { PipeReader } from '../pipe/pipe-reader.js';
import { PipeWriter } from '../pipe/pipe-writer.js';
import { copyOut, validateReader } from '../pipe/reader-iteration.js';
import { kTransfer, type FlushResult } from '../pipe/results.js';

/**
 * The most bytes one write() of the pipe takes from the chunks a Writable gathered (after `cork()`, or
 * while a write was in flight): small chunks go as one copy and one flush, large ones one by one.
 */
const kGatherLimit = 64 * 1024;

function checkWriter(writer: unknown): PipeWriter {
  if (!(writer instanceof PipeWriter)) throw new InvalidArgumentTypeError('writer', writer, 'a PipeWriter');
  return writer;
}

/** Copies the next read's bytes out of the pipe (its memory is reused after advanceTo). */
async function readCopy(reader: PipeReader): Promise<{ chunk: Uint8Array | null; done: boolean }> {
  const result = await reader.read();
  const buffer = result.buffer;
  if (result.isCanceled) {
    reader.advanceTo(buffer.start);
    throw new ReadCanceledError();
  }
  const chunk = buffer.length > 0 ? copyOut(buffer) : null;
  reader.advanceTo(buffer.end);
  return { chunk, done: result.isCompleted };
}

/**
 * Why a write through a stream fails after this flush: a completed reader means the bytes are gone,
 * so the stream must not report success (a pipeline would finish as if all was delivered).
 */
function flushFailure(result: FlushResult): Error | null {
  if (result.isCompleted) return new ReaderCompletedError();
  if (result.isCanceled) return new FlushCanceledError();
  return null;
}

/** Writes the chunks in order, gathering small ones, and waits for each flush; the first failure ends it. */
async function writeChunks(target: PipeWriter, chunks: readonly Uint8Array[]): Promise<Error | null> {
  for (let first = 0; first < chunks.length;) {
    let end = first + 1;
    let size = chunks[first]!.length;
    while (end < chunks.length && size + chunks[end]!.length <= kGatherLimit) size += chunks[end++]!.length;
    // A gathered chunk is a buffer of our own: hand it over instead of having the pipe copy it again.
    const failure = flushFailure(await (end === first + 1 ? target.write(chunks[first]!) : target.write(Buffer.concat(chunks.slice(first, end), size), kTransfer)));
    if (failure !== null) return failure;
    first = end;
  }
  return null;
}

function completeQuietly(end: PipeReader | PipeWriter, error?: Error): void {
  try {
    end.complete(error);
  } catch {
    // Already completed: ending or destroying the stream must not fail for it.
  }
}

/**
 * A `node:stream` Readable over a PipeReader, usable in `stream.pipeline`. It reads only when the
 * stream asks for more (backpressure kept); destroying it completes the reader, and a reader error
 * destroys it.
 */
export function toReadable(reader: PipeReader): Readable {
  const source = validateReader(reader);
  return new Readable({
    read() {
      readCopy(source).then(
        ({ chunk, done }) => {
          if (chunk !== null) this.push(chunk);
          if (done) this.push(null);
          else if (chunk === null) this._read(0);
        },
        (error: Error) => this.destroy(error),
      );
    },
    destroy(error, callback) {
      completeQuietly(source, error ?? undefined);
      callback(error);
    },
  });
}

/**
 * A `node:stream` Writable over a PipeWriter: each write is copied into the pipe and flushed, and
 * the callback waits for the flush (backpressure kept); chunks gathered by `cork()` go together.
 * Ending completes the writer, and so does destroying it (with the error, if any). Once the pipe's
 * reader has completed, writes fail with ERR_PIPE_READER_COMPLETED, so a pipeline into it rejects.
 */
export function toWritable(writer: PipeWriter): Writable {
  const target = checkWriter(writer);
  return new Writable({
    write(chunk: Uint8Array, _encoding, callback) {
      writeChunks(target, [chunk]).then(callback, callback);
    },
    writev(chunks, callback) {
      writeChunks(target, chunks.map(({ chunk }) => chunk as Uint8Array)).then(callback, callback);
    },
    final(callback) {
      try {
        target.complete();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    destroy(error, callback) {
      completeQuietly(target, error ?? undefined);
      callback(error);
    },
  });
}

/** A WHATWG byte stream over a PipeReader; canceling it completes the reader. */
export function toReadableStream(reader: PipeReader): ReadableStream<Uint8Array> {
  const source = validateReader(reader);
  return new ReadableStream({
    type: 'bytes',
    async pull(controller) {
      for (;;) {
        const { chunk, done } = await readCopy(source);
        if (chunk !== null) controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        if (done) {
          source.complete();
          controller.close();
          controller.byobRequest?.respond(0);
          return;
        }
        if (chunk !== null) return;
      }
    },
    cancel(reason) {
      source.complete(reason instanceof Error ? reason : undefined);
    },
  });
}

/**
 * A WHATWG WritableStream over a PipeWriter; closing completes the writer, aborting completes it with
 * the reason. Once the pipe's reader has completed, writes fail with ERR_PIPE_READER_COMPLETED, so
 * `pipeTo` rejects; a failed write completes the writer with its error.
 */
export function toWritableStream(writer: PipeWriter): WritableStream<Uint8Array> {
  const target = checkWriter(writer);
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      let failure: Error | null;
      try {
        failure = await writeChunks(target, [chunk]);
      } catch (error) {
        failure = error as Error;
      }
      if (failure !== null) {
        // An errored stream calls nothing more on its sink: the writer is completed here or never.
        completeQuietly(target, failure);
        throw failure;
      }
    },
    close() {
      target.complete();
    },
    abort(reason) {
      target.complete(reason instanceof Error ? reason : new Error(String(reason)));
    },
  });
}
