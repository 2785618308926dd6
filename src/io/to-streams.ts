import { Readable, Writable } from 'node:stream';
import { FlushCanceledError, InvalidArgumentTypeError, ReadCanceledError } from '../errors/index.js';
import { PipeReader } from '../pipe/pipe-reader.js';
import { PipeWriter } from '../pipe/pipe-writer.js';

function checkReader(reader: unknown): PipeReader {
  if (!(reader instanceof PipeReader)) throw new InvalidArgumentTypeError('reader', reader, 'a PipeReader');
  return reader;
}

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
  const chunk = buffer.length > 0 ? Buffer.from(buffer.toUint8Array().buffer) : null;
  reader.advanceTo(buffer.end);
  return { chunk, done: result.isCompleted };
}

/**
 * A `node:stream` Readable over a PipeReader, usable in `stream.pipeline`. It reads only when the
 * stream asks for more (backpressure kept); destroying it completes the reader, and a reader error
 * destroys it.
 */
export function toReadable(reader: PipeReader): Readable {
  const source = checkReader(reader);
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
      try {
        source.complete(error ?? undefined);
      } catch {
        // The reader may have completed already; destroying must not fail for it.
      }
      callback(error);
    },
  });
}

/**
 * A `node:stream` Writable over a PipeWriter: each write is copied into the pipe and flushed, and
 * the callback waits for the flush (backpressure kept). Ending completes the writer; destroying
 * completes it with the error.
 */
export function toWritable(writer: PipeWriter): Writable {
  const target = checkWriter(writer);
  const settle = (flush: Promise<{ isCanceled: boolean; isCompleted: boolean }>, callback: (error?: Error | null) => void): void => {
    flush.then(
      (result) => callback(result.isCanceled ? new FlushCanceledError() : null),
      (error: Error) => callback(error),
    );
  };
  return new Writable({
    write(chunk: Uint8Array, _encoding, callback) {
      try {
        settle(target.write(chunk), callback);
      } catch (error) {
        callback(error as Error);
      }
    },
    writev(chunks, callback) {
      try {
        for (const { chunk } of chunks) {
          const bytes = chunk as Uint8Array;
          for (let offset = 0; offset < bytes.length;) {
            const memory = target.getMemory(1);
            const count = Math.min(memory.length, bytes.length - offset);
            memory.set(bytes.subarray(offset, offset + count));
            target.advance(count);
            offset += count;
          }
        }
        settle(target.flush(), callback);
      } catch (error) {
        callback(error as Error);
      }
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
      try {
        if (error) target.complete(error);
      } catch {
        // Already completed.
      }
      callback(error);
    },
  });
}

/** A WHATWG byte stream over a PipeReader; canceling it completes the reader. */
export function toReadableStream(reader: PipeReader): ReadableStream<Uint8Array> {
  const source = checkReader(reader);
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

/** A WHATWG WritableStream over a PipeWriter; closing completes the writer, aborting completes it with the reason. */
export function toWritableStream(writer: PipeWriter): WritableStream<Uint8Array> {
  const target = checkWriter(writer);
  return new WritableStream<Uint8Array>({
    async write(chunk) {
      const result = await target.write(chunk);
      if (result.isCanceled) throw new FlushCanceledError();
    },
    close() {
      target.complete();
    },
    abort(reason) {
      target.complete(reason instanceof Error ? reason : new Error(String(reason)));
    },
  });
}
