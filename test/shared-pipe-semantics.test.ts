import { getEventListeners } from 'node:events';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDuplexPair,
  FrameTooLargeError,
  isSharedPipeHandle,
  Pipe,
  PipeEndInUseError,
  PipeEndMovedError,
  SequencePosition,
  SharedPipe,
  SharedPipeReader,
  SharedPipeWriter,
  type FlushResult,
  type ReadResult,
} from '../dist/src/index.js';
import { checkPattern, fillPattern } from '../dist/test/fixtures/ring-harness.js';
import { ascii, nextImmediate, peek, settledValue, within, writeEmpty } from './helpers.js';

// The SharedPipe's Pipe semantics, in one thread. Both ends start on the creating thread; waits go
// through Atomics.waitAsync, so a release by the other end (advanceTo, flush, cancel, complete)
// resolves the waiting promise in a later task, not before the releasing call returns as the in-thread
// Pipe's inline scheduler does. "Still pending" is checked after the waiter has demonstrably re-checked
// the ring and gone back to sleep (its wait counter moved), never after a sleep.

const created: SharedPipe[] = [];

// A failed test may leave a read or flush waiting (each wait keeps the process alive): completing the
// reader ends every wait of both ends (the writer's with isCompleted).
afterEach(async () => {
  for (const pipe of created.splice(0)) {
    try {
      pipe.reader.complete();
    } catch {
      // moved or already completed
    }
  }
  await nextImmediate();
});

/** F_BP on a ring: 1024 bytes, pause 64 / resume 32. */
function bpPipe(): SharedPipe {
  const pipe = new SharedPipe({ capacity: 1024, pauseWriterThreshold: 64, resumeWriterThreshold: 32 });
  created.push(pipe);
  return pipe;
}

/** A ring without backpressure (1024 bytes unless told): only physical room limits the writer. */
function plainPipe(capacity = 1024): SharedPipe {
  const pipe = new SharedPipe({ capacity, pauseWriterThreshold: 0 });
  created.push(pipe);
  return pipe;
}

function pattern(length: number, offset = 0, seed = 7): Uint8Array {
  const data = new Uint8Array(length);
  fillPattern(data, offset, length, seed);
  return data;
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

function expectThrowsCode(fn: () => unknown, code: string): void {
  expect(fn).toThrow(expect.objectContaining({ code }));
}

async function expectRejectsCode(promise: Promise<unknown>, code: string): Promise<unknown> {
  let caught: unknown;
  try {
    await within(promise, 5_000);
  } catch (error) {
    caught = error;
  }
  expect(caught).toMatchObject({ code });
  return caught;
}

/** Waits (yielding, no timers) until `condition` holds. */
async function until(condition: () => boolean, label: string): Promise<void> {
  await within(
    (async () => {
      while (!condition()) await nextImmediate();
    })(),
    5_000,
    label,
  );
}

/** Resolves once the pending flush has re-checked the ring after `before` was sampled and slept again. */
async function writerSleptAgain(pipe: SharedPipe, before: number): Promise<void> {
  await until(() => pipe.writer.stats().writerWaits > before, 'the writer to re-check and sleep again');
}

async function readerSleptAgain(pipe: SharedPipe, before: number): Promise<void> {
  await until(() => pipe.reader.stats().readerWaits > before, 'the reader to re-check and sleep again');
}

/** Copies a sequence out, segment by segment. */
function bytesOf(result: ReadResult): Uint8Array {
  return result.buffer.toUint8Array();
}

function segmentLengths(result: ReadResult): number[] {
  return [...result.buffer].map((segment) => segment.length);
}

describe('SharedPipe options', () => {
  it('defaults to a 1 MiB ring', () => {
    const pipe = new SharedPipe();
    expect(pipe.reader.capacity).toBe(2 ** 20);
    expect(pipe.writer.capacity).toBe(2 ** 20);
    expect(pipe.reader).toBeInstanceOf(SharedPipeReader);
    expect(pipe.writer).toBeInstanceOf(SharedPipeWriter);
  });

  it('accepts the smallest capacity, 16', () => {
    const pipe = new SharedPipe({ capacity: 16 });
    expect(pipe.reader.capacity).toBe(16);
  });

  it.each([1000, 1536, 3, 2 ** 20 + 1])('rejects capacity %d: not a power of two', (capacity) => {
    expect(() => new SharedPipe({ capacity })).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', argument: 'capacity' }));
    expect(() => new SharedPipe({ capacity })).toThrow(/capacity/);
  });

  it.each([8, 1, 0, -16, 2 ** 31, 2 ** 32])('rejects capacity %d: out of range 16..2^30', (capacity) => {
    expect(() => new SharedPipe({ capacity })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'capacity' }));
  });

  it('rejects a non-integer or non-number capacity', () => {
    expect(() => new SharedPipe({ capacity: 1024.5 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'capacity' }));
    expect(() => new SharedPipe({ capacity: '1024' as unknown as number })).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE', argument: 'capacity' }));
  });

  it('rejects a pause threshold above the capacity', () => {
    expect(() => new SharedPipe({ capacity: 1024, pauseWriterThreshold: 1025 })).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', argument: 'pauseWriterThreshold' }),
    );
    expect(() => new SharedPipe({ capacity: 1024, pauseWriterThreshold: 1024 })).not.toThrow();
  });

  it('rejects a resume threshold above the pause threshold', () => {
    expect(() => new SharedPipe({ capacity: 1024, pauseWriterThreshold: 64, resumeWriterThreshold: 65 })).toThrow(
      expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE', argument: 'resumeWriterThreshold' }),
    );
    expect(() => new SharedPipe({ capacity: 1024, pauseWriterThreshold: 64, resumeWriterThreshold: 64 })).not.toThrow();
  });

  it('rejects negative thresholds', () => {
    expect(() => new SharedPipe({ capacity: 1024, pauseWriterThreshold: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'pauseWriterThreshold' }));
    expect(() => new SharedPipe({ capacity: 1024, resumeWriterThreshold: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'resumeWriterThreshold' }));
  });

  it('rejects null options with a TypeError', () => {
    expect(() => new SharedPipe(null as unknown as undefined)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('resume defaults to half the pause threshold: examining down to 32 of pause 64 does not release, 31 does', async () => {
    const pipe = new SharedPipe({ capacity: 1024, pauseWriterThreshold: 64 });
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    const result = await settledValue(pipe.reader.read());
    const before = pipe.writer.stats().writerWaits;
    pipe.reader.advanceTo(result.buffer.start, result.buffer.getPosition(32));
    await writerSleptAgain(pipe, before);
    await expectPending(flush);
    const read = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(read.buffer.start, read.buffer.getPosition(33));
    await expect(within(flush)).resolves.toMatchObject({ isCanceled: false, isCompleted: false });
  });
});

describe('SharedPipe: writing and reading, consumed vs examined', () => {
  it('A1 round trip: one contiguous segment with the written bytes', async () => {
    const pipe = plainPipe();
    await settledValue(pipe.writer.write('Hello World'));
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(11);
    expect(result.buffer.isSingleSegment).toBe(true);
    expect(result.buffer.first).toEqual(ascii('Hello World'));
    expect(result.isCompleted).toBe(false);
    expect(result.isCanceled).toBe(false);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('A2 unflushed bytes are invisible to the reader', async () => {
    const pipe = plainPipe();
    await settledValue(pipe.writer.write(new Uint8Array([0, 0, 0, 10])));
    const memory = pipe.writer.getMemory(8);
    memory.set([0, 0, 0, 9, 0, 0, 0, 8]);
    pipe.writer.advance(8);
    expect(pipe.writer.unflushedBytes).toBe(8);
    const first = await settledValue(pipe.reader.read());
    expect(bytesOf(first)).toEqual(new Uint8Array([0, 0, 0, 10]));
    pipe.reader.advanceTo(first.buffer.start);
    await settledValue(pipe.writer.flush());
    expect(pipe.writer.unflushedBytes).toBe(0);
    const second = await settledValue(pipe.reader.read());
    expect(bytesOf(second)).toEqual(new Uint8Array([0, 0, 0, 10, 0, 0, 0, 9, 0, 0, 0, 8]));
    pipe.reader.advanceTo(second.buffer.end);
  });

  it('A5 a partial consume: the next read starts after the consumed prefix', async () => {
    const pipe = plainPipe();
    await pipe.writer.write('Hello World');
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    pipe.reader.advanceTo(result!.buffer.getPosition(6));
    const next = await settledValue(pipe.reader.read());
    expect(next.buffer.toString()).toBe('World');
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('A6 completing the writer publishes advanced bytes', async () => {
    const pipe = plainPipe();
    writeEmpty(pipe.writer, 4);
    pipe.writer.complete();
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(4);
    expect(result.isCompleted).toBe(true);
  });

  it('A7 an empty flush does not wake a pending read', async () => {
    const pipe = plainPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    await settledValue(pipe.writer.flush());
    await nextImmediate();
    await nextImmediate();
    await expectPending(read);
    expect(pipe.reader.stats().readerWakeups).toBe(0);
    pipe.writer.write(new Uint8Array([1]));
    await expect(within(read)).resolves.toMatchObject({ isCanceled: false });
  });

  it('B1 examining everything makes the next read wait; new data wakes it', async () => {
    const pipe = plainPipe();
    writeEmpty(pipe.writer, 100);
    await settledValue(pipe.writer.flush());
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    const read = pipe.reader.read();
    await expectPending(read);
    await pipe.writer.write(new Uint8Array([42]));
    const next = await within(read);
    expect(bytesOf(next)).toEqual(new Uint8Array([42]));
    expect(pipe.reader.stats().readerWakeups).toBeGreaterThan(0);
    pipe.reader.advanceTo(next.buffer.end);
    await expectPending(pipe.reader.read());
    pipe.reader.cancelPendingRead();
  });

  it('B1b examining everything but consuming nothing: the next read waits, then returns old and new bytes', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(10));
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    const read = pipe.reader.read();
    await expectPending(read);
    await pipe.writer.write(pattern(5, 10));
    const next = await within(read);
    expect(bytesOf(next)).toEqual(pattern(15));
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('B2 examining less than everything makes the next read return at once with the same bytes', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(300));
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start, result.buffer.getPosition(200));
    const next = await settledValue(pipe.reader.read());
    expect(bytesOf(next)).toEqual(pattern(300));
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('B9 tryRead: null when empty, then advanceTo(none) is allowed; a result with data; null when all examined', async () => {
    const pipe = plainPipe();
    expect(pipe.reader.tryRead()).toBeNull();
    pipe.reader.advanceTo(SequencePosition.none);
    expect(pipe.reader.tryRead()).toBeNull();
    await pipe.writer.write(pattern(3));
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    expect(bytesOf(result!)).toEqual(pattern(3));
    pipe.reader.advanceTo(result!.buffer.start, result!.buffer.end);
    expect(pipe.reader.tryRead()).toBeNull();
    // After a null tryRead a read is allowed.
    await expectPending(pipe.reader.read());
    pipe.reader.cancelPendingRead();
  });

  it('B9b tryRead after the writer completed and after cancelPendingRead', () => {
    const canceled = plainPipe();
    canceled.reader.cancelPendingRead();
    const c = canceled.reader.tryRead();
    expect(c).toMatchObject({ isCanceled: true, isCompleted: false });
    const completed = plainPipe();
    completed.writer.complete();
    const d = completed.reader.tryRead();
    expect(d).toMatchObject({ isCanceled: false, isCompleted: true });
    expect(d!.buffer.length).toBe(0);
  });

  it('B10 advanceTo(start) re-delivers the same bytes plus newly flushed ones', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(20));
    const first = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start);
    await pipe.writer.write(pattern(10, 20));
    const second = await settledValue(pipe.reader.read());
    expect(bytesOf(second)).toEqual(pattern(30));
    pipe.reader.advanceTo(second.buffer.end);
  });

  it('consuming frees ring space and is counted in stats()', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(100));
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.getPosition(40), result.buffer.end);
    const stats = pipe.reader.stats();
    expect(stats.bytesWritten).toBe(100);
    expect(stats.bytesConsumed).toBe(40);
    expect(stats.flushes).toBe(1);
    expect(stats.reads).toBe(1);
    expect(pipe.writer.stats()).toEqual(stats);
  });

  it('readSync, writeSync and flushSync return at once when nothing needs to wait', () => {
    const pipe = plainPipe();
    expect(pipe.writer.writeSync(pattern(10))).toMatchObject({ isCanceled: false, isCompleted: false });
    writeEmpty(pipe.writer, 5);
    expect(pipe.writer.flushSync()).toMatchObject({ isCanceled: false, isCompleted: false });
    const result = pipe.reader.readSync();
    expect(result.buffer.length).toBe(15);
    expect(bytesOf(result).subarray(0, 10)).toEqual(pattern(10));
    pipe.reader.advanceTo(result.buffer.end);
    pipe.reader.cancelPendingRead();
    expect(pipe.reader.readSync()).toMatchObject({ isCanceled: true });
    pipe.writer.complete();
    expect(pipe.reader.readSync()).toMatchObject({ isCompleted: true });
  });

  it('createDuplexPair: two crossed rings', async () => {
    const [a, b] = createDuplexPair({ capacity: 1024 });
    await a.output.write('ping');
    await b.output.write('pong');
    const atB = await settledValue(b.input.read());
    const atA = await settledValue(a.input.read());
    expect(atB.buffer.toString()).toBe('ping');
    expect(atA.buffer.toString()).toBe('pong');
    b.input.advanceTo(atB.buffer.end);
    a.input.advanceTo(atA.buffer.end);
  });
});

