import { expect } from 'vitest';
import { SequencePosition } from '../../dist/src/index.js';
import { bytes } from '../helpers.js';
import { contractCase, expectLength, expectPending, ready, readyAtLeast, released, within, writeEmpty, type ContractCase, type ContractPipe } from './harness.js';
import { F_LEN, F_RW, type Implementation } from './implementations.js';

// Group B: consumed vs examined, read completion rules and length (dotnet-pipelines-behaviors.md,
// section B). length = flushed bytes not yet examined, checked where the implementation shows it.

async function readTen(impl: Implementation): Promise<{ pipe: ContractPipe; end: SequencePosition; start: SequencePosition }> {
  const pipe = await impl.open(F_LEN);
  writeEmpty(pipe.writer, 10);
  await within(pipe.writer.flush());
  const result = await within(pipe.reader.read());
  return { pipe, start: result.buffer.start, end: result.buffer.end };
}

async function lenPipeWithTen(impl: Implementation): Promise<ContractPipe> {
  const pipe = await impl.open(F_LEN);
  writeEmpty(pipe.writer, 10);
  await within(pipe.writer.flush());
  return pipe;
}

export const consumedExaminedCases: readonly ContractCase[] = [
  contractCase('B1', 'examining everything makes the next read wait; new data wakes it', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.writer.getMemory(100);
    pipe.writer.advance(100);
    await within(pipe.writer.flush());

    let result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(100);
    pipe.reader.advanceTo(result.buffer.end);

    let read = pipe.reader.read();
    await expectPending(pipe, read);

    pipe.writer.getMemory(1);
    pipe.writer.advance(1);
    void pipe.writer.flush();
    // Inline reader scheduler: the flush resolved the pending read before returning.
    result = await released(pipe, read);
    expect(result.buffer.length).toBe(1);
    pipe.reader.advanceTo(result.buffer.end);

    read = pipe.reader.read();
    await expectPending(pipe, read);
    pipe.writer.complete();
    expect((await within(read)).isCompleted).toBe(true);
  }),

  contractCase('B2', 'examining less than everything makes the next read return at once with the same data', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    const data = Uint8Array.from({ length: 10000 }, (_, i) => i & 0xff);
    await within(pipe.writer.write(data));

    const first = await within(pipe.reader.read());
    expect(first.buffer.length).toBe(10000);
    pipe.reader.advanceTo(first.buffer.start, first.buffer.getPosition(2048));
    expectLength(pipe, 10000 - 2048);

    const second = await ready(pipe, 'reader', pipe.reader.read());
    expect(second.buffer.length).toBe(10000);
    expect(Buffer.from(second.buffer.toUint8Array()).equals(Buffer.from(data))).toBe(true);
    pipe.reader.advanceTo(second.buffer.end);
  }),

  contractCase('B2b', 'examining up to one byte short of the end still does not wait', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3, 4)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.getPosition(1), first.buffer.getPosition(3));
    const second = await ready(pipe, 'reader', pipe.reader.read());
    expect(second.buffer.toUint8Array()).toEqual(bytes(2, 3, 4));
  }),

  contractCase('B3a', 'once the writer completed, a read after examining everything returns at once', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)));
    pipe.writer.complete();
    await pipe.barrier();

    let result = await within(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);

    result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
  }),

  contractCase('B3b', 'once the writer completed, readAtLeast(100) returns at once, three times in a row', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)));
    pipe.writer.complete();
    await pipe.barrier();

    for (let i = 0; i < 3; i++) {
      const result = await readyAtLeast(pipe, pipe.reader.readAtLeast(100));
      expect(result.isCompleted).toBe(true);
      expect(result.buffer.length).toBe(10);
      pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    }
  }),

  contractCase('B4a', 'length counts flushed bytes (writeEmpty then flush)', ['length'], async (impl) => {
    const pipe = await impl.open(F_LEN);
    writeEmpty(pipe.writer, 10);
    expect(pipe.length).toBe(0); // not flushed yet
    await within(pipe.writer.flush());
    expect(pipe.length).toBe(10);
  }),

  contractCase('B4b', 'length counts flushed bytes after getMemory(0) first', ['length'], async (impl) => {
    const pipe = await impl.open(F_LEN);
    pipe.writer.getMemory(0);
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    expect(pipe.length).toBe(10);
  }),

  contractCase('B4c', 'length decreases by what was examined', ['length'], async (impl) => {
    const pipe = await lenPipeWithTen(impl);
    const result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.slice(5).start);
    expect(pipe.length).toBe(5);
  }),

  contractCase('B4d', 'length does not change when nothing is examined', ['length'], async (impl) => {
    const pipe = await lenPipeWithTen(impl);
    const result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start);
    expect(pipe.length).toBe(10);
  }),

  contractCase('B4e', 'examining everything without consuming makes length 0', ['length'], async (impl) => {
    const pipe = await lenPipeWithTen(impl);
    const result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    expect(pipe.length).toBe(0);
  }),

  contractCase('B4f', 'length is based on the previously examined position', [], async (impl) => {
    const pipe = await impl.open(F_LEN);
    for (let i = 0; i < 5; i++) {
      writeEmpty(pipe.writer, 10);
      await within(pipe.writer.flush());
      expectLength(pipe, 10);
      const result = await within(pipe.reader.read());
      expect(result.buffer.length).toBe(10 * (i + 1)); // nothing consumed so far
      pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
      expectLength(pipe, 0);
    }
  }),

  contractCase('B5', 'byte-by-byte length accounting (N = 4096)', [], async (impl) => {
    const N = 4096;
    const pipe = await impl.open(F_LEN);
    for (let i = 0; i < N; i++) {
      pipe.writer.getMemory(100);
      pipe.writer.advance(1);
      await ready(pipe, 'writer', pipe.writer.flush());
      if (pipe.caps.length && pipe.length !== i + 1) expect(pipe.length).toBe(i + 1);
    }
    expectLength(pipe, N);
    for (let i = N - 1; i >= 0; i--) {
      const result = await ready(pipe, 'reader', pipe.reader.read());
      if (result.buffer.length !== i + 1) expect(result.buffer.length).toBe(i + 1);
      const consumed = result.buffer.slice(1).start;
      pipe.reader.advanceTo(consumed, consumed);
      if (pipe.caps.length && pipe.length !== i) expect(pipe.length).toBe(i);
    }
    expectLength(pipe, 0);
  }, 30_000),

  contractCase('B7a', 'advanceTo(none, end) is allowed and ends the read', ['localReader'], async (impl) => {
    const { pipe, end } = await readTen(impl);
    expect(() => pipe.reader.advanceTo(SequencePosition.none, end)).not.toThrow();
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }));
  }),

  contractCase('B7b', 'advanceTo(start, none) is allowed and ends the read', ['localReader'], async (impl) => {
    const { pipe, start } = await readTen(impl);
    expect(() => pipe.reader.advanceTo(start, SequencePosition.none)).not.toThrow();
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }));
    // Nothing was examined: the next read returns the same bytes at once.
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.buffer.length).toBe(10);
  }),

  contractCase('B7c', 'advanceTo(none, none) is allowed, ends the read and changes nothing', ['localReader'], async (impl) => {
    const { pipe } = await readTen(impl);
    expect(() => pipe.reader.advanceTo(SequencePosition.none, SequencePosition.none)).not.toThrow();
    expectLength(pipe, 10);
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }));
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.buffer.length).toBe(10);
  }),

  contractCase('B9a', 'tryRead on an empty pipe returns null, and advanceTo(none) is allowed afterwards', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    expect(pipe.reader.tryRead()).toBeNull();
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).not.toThrow();
  }),

  contractCase('B9b', 'tryRead after the writer completed returns a completed result', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.writer.complete();
    await pipe.barrier();
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    expect(result!.isCompleted).toBe(true);
    expect(result!.isCanceled).toBe(false);
  }),

  contractCase('B9c', 'tryRead after cancelPendingRead returns a canceled result', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.reader.cancelPendingRead();
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    expect(result!.isCanceled).toBe(true);
    expect(result!.isCompleted).toBe(false);
  }),

  contractCase('B9d', 'tryRead with unexamined data returns it', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    expect(result!.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
    pipe.reader.advanceTo(result!.buffer.start, result!.buffer.getPosition(1));
    // Still unexamined data left: true again, with the same bytes.
    const again = pipe.reader.tryRead();
    expect(again).not.toBeNull();
    expect(again!.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  }),

  contractCase('B9e', 'tryRead with everything examined and no new data returns null', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = pipe.reader.tryRead();
    pipe.reader.advanceTo(result!.buffer.start, result!.buffer.end);
    expect(pipe.reader.tryRead()).toBeNull();
    // New data makes it true again, with the unconsumed bytes too.
    await within(pipe.writer.write(bytes(4)));
    const next = pipe.reader.tryRead();
    expect(next).not.toBeNull();
    expect(next!.buffer.toUint8Array()).toEqual(bytes(1, 2, 3, 4));
  }),

  contractCase('B10a', 'advancing to the start re-delivers the same bytes at once', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start);
    expectLength(pipe, 3);
    const again = await ready(pipe, 'reader', pipe.reader.read());
    expect(again.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  }),

  contractCase('B10b', 'advancing to the start re-delivers the same bytes plus newly flushed ones', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start);
    await pipe.barrier();
    await within(pipe.writer.write(bytes(4, 5)));
    const second = await ready(pipe, 'reader', pipe.reader.read());
    expect(second.buffer.toUint8Array()).toEqual(bytes(1, 2, 3, 4, 5));
    pipe.reader.advanceTo(second.buffer.end);
    expectLength(pipe, 0);
  }),
];
