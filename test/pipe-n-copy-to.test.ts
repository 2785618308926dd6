import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  FlushCanceledError,
  Pipe,
  PipeScheduler,
  ReadCanceledError,
  type ReadResult,
  type SequencePosition,
} from '../dist/src/index.js';
import { ascii, ForwardingReader, nextImmediate, peek, settledValue, TrackingPool, within } from './helpers.js';

// Group N: reader.copyTo(destination: PipeWriter | Writable, { signal }) (dotnet-pipelines-behaviors.md,
// section N). A canceled read rejects with ReadCanceledError (an AbortError), a canceled destination
// flush with FlushCanceledError (an AbortError), a completed destination stops the copy successfully,
// and neither the source reader nor the destination is ever completed by copyTo.
// N9 (the suite over a stream-backed reader) is inapplicable until such a reader exists; N10
// (Stream.copyToAsync(PipeWriter)) is not ported.

/** F_RAL: default options with an inline reader scheduler (the writer scheduler is the "thread pool"). */
function ralPipe(options: { pool?: TrackingPool } = {}): Pipe {
  return new Pipe({ readerScheduler: PipeScheduler.inline, writerScheduler: PipeScheduler.immediate, ...options });
}

interface Recorder {
  readonly stream: Writable;
  /** Copies of every chunk that was written successfully. */
  readonly chunks: Uint8Array[];
  /** Calls of the stream's write implementation, failed ones included. */
  readonly attempts: () => number;
  readonly bytes: () => Uint8Array;
  /** Resolves once at least `count` bytes were written successfully. */
  waitForBytes(count: number): Promise<void>;
  /** Resolves once the write implementation was called `count` times. */
  waitForAttempts(count: number): Promise<void>;
}

interface RecorderOptions {
  /** The 1-based write that fails with `error`. */
  failOnWrite?: number;
  error?: Error;
  /** Called on every write before anything else; returning true keeps the write pending (its callback is dropped). */
  onWrite?: (attempt: number) => boolean | void;
  /** Call the write callback in a later setImmediate instead of synchronously. */
  asyncCallback?: boolean;
}

/** A Writable that records (copies of) the chunks it receives and can fail or block a given write. */
function recorder(options: RecorderOptions = {}): Recorder {
  const chunks: Uint8Array[] = [];
  let attempts = 0;
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const check of [...waiters]) check();
  };
  const total = (): number => chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      attempts++;
      const attempt = attempts;
      if (options.onWrite?.(attempt) === true) {
        notify();
        return;
      }
      const finish = (): void => {
        if (attempt === options.failOnWrite) {
          callback(options.error ?? new Error(`write ${attempt} failed`));
        } else {
          chunks.push(Uint8Array.from(chunk));
          callback();
        }
        notify();
      };
      if (options.asyncCallback) setImmediate(finish);
      else finish();
    },
  });
  // A failed write also errors the stream; the copy reports it through its own promise.
  stream.on('error', () => {});
  const waitFor = (done: () => boolean): Promise<void> =>
    within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (done()) {
            waiters.delete(check);
            resolve();
          }
        };
        waiters.add(check);
        check();
      }),
    );
  return {
    stream,
    chunks,
    attempts: () => attempts,
    bytes: () => {
      const all = new Uint8Array(total());
      let offset = 0;
      for (const chunk of chunks) {
        all.set(chunk, offset);
        offset += chunk.length;
      }
      return all;
    },
    waitForBytes: (count) => waitFor(() => total() >= count),
    waitForAttempts: (count) => waitFor(() => attempts >= count),
  };
}

/** Forwards the abstract members to a Pipe's reader and records every advanceTo and read result. */
class RecordingReader extends ForwardingReader {
  readonly advances: Array<{ consumed: SequencePosition; examined: SequencePosition }> = [];
  lastResult: ReadResult | undefined;

  protected override async readCore(signal: AbortSignal | undefined): Promise<ReadResult> {
    const result = await super.readCore(signal);
    this.lastResult = result;
    return result;
  }

  protected override advanceToCore(consumed: SequencePosition, examined: SequencePosition): void {
    this.advances.push({ consumed, examined });
    super.advanceToCore(consumed, examined);
  }
}

