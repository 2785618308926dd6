import { describe, expect, it } from 'vitest';
import { MemoryPool, Pipe, PipeScheduler, SequencePosition, type PipeOptions } from '../dist/src/index.js';
import { bytes, peek, settledValue, TrackingPool, within, writeEmpty } from './helpers.js';

// Group C: invalid operations and argument errors (dotnet-pipelines-behaviors.md, section C),
// following the port decisions: misuse throws synchronously with a `code`; a second read/flush
// while one is pending throws ERR_PIPE_READ_PENDING / ERR_PIPE_FLUSH_PENDING and breaks nothing.

function testPool(): MemoryPool {
  return new MemoryPool({ maxBufferSize: 4096 });
}

/** F_RW: default thresholds (65536 / 32768), inline schedulers. */
function rwPipe(): Pipe {
  return new Pipe({ pool: testPool(), readerScheduler: PipeScheduler.inline, writerScheduler: PipeScheduler.inline });
}

/** F_LEN / F_PT0: pause 0 / resume 0, inline schedulers. */
function lenPipe(): Pipe {
  return new Pipe({
    pool: testPool(),
    readerScheduler: PipeScheduler.inline,
    writerScheduler: PipeScheduler.inline,
    pauseWriterThreshold: 0,
    resumeWriterThreshold: 0,
  });
}

/** F_PT: pause 65 / resume 6, inline schedulers. */
function ptPipe(): Pipe {
  return new Pipe({
    pool: testPool(),
    readerScheduler: PipeScheduler.inline,
    writerScheduler: PipeScheduler.inline,
    pauseWriterThreshold: 65,
    resumeWriterThreshold: 6,
  });
}

/**
 * The error `fn` throws synchronously. A returned promise (a rejection instead of a throw) fails the
 * test; its rejection is swallowed so it does not surface as unhandled.
 */
