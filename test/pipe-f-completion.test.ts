import { describe, expect, it } from 'vitest';
import { Pipe } from '../dist/src/index.js';
import { TrackingPool, bytes, peek, settledValue, within, writeEmpty } from './helpers.js';

// Group F: completion and error propagation (dotnet-pipelines-behaviors.md, section F).
// An error completion is latched, first-wins, hides buffered data, and makes the other end's
// read/flush reject with the same Error object (tryRead throws it). F10/F11 (completion callbacks)
// are not ported.

class InvalidOperationError extends Error {
  override name = 'InvalidOperationError';
}

/** An error that was thrown and caught, so its stack names this function. */
function thrownFromSite(message: string): Error {
  try {
    throw new InvalidOperationError(message);
  } catch (error) {
    return error as Error;
  }
}

/** Asserts the promise is already rejected with exactly `error`. */
async function expectRejectedWith(promise: Promise<unknown>, error: unknown): Promise<void> {
  const peeked = await peek(promise);
  expect(peeked.state).toBe('rejected');
  expect((peeked as { error: unknown }).error).toBe(error);
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

describe('F: completion and errors', () => {
  it('F1a a writer completed with an error makes every read reject with that same error, stack kept', async () => {
    const pipe = new Pipe();
    const error = thrownFromSite('Writer exception');
    pipe.writer.complete(error);

    const first = pipe.reader.read();
    await expectRejectedWith(first, error);
    const caught = await first.catch((e: unknown) => e);
    expect(caught).toBeInstanceOf(InvalidOperationError);
    expect((caught as Error).message).toBe('Writer exception');
    expect((caught as Error).stack).toContain('thrownFromSite');

    await expectRejectedWith(pipe.reader.read(), error);
  });

  it('F1b a pending read rejects with the error when the writer completes with it', async () => {
    const pipe = new Pipe();
    const read = pipe.reader.read();
    await expectPending(read);
    const error = thrownFromSite('Writer exception');
    pipe.writer.complete(error);
    await expectRejectedWith(read, error);
    await expectRejectedWith(pipe.reader.read(), error);
  });

  it('F2 tryRead throws the writer\'s error synchronously', () => {
    const pipe = new Pipe();
    const error = new Error('wow');
    pipe.writer.complete(error);
    let thrown: unknown;
    try {
      pipe.reader.tryRead();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBe(error);
    expect((thrown as Error).message).toBe('wow');
    // Again: the error is latched.
    expect(() => pipe.reader.tryRead()).toThrow(error);
  });

  it('F3a an error completion hides bytes that were flushed before it', async () => {
    const pipe = new Pipe();
    await pipe.writer.write(bytes(1, 2, 3));
    const error = new Error('boom');
    pipe.writer.complete(error);
    await expectRejectedWith(pipe.reader.read(), error);
    expect(() => pipe.reader.tryRead()).toThrow(error);
  });

  it('F3b a normal completion delivers the buffered bytes with isCompleted', async () => {
    const pipe = new Pipe();
    await pipe.writer.write(bytes(1, 2, 3));
    pipe.writer.complete();
    const result = await settledValue(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  });

  it('F4a a reader completed with an error makes write and flush reject with that same error, twice', async () => {
    const pipe = new Pipe();
    const error = thrownFromSite('Reader exception');
    pipe.reader.complete(error);

    await expectRejectedWith(pipe.writer.write(bytes(0)), error);
    await expectRejectedWith(pipe.writer.write(bytes(0)), error);

    const flush = pipe.writer.flush();
    await expectRejectedWith(flush, error);
    const caught = await flush.catch((e: unknown) => e);
    expect((caught as Error).stack).toContain('thrownFromSite');
    await expectRejectedWith(pipe.writer.flush(), error);
  });

  it('F4b F_BP: after the reader failed, a flush of 64 bytes rejects with its error, twice', async () => {
    const pipe = new Pipe({ pauseWriterThreshold: 64, resumeWriterThreshold: 32 });
    const error = new InvalidOperationError('Reader failed');
    pipe.reader.complete(error);
    writeEmpty(pipe.writer, 64);
    const first = pipe.writer.flush();
    await expectRejectedWith(first, error);
    expect(((await first.catch((e: unknown) => e)) as Error).message).toBe('Reader failed');
    await expectRejectedWith(pipe.writer.flush(), error);
  });

  it('F4c a paused flush rejects with the error when the reader completes with it', async () => {
    const pipe = new Pipe({ pauseWriterThreshold: 64, resumeWriterThreshold: 32 });
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    const error = new InvalidOperationError('Reader failed');
    pipe.reader.complete(error);
    await expectRejectedWith(flush, error);
  });

  it('F5a writer: complete() then complete(error) -> the read completes normally', async () => {
    const pipe = new Pipe();
    pipe.writer.complete();
    pipe.writer.complete(new Error('late'));
    const result = await settledValue(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
  });

  it('F5b writer: complete(e1) then complete(e2) -> the read rejects with e1', async () => {
    const pipe = new Pipe();
    const e1 = new InvalidOperationError('first');
    pipe.writer.complete(e1);
    pipe.writer.complete(new Error('second'));
    await expectRejectedWith(pipe.reader.read(), e1);
  });

  it('F5c writer: complete(e1) then complete() -> the read rejects with e1', async () => {
    const pipe = new Pipe();
    const e1 = new InvalidOperationError('first');
    pipe.writer.complete(e1);
    pipe.writer.complete();
    await expectRejectedWith(pipe.reader.read(), e1);
  });

  it('F5d reader: complete() then complete(error) -> flush completes normally with isCompleted', async () => {
    const pipe = new Pipe();
    pipe.reader.complete();
    pipe.reader.complete(new Error('late'));
    const result = await settledValue(pipe.writer.flush());
    expect(result.isCompleted).toBe(true);
    expect(result.isCanceled).toBe(false);
  });

  it('F5e reader: complete(e1) then complete(e2) -> flush rejects with e1', async () => {
    const pipe = new Pipe();
    const e1 = new InvalidOperationError('first');
    pipe.reader.complete(e1);
    pipe.reader.complete(new Error('second'));
    await expectRejectedWith(pipe.writer.flush(), e1);
  });

  it('F5f reader: complete(e1) then complete() -> flush rejects with e1', async () => {
    const pipe = new Pipe();
    const e1 = new InvalidOperationError('first');
    pipe.reader.complete(e1);
    pipe.reader.complete();
    await expectRejectedWith(pipe.writer.flush(), e1);
  });

  it('F6a a normal writer completion resolves a pending read before complete() returns, with unflushed bytes', async () => {
    const pipe = new Pipe();
    const read = pipe.reader.read();
    await expectPending(read);
    writeEmpty(pipe.writer, 4);
    pipe.writer.complete();
    expect((await peek(read)).state).toBe('fulfilled');
    const result = await read;
    expect(result.isCompleted).toBe(true);
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.length).toBe(4);
    expect(pipe.writer.unflushedBytes).toBe(0);
  });

  it('F6b with nothing written the pending read resolves completed and empty', async () => {
    const pipe = new Pipe();
    const read = pipe.reader.read();
    await expectPending(read);
    pipe.writer.complete();
    const result = await settledValue(read);
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.length).toBe(0);
  });

  it('F7a after the reader completes, 10000 writes resolve isCompleted without renting memory', async () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool });
    pipe.reader.complete();
    const data = new Uint8Array(100);
    for (let i = 0; i < 10_000; i++) {
      const result = await pipe.writer.write(data);
      expect(result.isCompleted).toBe(true);
    }
    expect(pool.currentlyRentedBlocks).toBe(0);
    pipe.writer.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);
    expect(pipe.writer.unflushedBytes).toBe(0);
  });

  it('F7b after the reader completes, getMemory/advance/flush reuse one block and advance is a no-op', async () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool });
    pipe.reader.complete();
    let block: ArrayBufferLike | undefined;
    for (let i = 0; i < 10_000; i++) {
      const memory = pipe.writer.getMemory();
      block ??= memory.buffer;
      expect(memory.buffer).toBe(block);
      pipe.writer.advance(memory.length);
      expect(pipe.writer.unflushedBytes).toBe(0);
      const result = await pipe.writer.flush();
      expect(result.isCompleted).toBe(true);
    }
    expect(pool.currentlyRentedBlocks).toBe(1);
    pipe.writer.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);
    expect(pool.disposedBlocks).toBe(1);
    expect(pipe.writer.unflushedBytes).toBe(0);
  });

  it('F8 completing the writer from another task while a loop keeps writing makes the next write fail with ERR_PIPE_COMPLETED', async () => {
    const pipe = new Pipe();
    pipe.reader.complete();
    const big = new Uint8Array(10 * 1024 * 1024);
    let writes = 0;
    let reachedThird!: () => void;
    const third = new Promise<void>((resolve) => { reachedThird = resolve; });

    const writer = (async () => {
      for (;;) {
        const result = await pipe.writer.write(big);
        expect(result.isCompleted).toBe(true);
        if (++writes === 3) reachedThird();
        if (writes > 10_000) throw new Error('the writer was never completed');
      }
    })();
    const completer = (async () => {
      await third;
      pipe.writer.complete();
    })();

    const error = await within(writer.then(() => undefined, (e: unknown) => e), 5_000, 'F8 writer loop');
    await within(completer, 5_000, 'F8 completer');
    expect(error).toMatchObject({ code: 'ERR_PIPE_COMPLETED' });
    expect(writes).toBeGreaterThanOrEqual(3);
    expect(() => pipe.writer.getMemory()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
  });

  it('F9a memory is released only when both sides have completed', async () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool });
    writeEmpty(pipe.writer, 4094);
    writeEmpty(pipe.writer, 4094);
    await pipe.writer.flush();
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(8188);
    expect(result.buffer.isSingleSegment).toBe(false);
    expect(pool.currentlyRentedBlocks).toBe(2);

    pipe.reader.complete();
    expect(pool.currentlyRentedBlocks).toBe(2);
    expect(pool.disposedBlocks).toBe(0);

    pipe.writer.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);
    expect(pool.disposedBlocks).toBe(2);
  });

  it('F9b completing both sides returns memory exactly once, even when completed again', async () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool });
    await pipe.writer.write(bytes(1));
    pipe.writer.complete();
    pipe.reader.complete();
    expect(pool.disposedBlocks).toBe(1);
    expect(pool.currentlyRentedBlocks).toBe(0);
    // TrackingPool throws on a double return; completing again must not return anything.
    pipe.writer.complete();
    pipe.reader.complete();
    expect(pool.disposedBlocks).toBe(1);
    expect(pool.currentlyRentedBlocks).toBe(0);
  });

  it('F9c a write head that was only rented (getMemory, no advance) is returned on completion', () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool });
    pipe.writer.getMemory(512);
    expect(pool.currentlyRentedBlocks).toBe(1);
    pipe.writer.complete();
    pipe.reader.complete();
    expect(pool.disposedBlocks).toBe(1);
    expect(pool.currentlyRentedBlocks).toBe(0);
  });
});
