import { expect } from 'vitest';
import type { ReadResult } from '../../dist/src/index.js';
import { ascii, bytes, expectSameBytes, seededRandom } from '../helpers.js';
import { contractCase, expectLength, expectPending, put, ready, released, within, writeEmpty, type ContractCase } from './harness.js';
import { F_PT0, F_RW } from './implementations.js';

// Group A: basic write / flush / read visibility (dotnet-pipelines-behaviors.md, section A).

/** The block a case writes around where the implementation has no pooled segments of its own. */
const kNominalBlock = 4096;

function segments(result: ReadResult): Uint8Array[] {
  return [...result.buffer].map((s) => Uint8Array.from(s));
}

export const visibilityCases: readonly ContractCase[] = [
  contractCase('A1', 'round trip: written and flushed bytes are read back as one segment', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write('Hello World'));
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(11);
    expect(result.buffer.isSingleSegment).toBe(true);
    expect(Uint8Array.from(result.buffer.first)).toEqual(ascii('Hello World'));
    expect(result.isCompleted).toBe(false);
    expect(result.isCanceled).toBe(false);
    expect(() => pipe.reader.advanceTo(result.buffer.end)).not.toThrow();
    await pipe.barrier();
    expectLength(pipe, 0);
  }),

  contractCase('A2', 'unflushed bytes are invisible to the reader', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(0, 0, 0, 10)));
    put(pipe.writer, bytes(0, 0, 0, 9));
    put(pipe.writer, bytes(0, 0, 0, 8));

    let result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(4);
    expect(result.buffer.toUint8Array()).toEqual(bytes(0, 0, 0, 10));
    pipe.reader.advanceTo(result.buffer.start);

    await within(pipe.writer.flush());
    result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(12);
    expect(result.buffer.toUint8Array()).toEqual(bytes(0, 0, 0, 10, 0, 0, 0, 9, 0, 0, 0, 8));
    pipe.reader.advanceTo(result.buffer.end);
  }),

  contractCase('A3', 'unflushed bytes stay invisible when they overflow into a new segment', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    let L = kNominalBlock;
    if (pipe.caps.segments) {
      L = pipe.writer.getMemory().length;
      expect(L).toBe(4096);
    }
    writeEmpty(pipe.writer, L - 5);
    await within(pipe.writer.flush());

    put(pipe.writer, bytes(1, 1, 1, 1));
    put(pipe.writer, bytes(2, 2, 2, 2)); // no longer fits in the first block
    put(pipe.writer, bytes(3, 3, 3, 3));
    expect(pipe.writer.unflushedBytes).toBe(12);

    let result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(L - 5);
    pipe.reader.advanceTo(result.buffer.end);

    await within(pipe.writer.flush());
    result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(12);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    pipe.reader.advanceTo(result.buffer.end);
  }),

  contractCase('A3b', 'unflushed bytes copied from the segments of another pipe stay invisible until flushed', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(0, 0, 0, 10)));
    put(pipe.writer, bytes(0, 0, 0, 9));

    const other = await impl.open(F_RW);
    await within(other.writer.write('Hello'));
    const otherResult = await within(other.reader.read());
    for (const segment of otherResult.buffer) put(pipe.writer, segment);
    other.reader.advanceTo(otherResult.buffer.end);

    let result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(4);
    pipe.reader.advanceTo(result.buffer.start);

    await within(pipe.writer.flush());
    result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(13);
    expect(result.buffer.toUint8Array()).toEqual(Uint8Array.from([0, 0, 0, 10, 0, 0, 0, 9, ...ascii('Hello')]));
  }),

  contractCase('A5', 'partial consume, then read again returns the rest', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write('Hello World'));
    const first = pipe.reader.tryRead();
    expect(first).not.toBeNull();
    expect(first!.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(first!.buffer.getPosition(6));

    const second = await ready(pipe, 'reader', pipe.reader.read()); // the rest is still unexamined: immediate
    expect(second.buffer.toString()).toBe('World');
    pipe.reader.advanceTo(second.buffer.end);
  }),

  contractCase('A6', 'completing the writer commits buffered (unflushed) bytes', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    writeEmpty(pipe.writer, 4);
    pipe.writer.complete();
    await pipe.barrier();
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(4);
    expect(result.isCompleted).toBe(true);
    pipe.reader.advanceTo(result.buffer.end);
  }),

  contractCase('A7a', 'an empty flush does not wake a pending read', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    const read = pipe.reader.read();
    await expectPending(pipe, read);
    await within(pipe.writer.flush());
    await expectPending(pipe, read);

    // Real data does wake it (the pending check above could fail).
    await within(pipe.writer.write(bytes(7)));
    const result = await released(pipe, read);
    expect(result.buffer.toUint8Array()).toEqual(bytes(7));
  }),

  contractCase('A7b', 'an empty flush does not wake a read pending after examining everything', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start, first.buffer.end);

    const read = pipe.reader.read();
    await expectPending(pipe, read);
    await within(pipe.writer.flush());
    await expectPending(pipe, read);

    await within(pipe.writer.write(bytes(4)));
    const result = await released(pipe, read);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3, 4));
  }),

  contractCase('A8a', 'a read with data ready completes synchronously with the value', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.buffer.length).toBe(10);
    expect(result.isCanceled).toBe(false);
    expect(result.isCompleted).toBe(false);
  }),

  contractCase('A8b', 'a flush below the pause threshold completes synchronously', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    writeEmpty(pipe.writer, 10);
    expect(await ready(pipe, 'writer', pipe.writer.flush())).toEqual({ isCanceled: false, isCompleted: false });
  }),

  contractCase('A8c', 'a read after cancelPendingRead completes synchronously as canceled', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.reader.cancelPendingRead();
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.length).toBe(0);
  }),

  contractCase('A8d', 'a flush after cancelPendingFlush completes synchronously as canceled', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.writer.cancelPendingFlush();
    const result = await ready(pipe, 'writer', pipe.writer.flush());
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
  }),

  contractCase('A9a', 'getMemory(0) returns non-empty memory', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    expect(pipe.writer.getMemory(0).length).toBeGreaterThan(0);
  }),

  contractCase('A9b', 'an empty write does not throw and does not wake the reader', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    const read = pipe.reader.read();
    let flush: Promise<unknown> | undefined;
    expect(() => {
      flush = pipe.writer.write(new Uint8Array(0));
    }).not.toThrow();
    await within(flush!);
    await expectPending(pipe, read);
    expectLength(pipe, 0);
    pipe.writer.complete();
    expect((await within(read)).buffer.length).toBe(0);
  }),

  contractCase('A9c', 'getMemory(0), advance(0), flush succeeds', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.writer.getMemory(0);
    pipe.writer.advance(0);
    const result = await within(pipe.writer.flush());
    expect(result).toEqual({ isCanceled: false, isCompleted: false });
    expectLength(pipe, 0);
    expect(pipe.writer.unflushedBytes).toBe(0);
  }),

  contractCase('A10a', 'memory shrinks by what was written into the same segment', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_PT0);
    const L = pipe.writer.getMemory(3).length;
    put(pipe.writer, bytes(1, 2, 3));
    expect(pipe.writer.getMemory().length).toBe(L - 3);
    await within(pipe.writer.flush());
    const result = await within(pipe.reader.read());
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  }),

  contractCase('A10b', 'write() then getMemory() continues in the same segment', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_PT0);
    const L = pipe.writer.getMemory(3).length;
    await within(pipe.writer.write(bytes(1, 2, 3)));
    expect(pipe.writer.getMemory().length).toBe(L - 3);
    const result = await within(pipe.reader.read());
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  }),

  contractCase('A11a', 'multiple writes into a fresh (headless) pipe concatenate', [], async (impl) => {
    const pipe = await impl.open(F_PT0);
    await within(pipe.writer.write(bytes(1)));
    await within(pipe.writer.write(bytes(2)));
    await within(pipe.writer.write(bytes(3)));
    const result = await within(pipe.reader.read());
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  }),

  ...[5, 50, 500, 5000, 50000].map((size) =>
    contractCase('A11c', `a random payload of ${size} bytes round-trips byte-exact`, [], async (impl) => {
      const pipe = await impl.open(F_PT0);
      const random = seededRandom(size);
      const data = new Uint8Array(size);
      for (let i = 0; i < size; i++) data[i] = Math.floor(random() * 256);
      await within(pipe.writer.write(data));
      pipe.writer.complete();
      await pipe.barrier();
      const result = await within(pipe.reader.read());
      expect(result.isCompleted).toBe(true);
      expect(result.buffer.length).toBe(size);
      expectSameBytes(result.buffer.toUint8Array(), data);
      pipe.reader.advanceTo(result.buffer.end);
    }),
  ),

  contractCase('A12', 'getMemory without advance, then complete: the reader sees an empty completed buffer', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_PT0);
    expect(pipe.writer.getMemory(10).length).toBeGreaterThanOrEqual(10);
    pipe.writer.complete();
    const result = await within(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.length).toBe(0);
    expect(result.buffer.isEmpty).toBe(true);
  }),

  contractCase('A13', 'advance followed by write keeps the already advanced bytes first', [], async (impl) => {
    const pipe = await impl.open({ minimumSegmentSize: 1 });
    const first = Uint8Array.from({ length: 14 }, (_, i) => i + 1);
    const second = Uint8Array.from({ length: 12 }, (_, i) => 100 + i);
    const memory = pipe.writer.getMemory(14);
    memory.set(first);
    pipe.writer.advance(14);
    await within(pipe.writer.write(second));
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(26);
    expect(result.buffer.toUint8Array()).toEqual(Uint8Array.from([...first, ...second]));
  }),

  contractCase('A14a', 'unflushedBytes counts advanced bytes and drops to 0 after flush', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_PT0);
    expect(pipe.writer.unflushedBytes).toBe(0);
    put(pipe.writer, new Uint8Array(10).fill(1));
    put(pipe.writer, new Uint8Array(16).fill(2));
    expect(pipe.writer.unflushedBytes).toBe(26);
    expectLength(pipe, 0);
    await within(pipe.writer.flush());
    expect(pipe.writer.unflushedBytes).toBe(0);
    expectLength(pipe, 26);
  }),

  contractCase('A14b', 'unflushedBytes drops to 0 after complete', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_PT0);
    writeEmpty(pipe.writer, 26);
    expect(pipe.writer.unflushedBytes).toBe(26);
    pipe.writer.complete();
    expect(pipe.writer.unflushedBytes).toBe(0);
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(26);
  }),

  contractCase('A14c', 'unflushedBytes counts across segments and stays 0 after write()', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_PT0);
    writeEmpty(pipe.writer, 4000);
    writeEmpty(pipe.writer, 1000); // does not fit in the first 4096-byte block
    expect(pipe.writer.unflushedBytes).toBe(5000);
    await within(pipe.writer.flush());
    expect(pipe.writer.unflushedBytes).toBe(0);
    await within(pipe.writer.write(new Uint8Array(300)));
    expect(pipe.writer.unflushedBytes).toBe(0);
    expectLength(pipe, 5300);
    const result = await within(pipe.reader.read());
    expect(segments(result).reduce((n, s) => n + s.length, 0)).toBe(5300);
  }),
];