function thrownBy(fn: () => unknown): { code?: string; argument?: string; message: string; name: string } {
  let returned: unknown;
  try {
    returned = fn();
  } catch (error) {
    return error as { code?: string; argument?: string; message: string; name: string };
  }
  if (returned instanceof Promise) returned.catch(() => {});
  throw new Error('expected a synchronous throw, but the call returned normally');
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

describe('C: invalid operations and argument errors', () => {
  it('C1a read after the reader completed throws synchronously', () => {
    const pipe = rwPipe();
    pipe.reader.complete();
    const error = thrownBy(() => pipe.reader.read());
    expect(error.code).toBe('ERR_PIPE_COMPLETED');
  });

  it('C1b tryRead after the reader completed throws', () => {
    const pipe = rwPipe();
    pipe.reader.complete();
    expect(thrownBy(() => pipe.reader.tryRead()).code).toBe('ERR_PIPE_COMPLETED');
  });

  it('C1c readAtLeast after the reader completed throws synchronously', () => {
    const pipe = rwPipe();
    pipe.reader.complete();
    expect(thrownBy(() => pipe.reader.readAtLeast(5)).code).toBe('ERR_PIPE_COMPLETED');
  });

  it('C1d read after the reader completed throws even with data buffered', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    pipe.reader.complete();
    expect(thrownBy(() => pipe.reader.read()).code).toBe('ERR_PIPE_COMPLETED');
    expect(thrownBy(() => pipe.reader.tryRead()).code).toBe('ERR_PIPE_COMPLETED');
  });

  it('C2 advanceTo after the reader completed throws ERR_PIPE_COMPLETED', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1)));
    const result = await within(pipe.reader.read());
    pipe.reader.complete();
    expect(() => pipe.reader.advanceTo(result.buffer.end)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
  });

  it('C3a getMemory after the writer completed throws', () => {
    const pipe = rwPipe();
    pipe.writer.complete();
    expect(thrownBy(() => pipe.writer.getMemory()).code).toBe('ERR_PIPE_COMPLETED');
    expect(thrownBy(() => pipe.writer.getMemory(10)).code).toBe('ERR_PIPE_COMPLETED');
  });

  it('C3b write after the writer completed throws synchronously', () => {
    const pipe = rwPipe();
    pipe.writer.complete();
    expect(thrownBy(() => pipe.writer.write(bytes(1, 2))).code).toBe('ERR_PIPE_COMPLETED');
    expect(thrownBy(() => pipe.writer.write('text')).code).toBe('ERR_PIPE_COMPLETED');
  });

  it('C3c flush after the writer completed does not throw', async () => {
    const pipe = rwPipe();
    pipe.writer.complete();
    let flush: Promise<unknown> | undefined;
    expect(() => {
      flush = pipe.writer.flush();
    }).not.toThrow();
    expect((await peek(flush!)).state).toBe('fulfilled');
  });

  it('C4a a second advanceTo without a new read throws ERR_PIPE_NO_READ_TO_ADVANCE', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start);
    expect(() => pipe.reader.advanceTo(result.buffer.end)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }),
    );
    // Validated before any bookkeeping: nothing was consumed or examined by the failed call.
    expect(pipe.length).toBe(3);
    const again = await settledValue(pipe.reader.read());
    expect(again.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  });

  it('C4b advanceTo on a fresh pipe with no read throws ERR_PIPE_NO_READ_TO_ADVANCE', () => {
    const pipe = rwPipe();
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }),
    );
  });

  it('C4c advanceTo while a read is pending (no result yet) throws ERR_PIPE_NO_READ_TO_ADVANCE', async () => {
    const pipe = rwPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }),
    );
    await within(pipe.writer.write(bytes(9)));
    expect((await within(read)).buffer.toUint8Array()).toEqual(bytes(9));
  });

  it('C5a reading again without advancing throws ERR_PIPE_READ_PENDING (tryRead, read, readAtLeast)', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = await within(pipe.reader.read());
    expect(thrownBy(() => pipe.reader.tryRead()).code).toBe('ERR_PIPE_READ_PENDING');
    expect(thrownBy(() => pipe.reader.read()).code).toBe('ERR_PIPE_READ_PENDING');
    expect(thrownBy(() => pipe.reader.readAtLeast(1)).code).toBe('ERR_PIPE_READ_PENDING');
    // The outstanding result is still valid and can be advanced.
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
    expect(() => pipe.reader.advanceTo(result.buffer.end)).not.toThrow();
    expect(pipe.length).toBe(0);
  });

  it('C5b after tryRead returned null another read is allowed', async () => {
    const pipe = rwPipe();
    expect(pipe.reader.tryRead()).toBeNull();
    let read: Promise<import('../dist/src/index.js').ReadResult> | undefined;
    expect(() => {
      read = pipe.reader.read();
    }).not.toThrow();
    await expectPending(read!);
    await within(pipe.writer.write(bytes(5)));
    expect((await within(read!)).buffer.toUint8Array()).toEqual(bytes(5));
  });

  it('C5c after a canceled read another read is allowed without advancing', async () => {
    const pipe = rwPipe();
    pipe.reader.cancelPendingRead();
    const canceled = await within(pipe.reader.read());
    expect(canceled.isCanceled).toBe(true);
    await within(pipe.writer.write(bytes(6)));
    let read: Promise<import('../dist/src/index.js').ReadResult> | undefined;
    expect(() => {
      read = pipe.reader.read();
    }).not.toThrow();
    const result = await within(read!);
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(6));
  });

  it('C5d after a canceled read tryRead is allowed without advancing', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(7, 8)));
    pipe.reader.cancelPendingRead();
    const canceled = await within(pipe.reader.read());
    expect(canceled.isCanceled).toBe(true);
    let again: ReturnType<typeof pipe.reader.tryRead> = null;
    expect(() => {
      again = pipe.reader.tryRead();
    }).not.toThrow();
    expect(again).not.toBeNull();
    expect(again!.isCanceled).toBe(false);
    expect(again!.buffer.toUint8Array()).toEqual(bytes(7, 8));
  });

  it('C6a a second read while one is pending throws; the first stays pending and still works', async () => {
    const pipe = rwPipe();
    const first = pipe.reader.read();
    await expectPending(first);
    expect(thrownBy(() => pipe.reader.read()).code).toBe('ERR_PIPE_READ_PENDING');
    await expectPending(first);

    // The writer was NOT completed: writing works and wakes the first read.
    let flush: Promise<unknown> | undefined;
    expect(() => {
      flush = pipe.writer.write(bytes(1, 2));
    }).not.toThrow();
    await within(flush!);
    const result = await within(first);
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2));
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('C6b tryRead and readAtLeast while a read is pending throw ERR_PIPE_READ_PENDING', async () => {
    const pipe = rwPipe();
    const first = pipe.reader.read();
    await expectPending(first);
    expect(thrownBy(() => pipe.reader.tryRead()).code).toBe('ERR_PIPE_READ_PENDING');
    expect(thrownBy(() => pipe.reader.readAtLeast(1)).code).toBe('ERR_PIPE_READ_PENDING');
    await expectPending(first);
    pipe.writer.complete();
    const result = await within(first);
    expect(result.isCompleted).toBe(true);
  });

  it('C6c awaiting the same pending read twice yields the same result and breaks nothing', async () => {
    const pipe = rwPipe();
    const read = pipe.reader.read();
    const a = read.then((r) => r);
    const b = read.then((r) => r);
    await within(pipe.writer.write(bytes(3)));
    const [ra, rb] = await within(Promise.all([a, b]));
    expect(ra).toBe(rb);
    pipe.reader.advanceTo(ra.buffer.end);
    const flush = await within(pipe.writer.write(bytes(4)));
    expect(flush.isCompleted).toBe(false);
    expect((await within(pipe.reader.read())).buffer.toUint8Array()).toEqual(bytes(4));
  });

  it('C7a a second flush or write while a flush is pending throws ERR_PIPE_FLUSH_PENDING', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const first = pipe.writer.flush();
    await expectPending(first);
    expect(thrownBy(() => pipe.writer.flush()).code).toBe('ERR_PIPE_FLUSH_PENDING');
    expect(thrownBy(() => pipe.writer.write(bytes(1))).code).toBe('ERR_PIPE_FLUSH_PENDING');
    await expectPending(first);

    // The reader was NOT completed: it reads and its advance releases the first flush.
    const result = await within(pipe.reader.read());
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.length).toBe(65);
    pipe.reader.advanceTo(result.buffer.end);
    expect((await peek(first)).state).toBe('fulfilled');
    expect(await first).toEqual({ isCanceled: false, isCompleted: false });
  });

  it('C7b the first flush completes when released and bytes advanced meanwhile are not lost', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const first = pipe.writer.flush();
    await expectPending(first);
    const memory = pipe.writer.getMemory(1);
    memory[0] = 42;
    pipe.writer.advance(1);
    for (let i = 0; i < 3; i++) expect(thrownBy(() => pipe.writer.flush()).code).toBe('ERR_PIPE_FLUSH_PENDING');
    expect(pipe.writer.unflushedBytes).toBe(1);

    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(65);
    pipe.reader.advanceTo(result.buffer.end);
    expect((await peek(first)).state).toBe('fulfilled');

    expect(pipe.writer.unflushedBytes).toBe(1);
    await within(pipe.writer.flush());
    const next = await within(pipe.reader.read());
    expect(next.buffer.toUint8Array()).toEqual(bytes(42));
  });

  it('C9 examined before consumed throws ERR_PIPE_ADVANCE_OUT_OF_RANGE', async () => {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    const result = await within(pipe.reader.read());
    expect(() => pipe.reader.advanceTo(result.buffer.end, result.buffer.start)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }),
    );
    expect(pipe.length).toBe(10);
  });

  async function examinedThenMore(): Promise<{ pipe: Pipe; result: import('../dist/src/index.js').ReadResult }> {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    let result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(20);
    return { pipe, result };
  }

  it('C10a examined moving backwards throws ERR_PIPE_ADVANCE_OUT_OF_RANGE', async () => {
    const { pipe, result } = await examinedThenMore();
    expect(() => pipe.reader.advanceTo(result.buffer.start, result.buffer.start)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }),
    );
    expect(pipe.length).toBe(10);
  });

  it('C10b single-argument advanceTo before the previously examined position throws', async () => {
    const { pipe, result } = await examinedThenMore();
    expect(() => pipe.reader.advanceTo(result.buffer.start)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }),
    );
    // Examining exactly up to the previous mark (or beyond) is fine.
    expect(() => pipe.reader.advanceTo(result.buffer.start, result.buffer.getPosition(10))).not.toThrow();
    expect(pipe.length).toBe(10);
  });

  it('C11 advancing to a stale position throws; the current result can still be advanced', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(new Uint8Array(100)));
    const old = await within(pipe.reader.read());
    pipe.reader.advanceTo(old.buffer.end);

    pipe.reader.cancelPendingRead();
    const result = await within(pipe.reader.read());
    expect(result.isCanceled).toBe(true);
    expect(result.buffer.length).toBe(0);
    expect(() => pipe.reader.advanceTo(old.buffer.end)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }),
    );
    expect(() => pipe.reader.advanceTo(result.buffer.end)).not.toThrow();
  });

  it('C11b a position of another pipe is out of range', async () => {
    const pipe = rwPipe();
    const other = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    await within(other.writer.write(bytes(1, 2, 3)));
    const foreign = await within(other.reader.read());
    const result = await within(pipe.reader.read());
    expect(() => pipe.reader.advanceTo(foreign.buffer.end)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }),
    );
    expect(() => pipe.reader.advanceTo(result.buffer.end)).not.toThrow();
  });

  it('C12a advance past the memory handed out throws RangeError ERR_PIPE_WRITE_BEYOND_MEMORY', () => {
    const pipe = lenPipe();
    const memory = pipe.writer.getMemory(1);
    const error = thrownBy(() => pipe.writer.advance(memory.length + 1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_PIPE_WRITE_BEYOND_MEMORY');
    expect(pipe.writer.unflushedBytes).toBe(0);
    expect(() => pipe.writer.advance(memory.length)).not.toThrow();
    expect(pipe.writer.unflushedBytes).toBe(memory.length);
  });

  it('C12b advance(1) without getMemory throws RangeError ERR_PIPE_WRITE_BEYOND_MEMORY', () => {
    const pipe = lenPipe();
    const error = thrownBy(() => pipe.writer.advance(1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_PIPE_WRITE_BEYOND_MEMORY');
  });

  it('C12c a negative advance throws RangeError ERR_INVALID_ARG_VALUE', () => {
    const pipe = lenPipe();
    pipe.writer.getMemory(1);
    const error = thrownBy(() => pipe.writer.advance(-1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(pipe.writer.unflushedBytes).toBe(0);
  });

  it('C12d advance(0) without getMemory is allowed', () => {
    const pipe = lenPipe();
    expect(() => pipe.writer.advance(0)).not.toThrow();
    expect(pipe.writer.unflushedBytes).toBe(0);
  });

  it('C13a getMemory(-1) throws RangeError ERR_INVALID_ARG_VALUE naming sizeHint', () => {
    const pipe = rwPipe();
    const error = thrownBy(() => pipe.writer.getMemory(-1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error.argument).toBe('sizeHint');
  });

  it('C13b readAtLeast(-1) throws RangeError ERR_INVALID_ARG_VALUE naming minimumSize', () => {
    const pipe = rwPipe();
    const error = thrownBy(() => pipe.reader.readAtLeast(-1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error.argument).toBe('minimumSize');
    // The reader is not left in a reading state.
    expect(pipe.reader.tryRead()).toBeNull();
  });

  it('C13c non-integer sizes throw ERR_INVALID_ARG_VALUE', () => {
    const pipe = rwPipe();
    expect(thrownBy(() => pipe.writer.getMemory(1.5)).code).toBe('ERR_INVALID_ARG_VALUE');
    expect(thrownBy(() => pipe.reader.readAtLeast(1.5)).code).toBe('ERR_INVALID_ARG_VALUE');
    pipe.writer.getMemory(8);
    expect(thrownBy(() => pipe.writer.advance(0.5)).code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('C14a default thresholds are pause 65536 / resume 32768 with inline schedulers', async () => {
    const pipe = new Pipe();
    writeEmpty(pipe.writer, 65535);
    expect((await peek(pipe.writer.flush())).state).toBe('fulfilled');
    writeEmpty(pipe.writer, 1);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    expect(pipe.length).toBe(65536);

    let result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start, result.buffer.getPosition(65536 - 32768));
    expect(pipe.length).toBe(32768);
    await expectPending(flush); // resume needs to fall below 32768

    result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start, result.buffer.getPosition(65536 - 32768 + 1));
    expect(pipe.length).toBe(32767);
    expect((await peek(flush)).state).toBe('fulfilled'); // inline writer scheduler
  });

  it('C14b the default minimum segment size is 4096 and the default pool gives 4096-byte memory', () => {
    const pool = new TrackingPool(1 << 20); // rents exactly what is asked
    const pipe = new Pipe({ pool });
    expect(pipe.writer.getMemory(1).length).toBe(4096);
    expect(pool.currentlyRentedBlocks).toBe(1);
    expect(new Pipe().writer.getMemory().length).toBe(4096);
    expect(new Pipe({}).writer.getMemory(1).length).toBe(4096);
  });

  it.each<[string, PipeOptions, string]>([
    ['pause -2', { pauseWriterThreshold: -2 }, 'pauseWriterThreshold'],
    ['pause 1.5', { pauseWriterThreshold: 1.5 }, 'pauseWriterThreshold'],
    ['resume -2', { resumeWriterThreshold: -2 }, 'resumeWriterThreshold'],
    ['pause 50 / resume 100', { pauseWriterThreshold: 50, resumeWriterThreshold: 100 }, 'resumeWriterThreshold'],
    ['pause 1 / resume -1', { pauseWriterThreshold: 1, resumeWriterThreshold: -1 }, 'resumeWriterThreshold'],
    ['default pause / resume 65537', { resumeWriterThreshold: 65537 }, 'resumeWriterThreshold'],
    ['minimumSegmentSize -100', { minimumSegmentSize: -100 }, 'minimumSegmentSize'],
    ['minimumSegmentSize -1', { minimumSegmentSize: -1 }, 'minimumSegmentSize'],
    ['minimumSegmentSize 1.5', { minimumSegmentSize: 1.5 }, 'minimumSegmentSize'],
  ])('C14c invalid options throw RangeError ERR_INVALID_ARG_VALUE: %s', (_label, options, argument) => {
    const error = thrownBy(() => new Pipe(options));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error.argument).toBe(argument);
    expect(error.message).toContain(argument);
  });

  it.each<[string, PipeOptions]>([
    ['minimumSegmentSize 0', { minimumSegmentSize: 0 }],
    ['minimumSegmentSize 1', { minimumSegmentSize: 1 }],
    ['pause 0 / resume 0', { pauseWriterThreshold: 0, resumeWriterThreshold: 0 }],
    ['pause 0 alone', { pauseWriterThreshold: 0 }],
    ['pause 1 alone', { pauseWriterThreshold: 1 }],
    ['pause 50 / resume 50', { pauseWriterThreshold: 50, resumeWriterThreshold: 50 }],
    ['empty options', {}],
  ])('C14d valid options do not throw: %s', async (_label, options) => {
    let pipe: Pipe | undefined;
    expect(() => {
      pipe = new Pipe(options);
    }).not.toThrow();
    expect(pipe!.writer.getMemory(0).length).toBeGreaterThan(0);
    pipe!.writer.advance(1);
    // Not awaited: with pause 1 this flush pauses (and with a derived resume of 0 nothing but
    // cancel/complete would release it); only option validation is under test here.
    void pipe!.writer.flush();
    const result = await within(pipe!.reader.read());
    expect(result.buffer.length).toBe(1);
    pipe!.reader.advanceTo(result.buffer.end);
  });

  it('C14e new Pipe(null) throws TypeError ERR_INVALID_ARG_VALUE', () => {
    const error = thrownBy(() => new Pipe(null as unknown as PipeOptions));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error.argument).toBe('options');
  });

  it('C15 completing the reader in the middle of a read does not throw and ends the read', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(new Uint8Array(10)));
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(10);
    expect(() => pipe.reader.complete()).not.toThrow();
    // The reading state is gone: only the completion is reported from now on.
    expect(() => pipe.reader.advanceTo(result.buffer.end)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
    const flush = await within(pipe.writer.write(bytes(1)));
    expect(flush.isCompleted).toBe(true);
  });
});