describe('SharedPipe: misuse throws synchronously', () => {
  it('C1 read, tryRead, readAtLeast and readSync after the reader completed throw ERR_PIPE_COMPLETED', () => {
    const pipe = plainPipe();
    pipe.reader.complete();
    expectThrowsCode(() => pipe.reader.read(), 'ERR_PIPE_COMPLETED');
    expectThrowsCode(() => pipe.reader.tryRead(), 'ERR_PIPE_COMPLETED');
    expectThrowsCode(() => pipe.reader.readAtLeast(1), 'ERR_PIPE_COMPLETED');
    expectThrowsCode(() => pipe.reader.readSync(), 'ERR_PIPE_COMPLETED');
  });

  it('C3 getMemory and write after the writer completed throw ERR_PIPE_COMPLETED', () => {
    const pipe = plainPipe();
    pipe.writer.complete();
    expectThrowsCode(() => pipe.writer.getMemory(1), 'ERR_PIPE_COMPLETED');
    expectThrowsCode(() => pipe.writer.write(new Uint8Array([1])), 'ERR_PIPE_COMPLETED');
    expectThrowsCode(() => pipe.writer.writeSync(new Uint8Array([1])), 'ERR_PIPE_COMPLETED');
  });

  it('C4 advanceTo without an outstanding read throws ERR_PIPE_NO_READ_TO_ADVANCE', async () => {
    const pipe = plainPipe();
    expectThrowsCode(() => pipe.reader.advanceTo(SequencePosition.none), 'ERR_PIPE_NO_READ_TO_ADVANCE');
    await pipe.writer.write(pattern(3));
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start);
    expectThrowsCode(() => pipe.reader.advanceTo(result.buffer.end), 'ERR_PIPE_NO_READ_TO_ADVANCE');
  });

  it('C5 reading again before advancing throws ERR_PIPE_READ_PENDING', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(3));
    const result = await settledValue(pipe.reader.read());
    expectThrowsCode(() => pipe.reader.read(), 'ERR_PIPE_READ_PENDING');
    expectThrowsCode(() => pipe.reader.tryRead(), 'ERR_PIPE_READ_PENDING');
    expectThrowsCode(() => pipe.reader.readSync(), 'ERR_PIPE_READ_PENDING');
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('C6 a second read while one is pending throws ERR_PIPE_READ_PENDING; the first still works', async () => {
    const pipe = plainPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    expectThrowsCode(() => pipe.reader.read(), 'ERR_PIPE_READ_PENDING');
    expectThrowsCode(() => pipe.reader.readAtLeast(1), 'ERR_PIPE_READ_PENDING');
    await pipe.writer.write(pattern(5));
    const result = await within(read);
    expect(bytesOf(result)).toEqual(pattern(5));
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('C9 examined before consumed throws ERR_PIPE_ADVANCE_OUT_OF_RANGE', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(10));
    const result = await settledValue(pipe.reader.read());
    expectThrowsCode(() => pipe.reader.advanceTo(result.buffer.end, result.buffer.start), 'ERR_PIPE_ADVANCE_OUT_OF_RANGE');
  });

  it('C10 examined moving backwards throws ERR_PIPE_ADVANCE_OUT_OF_RANGE', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(10));
    const first = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start, first.buffer.end);
    await pipe.writer.write(pattern(10, 10));
    const second = await settledValue(pipe.reader.read());
    expectThrowsCode(() => pipe.reader.advanceTo(second.buffer.start, second.buffer.start), 'ERR_PIPE_ADVANCE_OUT_OF_RANGE');
  });

  it('C11 a position from an older read, or from another pipe, throws ERR_PIPE_ADVANCE_OUT_OF_RANGE', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(100));
    const old = await settledValue(pipe.reader.read());
    // Positions are values: one taken from the old read stays that read's (the result object is reused).
    const stale = old.buffer.getPosition(10);
    pipe.reader.advanceTo(old.buffer.end);
    pipe.reader.cancelPendingRead();
    const canceled = await settledValue(pipe.reader.read());
    expect(canceled.isCanceled).toBe(true);
    expectThrowsCode(() => pipe.reader.advanceTo(stale), 'ERR_PIPE_ADVANCE_OUT_OF_RANGE');
    const other = new Pipe();
    await other.writer.write(pattern(10));
    const foreign = await settledValue(other.reader.read());
    expectThrowsCode(() => pipe.reader.advanceTo(foreign.buffer.end), 'ERR_PIPE_ADVANCE_OUT_OF_RANGE');
    pipe.reader.advanceTo(canceled.buffer.end);
  });

  it('C12 advance beyond getMemory throws ERR_PIPE_WRITE_BEYOND_MEMORY; advance(0) without memory is fine', () => {
    const pipe = plainPipe();
    pipe.writer.advance(0);
    expect(() => pipe.writer.advance(1)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_PIPE_WRITE_BEYOND_MEMORY' }));
    const memory = pipe.writer.getMemory(10);
    expect(() => pipe.writer.advance(memory.length + 1)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_WRITE_BEYOND_MEMORY' }));
    expect(() => pipe.writer.advance(-1)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('C13 negative sizes throw RangeError ERR_INVALID_ARG_VALUE', () => {
    const pipe = plainPipe();
    expect(() => pipe.writer.getMemory(-1)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => pipe.reader.readAtLeast(-1)).toThrow(expect.objectContaining({ name: 'RangeError', code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('getMemory(sizeHint) returns at least sizeHint bytes for any size: above half the ring and above its capacity', async () => {
    for (const size of [512, 513, 1024, 1025, 5000]) {
      const pipe = plainPipe();
      const memory = pipe.writer.getMemory(size);
      expect(memory.length).toBeGreaterThanOrEqual(size);
      fillPattern(memory, 0, size, 3);
      pipe.writer.advance(size);
      const flush = pipe.writer.flush();
      // Whatever does not fit waits in memory the pipe owns; the reader gets every byte in order.
      const received: Uint8Array[] = [];
      let total = 0;
      while (total < size) {
        const result = await within(pipe.reader.read());
        for (const segment of result.buffer) received.push(segment.slice());
        total += result.buffer.length;
        pipe.reader.advanceTo(result.buffer.end);
      }
      await within(flush);
      checkPattern(Buffer.concat(received), 0, 3);
      expect(total).toBe(size);
    }
  });

  it('getMemory(0) is not empty', () => {
    expect(plainPipe().writer.getMemory(0).length).toBeGreaterThan(0);
  });
});

describe('D: backpressure on a 1024-byte ring, pause 64 / resume 32', () => {
  /** A paused flush of 64 bytes, and a read holding those 64 bytes. */
  async function pausedWithRead(): Promise<{ pipe: SharedPipe; flush: Promise<FlushResult>; result: ReadResult }> {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(64);
    return { pipe, flush, result };
  }

  it('D1 below the pause threshold a flush completes synchronously', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 32);
    const result = await settledValue(pipe.writer.flush());
    expect(result).toMatchObject({ isCanceled: false, isCompleted: false });
  });

  it('D1b one byte short of the threshold does not pause', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 63);
    await settledValue(pipe.writer.flush());
    expect(pipe.writer.stats().writerPauses).toBe(0);
  });

  it('D2 reaching the pause threshold exactly makes the flush wait', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    expect(pipe.writer.unflushedBytes).toBe(0);
    expect(pipe.writer.stats().writerPauses).toBe(1);
    pipe.writer.cancelPendingFlush();
    await within(flush);
  });

  it('D2b crossing the threshold in two flushes pauses on the crossing one', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 40);
    await settledValue(pipe.writer.flush());
    writeEmpty(pipe.writer, 30);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    pipe.writer.cancelPendingFlush();
    await within(flush);
  });

  it('D3 consuming below resume (31 left) releases the paused flush', async () => {
    const { pipe, flush, result } = await pausedWithRead();
    const at33 = result.buffer.getPosition(33);
    pipe.reader.advanceTo(at33, at33);
    const released = await within(flush);
    expect(released).toMatchObject({ isCanceled: false, isCompleted: false });
    expect(pipe.writer.stats().writerWakeups).toBeGreaterThan(0);
  });

  it('D4 examining below resume releases the flush even when nothing is consumed', async () => {
    const { pipe, flush, result } = await pausedWithRead();
    pipe.reader.advanceTo(result.buffer.start, result.buffer.getPosition(33));
    await expect(within(flush)).resolves.toMatchObject({ isCanceled: false, isCompleted: false });
    expect(pipe.reader.stats().bytesConsumed).toBe(0);
  });

  it('D5 landing exactly on resume (32 left) does not release', async () => {
    const { pipe, flush, result } = await pausedWithRead();
    const before = pipe.writer.stats().writerWaits;
    const at32 = result.buffer.getPosition(32);
    pipe.reader.advanceTo(at32, at32);
    await writerSleptAgain(pipe, before);
    await expectPending(flush);
    // One more byte examined crosses below resume.
    const next = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(next.buffer.getPosition(1));
    await expect(within(flush)).resolves.toMatchObject({ isCanceled: false });
  });

  it('D6 pausing re-arms after a resume', async () => {
    const { pipe, flush, result } = await pausedWithRead();
    const at33 = result.buffer.getPosition(33);
    pipe.reader.advanceTo(at33, at33);
    await within(flush);
    writeEmpty(pipe.writer, 64); // 31 -> 95 unexamined
    const again = pipe.writer.flush();
    await expectPending(again);
    expect(pipe.writer.stats().writerPauses).toBe(2);
    pipe.writer.cancelPendingFlush();
    await within(again);
  });

  it('D7 buffering past the pause threshold while the reader only examines: every flush pauses', async () => {
    const pipe = bpPipe();
    const writer = (async () => {
      for (let i = 0; i < 5; i++) {
        writeEmpty(pipe.writer, 64);
        const flush = pipe.writer.flush();
        expect((await peek(flush)).state).toBe('pending');
        await flush;
      }
      pipe.writer.complete();
    })();
    const reader = (async () => {
      for (;;) {
        const result = await pipe.reader.read();
        if (result.isCompleted) {
          expect(result.buffer.length).toBe(320);
          pipe.reader.advanceTo(result.buffer.end);
          return;
        }
        pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
      }
    })();
    await within(Promise.all([writer, reader]));
    expect(pipe.writer.stats().writerPauses).toBe(5);
  });

  it('D8 completing the reader releases a paused flush with isCompleted; later flushes complete at once', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    pipe.reader.complete();
    await expect(within(flush)).resolves.toMatchObject({ isCompleted: true });
    writeEmpty(pipe.writer, 64);
    expect(await settledValue(pipe.writer.flush())).toMatchObject({ isCompleted: true });
    expect(await settledValue(pipe.writer.write(pattern(10)))).toMatchObject({ isCompleted: true });
  });

  it('D8b the same when the reader completes holding an unadvanced read', async () => {
    const { pipe, flush } = await pausedWithRead();
    pipe.reader.complete();
    await expect(within(flush)).resolves.toMatchObject({ isCompleted: true });
  });

  it('D9 pause 0 turns backpressure off: a flush waits only while bytes the pipe owns do not fit in the ring', async () => {
    const pipe = plainPipe();
    // Nothing is examined, yet 1024 one-byte flushes complete at once: they all fit in the ring.
    for (let i = 0; i < 1024; i++) {
      writeEmpty(pipe.writer, 1);
      const flush = pipe.writer.flush();
      if ((await peek(flush)).state !== 'fulfilled') throw new Error(`flush ${i + 1} did not complete synchronously`);
    }
    expect(pipe.writer.stats().writerPauses).toBe(0);
    writeEmpty(pipe.writer, 1);
    const flush = pipe.writer.flush(); // the ring is full: this byte is the pipe's until room frees
    await expectPending(flush);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(1024);
    pipe.reader.advanceTo(result.buffer.end);
    await expect(within(flush)).resolves.toMatchObject({ isCanceled: false, isCompleted: false });
    const last = await within(pipe.reader.read());
    expect(last.buffer.length).toBe(1);
    pipe.reader.advanceTo(last.buffer.end);
  });

  it('D10 a flush or write while a flush is paused throws ERR_PIPE_FLUSH_PENDING; the first completes and the extra byte is kept', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const first = pipe.writer.flush();
    await expectPending(first);
    const memory = pipe.writer.getMemory(1);
    memory[0] = 99;
    pipe.writer.advance(1);
    expectThrowsCode(() => pipe.writer.flush(), 'ERR_PIPE_FLUSH_PENDING');
    expectThrowsCode(() => pipe.writer.write(new Uint8Array([1])), 'ERR_PIPE_FLUSH_PENDING');
    expect(pipe.writer.unflushedBytes).toBe(1);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(64);
    pipe.reader.advanceTo(result.buffer.end);
    await expect(within(first)).resolves.toMatchObject({ isCanceled: false });
    await pipe.writer.flush();
    const rest = await settledValue(pipe.reader.read());
    expect(bytesOf(rest)).toEqual(new Uint8Array([99]));
    pipe.reader.advanceTo(rest.buffer.end);
  });

  it('D11 a flush that pauses still wakes the pending read', async () => {
    const pipe = bpPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    const result = await within(read);
    expect(result.buffer.length).toBe(64);
    await expectPending(flush);
    pipe.reader.advanceTo(result.buffer.end);
    await within(flush);
  });

  it('a paused writer resumes at the resume edge even when the ring has plenty of room', async () => {
    // 64 unexamined of 1024: the ring is far from full, the pause is backpressure only.
    const { pipe, flush, result } = await pausedWithRead();
    expect(pipe.writer.capacity - result.buffer.length).toBeGreaterThan(512);
    await expectPending(flush);
    pipe.reader.advanceTo(result.buffer.getPosition(40));
    await within(flush);
  });
});