function pattern(length: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + 7) & 0xff;
  return data;
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

/** Reads everything the target pipe holds now and consumes it. */
async function drain(pipe: Pipe): Promise<string> {
  const result = await within(pipe.reader.read());
  const text = result.buffer.toString();
  pipe.reader.advanceTo(result.buffer.end);
  return text;
}

describe('N: copyTo', () => {
  it('N1a a missing or invalid destination throws a TypeError synchronously', () => {
    const pipe = ralPipe();
    for (const destination of [null, undefined, {}]) {
      expect(() => pipe.reader.copyTo(destination as never)).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
      );
    }
  });

  it('N1b a pre-aborted signal rejects with an AbortError and copies nothing', async () => {
    const pipe = ralPipe();
    await pipe.writer.write('Hello World');
    const controller = new AbortController();
    controller.abort();

    const sink = recorder();
    await expect(within(pipe.reader.copyTo(sink.stream, { signal: controller.signal }))).rejects.toMatchObject({
      name: 'AbortError',
      code: 'ABORT_ERR',
    });
    expect(sink.attempts()).toBe(0);

    const target = new Pipe();
    await expect(within(pipe.reader.copyTo(target.writer, { signal: controller.signal }))).rejects.toMatchObject({
      name: 'AbortError',
      code: 'ABORT_ERR',
    });
    expect(target.reader.tryRead()).toBeNull();

    // The source still holds everything.
    const left = await settledValue(pipe.reader.read());
    expect(left.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(left.buffer.end);
  });

  it('N2a copies into a Writable until the writer completes', async () => {
    const pipe = ralPipe();
    const sink = recorder();
    const copy = pipe.reader.copyTo(sink.stream);
    const messages = ['Hello World!', 'Hello Pipes!', 'Bye, writer.'];
    let expected = '';
    for (const message of messages) {
      expect(message).toHaveLength(12);
      await pipe.writer.write(message);
      expected += message;
      await sink.waitForBytes(expected.length);
      await expectPending(copy);
    }
    pipe.writer.complete();
    await within(copy);
    expect(Buffer.from(sink.bytes()).toString()).toBe(expected);
    expect(sink.bytes()).toHaveLength(36);
    // The destination was not ended, the source reader not completed.
    expect(sink.stream.writableEnded).toBe(false);
    expect(sink.stream.destroyed).toBe(false);
    const after = await settledValue(pipe.reader.read());
    expect(after.isCompleted).toBe(true);
    expect(after.buffer.length).toBe(0);
  });

  it('N2b copies into another pipe\'s writer until the writer completes', async () => {
    const pipe = ralPipe();
    const target = new Pipe();
    const copy = pipe.reader.copyTo(target.writer);
    const messages = ['Hello World!', 'Hello Pipes!', 'Bye, writer.'];
    let received = '';
    for (const message of messages) {
      await pipe.writer.write(message);
      received += await drain(target);
      await expectPending(copy);
    }
    pipe.writer.complete();
    await within(copy);
    expect(received).toBe(messages.join(''));
    expect(received).toHaveLength(36);
    // The destination writer was not completed: it still accepts writes, and its reader still waits.
    const next = target.reader.read();
    await expectPending(next);
    await target.writer.write('more');
    expect((await settledValue(next)).buffer.toString()).toBe('more');
    const after = await settledValue(pipe.reader.read());
    expect(after.isCompleted).toBe(true);
  });

  it('N2c a completed destination writer stops the copy successfully', async () => {
    const pipe = ralPipe();
    const target = new Pipe();
    target.reader.complete();
    await pipe.writer.write('Hello');
    await within(pipe.reader.copyTo(target.writer));
    // The copy ended although the source writer is still open, and the segment it wrote was consumed.
    expect(pipe.reader.tryRead()).toBeNull();
    await pipe.writer.write(' again');
    const left = await settledValue(pipe.reader.read());
    expect(left.buffer.toString()).toBe(' again');
    pipe.reader.advanceTo(left.buffer.end);
  });

  it('N3 copies a multi-segment source', async () => {
    const pipe = ralPipe({ pool: new TrackingPool(4096) });
    const data = pattern(3 * 4096);
    await pipe.writer.write(data);
    pipe.writer.complete();
    const sink = recorder();
    await within(pipe.reader.copyTo(sink.stream));
    expect(sink.chunks.map((chunk) => chunk.length)).toEqual([4096, 4096, 4096]);
    expect(sink.bytes()).toEqual(data);
  });

  it('N3b copies a multi-segment source into a pipe writer', async () => {
    const pipe = ralPipe({ pool: new TrackingPool(4096) });
    const data = pattern(3 * 4096);
    await pipe.writer.write(data);
    pipe.writer.complete();
    const target = new Pipe();
    await within(pipe.reader.copyTo(target.writer));
    target.writer.complete();
    const copied = await settledValue(target.reader.read());
    expect(copied.buffer.toUint8Array()).toEqual(data);
    target.reader.advanceTo(copied.buffer.end);
  });

  for (const asyncCallback of [false, true]) {
    it(`N4 a failure on the 3rd write consumes exactly the 2 segments written (${asyncCallback ? 'async' : 'sync'} callbacks)`, async () => {
      const pool = new TrackingPool(4096);
      const pipe = ralPipe({ pool });
      const data = pattern(3 * 4096);
      await pipe.writer.write(data);
      pipe.writer.complete();
      expect(pool.currentlyRentedBlocks).toBe(3);

      const error = new Error('third write fails');
      const sink = recorder({ failOnWrite: 3, error, asyncCallback });
      await expect(within(pipe.reader.copyTo(sink.stream))).rejects.toBe(error);
      expect(sink.attempts()).toBe(3);
      expect(sink.chunks).toHaveLength(2);
      expect(sink.bytes()).toEqual(data.subarray(0, 2 * 4096));
      expect(pool.currentlyRentedBlocks).toBe(1);
      expect(pool.disposedBlocks).toBe(2);

      const rest = await settledValue(pipe.reader.read());
      expect(rest.buffer.length).toBe(4096);
      expect(rest.buffer.toUint8Array()).toEqual(data.subarray(2 * 4096));
      pipe.reader.advanceTo(rest.buffer.end);
    });
  }

  it('N5 an empty completed pipe writes nothing', async () => {
    const pipe = ralPipe();
    pipe.writer.complete();
    const sink = recorder({ failOnWrite: 1, error: new Error('must not be written') });
    await within(pipe.reader.copyTo(sink.stream));
    expect(sink.attempts()).toBe(0);

    const other = ralPipe();
    other.writer.complete();
    const target = new Pipe();
    await within(other.reader.copyTo(target.writer));
    expect(target.reader.tryRead()).toBeNull();
  });

  it('N6a cancelPendingRead during the copy rejects with ReadCanceledError and leaves the reader usable', async () => {
    const pipe = ralPipe();
    const sink = recorder();
    const copy = pipe.reader.copyTo(sink.stream);
    copy.catch(() => {});
    await expectPending(copy);
    pipe.reader.cancelPendingRead();
    const error = await within(copy).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ReadCanceledError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(sink.attempts()).toBe(0);

    await pipe.writer.write('after');
    const next = await settledValue(pipe.reader.read());
    expect(next.buffer.toString()).toBe('after');
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('N6a\' cancelPendingRead during a copy into a pipe writer rejects with ReadCanceledError', async () => {
    const pipe = ralPipe();
    const target = new Pipe();
    const copy = pipe.reader.copyTo(target.writer);
    copy.catch(() => {});
    await expectPending(copy);
    pipe.reader.cancelPendingRead();
    await expect(within(copy)).rejects.toBeInstanceOf(ReadCanceledError);
  });

  it('N6b aborting the signal while the copy waits for data rejects with an AbortError', async () => {
    for (const makeDestination of [() => recorder().stream, () => new Pipe().writer]) {
      const pipe = ralPipe();
      const controller = new AbortController();
      const copy = pipe.reader.copyTo(makeDestination(), { signal: controller.signal });
      copy.catch(() => {});
      await expectPending(copy);
      controller.abort();
      await expect(within(copy)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    }
  });

  it('N6c a signal aborted by the destination in the middle of a write rejects with an AbortError', async () => {
    const pipe = ralPipe();
    const controller = new AbortController();
    const sink = recorder({
      onWrite: () => {
        controller.abort();
      },
    });
    await pipe.writer.write('Hello World');
    const copy = pipe.reader.copyTo(sink.stream, { signal: controller.signal });
    await expect(within(copy)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(sink.attempts()).toBe(1);
  });

  it('N6d aborting while the destination pipe writer is paused rejects with an AbortError', async () => {
    const pipe = ralPipe();
    const target = new Pipe({ pauseWriterThreshold: 1, resumeWriterThreshold: 1 });
    await pipe.writer.write('Hello World');
    const controller = new AbortController();
    const copy = pipe.reader.copyTo(target.writer, { signal: controller.signal });
    copy.catch(() => {});
    await nextImmediate();
    await expectPending(copy);
    expect(target.length).toBe(11);
    controller.abort();
    await expect(within(copy)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });

  it('N6d\' cancelPendingFlush on the paused destination rejects with FlushCanceledError', async () => {
    const pipe = ralPipe();
    const target = new Pipe({ pauseWriterThreshold: 1, resumeWriterThreshold: 1 });
    await pipe.writer.write('Hello World');
    const copy = pipe.reader.copyTo(target.writer);
    copy.catch(() => {});
    await nextImmediate();
    await expectPending(copy);
    expect(target.length).toBe(11);
    target.writer.cancelPendingFlush();
    const error = await within(copy).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FlushCanceledError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });

  it('N6e aborting while a stream write is blocked rejects with an AbortError', async () => {
    const pipe = ralPipe();
    const controller = new AbortController();
    const sink = recorder({ onWrite: () => true });
    await pipe.writer.write('Hello World');
    const copy = pipe.reader.copyTo(sink.stream, { signal: controller.signal });
    copy.catch(() => {});
    await sink.waitForAttempts(1);
    await expectPending(copy);
    controller.abort();
    await expect(within(copy)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });

  it('N7a a failed copy leaves the reader usable for a second copy', async () => {
    const pipe = ralPipe();
    await pipe.writer.write(new Uint8Array(10));
    const error = new Error('stream failed');
    await expect(within(pipe.reader.copyTo(recorder({ failOnWrite: 1, error }).stream))).rejects.toBe(error);

    await pipe.writer.write(new Uint8Array(10));
    pipe.writer.complete();
    const sink = recorder();
    await within(pipe.reader.copyTo(sink.stream));
    expect(sink.bytes()).toHaveLength(20);
  });

  it('N7b a failed first write advances to the start of the last read result', async () => {
    const pipe = ralPipe();
    const reader = new RecordingReader(pipe.reader);
    await pipe.writer.write('Hello World');
    const error = new Error('stream failed');
    await expect(within(reader.copyTo(recorder({ failOnWrite: 1, error }).stream))).rejects.toBe(error);
    const last = reader.advances.at(-1)!;
    expect(last).toBeDefined();
    const start = reader.lastResult!.buffer.start;
    expect(last.consumed.equals(start)).toBe(true);
    expect(last.examined.equals(start)).toBe(true);
  });

  it('N8a copies only what was not consumed, into a Writable', async () => {
    const pipe = ralPipe();
    await pipe.writer.write('Hello World');
    pipe.writer.complete();
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.getPosition(5));
    const sink = recorder();
    await within(pipe.reader.copyTo(sink.stream));
    expect(Buffer.from(sink.bytes()).toString()).toBe(' World');
  });

  it('N8b copies only what was not consumed, into a pipe writer', async () => {
    const pipe = ralPipe();
    await pipe.writer.write('Hello World');
    pipe.writer.complete();
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.getPosition(5));
    const target = new Pipe();
    await within(pipe.reader.copyTo(target.writer));
    const copied = await settledValue(target.reader.read());
    expect(copied.buffer.toUint8Array()).toEqual(ascii(' World'));
    target.reader.advanceTo(copied.buffer.end);
  });
});
