import { describe, expect, it } from 'vitest';
import { MemoryPool, Pipe, PipeScheduler, type PipeWriter, type ReadResult } from '../dist/src/index.js';
import { ascii, bytes, peek, seededRandom, settledValue, within, writeEmpty } from './helpers.js';

// Group A: basic write / flush / read visibility (dotnet-pipelines-behaviors.md, section A).

/** .NET's TestMemoryPool: blocks of at most 4096 bytes. */
function testPool(): MemoryPool {
  return new MemoryPool({ maxBufferSize: 4096 });
}

/** F_RW: default thresholds (65536 / 32768), inline schedulers. */
function rwPipe(): Pipe {
  return new Pipe({ pool: testPool(), readerScheduler: PipeScheduler.inline, writerScheduler: PipeScheduler.inline });
}

/** F_PT0: pause 0 / resume 0 (no backpressure), inline schedulers. */
function pt0Pipe(): Pipe {
  return new Pipe({
    pool: testPool(),
    readerScheduler: PipeScheduler.inline,
    writerScheduler: PipeScheduler.inline,
    pauseWriterThreshold: 0,
    resumeWriterThreshold: 0,
  });
}

/** IBufferWriter.Write: copy through getMemory/advance, no flush. */
function put(writer: PipeWriter, data: Uint8Array): void {
  const memory = writer.getMemory(data.length);
  memory.set(data);
  writer.advance(data.length);
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

function segments(result: ReadResult): Uint8Array[] {
  return [...result.buffer].map((s) => Uint8Array.from(s));
}

describe('A: write / flush / read visibility', () => {
  it('A1 round trip: written and flushed bytes are read back as one segment', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write('Hello World'));
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(11);
    expect(result.buffer.isSingleSegment).toBe(true);
    expect(Uint8Array.from(result.buffer.first)).toEqual(ascii('Hello World'));
    expect(result.isCompleted).toBe(false);
    expect(result.isCanceled).toBe(false);
    expect(() => pipe.reader.advanceTo(result.buffer.end)).not.toThrow();
    expect(pipe.length).toBe(0);
  });

  it('A2 unflushed bytes are invisible to the reader', async () => {
    const pipe = rwPipe();
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
  });

  it('A3 unflushed bytes stay invisible when they overflow into a new segment', async () => {
    const pipe = rwPipe();
    const L = pipe.writer.getMemory().length;
    expect(L).toBe(4096);
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
  });

  it('A3b unflushed bytes copied from the segments of another pipe stay invisible until flushed', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(0, 0, 0, 10)));
    put(pipe.writer, bytes(0, 0, 0, 9));

    const other = rwPipe();
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
  });

  it('A4 data spanning two segments is iterated as two memories', async () => {
    const pipe = rwPipe();
    const blockSize = pipe.writer.getMemory().length;
    const payload = new Uint8Array(blockSize - 5 + 11);
    payload.fill('a'.charCodeAt(0), 0, blockSize - 5);
    payload.set(ascii('Hello World'), blockSize - 5);
    await within(pipe.writer.write(payload));

    const result = await within(pipe.reader.read());
    const buffer = result.buffer;
    expect(buffer.length).toBe(blockSize + 6);
    expect(buffer.isSingleSegment).toBe(false);
    const tail = buffer.slice(blockSize - 5);
    expect(tail.isSingleSegment).toBe(false);
    const parts = [...tail].map((s) => new TextDecoder().decode(s));
    expect(parts).toEqual(['Hello', ' World']);
    expect(() => pipe.reader.advanceTo(buffer.start, buffer.start)).not.toThrow();
  });

  it('A5 partial consume, then read again returns the rest', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write('Hello World'));
    const first = pipe.reader.tryRead();
    expect(first).not.toBeNull();
    expect(first!.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(first!.buffer.getPosition(6));

    const pending = pipe.reader.read();
    const second = await settledValue(pending); // the rest is still unexamined: immediate
    expect(second.buffer.toString()).toBe('World');
    pipe.reader.advanceTo(second.buffer.end);
  });

  it('A6 completing the writer commits buffered (unflushed) bytes', async () => {
    const pipe = rwPipe();
    writeEmpty(pipe.writer, 4);
    pipe.writer.complete();
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(4);
    expect(result.isCompleted).toBe(true);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('A7a an empty flush does not wake a pending read', async () => {
    const pipe = rwPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    await within(pipe.writer.flush());
    await expectPending(read);

    // Real data does wake it (the pending check above could fail).
    await within(pipe.writer.write(bytes(7)));
    const result = await settledValue(read);
    expect(result.buffer.toUint8Array()).toEqual(bytes(7));
  });

  it('A7b an empty flush does not wake a read pending after examining everything', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start, first.buffer.end);

    const read = pipe.reader.read();
    await expectPending(read);
    await within(pipe.writer.flush());
    await expectPending(read);

    await within(pipe.writer.write(bytes(4)));
    const result = await settledValue(read);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3, 4));
  });

  it('A8a a read with data ready completes synchronously with the value', async () => {
    const pipe = rwPipe();
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    const read = pipe.reader.read();
    const peeked = await peek(read);
    expect(peeked.state).toBe('fulfilled');
    const result = await read;
    expect(result.buffer.length).toBe(10);
    expect(result.isCanceled).toBe(false);
    expect(result.isCompleted).toBe(false);
  });

  it('A8b a flush below the pause threshold completes synchronously', async () => {
    const pipe = rwPipe();
    writeEmpty(pipe.writer, 10);
    const flush = pipe.writer.flush();
    const peeked = await peek(flush);
    expect(peeked.state).toBe('fulfilled');
    expect(await flush).toEqual({ isCanceled: false, isCompleted: false });
  });

  it('A8c a read after cancelPendingRead completes synchronously as canceled', async () => {
    const pipe = rwPipe();
    pipe.reader.cancelPendingRead();
    const read = pipe.reader.read();
    expect((await peek(read)).state).toBe('fulfilled');
    const result = await read;
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.length).toBe(0);
  });

  it('A8d a flush after cancelPendingFlush completes synchronously as canceled', async () => {
    const pipe = rwPipe();
    pipe.writer.cancelPendingFlush();
    const flush = pipe.writer.flush();
    expect((await peek(flush)).state).toBe('fulfilled');
    const result = await flush;
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
  });

  it('A9a getMemory(0) returns non-empty memory', () => {
    const pipe = rwPipe();
    expect(pipe.writer.getMemory(0).length).toBeGreaterThan(0);
    expect(new Pipe().writer.getMemory(0).length).toBeGreaterThan(0);
  });

  it('A9b an empty write does not throw and does not wake the reader', async () => {
    const pipe = rwPipe();
    const read = pipe.reader.read();
    let flush: Promise<unknown> | undefined;
    expect(() => {
      flush = pipe.writer.write(new Uint8Array(0));
    }).not.toThrow();
    await within(flush!);
    await expectPending(read);
    expect(pipe.length).toBe(0);
    pipe.writer.complete();
    expect((await within(read)).buffer.length).toBe(0);
  });

  it('A9c getMemory(0), advance(0), flush succeeds', async () => {
    const pipe = rwPipe();
    pipe.writer.getMemory(0);
    pipe.writer.advance(0);
    const result = await within(pipe.writer.flush());
    expect(result).toEqual({ isCanceled: false, isCompleted: false });
    expect(pipe.length).toBe(0);
    expect(pipe.writer.unflushedBytes).toBe(0);
  });

  it('A10a memory shrinks by what was written into the same segment', async () => {
    const pipe = pt0Pipe();
    const L = pipe.writer.getMemory(3).length;
    put(pipe.writer, bytes(1, 2, 3));
    expect(pipe.writer.getMemory().length).toBe(L - 3);
    await within(pipe.writer.flush());
    const result = await within(pipe.reader.read());
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  });

  it('A10b write() then getMemory() continues in the same segment', async () => {
    const pipe = pt0Pipe();
    const L = pipe.writer.getMemory(3).length;
    await within(pipe.writer.write(bytes(1, 2, 3)));
    expect(pipe.writer.getMemory().length).toBe(L - 3);
    const result = await within(pipe.reader.read());
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  });

  it('A11a multiple writes into a fresh (headless) pipe concatenate', async () => {
    const pipe = pt0Pipe();
    await within(pipe.writer.write(bytes(1)));
    await within(pipe.writer.write(bytes(2)));
    await within(pipe.writer.write(bytes(3)));
    const result = await within(pipe.reader.read());
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  });

  it('A11b a write of three block lengths round-trips', async () => {
    const pipe = pt0Pipe();
    const blockLength = pipe.writer.getMemory().length;
    const data = new Uint8Array(blockLength * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    await within(pipe.writer.write(data));
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(data.length);
    expect(result.buffer.isSingleSegment).toBe(false);
    expect(Buffer.from(result.buffer.toUint8Array()).equals(Buffer.from(data))).toBe(true);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it.each([5, 50, 500, 5000, 50000])('A11c a random payload of %i bytes round-trips byte-exact', async (size) => {
    const pipe = pt0Pipe();
    const random = seededRandom(size);
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = Math.floor(random() * 256);
    await within(pipe.writer.write(data));
    pipe.writer.complete();
    const result = await within(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.length).toBe(size);
    expect(Buffer.from(result.buffer.toUint8Array()).equals(Buffer.from(data))).toBe(true);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('A12 getMemory without advance, then complete: the reader sees an empty completed buffer', async () => {
    const pipe = pt0Pipe();
    expect(pipe.writer.getMemory(10).length).toBeGreaterThanOrEqual(10);
    pipe.writer.complete();
    const result = await within(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.length).toBe(0);
    expect(result.buffer.isEmpty).toBe(true);
  });

  it('A13 advance followed by write keeps the already advanced bytes first', async () => {
    const pipe = new Pipe({ minimumSegmentSize: 1 });
    const first = Uint8Array.from({ length: 14 }, (_, i) => i + 1);
    const second = Uint8Array.from({ length: 12 }, (_, i) => 100 + i);
    const memory = pipe.writer.getMemory(14);
    memory.set(first);
    pipe.writer.advance(14);
    await within(pipe.writer.write(second));
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(26);
    expect(result.buffer.toUint8Array()).toEqual(Uint8Array.from([...first, ...second]));
  });

  it('A14a unflushedBytes counts advanced bytes and drops to 0 after flush', async () => {
    const pipe = pt0Pipe();
    expect(pipe.writer.unflushedBytes).toBe(0);
    put(pipe.writer, new Uint8Array(10).fill(1));
    put(pipe.writer, new Uint8Array(16).fill(2));
    expect(pipe.writer.unflushedBytes).toBe(26);
    expect(pipe.length).toBe(0);
    await within(pipe.writer.flush());
    expect(pipe.writer.unflushedBytes).toBe(0);
    expect(pipe.length).toBe(26);
  });

  it('A14b unflushedBytes drops to 0 after complete', async () => {
    const pipe = pt0Pipe();
    writeEmpty(pipe.writer, 26);
    expect(pipe.writer.unflushedBytes).toBe(26);
    pipe.writer.complete();
    expect(pipe.writer.unflushedBytes).toBe(0);
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(26);
  });

  it('A14c unflushedBytes counts across segments and stays 0 after write()', async () => {
    const pipe = pt0Pipe();
    writeEmpty(pipe.writer, 4000);
    writeEmpty(pipe.writer, 1000); // does not fit in the first 4096-byte block
    expect(pipe.writer.unflushedBytes).toBe(5000);
    await within(pipe.writer.flush());
    expect(pipe.writer.unflushedBytes).toBe(0);
    await within(pipe.writer.write(new Uint8Array(300)));
    expect(pipe.writer.unflushedBytes).toBe(0);
    expect(pipe.length).toBe(5300);
    const result = await within(pipe.reader.read());
    expect(segments(result).reduce((n, s) => n + s.length, 0)).toBe(5300);
  });
});