describe('SharedPipe: cancelPendingRead / cancelPendingFlush', () => {
  it('E1 a cancel before the read is one-shot: the read after it waits', async () => {
    const pipe = plainPipe();
    pipe.reader.cancelPendingRead();
    const result = await settledValue(pipe.reader.read());
    expect(result).toMatchObject({ isCanceled: true, isCompleted: false });
    expect(result.buffer.length).toBe(0);
    pipe.reader.advanceTo(result.buffer.end);
    const next = pipe.reader.read();
    await expectPending(next);
    pipe.reader.cancelPendingRead();
    await expect(within(next)).resolves.toMatchObject({ isCanceled: true });
  });

  it('E2 a cancel while holding data, before advancing, cancels the next read', async () => {
    const pipe = plainPipe();
    await pipe.writer.write('Hello World');
    const result = await settledValue(pipe.reader.read());
    pipe.reader.cancelPendingRead();
    pipe.reader.advanceTo(result.buffer.end);
    expect(await settledValue(pipe.reader.read())).toMatchObject({ isCanceled: true });
  });

  it('E3 cancelPendingRead wakes a pending read with isCanceled; the data comes on the next read', async () => {
    const pipe = plainPipe();
    writeEmpty(pipe.writer, 11);
    const read = pipe.reader.read();
    await expectPending(read);
    pipe.reader.cancelPendingRead();
    const result = await within(read);
    expect(result).toMatchObject({ isCanceled: true, isCompleted: false });
    expect(result.buffer.length).toBe(0);
    await pipe.writer.flush();
    const next = await settledValue(pipe.reader.read());
    expect(next.isCanceled).toBe(false);
    expect(next.buffer.length).toBe(11);
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('E4/E5 a canceled read carries the data, and needs no advanceTo before the next read', async () => {
    const pipe = plainPipe();
    pipe.reader.cancelPendingRead();
    await pipe.writer.write(new Uint8Array([1, 2, 3]));
    const canceled = await settledValue(pipe.reader.read());
    expect(canceled.isCanceled).toBe(true);
    expect(bytesOf(canceled)).toEqual(new Uint8Array([1, 2, 3]));
    const next = await settledValue(pipe.reader.read());
    expect(next.isCanceled).toBe(false);
    expect(bytesOf(next)).toEqual(new Uint8Array([1, 2, 3]));
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('E9 cancellations do not accumulate', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(100));
    for (let i = 0; i < 3; i++) {
      pipe.reader.cancelPendingRead();
      pipe.reader.cancelPendingRead();
      expect(await settledValue(pipe.reader.read())).toMatchObject({ isCanceled: true });
      const result = await settledValue(pipe.reader.read());
      expect(result.isCanceled).toBe(false);
      pipe.reader.advanceTo(result.buffer.start);
    }
  });

  it('E15 cancelPendingFlush releases a paused flush with isCanceled', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    pipe.writer.cancelPendingFlush();
    await expect(within(flush)).resolves.toMatchObject({ isCanceled: true, isCompleted: false });
  });

  it('E16 a cancel before a flush that would pause: the flush completes at once, canceled, and the data is published', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    pipe.writer.cancelPendingFlush();
    expect(await settledValue(pipe.writer.flush())).toMatchObject({ isCanceled: true, isCompleted: false });
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(64);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('E17 the flush cancel is one-shot', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 1);
    pipe.writer.cancelPendingFlush();
    expect(await settledValue(pipe.writer.flush())).toMatchObject({ isCanceled: true });
    expect(await settledValue(pipe.writer.flush())).toMatchObject({ isCanceled: false });
  });

  it('E18 after a canceled flush the writer is still paused', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    pipe.writer.cancelPendingFlush();
    expect(await within(flush)).toMatchObject({ isCanceled: true });
    const next = pipe.writer.flush();
    await expectPending(next);
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    await expect(within(next)).resolves.toMatchObject({ isCanceled: false });
  });

  it.each(['cancel first', 'release first'])('E19 a cancel racing with the reader release (%s) gives isCanceled', async (order) => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    if (order === 'cancel first') pipe.writer.cancelPendingFlush();
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    if (order === 'release first') pipe.writer.cancelPendingFlush();
    await expect(within(flush)).resolves.toMatchObject({ isCanceled: true });
  });
});

