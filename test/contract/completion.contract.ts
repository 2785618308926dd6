import { expect } from 'vitest';
import { bytes, expectSameBytes, peek, quiet } from '../helpers.js';
import { contractCase, expectPending, expectSameError, kBoundMs, pattern, put, ready, rejectionOf, released, within, writeEmpty, type ContractCase, type ContractPipe } from './harness.js';
import { F_BP, F_RW } from './implementations.js';

// Group F: completion and error propagation (dotnet-pipelines-behaviors.md, section F), and the ring
// parity rule that complete() during an unfinished write never ends the stream early (S7).
// An error completion is latched, first-wins, hides buffered data, and makes the other end's
// read/flush reject with the same Error object in one heap (the same name, message and code across
// threads); tryRead throws it. F10/F11 (completion callbacks) are not ported.

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

/**
 * Asserts the promise rejects with the other end's error `error`: already rejected when `now` (the
 * rejecting end is in this thread and the error was there before the call).
 */
async function expectRejectedWith(pipe: ContractPipe, promise: Promise<unknown>, error: Error, now: boolean): Promise<unknown> {
  let caught: unknown;
  if (now) {
    const peeked = await peek(promise);
    expect(peeked.state).toBe('rejected');
    caught = (peeked as { error: unknown }).error;
  } else {
    caught = await rejectionOf(promise);
  }
  expectSameError(pipe, caught, error);
  return caught;
}

