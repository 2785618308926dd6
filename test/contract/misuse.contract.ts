import { expect } from 'vitest';
import { SequencePosition, type ReadResult } from '../../dist/src/index.js';
import { bytes } from '../helpers.js';
import { contractCase, expectLength, expectPending, ready, released, thrownBy, within, writeEmpty, type ContractCase, type ContractPipe } from './harness.js';
import { F_LEN, F_PT, F_RW, type Implementation } from './implementations.js';

// Group C: invalid operations and argument errors (dotnet-pipelines-behaviors.md, section C),
// following the port decisions: misuse throws synchronously with a `code`; a second read/flush
// while one is pending throws ERR_PIPE_READ_PENDING / ERR_PIPE_FLUSH_PENDING and breaks nothing.
// Misuse is a synchronous outcome, so each case needs the misused end in this thread.

async function examinedThenMore(impl: Implementation): Promise<{ pipe: ContractPipe; result: ReadResult }> {
  const pipe = await impl.open(F_LEN);
  writeEmpty(pipe.writer, 10);
  await within(pipe.writer.flush());
  let result = await within(pipe.reader.read());
  pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
  await pipe.barrier();
  writeEmpty(pipe.writer, 10);
  await within(pipe.writer.flush());
  result = await within(pipe.reader.read());
  expect(result.buffer.length).toBe(20);
  return { pipe, result };
}