describe('SharedPipe: AbortSignal', () => {
  it('E10 a pre-aborted signal rejects read and readAtLeast with AbortError, changing nothing', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(5));
    const signal = AbortSignal.abort();
    const read = pipe.reader.read({ signal });
    expect((await peek(read)).state).toBe('rejected');
    await expect(read).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(pipe.reader.readAtLeast(1, { signal })).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    const result = await settledValue(pipe.reader.read());
    expect(bytesOf(result)).toEqual(pattern(5));
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('E11/E13 aborting a pending read rejects it with AbortError; the reader recovers', async () => {
    const pipe = plainPipe();
    const controller = new AbortController();
    const read = pipe.reader.read({ signal: controller.signal });
    await expectPending(read);
    controller.abort();
    await expectRejectsCode(read, 'ABORT_ERR');
    await expect(read).rejects.toMatchObject({ name: 'AbortError' });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const next = pipe.reader.read();
    await pipe.writer.write(new Uint8Array([1, 2, 3]));
    const result = await within(next);
    expect(bytesOf(result)).toEqual(new Uint8Array([1, 2, 3]));
    expect(result.isCanceled).toBe(false);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('E14 a signal of a finished read does not affect later reads; its listener is removed', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(new Uint8Array([1]));
    const first = new AbortController();
    const result = await within(pipe.reader.read({ signal: first.signal }));
    expect(getEventListeners(first.signal, 'abort')).toHaveLength(0);
    pipe.reader.advanceTo(result.buffer.end);
    first.abort();
    expect(pipe.reader.tryRead()).toBeNull();
    const second = new AbortController();
    const next = pipe.reader.read({ signal: second.signal });
    await expectPending(next);
    await pipe.writer.write(new Uint8Array([2]));
    const data = await within(next);
    expect(data.isCanceled).toBe(false);
    expect(bytesOf(data)).toEqual(new Uint8Array([2]));
    expect(getEventListeners(second.signal, 'abort')).toHaveLength(0);
    pipe.reader.advanceTo(data.buffer.end);
  });

  it('a pre-aborted signal rejects flush and write with AbortError', async () => {
    const pipe = plainPipe();
    const signal = AbortSignal.abort();
    writeEmpty(pipe.writer, 3);
    await expect(pipe.writer.flush({ signal })).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expect(pipe.writer.write(pattern(3), { signal })).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });

  it('aborting a paused flush rejects it with AbortError; the published bytes stay readable', async () => {
    const pipe = bpPipe();
    const controller = new AbortController();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush({ signal: controller.signal });
    await expectPending(flush);
    controller.abort();
    await expectRejectsCode(flush, 'ABORT_ERR');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(64);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('aborting a write() that waits for room in turns rejects it with AbortError', async () => {
    const pipe = plainPipe();
    const controller = new AbortController();
    const write = pipe.writer.write(pattern(3000), { signal: controller.signal });
    await expectPending(write);
    controller.abort();
    await expectRejectsCode(write, 'ABORT_ERR');
  });
});

describe('SharedPipe: completion and errors', () => {
  it('F6 completing the writer wakes a pending read with isCompleted and the remaining bytes', async () => {
    const pipe = plainPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    writeEmpty(pipe.writer, 7);
    pipe.writer.complete();
    const result = await within(read);
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.length).toBe(7);
    pipe.reader.advanceTo(result.buffer.end);
    // Once the writer completed, reads never block.
    expect(await settledValue(pipe.reader.read())).toMatchObject({ isCompleted: true });
  });

  it('B3 after normal writer completion, unconsumed bytes are handed out again with isCompleted', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(30));
    pipe.writer.complete();
    for (let i = 0; i < 3; i++) {
      const result = await settledValue(pipe.reader.read());
      expect(result.isCompleted).toBe(true);
      expect(bytesOf(result)).toEqual(pattern(30));
      pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    }
  });

  it('F1/F3 a writer completed with an error: every read rejects with the same name, message and code, buffered bytes hidden', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(3));
    class ProtocolError extends Error {
      readonly code = 'E_PROTOCOL';
      constructor(message: string) {
        super(message);
        this.name = 'ProtocolError';
      }
    }
    pipe.writer.complete(new ProtocolError('unexpected opcode 0x7f'));
    for (let i = 0; i < 2; i++) {
      const error = await expectRejectsCode(pipe.reader.read(), 'E_PROTOCOL');
      expect(error).toBeInstanceOf(Error);
      expect(error).toMatchObject({ name: 'ProtocolError', message: 'unexpected opcode 0x7f', code: 'E_PROTOCOL' });
    }
    await expectRejectsCode(pipe.reader.readAtLeast(1), 'E_PROTOCOL');
  });

  it('F1b a writer error rejects a read that was already pending', async () => {
    const pipe = plainPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    pipe.writer.complete(Object.assign(new TypeError('bad chunk type'), { code: 'E_CHUNK' }));
    const error = await expectRejectsCode(read, 'E_CHUNK');
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ name: 'TypeError', message: 'bad chunk type' });
  });

  it('F2 tryRead throws the writer error synchronously', () => {
    const pipe = plainPipe();
    pipe.writer.complete(Object.assign(new Error('wow'), { code: 'E_WOW' }));
    expect(() => pipe.reader.tryRead()).toThrow(expect.objectContaining({ message: 'wow', code: 'E_WOW', name: 'Error' }));
    expect(() => pipe.reader.readSync()).toThrow(expect.objectContaining({ message: 'wow', code: 'E_WOW' }));
  });

  it('F4 a reader completed with an error: write and flush reject with the same name, message and code, twice', async () => {
    const pipe = bpPipe();
    pipe.reader.complete(Object.assign(new RangeError('Reader failed'), { code: 'E_READER' }));
    for (let i = 0; i < 2; i++) {
      const error = await expectRejectsCode(pipe.writer.write(new Uint8Array([0])), 'E_READER');
      expect(error).toBeInstanceOf(RangeError);
      expect(error).toMatchObject({ name: 'RangeError', message: 'Reader failed' });
    }
    writeEmpty(pipe.writer, 64);
    for (let i = 0; i < 2; i++) {
      await expect(pipe.writer.flush()).rejects.toMatchObject({ name: 'RangeError', message: 'Reader failed', code: 'E_READER' });
    }
  });

  it('F4b a reader error rejects a paused flush', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    pipe.reader.complete(Object.assign(new Error('consumer crashed'), { code: 'E_CONSUMER' }));
    await expect(within(flush)).rejects.toMatchObject({ message: 'consumer crashed', code: 'E_CONSUMER' });
  });

  it('threadpipe error codes survive completion: a FrameTooLargeError from the writer arrives with its name and code', async () => {
    const pipe = plainPipe();
    pipe.writer.complete(new FrameTooLargeError('A frame', 5000, 1024));
    await expect(pipe.reader.read()).rejects.toMatchObject({ name: 'FrameTooLargeError', code: 'ERR_FRAME_TOO_LARGE', message: expect.stringContaining('5000') });
  });

  it('F5 the first completion wins on each side', async () => {
    const a = plainPipe();
    a.writer.complete();
    a.writer.complete(new Error('late'));
    expect(await settledValue(a.reader.read())).toMatchObject({ isCompleted: true });
    const b = plainPipe();
    b.writer.complete(Object.assign(new Error('first'), { code: 'E_FIRST' }));
    b.writer.complete(new Error('second'));
    await expect(b.reader.read()).rejects.toMatchObject({ message: 'first', code: 'E_FIRST' });
    const c = plainPipe();
    c.reader.complete();
    c.reader.complete(new Error('late'));
    expect(await settledValue(c.writer.write(pattern(1)))).toMatchObject({ isCompleted: true });
  });

  it('completing the reader rejects its own pending read with ERR_PIPE_COMPLETED', async () => {
    const pipe = plainPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    pipe.reader.complete();
    await expectRejectsCode(read, 'ERR_PIPE_COMPLETED');
  });

  it('completing the writer rejects its own paused flush with ERR_PIPE_COMPLETED; the reader gets the data with isCompleted', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    pipe.writer.complete();
    await expectRejectsCode(flush, 'ERR_PIPE_COMPLETED');
    const result = await settledValue(pipe.reader.read());
    expect(result).toMatchObject({ isCompleted: true });
    expect(result.buffer.length).toBe(64);
  });

  it('F7 after the reader completes, getMemory/advance/flush loops are no-ops reporting isCompleted', async () => {
    const pipe = plainPipe();
    pipe.reader.complete();
    for (let i = 0; i < 100; i++) {
      const memory = pipe.writer.getMemory(300);
      pipe.writer.advance(Math.min(memory.length, 300));
      expect(await settledValue(pipe.writer.flush())).toMatchObject({ isCompleted: true });
    }
    expect(pipe.writer.unflushedBytes).toBe(0);
    pipe.writer.complete();
  });
});