export const completionCases: readonly ContractCase[] = [
  contractCase('F1a', 'a writer completed with an error makes every read reject with that same error, stack kept', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const error = thrownFromSite('Writer exception');
    pipe.writer.complete(error);
    await pipe.barrier();

    const caught = await expectRejectedWith(pipe, pipe.reader.read(), error, pipe.caps.localReader);
    expect((caught as Error).message).toBe('Writer exception');
    if (pipe.caps.sameErrorObject) {
      expect(caught).toBeInstanceOf(InvalidOperationError);
      expect((caught as Error).stack).toContain('thrownFromSite');
    }
    await expectRejectedWith(pipe, pipe.reader.read(), error, pipe.caps.localReader);
  }),

  contractCase('F1b', 'a pending read rejects with the error when the writer completes with it', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    const read = pipe.reader.read();
    await expectPending(pipe, read);
    const error = thrownFromSite('Writer exception');
    pipe.writer.complete(error);
    await expectRejectedWith(pipe, read, error, pipe.caps.inlineResume);
    await expectRejectedWith(pipe, pipe.reader.read(), error, pipe.caps.localReader);
  }),

  contractCase('F2', "tryRead throws the writer's error synchronously", ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const error = new Error('wow');
    pipe.writer.complete(error);
    await pipe.barrier();
    let thrown: unknown;
    try {
      pipe.reader.tryRead();
    } catch (e) {
      thrown = e;
    }
    expectSameError(pipe, thrown, error);
    expect((thrown as Error).message).toBe('wow');
    // Again: the error is latched.
    expect(() => pipe.reader.tryRead()).toThrow(error);
  }),

  contractCase('F3a', 'an error completion hides bytes that were flushed before it', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const error = new Error('boom');
    pipe.writer.complete(error);
    await pipe.barrier();
    await expectRejectedWith(pipe, pipe.reader.read(), error, pipe.caps.localReader);
    if (pipe.caps.localReader) expect(() => pipe.reader.tryRead()).toThrow(error);
  }),

  contractCase('F3b', 'a normal completion delivers the buffered bytes with isCompleted', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    pipe.writer.complete();
    await pipe.barrier();
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  }),

  contractCase('F4a', 'a reader completed with an error makes write and flush reject with that same error, twice', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const error = thrownFromSite('Reader exception');
    pipe.reader.complete(error);
    await pipe.barrier();

    await expectRejectedWith(pipe, pipe.writer.write(bytes(0)), error, pipe.caps.localWriter);
    await expectRejectedWith(pipe, pipe.writer.write(bytes(0)), error, pipe.caps.localWriter);

    const caught = await expectRejectedWith(pipe, pipe.writer.flush(), error, pipe.caps.localWriter);
    if (pipe.caps.sameErrorObject) expect((caught as Error).stack).toContain('thrownFromSite');
    await expectRejectedWith(pipe, pipe.writer.flush(), error, pipe.caps.localWriter);
  }),

  contractCase('F4b', 'F_BP: after the reader failed, a flush of 64 bytes rejects with its error, twice', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_BP);
    const error = new InvalidOperationError('Reader failed');
    pipe.reader.complete(error);
    await pipe.barrier();
    writeEmpty(pipe.writer, 64);
    const caught = await expectRejectedWith(pipe, pipe.writer.flush(), error, pipe.caps.localWriter);
    expect((caught as Error).message).toBe('Reader failed');
    await expectRejectedWith(pipe, pipe.writer.flush(), error, pipe.caps.localWriter);
  }),

  contractCase('F4c', 'a paused flush rejects with the error when the reader completes with it', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_BP);
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(pipe, flush);
    const error = new InvalidOperationError('Reader failed');
    pipe.reader.complete(error);
    await expectRejectedWith(pipe, flush, error, pipe.caps.inlineResume);
  }),

  contractCase('F5a', 'writer: complete() then complete(error) -> the read completes normally', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.writer.complete();
    pipe.writer.complete(new Error('late'));
    await pipe.barrier();
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCompleted).toBe(true);
  }),

  contractCase('F5b', 'writer: complete(e1) then complete(e2) -> the read rejects with e1', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const e1 = new InvalidOperationError('first');
    pipe.writer.complete(e1);
    pipe.writer.complete(new Error('second'));
    await pipe.barrier();
    await expectRejectedWith(pipe, pipe.reader.read(), e1, pipe.caps.localReader);
  }),

  contractCase('F5c', 'writer: complete(e1) then complete() -> the read rejects with e1', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const e1 = new InvalidOperationError('first');
    pipe.writer.complete(e1);
    pipe.writer.complete();
    await pipe.barrier();
    await expectRejectedWith(pipe, pipe.reader.read(), e1, pipe.caps.localReader);
  }),

  contractCase('F5d', 'reader: complete() then complete(error) -> flush completes normally with isCompleted', ['realReader', 'realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.reader.complete();
    pipe.reader.complete(new Error('late'));
    await pipe.barrier();
    const result = await ready(pipe, 'writer', pipe.writer.flush());
    expect(result.isCompleted).toBe(true);
    expect(result.isCanceled).toBe(false);
  }),

  contractCase('F5e', 'reader: complete(e1) then complete(e2) -> flush rejects with e1', ['realReader', 'realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const e1 = new InvalidOperationError('first');
    pipe.reader.complete(e1);
    pipe.reader.complete(new Error('second'));
    await pipe.barrier();
    await expectRejectedWith(pipe, pipe.writer.flush(), e1, pipe.caps.localWriter);
  }),

  contractCase('F5f', 'reader: complete(e1) then complete() -> flush rejects with e1', ['realReader', 'realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const e1 = new InvalidOperationError('first');
    pipe.reader.complete(e1);
    pipe.reader.complete();
    await pipe.barrier();
    await expectRejectedWith(pipe, pipe.writer.flush(), e1, pipe.caps.localWriter);
  }),

  contractCase('F6a', 'a normal writer completion resolves a pending read before complete() returns, with unflushed bytes', ['sameThread'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const read = pipe.reader.read();
    await expectPending(pipe, read);
    writeEmpty(pipe.writer, 4);
    pipe.writer.complete();
    const result = await released(pipe, read);
    expect(result.isCompleted).toBe(true);
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.length).toBe(4);
    if (pipe.caps.localWriter) expect(pipe.writer.unflushedBytes).toBe(0);
  }),

  contractCase('F6c', 'a normal writer completion with unflushed bytes ends a pending read: every byte, then isCompleted', [], async (impl) => {
    // Across threads (or through a stream) the bytes and the completion may come in two results.
    const pipe = await impl.open(F_RW);
    const read = pipe.reader.read();
    await expectPending(pipe, read);
    put(pipe.writer, bytes(1, 2, 3, 4));
    pipe.writer.complete();
    let result = await within(read);
    const received = [...result.buffer.toUint8Array()];
    while (!result.isCompleted) {
      pipe.reader.advanceTo(result.buffer.end);
      result = await within(pipe.reader.read());
      received.push(...result.buffer.toUint8Array());
    }
    expect(received).toEqual([1, 2, 3, 4]);
    expect(result.isCanceled).toBe(false);
  }),

  contractCase('F6b', 'with nothing written the pending read resolves completed and empty', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    const read = pipe.reader.read();
    await expectPending(pipe, read);
    pipe.writer.complete();
    const result = await released(pipe, read);
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.length).toBe(0);
  }),

  contractCase('F7a', 'after the reader completes, 10000 writes resolve isCompleted without renting memory', ['realWriter'], async (impl) => {
    const pipe = await impl.open({ trackingPool: true });
    pipe.reader.complete();
    await pipe.barrier();
    const data = new Uint8Array(100);
    for (let i = 0; i < 10_000; i++) {
      const result = await pipe.writer.write(data);
      expect(result.isCompleted).toBe(true);
    }
    if (pipe.pool !== undefined) expect(pipe.pool.currentlyRentedBlocks).toBe(0);
    pipe.writer.complete();
    await pipe.barrier();
    if (pipe.pool !== undefined) expect(pipe.pool.currentlyRentedBlocks).toBe(0);
    if (pipe.caps.localWriter) expect(pipe.writer.unflushedBytes).toBe(0);
  }, 30_000),

  contractCase('F7b', 'after the reader completes, getMemory/advance/flush reuse one block and advance is a no-op', ['localWriter', 'realReader'], async (impl) => {
    const pipe = await impl.open({ trackingPool: true });
    pipe.reader.complete();
    await pipe.barrier();
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
    if (pipe.pool !== undefined) expect(pipe.pool.currentlyRentedBlocks).toBe(1);
    pipe.writer.complete();
    if (pipe.pool !== undefined) {
      expect(pipe.pool.currentlyRentedBlocks).toBe(0);
      expect(pipe.pool.disposedBlocks).toBe(1);
    }
    expect(pipe.writer.unflushedBytes).toBe(0);
  }, 30_000),

  contractCase('F8', 'completing the writer from another task while a loop keeps writing makes the next write fail with ERR_PIPE_COMPLETED', ['localWriter', 'realReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.reader.complete();
    await pipe.barrier();
    const big = new Uint8Array(10 * 1024 * 1024);
    let writes = 0;
    let reachedThird!: () => void;
    const third = new Promise<void>((resolve) => {
      reachedThird = resolve;
    });

    const writer = quiet((async () => {
      for (;;) {
        const result = await pipe.writer.write(big);
        expect(result.isCompleted).toBe(true);
        if (++writes === 3) reachedThird();
        if (writes > 10_000) throw new Error('the writer was never completed');
      }
    })());
    const completer = quiet((async () => {
      await third;
      pipe.writer.complete();
    })());

    const error = await within(writer.then(() => undefined, (e: unknown) => e), kBoundMs, 'F8 writer loop');
    await within(completer, kBoundMs, 'F8 completer');
    expect(error).toMatchObject({ code: 'ERR_PIPE_COMPLETED' });
    expect(writes).toBeGreaterThanOrEqual(3);
    expect(() => pipe.writer.getMemory()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
  }),

  ...[64, 1024].map((capacity) =>
    contractCase('S7', `complete() while a write of 200 bytes waits (pause 64, ring ${capacity}): the reader sees every byte before isCompleted`, ['backpressure'], async (impl) => {
      const pipe = await impl.open({ pauseWriterThreshold: 64, resumeWriterThreshold: 32, capacity });
      const data = pattern(200);
      const write = pipe.writer.write(data);
      await expectPending(pipe, write, 'the paused write');
      pipe.writer.complete();
      const parts: Uint8Array[] = [];
      for (;;) {
        const result = await within(pipe.reader.read(), kBoundMs, 'a read after the writer completed');
        parts.push(result.buffer.toUint8Array());
        pipe.reader.advanceTo(result.buffer.end);
        if (result.isCompleted) break;
      }
      expectSameBytes(Buffer.concat(parts), data, 'bytes before isCompleted');
      // The unfinished write ends one way or the other: nothing waits forever.
      await within(write.then(() => undefined, () => undefined), kBoundMs, 'the write the writer was completed under');
    }),
  ),
];