export const misuseCases: readonly ContractCase[] = [
  contractCase('C1a', 'read after the reader completed throws synchronously', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.reader.complete();
    const error = thrownBy(() => pipe.reader.read());
    expect(error.code).toBe('ERR_PIPE_COMPLETED');
  }),

  contractCase('C1b', 'tryRead after the reader completed throws', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.reader.complete();
    expect(thrownBy(() => pipe.reader.tryRead()).code).toBe('ERR_PIPE_COMPLETED');
  }),

  contractCase('C1c', 'readAtLeast after the reader completed throws synchronously', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.reader.complete();
    expect(thrownBy(() => pipe.reader.readAtLeast(5)).code).toBe('ERR_PIPE_COMPLETED');
  }),

  contractCase('C1d', 'read after the reader completed throws even with data buffered', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    pipe.reader.complete();
    expect(thrownBy(() => pipe.reader.read()).code).toBe('ERR_PIPE_COMPLETED');
    expect(thrownBy(() => pipe.reader.tryRead()).code).toBe('ERR_PIPE_COMPLETED');
  }),

  contractCase('C2', 'advanceTo after the reader completed throws ERR_PIPE_COMPLETED', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1)));
    const result = await within(pipe.reader.read());
    pipe.reader.complete();
    expect(() => pipe.reader.advanceTo(result.buffer.end)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
  }),

  contractCase('C3a', 'getMemory after the writer completed throws', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.writer.complete();
    expect(thrownBy(() => pipe.writer.getMemory()).code).toBe('ERR_PIPE_COMPLETED');
    expect(thrownBy(() => pipe.writer.getMemory(10)).code).toBe('ERR_PIPE_COMPLETED');
  }),

  contractCase('C3b', 'write after the writer completed throws synchronously', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.writer.complete();
    expect(thrownBy(() => pipe.writer.write(bytes(1, 2))).code).toBe('ERR_PIPE_COMPLETED');
    expect(thrownBy(() => pipe.writer.write('text')).code).toBe('ERR_PIPE_COMPLETED');
  }),

  contractCase('C3c', 'flush after the writer completed does not throw', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.writer.complete();
    let flush: Promise<unknown> | undefined;
    expect(() => {
      flush = pipe.writer.flush();
    }).not.toThrow();
    await ready(pipe, 'writer', flush!);
  }),

  contractCase('C4a', 'a second advanceTo without a new read throws ERR_PIPE_NO_READ_TO_ADVANCE', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start);
    expect(() => pipe.reader.advanceTo(result.buffer.end)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }));
    // Validated before any bookkeeping: nothing was consumed or examined by the failed call.
    expectLength(pipe, 3);
    const again = await ready(pipe, 'reader', pipe.reader.read());
    expect(again.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  }),

  contractCase('C4b', 'advanceTo on a fresh pipe with no read throws ERR_PIPE_NO_READ_TO_ADVANCE', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }));
  }),

  contractCase('C4c', 'advanceTo while a read is pending (no result yet) throws ERR_PIPE_NO_READ_TO_ADVANCE', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const read = pipe.reader.read();
    await expectPending(pipe, read);
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }));
    await within(pipe.writer.write(bytes(9)));
    expect((await within(read)).buffer.toUint8Array()).toEqual(bytes(9));
  }),

  contractCase('C5a', 'reading again without advancing throws ERR_PIPE_READ_PENDING (tryRead, read, readAtLeast)', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = await within(pipe.reader.read());
    expect(thrownBy(() => pipe.reader.tryRead()).code).toBe('ERR_PIPE_READ_PENDING');
    expect(thrownBy(() => pipe.reader.read()).code).toBe('ERR_PIPE_READ_PENDING');
    expect(thrownBy(() => pipe.reader.readAtLeast(1)).code).toBe('ERR_PIPE_READ_PENDING');
    // The outstanding result is still valid and can be advanced.
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
    expect(() => pipe.reader.advanceTo(result.buffer.end)).not.toThrow();
    expectLength(pipe, 0);
  }),

  contractCase('C5b', 'after tryRead returned null another read is allowed', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    expect(pipe.reader.tryRead()).toBeNull();
    let read: Promise<ReadResult> | undefined;
    expect(() => {
      read = pipe.reader.read();
    }).not.toThrow();
    await expectPending(pipe, read!);
    await within(pipe.writer.write(bytes(5)));
    expect((await within(read!)).buffer.toUint8Array()).toEqual(bytes(5));
  }),

  contractCase('C5c', 'after a canceled read another read is allowed without advancing', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.reader.cancelPendingRead();
    const canceled = await within(pipe.reader.read());
    expect(canceled.isCanceled).toBe(true);
    await within(pipe.writer.write(bytes(6)));
    let read: Promise<ReadResult> | undefined;
    expect(() => {
      read = pipe.reader.read();
    }).not.toThrow();
    const result = await within(read!);
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(6));
  }),

  contractCase('C5d', 'after a canceled read tryRead is allowed without advancing', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(7, 8)));
    pipe.reader.cancelPendingRead();
    const canceled = await within(pipe.reader.read());
    expect(canceled.isCanceled).toBe(true);
    let again: ReadResult | null = null;
    expect(() => {
      again = pipe.reader.tryRead();
    }).not.toThrow();
    expect(again).not.toBeNull();
    expect(again!.isCanceled).toBe(false);
    expect(again!.buffer.toUint8Array()).toEqual(bytes(7, 8));
  }),

  contractCase('C6a', 'a second read while one is pending throws; the first stays pending and still works', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const first = pipe.reader.read();
    await expectPending(pipe, first);
    expect(thrownBy(() => pipe.reader.read()).code).toBe('ERR_PIPE_READ_PENDING');
    await expectPending(pipe, first);

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
  }),

  contractCase('C6b', 'tryRead and readAtLeast while a read is pending throw ERR_PIPE_READ_PENDING', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const first = pipe.reader.read();
    await expectPending(pipe, first);
    expect(thrownBy(() => pipe.reader.tryRead()).code).toBe('ERR_PIPE_READ_PENDING');
    expect(thrownBy(() => pipe.reader.readAtLeast(1)).code).toBe('ERR_PIPE_READ_PENDING');
    await expectPending(pipe, first);
    pipe.writer.complete();
    const result = await within(first);
    expect(result.isCompleted).toBe(true);
  }),

  contractCase('C6c', 'awaiting the same pending read twice yields the same result and breaks nothing', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
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
  }),

  contractCase('C7a', 'a second flush or write while a flush is pending throws ERR_PIPE_FLUSH_PENDING', ['localWriter', 'backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    const first = pipe.writer.flush();
    await expectPending(pipe, first);
    expect(thrownBy(() => pipe.writer.flush()).code).toBe('ERR_PIPE_FLUSH_PENDING');
    expect(thrownBy(() => pipe.writer.write(bytes(1))).code).toBe('ERR_PIPE_FLUSH_PENDING');
    await expectPending(pipe, first);

    // The reader was NOT completed: it reads and its advance releases the first flush.
    const result = await within(pipe.reader.read());
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.length).toBe(65);
    pipe.reader.advanceTo(result.buffer.end);
    expect(await released(pipe, first)).toEqual({ isCanceled: false, isCompleted: false });
  }),

  contractCase('C7b', 'the first flush completes when released and bytes advanced meanwhile are not lost', ['localWriter', 'backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    const first = pipe.writer.flush();
    await expectPending(pipe, first);
    const memory = pipe.writer.getMemory(1);
    memory[0] = 42;
    pipe.writer.advance(1);
    for (let i = 0; i < 3; i++) expect(thrownBy(() => pipe.writer.flush()).code).toBe('ERR_PIPE_FLUSH_PENDING');
    expect(pipe.writer.unflushedBytes).toBe(1);

    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(65);
    pipe.reader.advanceTo(result.buffer.end);
    await released(pipe, first);

    expect(pipe.writer.unflushedBytes).toBe(1);
    await within(pipe.writer.flush());
    const next = await within(pipe.reader.read());
    expect(next.buffer.toUint8Array()).toEqual(bytes(42));
  }),

  contractCase('C9', 'examined before consumed throws ERR_PIPE_ADVANCE_OUT_OF_RANGE', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_LEN);
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    const result = await within(pipe.reader.read());
    expect(() => pipe.reader.advanceTo(result.buffer.end, result.buffer.start)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }));
    expectLength(pipe, 10);
  }),

  contractCase('C10a', 'examined moving backwards throws ERR_PIPE_ADVANCE_OUT_OF_RANGE', ['localReader'], async (impl) => {
    const { pipe, result } = await examinedThenMore(impl);
    expect(() => pipe.reader.advanceTo(result.buffer.start, result.buffer.start)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }));
    expectLength(pipe, 10);
  }),

  contractCase('C10b', 'single-argument advanceTo before the previously examined position throws', ['localReader'], async (impl) => {
    const { pipe, result } = await examinedThenMore(impl);
    expect(() => pipe.reader.advanceTo(result.buffer.start)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }));
    // Examining exactly up to the previous mark (or beyond) is fine.
    expect(() => pipe.reader.advanceTo(result.buffer.start, result.buffer.getPosition(10))).not.toThrow();
    expectLength(pipe, 10);
  }),

  contractCase('C11', 'advancing to a stale position throws; the current result can still be advanced', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(new Uint8Array(100)));
    const old = await within(pipe.reader.read());
    // A position is a value and stays one; the result holding it may be rewritten by the next read.
    const stale = old.buffer.end;
    pipe.reader.advanceTo(stale);

    pipe.reader.cancelPendingRead();
    const result = await within(pipe.reader.read());
    expect(result.isCanceled).toBe(true);
    expect(result.buffer.length).toBe(0);
    expect(() => pipe.reader.advanceTo(stale)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }));
    expect(() => pipe.reader.advanceTo(result.buffer.end)).not.toThrow();
  }),

  contractCase('C11b', 'a position of another pipe is out of range', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const other = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    await within(other.writer.write(bytes(1, 2, 3)));
    const foreign = await within(other.reader.read());
    const result = await within(pipe.reader.read());
    expect(() => pipe.reader.advanceTo(foreign.buffer.end)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }));
    expect(() => pipe.reader.advanceTo(result.buffer.end)).not.toThrow();
  }),

  contractCase('C12a', 'advance past the memory handed out throws RangeError ERR_PIPE_WRITE_BEYOND_MEMORY', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_LEN);
    const memory = pipe.writer.getMemory(1);
    const error = thrownBy(() => pipe.writer.advance(memory.length + 1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_PIPE_WRITE_BEYOND_MEMORY');
    expect(pipe.writer.unflushedBytes).toBe(0);
    expect(() => pipe.writer.advance(memory.length)).not.toThrow();
    expect(pipe.writer.unflushedBytes).toBe(memory.length);
  }),

  contractCase('C12b', 'advance(1) without getMemory throws RangeError ERR_PIPE_WRITE_BEYOND_MEMORY', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_LEN);
    const error = thrownBy(() => pipe.writer.advance(1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_PIPE_WRITE_BEYOND_MEMORY');
  }),

  contractCase('C12c', 'a negative advance throws RangeError ERR_INVALID_ARG_VALUE', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_LEN);
    pipe.writer.getMemory(1);
    const error = thrownBy(() => pipe.writer.advance(-1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(pipe.writer.unflushedBytes).toBe(0);
  }),

  contractCase('C12d', 'advance(0) without getMemory is allowed', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_LEN);
    expect(() => pipe.writer.advance(0)).not.toThrow();
    expect(pipe.writer.unflushedBytes).toBe(0);
  }),

  contractCase('C13a', 'getMemory(-1) throws RangeError ERR_INVALID_ARG_VALUE naming sizeHint', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const error = thrownBy(() => pipe.writer.getMemory(-1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error.argument).toBe('sizeHint');
  }),

  contractCase('C13b', 'readAtLeast(-1) throws RangeError ERR_INVALID_ARG_VALUE naming minimumSize', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const error = thrownBy(() => pipe.reader.readAtLeast(-1));
    expect(error).toBeInstanceOf(RangeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error.argument).toBe('minimumSize');
    // The reader is not left in a reading state.
    expect(pipe.reader.tryRead()).toBeNull();
  }),

  contractCase('C13c', 'non-integer sizes throw ERR_INVALID_ARG_VALUE: getMemory and advance', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    expect(thrownBy(() => pipe.writer.getMemory(1.5)).code).toBe('ERR_INVALID_ARG_VALUE');
    pipe.writer.getMemory(8);
    expect(thrownBy(() => pipe.writer.advance(0.5)).code).toBe('ERR_INVALID_ARG_VALUE');
  }),

  contractCase('C13c', 'non-integer sizes throw ERR_INVALID_ARG_VALUE: readAtLeast', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    expect(thrownBy(() => pipe.reader.readAtLeast(1.5)).code).toBe('ERR_INVALID_ARG_VALUE');
  }),

  contractCase('C15', 'completing the reader in the middle of a read does not throw and ends the read', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(new Uint8Array(10)));
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(10);
    expect(() => pipe.reader.complete()).not.toThrow();
    // The reading state is gone: only the completion is reported from now on.
    expect(() => pipe.reader.advanceTo(result.buffer.end)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
    if (pipe.caps.realWriter) {
      const flush = await within(pipe.writer.write(bytes(1)));
      expect(flush.isCompleted).toBe(true);
    }
  }),
];