describe('J: readAtLeast', () => {
  it('J1 returns the requested bytes', async () => {
    const pipe = plainPipe();
    await pipe.writer.write('Hello World');
    const result = await settledValue(pipe.reader.readAtLeast(11));
    expect(result.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('J2 waits until the minimum arrives', async () => {
    const pipe = plainPipe();
    await pipe.writer.write('Hello');
    const read = pipe.reader.readAtLeast(11);
    await expectPending(read);
    await pipe.writer.write(' World');
    const result = await within(read);
    expect(result.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('J3 returns everything available once the minimum is met', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(5));
    const result = await settledValue(pipe.reader.readAtLeast(3));
    expect(result.buffer.length).toBe(5);
    pipe.reader.advanceTo(result.buffer.end);
    await pipe.writer.write(pattern(6));
    const next = await settledValue(pipe.reader.read());
    expect(next.buffer.length).toBe(6);
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('J4 completion short-circuits the minimum, again and again', async () => {
    const pipe = plainPipe();
    pipe.writer.complete();
    for (let i = 0; i < 3; i++) {
      const result = await settledValue(pipe.reader.readAtLeast(100));
      expect(result.isCompleted).toBe(true);
      pipe.reader.advanceTo(result.buffer.end);
    }
  });

  it('J6 a pending cancel completes readAtLeast at once with isCanceled', async () => {
    const pipe = plainPipe();
    await pipe.writer.write('Hello World');
    pipe.reader.cancelPendingRead();
    const result = await settledValue(pipe.reader.readAtLeast(1000));
    expect(result).toMatchObject({ isCanceled: true, isCompleted: false });
  });

  it('J6b cancelPendingRead wakes a pending readAtLeast', async () => {
    const pipe = plainPipe();
    const read = pipe.reader.readAtLeast(100);
    await expectPending(read);
    pipe.reader.cancelPendingRead();
    await expect(within(read)).resolves.toMatchObject({ isCanceled: true });
  });

  it('J7 a waiting readAtLeast releases a paused writer, and flushes that feed it do not pause', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    const read = pipe.reader.readAtLeast(192);
    await expectPending(read);
    await expect(within(flush)).resolves.toMatchObject({ isCanceled: false, isCompleted: false });
    writeEmpty(pipe.writer, 64);
    expect((await peek(pipe.writer.flush())).state).toBe('fulfilled');
    writeEmpty(pipe.writer, 64);
    expect((await peek(pipe.writer.flush())).state).toBe('fulfilled');
    const result = await within(read);
    expect(result.buffer.length).toBe(192);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('J8 the minimum counts unexamined bytes', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(10));
    const first = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start, first.buffer.end);
    const read = pipe.reader.readAtLeast(5);
    await expectPending(read);
    await pipe.writer.write(pattern(4, 10));
    const before = pipe.reader.stats().readerWaits;
    await readerSleptAgain(pipe, before);
    await expectPending(read);
    await pipe.writer.write(pattern(1, 14));
    const result = await within(read);
    expect(bytesOf(result)).toEqual(pattern(15));
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('readAtLeast(n) with n larger than the ring rejects at once with ERR_FRAME_TOO_LARGE', async () => {
    const pipe = plainPipe();
    const read = pipe.reader.readAtLeast(1025);
    const peeked = await peek(read);
    expect(peeked.state).toBe('rejected');
    expect((peeked as { error: unknown }).error).toBeInstanceOf(FrameTooLargeError);
    expect((peeked as { error: unknown }).error).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' });
    // The reader is not broken by it.
    await pipe.writer.write(pattern(2));
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(2);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('readAtLeast(n) that cannot fit beside the bytes already held rejects at once with ERR_FRAME_TOO_LARGE; exactly the rest of the ring is fine', async () => {
    const pipe = plainPipe();
    const first = pipe.writer.write(pattern(600));
    pipe.writer.cancelPendingFlush(); // whatever room the flush wants, the writer is not waiting
    await within(first);
    const held = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(held.buffer.start, held.buffer.end); // 600 unconsumed and examined
    const tooMuch = pipe.reader.readAtLeast(425); // 600 + 425 > 1024
    expect((await peek(tooMuch)).state).toBe('rejected');
    await expect(tooMuch).rejects.toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' });
    const fits = pipe.reader.readAtLeast(424); // 600 + 424 = 1024: the rest of the ring
    await expectPending(fits);
    const rest = pipe.writer.write(pattern(424, 600));
    const result = await within(fits);
    expect(result.buffer.length).toBe(1024);
    checkPattern(bytesOf(result), 0, 7);
    pipe.reader.advanceTo(result.buffer.end);
    await within(rest);
  });

  it('readAtLeast(capacity) on an empty ring can be satisfied', async () => {
    const pipe = new SharedPipe({ capacity: 1024 });
    const read = pipe.reader.readAtLeast(1024);
    await expectPending(read);
    const write = pipe.writer.write(pattern(1024));
    const result = await within(read);
    expect(bytesOf(result)).toEqual(pattern(1024));
    pipe.reader.advanceTo(result.buffer.end);
    await within(write);
  });
});

describe('SharedPipe: async iteration and copyTo', () => {
  it('for await yields every byte, across the ring end, and completes the reader when done', async () => {
    const pipe = plainPipe();
    const total = 5000;
    const writer = (async () => {
      for (let offset = 0; offset < total; offset += 333) {
        await pipe.writer.write(pattern(Math.min(333, total - offset), offset));
      }
      pipe.writer.complete();
    })();
    const received: Uint8Array[] = [];
    let length = 0;
    await within(
      (async () => {
        for await (const chunk of pipe.reader) {
          received.push(chunk.slice());
          length += chunk.length;
        }
      })(),
    );
    await within(writer);
    expect(length).toBe(total);
    const all = new Uint8Array(total);
    let at = 0;
    for (const chunk of received) {
      all.set(chunk, at);
      at += chunk.length;
    }
    checkPattern(all, 0, 7);
    expectThrowsCode(() => pipe.reader.read(), 'ERR_PIPE_COMPLETED');
  });

  it('breaking out of for await completes the reader: the writer sees isCompleted', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(10));
    for await (const chunk of pipe.reader) {
      expect(chunk.length).toBe(10);
      break;
    }
    expect(await settledValue(pipe.writer.write(pattern(1)))).toMatchObject({ isCompleted: true });
  });

  it('for await rethrows a writer error with its code', async () => {
    const pipe = plainPipe();
    pipe.writer.complete(Object.assign(new Error('upstream failed'), { code: 'E_UPSTREAM' }));
    await expect(
      (async () => {
        for await (const _ of pipe.reader) {
          /* nothing */
        }
      })(),
    ).rejects.toMatchObject({ message: 'upstream failed', code: 'E_UPSTREAM' });
  });

  it('copyTo(PipeWriter) copies every byte, across the ring end', async () => {
    const pipe = plainPipe();
    const destination = new Pipe({ pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
    const total = 4000;
    const copy = pipe.reader.copyTo(destination.writer);
    for (let offset = 0; offset < total; offset += 700) {
      await within(pipe.writer.write(pattern(Math.min(700, total - offset), offset)));
    }
    pipe.writer.complete();
    await within(copy);
    destination.writer.complete();
    const result = await settledValue(destination.reader.read());
    expect(result.buffer.length).toBe(total);
    checkPattern(result.buffer.toUint8Array(), 0, 7);
  });

  it('copyTo(stream) copies every byte, across the ring end', async () => {
    const pipe = plainPipe();
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        chunks.push(Buffer.from(chunk));
        callback();
      },
    });
    const total = 3000;
    const copy = pipe.reader.copyTo(stream);
    for (let offset = 0; offset < total; offset += 450) {
      await within(pipe.writer.write(pattern(Math.min(450, total - offset), offset)));
    }
    pipe.writer.complete();
    await within(copy);
    const all = Buffer.concat(chunks);
    expect(all.length).toBe(total);
    checkPattern(all, 0, 7);
  });
});

describe('SharedPipe: the ring end, skipped tails and getMemory', () => {
  it('a read spanning the ring end is a 2-segment sequence with the exact bytes', async () => {
    const pipe = plainPipe();
    const first = pipe.writer.write(pattern(1000)); // waits for room for the next batch
    const read = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(read.buffer.getPosition(900), read.buffer.end);
    await within(first);
    await settledValue(pipe.writer.write(pattern(200, 1000))); // 24 bytes before the end, 176 after
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(300);
    expect(result.buffer.isSingleSegment).toBe(false);
    expect(segmentLengths(result)).toEqual([124, 176]);
    checkPattern(bytesOf(result), 900, 7);
    // Positions and slices work across the boundary.
    expect(result.buffer.slice(120, 130).toUint8Array()).toEqual(pattern(10, 1020));
    pipe.reader.advanceTo(result.buffer.getPosition(150));
    const rest = await settledValue(pipe.reader.read());
    expect(rest.buffer.isSingleSegment).toBe(true);
    checkPattern(bytesOf(rest), 1050, 7);
    pipe.reader.advanceTo(rest.buffer.end);
  });

  /** Fills the ring to position 900 with getMemory and consumes `consume` bytes of it. */
  async function toPosition900(consume: number): Promise<SharedPipe> {
    const pipe = plainPipe();
    const a = pipe.writer.getMemory(500);
    fillPattern(a, 0, 500, 7);
    pipe.writer.advance(500);
    await settledValue(pipe.writer.flush());
    const b = pipe.writer.getMemory(400);
    fillPattern(b, 500, 400, 7);
    pipe.writer.advance(400);
    const flush = pipe.writer.flush();
    const read = await settledValue(pipe.reader.read());
    expect(read.buffer.length).toBe(900);
    checkPattern(bytesOf(read), 0, 7);
    pipe.reader.advanceTo(read.buffer.getPosition(consume), read.buffer.end);
    await within(flush);
    return pipe;
  }

  it('getMemory that does not fit before the ring end skips the tail: contiguous memory at the ring start, read back exactly', async () => {
    const pipe = await toPosition900(900);
    const memory = pipe.writer.getMemory(200); // only 124 bytes before the end
    expect(memory.length).toBeGreaterThanOrEqual(200);
    fillPattern(memory, 900, 200, 7);
    pipe.writer.advance(200);
    await settledValue(pipe.writer.flush());
    expect(pipe.writer.stats().wraps).toBe(1);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(200);
    expect(result.buffer.isSingleSegment).toBe(true);
    checkPattern(bytesOf(result), 900, 7);
    // Zero copy: the read is a view of the very memory getMemory handed out.
    expect(result.buffer.first.buffer).toBe(memory.buffer);
    expect(result.buffer.first.byteOffset).toBe(memory.byteOffset);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('behind bytes the reader holds no tail is skipped: the block comes from the pipe and wraps into the ring, every byte in order', async () => {
    const pipe = await toPosition900(800); // 100 bytes held at ring offsets 800..900
    const memory = pipe.writer.getMemory(200);
    fillPattern(memory, 900, 200, 7);
    pipe.writer.advance(200);
    await settledValue(pipe.writer.flush());
    expect(pipe.writer.stats().wraps).toBe(0);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(300);
    // 224 bytes to the end of the ring, the rest from its start: no room was given up to a skipped tail.
    expect(segmentLengths(result)).toEqual([224, 76]);
    checkPattern(bytesOf(result), 800, 7);
    pipe.reader.advanceTo(result.buffer.end);
    expect(pipe.reader.stats().bytesConsumed).toBe(pipe.reader.stats().bytesWritten);
  });

  it('with nothing held, a block that does not fit before the end skips the tail: contiguous ring memory, read as one segment', async () => {
    const pipe = await toPosition900(900); // everything consumed: the read position is the cursor
    const memory = pipe.writer.getMemory(200);
    expect(memory.byteOffset).toBe(pipe.writer.getMemory(200).byteOffset);
    fillPattern(memory, 900, 200, 7);
    pipe.writer.advance(200);
    await settledValue(pipe.writer.flush());
    expect(pipe.writer.stats().wraps).toBe(1);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(true);
    expect(result.buffer.first.byteOffset).toBe(memory.byteOffset);
    checkPattern(bytesOf(result), 900, 7);
    pipe.reader.advanceTo(result.buffer.end);
    expect(pipe.reader.stats().bytesConsumed).toBe(pipe.reader.stats().bytesWritten);
  });

  it('a reader holding less than the ring after a skipped tail still gets one more byte (data counts, not ring positions)', async () => {
    const pipe = new SharedPipe({ capacity: 16, pauseWriterThreshold: 0 });
    created.push(pipe);
    await within(pipe.writer.write(new Uint8Array(12).fill(1)));
    let result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.getPosition(10), result.buffer.end); // hold 2
    const memory = pipe.writer.getMemory(6);
    memory.fill(2, 0, 6);
    pipe.writer.advance(6);
    await within(pipe.writer.flush());
    result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    await within(pipe.writer.write(new Uint8Array(4).fill(3)));
    result = await within(pipe.reader.read());
    const held = result.buffer.length;
    expect(held).toBe(12);
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    const more = pipe.reader.read();
    const write = pipe.writer.write(new Uint8Array([4]));
    const got = await within(more);
    expect(got.buffer.length).toBe(held + 1);
    expect([...got.buffer.toUint8Array()]).toEqual([1, 1, ...new Array(6).fill(2), ...new Array(4).fill(3), 4]);
    pipe.reader.advanceTo(got.buffer.end);
    await within(write);
  });

  it('getMemory with no room right now returns memory the pipe owns; the flush places it as room frees, in order', async () => {
    const pipe = plainPipe();
    for (let i = 0; i < 2; i++) {
      const memory = pipe.writer.getMemory(512);
      fillPattern(memory, i * 512, 512, 9);
      pipe.writer.advance(512);
    }
    const extra = pipe.writer.getMemory(100); // no ring room: a block of the pipe's own
    expect(extra.length).toBeGreaterThanOrEqual(100);
    fillPattern(extra, 1024, 100, 9);
    pipe.writer.advance(100);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(1024);
    checkPattern(bytesOf(result), 0, 9);
    pipe.reader.advanceTo(result.buffer.end);
    await within(flush);
    const rest = await within(pipe.reader.read());
    expect(rest.buffer.length).toBe(100);
    checkPattern(bytesOf(rest), 1024, 9);
    pipe.reader.advanceTo(rest.buffer.end);
    expect(pipe.writer.getMemory(512).length).toBeGreaterThanOrEqual(512);
  });

  it('a getMemory → advance → await flush loop delivers every byte', async () => {
    const pipe = plainPipe();
    const total = 300 * 200;
    const writer = (async () => {
      for (let offset = 0; offset < total; offset += 300) {
        const memory = pipe.writer.getMemory(300);
        fillPattern(memory, offset, 300, 7);
        pipe.writer.advance(300);
        const result = await pipe.writer.flush();
        expect(result).toMatchObject({ isCanceled: false, isCompleted: false });
      }
      pipe.writer.complete();
    })();
    let received = 0;
    const reader = (async () => {
      for (;;) {
        const result = await pipe.reader.read();
        let offset = received;
        for (const segment of result.buffer) {
          checkPattern(segment, offset, 7);
          offset += segment.length;
        }
        received = offset;
        pipe.reader.advanceTo(result.buffer.end);
        if (result.isCompleted) return;
      }
    })();
    await within(Promise.all([writer, reader]));
    expect(received).toBe(total);
  });

  it('write() larger than the ring copies in turns; a flush or write meanwhile throws ERR_PIPE_FLUSH_PENDING', async () => {
    const pipe = plainPipe();
    const write = pipe.writer.write(pattern(5000));
    await expectPending(write);
    expectThrowsCode(() => pipe.writer.flush(), 'ERR_PIPE_FLUSH_PENDING');
    expectThrowsCode(() => pipe.writer.write(pattern(1)), 'ERR_PIPE_FLUSH_PENDING');
    let received = 0;
    while (received < 5000) {
      const result = await within(pipe.reader.read());
      checkPattern(bytesOf(result), received, 7);
      received += result.buffer.length;
      pipe.reader.advanceTo(result.buffer.end);
    }
    expect(received).toBe(5000);
    await expect(within(write)).resolves.toMatchObject({ isCanceled: false, isCompleted: false });
  });
});

describe('SharedPipe: moving ends with handle()', () => {
  it('handle() gives a structured-cloneable handle; the old reader then throws ERR_PIPE_END_MOVED except for cancelPendingRead and stats', () => {
    const pipe = plainPipe();
    const handle = pipe.reader.handle();
    expect(isSharedPipeHandle(handle)).toBe(true);
    expect(isSharedPipeHandle(structuredClone(handle))).toBe(true);
    const r = pipe.reader;
    expectThrowsCode(() => r.read(), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => r.tryRead(), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => r.readAtLeast(1), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => r.readSync(), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => r.advanceTo(SequencePosition.none), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => r.complete(), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => r.handle(), 'ERR_PIPE_END_MOVED');
    expect(() => r.read()).toThrow(PipeEndMovedError);
    expect(() => r.cancelPendingRead()).not.toThrow();
    expect(r.stats().bytesWritten).toBe(0);
  });

  it('the old writer throws ERR_PIPE_END_MOVED except for cancelPendingFlush and stats', () => {
    const pipe = plainPipe();
    pipe.writer.handle();
    const w = pipe.writer;
    expectThrowsCode(() => w.getMemory(1), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => w.advance(0), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => w.flush(), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => w.flushSync(), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => w.write(pattern(1)), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => w.writeSync(pattern(1)), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => w.complete(), 'ERR_PIPE_END_MOVED');
    expectThrowsCode(() => w.handle(), 'ERR_PIPE_END_MOVED');
    expect(() => w.cancelPendingFlush()).not.toThrow();
    expect(w.stats().flushes).toBe(0);
  });

  it('a revived reader continues where the moved one stopped', async () => {
    const pipe = plainPipe();
    await pipe.writer.write(pattern(10));
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.getPosition(4), result.buffer.getPosition(4));
    const reader = SharedPipe.reader(structuredClone(pipe.reader.handle()));
    const next = await settledValue(reader.read());
    expect(bytesOf(next)).toEqual(pattern(6, 4));
    reader.advanceTo(next.buffer.end);
    await pipe.writer.write(pattern(3, 10));
    const more = await settledValue(reader.read());
    expect(bytesOf(more)).toEqual(pattern(3, 10));
    reader.advanceTo(more.buffer.end);
  });

  it('a revived writer continues where the moved one stopped, across a skipped tail', async () => {
    const pipe = plainPipe();
    const memory = pipe.writer.getMemory(500);
    fillPattern(memory, 0, 500, 7);
    pipe.writer.advance(500);
    await settledValue(pipe.writer.flush());
    const first = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.getPosition(450), first.buffer.end);
    const writer = SharedPipe.writer(pipe.writer.handle());
    const second = writer.getMemory(512); // 524 before the end: fits
    fillPattern(second, 500, 512, 7);
    writer.advance(512);
    const flush = writer.flush();
    const read = await settledValue(pipe.reader.read());
    // Copied now: the result and its buffer are valid until the next advanceTo.
    const readBytes = bytesOf(read);
    pipe.reader.advanceTo(read.buffer.end);
    await within(flush);
    const writer2 = SharedPipe.writer(writer.handle());
    const third = writer2.getMemory(100); // 12 bytes before the end: skipped
    fillPattern(third, 1012, 100, 7);
    writer2.advance(100);
    writer2.complete();
    const last = await settledValue(pipe.reader.read());
    expect(last.isCompleted).toBe(true);
    checkPattern(bytesOf(last), 1012, 7);
    checkPattern(readBytes, 450, 7);
    expect(pipe.reader.stats().wraps).toBe(1);
  });

  it('reviving an end that is already held throws ERR_PIPE_END_IN_USE; a handle of the other side is refused', () => {
    const pipe = plainPipe();
    const handle = pipe.reader.handle();
    SharedPipe.reader(handle);
    expect(() => SharedPipe.reader(handle)).toThrow(PipeEndInUseError);
    expectThrowsCode(() => SharedPipe.reader(handle), 'ERR_PIPE_END_IN_USE');
    expect(() => SharedPipe.writer(handle)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => SharedPipe.reader({} as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    // The writer was never moved: it is held by this thread too.
    expect(() => SharedPipe.writer(structuredClone({ ...handle, side: 'writer' as const }))).toThrow(expect.objectContaining({ code: 'ERR_PIPE_END_IN_USE' }));
  });

  it('handle() with an outstanding or pending read throws ERR_PIPE_READ_PENDING, and the reader keeps working', async () => {
    const pipe = plainPipe();
    const pending = pipe.reader.read();
    expectThrowsCode(() => pipe.reader.handle(), 'ERR_PIPE_READ_PENDING');
    await pipe.writer.write(pattern(4));
    const result = await within(pending);
    expectThrowsCode(() => pipe.reader.handle(), 'ERR_PIPE_READ_PENDING');
    pipe.reader.advanceTo(result.buffer.end);
    expect(isSharedPipeHandle(pipe.reader.handle())).toBe(true);
  });

  it('handle() with unflushed bytes or a pending flush throws ERR_PIPE_FLUSH_PENDING', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 10);
    expectThrowsCode(() => pipe.writer.handle(), 'ERR_PIPE_FLUSH_PENDING');
    await settledValue(pipe.writer.flush());
    writeEmpty(pipe.writer, 60);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    expectThrowsCode(() => pipe.writer.handle(), 'ERR_PIPE_FLUSH_PENDING');
    pipe.writer.cancelPendingFlush();
    await within(flush);
    expect(isSharedPipeHandle(pipe.writer.handle())).toBe(true);
  });

  it('handle() of a completed end throws ERR_PIPE_COMPLETED', () => {
    const pipe = plainPipe();
    pipe.reader.complete();
    pipe.writer.complete();
    expectThrowsCode(() => pipe.reader.handle(), 'ERR_PIPE_COMPLETED');
    expectThrowsCode(() => pipe.writer.handle(), 'ERR_PIPE_COMPLETED');
  });

  it('cancelPendingRead() on the moved reader wakes a read pending on the revived one', async () => {
    const pipe = plainPipe();
    const reader = SharedPipe.reader(pipe.reader.handle());
    const read = reader.read();
    await expectPending(read);
    pipe.reader.cancelPendingRead();
    await expect(within(read)).resolves.toMatchObject({ isCanceled: true, isCompleted: false });
  });

  it('cancelPendingFlush() on the moved writer wakes a paused flush of the revived one', async () => {
    const pipe = bpPipe();
    const writer = SharedPipe.writer(pipe.writer.handle());
    writeEmpty(writer, 64);
    const flush = writer.flush();
    await expectPending(flush);
    pipe.writer.cancelPendingFlush();
    await expect(within(flush)).resolves.toMatchObject({ isCanceled: true, isCompleted: false });
  });
});

describe('SharedPipe: frame-too-large deadlock detection', () => {
  it('a reader holding the whole ring and waiting for more, while the writer waits for room, fails with ERR_FRAME_TOO_LARGE', async () => {
    const pipe = plainPipe();
    const write = pipe.writer.write(pattern(1100)); // 76 bytes do not fit: the flush waits for room
    await expectPending(write);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(1024);
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end); // hold everything, want more
    const read = pipe.reader.read();
    const error = await expectRejectsCode(read, 'ERR_FRAME_TOO_LARGE');
    expect(error).toBeInstanceOf(FrameTooLargeError);
    // Completing the reader releases the writer.
    pipe.reader.complete();
    await expect(within(write)).resolves.toMatchObject({ isCompleted: true });
  });

  it("a read that holds the whole ring fails with ERR_FRAME_TOO_LARGE at once; the writer's flush waits until the reader gives up", async () => {
    const pipe = plainPipe();
    const write = pipe.writer.write(pattern(1100));
    await expectPending(write);
    pipe.writer.cancelPendingFlush(); // the writer stops waiting for now; its 76 extra bytes stay the pipe's
    expect(await within(write)).toMatchObject({ isCanceled: true });
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    // The ring is full of bytes the reader holds: no byte can ever arrive, so the read does not sleep.
    const error = await expectRejectsCode(pipe.reader.read(), 'ERR_FRAME_TOO_LARGE');
    expect(error).toBeInstanceOf(FrameTooLargeError);
    const flush = pipe.writer.flush(); // the owned bytes still do not fit: it waits
    await expectPending(flush);
    await expectRejectsCode(pipe.reader.read(), 'ERR_FRAME_TOO_LARGE'); // still nothing can arrive
    // The reader gives up with that error: the waiting flush fails with it, name and code intact.
    pipe.reader.complete(error as Error);
    expect(await expectRejectsCode(flush, 'ERR_FRAME_TOO_LARGE')).toBeInstanceOf(FrameTooLargeError);
  });

  it('a reader holding a 2-byte partial frame of a 4 KiB ring may wait for more: no ERR_FRAME_TOO_LARGE, the writer carries on', async () => {
    const pipe = plainPipe(4096);
    const write = pipe.writer.write(pattern(2049));
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(2049);
    pipe.reader.advanceTo(result.buffer.getPosition(2047), result.buffer.end); // hold 2 bytes
    const read = pipe.reader.read();
    read.catch(() => {});
    await expectPending(read);
    // 4094 bytes of 4096 are free: room for another batch of 2049 bytes written with write().
    await expect(within(write, 2_000)).resolves.toMatchObject({ isCanceled: false, isCompleted: false });
    await within(pipe.writer.write(pattern(10, 2049)));
    const next = await within(read);
    checkPattern(bytesOf(next), 2047, 7);
    expect(next.buffer.length).toBe(12);
    pipe.reader.advanceTo(next.buffer.end);
  });
});
