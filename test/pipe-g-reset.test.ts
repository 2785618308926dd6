import { describe, expect, it } from 'vitest';
import { Pipe } from '../dist/src/index.js';
import { bytes, peek, settledValue, TrackingPool, within } from './helpers.js';

// Group G: reset (dotnet-pipelines-behaviors.md, section G). reset() is allowed only once both ends
// completed; it clears completion state, awaitables and lengths so the pipe can be used again.
// G4 (completion callbacks detached by reset) is inapplicable: onReaderCompleted/onWriterCompleted are not ported.

/** F_RW: a 4096-byte pool, inline schedulers, default thresholds (65536 / 32768). */
function rwPipe(pool = new TrackingPool(4096)): Pipe {
  return new Pipe({ pool });
}

function expectCode(fn: () => unknown, code: string): void {
  expect(fn).toThrow(expect.objectContaining({ code }));
}

describe('G: reset', () => {
  it('G1 reset lets the pipe be reused', async () => {
    const pool = new TrackingPool(4096);
    const pipe = rwPipe(pool);

    await pipe.writer.write(bytes(1, 2, 3));
    const first = await settledValue(pipe.reader.read());
    expect(Array.from(first.buffer.toUint8Array())).toEqual([1, 2, 3]);
    pipe.reader.advanceTo(first.buffer.end);
    pipe.reader.complete();
    pipe.writer.complete();

    pipe.reset();
    expect(pool.currentlyRentedBlocks).toBe(0);

    const flush = await settledValue(pipe.writer.write(bytes(1, 2, 3)));
    expect(flush).toMatchObject({ isCanceled: false, isCompleted: false });
    const second = await settledValue(pipe.reader.read());
    expect(Array.from(second.buffer.toUint8Array())).toEqual([1, 2, 3]);
    expect(second.isCompleted).toBe(false);
    expect(second.isCanceled).toBe(false);
    pipe.reader.advanceTo(second.buffer.end);
  });

  it('G1b reset lets the pipe be reused when data was left unread', async () => {
    const pool = new TrackingPool(4096);
    const pipe = rwPipe(pool);
    await pipe.writer.write(bytes(9, 9, 9, 9));
    pipe.writer.complete();
    pipe.reader.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);

    pipe.reset();
    // A new read waits for new data, the old bytes are gone.
    const read = pipe.reader.read();
    expect((await peek(read)).state).toBe('pending');
    await pipe.writer.write(bytes(1, 2, 3));
    const result = await within(read);
    expect(Array.from(result.buffer.toUint8Array())).toEqual([1, 2, 3]);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('G1c reset clears an error the writer completed with', async () => {
    const pipe = rwPipe();
    pipe.writer.complete(new Error('boom'));
    pipe.reader.complete();
    pipe.reset();

    await pipe.writer.write(bytes(7));
    const result = await settledValue(pipe.reader.read());
    expect(Array.from(result.buffer.toUint8Array())).toEqual([7]);
    expect(result.isCompleted).toBe(false);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('G1d reset can be repeated over several completions', async () => {
    const pipe = rwPipe();
    for (let round = 0; round < 3; round++) {
      await pipe.writer.write(bytes(round, round + 1));
      const result = await settledValue(pipe.reader.read());
      expect(Array.from(result.buffer.toUint8Array())).toEqual([round, round + 1]);
      pipe.reader.advanceTo(result.buffer.end);
      pipe.writer.complete();
      pipe.reader.complete();
      pipe.reset();
    }
  });

  it('G2a reset throws when only the writer is completed', () => {
    const pipe = rwPipe();
    pipe.writer.complete();
    expectCode(() => pipe.reset(), 'ERR_PIPE_NOT_COMPLETED');
  });

  it('G2b reset throws when only the reader is completed', () => {
    const pipe = rwPipe();
    pipe.reader.complete();
    expectCode(() => pipe.reset(), 'ERR_PIPE_NOT_COMPLETED');
  });

  it('G2c reset throws when neither end is completed', async () => {
    const pipe = rwPipe();
    expectCode(() => pipe.reset(), 'ERR_PIPE_NOT_COMPLETED');
    // The failed reset changed nothing: the pipe still works.
    await pipe.writer.write(bytes(1));
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(1);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('G3a reset clears the reader awaitable: tryRead finds nothing', () => {
    const pipe = rwPipe();
    pipe.writer.complete();
    pipe.reader.complete();
    pipe.reset();
    expect(pipe.reader.tryRead()).toBeNull();
  });

  it('G3b reset sets the length back to 0', async () => {
    const pipe = rwPipe();
    await pipe.writer.write(bytes(1, 2, 3));
    expect(pipe.length).toBe(3);
    pipe.writer.complete();
    pipe.reader.complete();
    pipe.reset();
    expect(pipe.length).toBe(0);
    expect(pipe.writer.unflushedBytes).toBe(0);
  });
});
