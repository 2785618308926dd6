import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryPool, Pipe, PipeScheduler, type ReadOnlySequence, type SequencePosition } from '../dist/src/index.js';
import { settledValue, TrackingPool, within, writeEmpty } from './helpers.js';

// Group H: segments, segment sizes, memory and segment pooling (dotnet-pipelines-behaviors.md, section H).
// Sizing rule: with a custom pool the pipe rents min(pool.maxBufferSize, max(minimumSegmentSize, sizeHint))
// from it when sizeHint <= pool.maxBufferSize, otherwise max(minimumSegmentSize, sizeHint) from
// MemoryPool.shared. A fully-read idle write head is returned too; an active write keeps its block.

/** F_POOL: a tracking pool renting exactly what is asked (max 4096), inline schedulers, default thresholds. */
function poolPipe(pool: TrackingPool, minimumSegmentSize?: number): Pipe {
  return new Pipe(minimumSegmentSize === undefined ? { pool } : { pool, minimumSegmentSize });
}

/** F_LEN: a 4096-byte pool, pause 0 / resume 0, inline schedulers. */
function lenPipe(): Pipe {
  return new Pipe({ pool: new MemoryPool({ maxBufferSize: 4096 }), pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
}

/** The segment object behind a position (an internal, used only for identity checks). */
function segmentOf(position: SequencePosition): unknown {
  return (position as unknown as { segment: unknown }).segment;
}

/** The segment objects of a sequence made of `count` blocks of `blockSize` bytes each. */
function segmentsOf(buffer: ReadOnlySequence, blockSize: number, count: number): unknown[] {
  const list: unknown[] = [];
  for (let i = 0; i < count; i++) list.push(segmentOf(buffer.getPosition(i * blockSize + 1)));
  return list;
}

function segmentLengths(buffer: ReadOnlySequence): number[] {
  return Array.from(buffer, (segment) => segment.length);
}

function pattern(length: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (i * 7 + 3) & 0xff;
  return data;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('H: segments, sizes and pooling', () => {
  it('H1 the minimum segment size is honored', () => {
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool, 2020);
    const memory = pipe.writer.getMemory(512);
    expect(memory.length).toBe(2020);
    pipe.writer.advance(memory.length);
    expect(pipe.writer.getMemory(1).length).toBe(2020);
    expect(pool.currentlyRentedBlocks).toBe(2);
  });

  it('H2a asking for a bigger block on an unused head swaps the block', () => {
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool, 2048);
    expect(pipe.writer.getMemory(512).length).toBe(2048);
    expect(pipe.writer.getMemory(4096).length).toBe(4096);
    pipe.writer.complete();
    pipe.reader.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);
    expect(pool.disposedBlocks).toBe(2);
  });

  it('H2b the reader never sees an empty leading segment after a swap', async () => {
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool, 2048);
    pipe.writer.getMemory(512);
    const memory = pipe.writer.getMemory(4096);
    expect(pool.currentlyRentedBlocks).toBe(1);
    expect(pool.disposedBlocks).toBe(1);
    memory.set(pattern(100));
    pipe.writer.advance(100);
    await pipe.writer.flush();
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(true);
    expect(segmentLengths(result.buffer)).toEqual([100]);
    expect(result.buffer.toUint8Array()).toEqual(pattern(100));
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('H3 advanceTo(end) returns every block, the write head included, when no write is active', async () => {
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool);
    let writes = 0;
    while (pool.currentlyRentedBlocks < 3) {
      writeEmpty(pipe.writer, 512);
      await pipe.writer.flush();
      writes++;
    }
    expect(writes).toBe(17);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(17 * 512);
    pipe.reader.advanceTo(result.buffer.end);
    expect(pool.currentlyRentedBlocks).toBe(0);
    expect(pool.disposedBlocks).toBe(3);
  });

  it('H4a a write begun before advanceTo(end) keeps its block', async () => {
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool);
    while (pool.currentlyRentedBlocks < 3) {
      writeEmpty(pipe.writer, 512);
      await pipe.writer.flush();
    }
    const result = await settledValue(pipe.reader.read());
    writeEmpty(pipe.writer, 512);
    pipe.reader.advanceTo(result.buffer.end);
    await pipe.writer.flush();
    expect(pool.currentlyRentedBlocks).toBe(1);
    expect(pool.disposedBlocks).toBe(2);
    const next = await settledValue(pipe.reader.read());
    expect(next.buffer.length).toBe(512);
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('H4b a getMemory during the read keeps the block it came from', async () => {
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool);
    await pipe.writer.write(new Uint8Array(512));
    const memory = pipe.writer.getMemory(512);
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    expect(pool.currentlyRentedBlocks).toBe(1);
    memory.set(pattern(512));
    pipe.writer.advance(512);
    await pipe.writer.flush();
    expect(pool.currentlyRentedBlocks).toBe(1);
    expect(pool.disposedBlocks).toBe(0);
    const next = await settledValue(pipe.reader.read());
    expect(next.buffer.toUint8Array()).toEqual(pattern(512));
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('H5 writing after several blocks were returned', async () => {
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool);
    const first = pipe.writer.getMemory(512);
    expect(first.length).toBe(4096);
    pipe.writer.advance(first.length);
    pipe.writer.getMemory(first.length);
    pipe.writer.advance(512);
    await pipe.writer.flush();
    expect(pool.currentlyRentedBlocks).toBe(2);

    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(4096 + 512);
    pipe.reader.advanceTo(result.buffer.end);

    await pipe.writer.write(pattern(512));
    expect(pool.currentlyRentedBlocks).toBe(1);
    expect(pool.disposedBlocks).toBe(2);
    const next = await settledValue(pipe.reader.read());
    expect(next.buffer.toUint8Array()).toEqual(pattern(512));
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('H6a the default pipe rents from MemoryPool.shared', async () => {
    const rent = vi.spyOn(MemoryPool.shared, 'rent');
    const giveBack = vi.spyOn(MemoryPool.shared, 'return');
    const pipe = new Pipe();
    const memory = pipe.writer.getMemory(10);
    expect(rent).toHaveBeenCalledTimes(1);
    expect(rent).toHaveBeenCalledWith(4096);
    const block = rent.mock.results[0]!.value as Uint8Array;
    expect(memory.buffer).toBe(block.buffer);
    expect(memory.length).toBeGreaterThanOrEqual(4096);
    memory.fill(0, 0, 10);
    pipe.writer.advance(10);
    await pipe.writer.flush();
    pipe.writer.complete();
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(true);
    expect(result.buffer.length).toBe(10);
    expect(result.buffer.first.buffer).toBe(block.buffer);
    pipe.reader.advanceTo(result.buffer.end);
    pipe.reader.complete();
    expect(rent).toHaveBeenCalledTimes(1);
    expect(giveBack).toHaveBeenCalledTimes(1);
    expect(giveBack).toHaveBeenCalledWith(block);
  });

  it('H6b a request over the custom pool maximum is served by MemoryPool.shared', async () => {
    const rent = vi.spyOn(MemoryPool.shared, 'rent');
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool);
    const memory = pipe.writer.getMemory(5 * 1024);
    expect(memory.length).toBeGreaterThanOrEqual(5 * 1024);
    expect(rent).toHaveBeenCalledTimes(1);
    expect(rent).toHaveBeenCalledWith(5 * 1024);
    pipe.writer.advance(5 * 1024);
    await pipe.writer.flush();
    expect(pool.currentlyRentedBlocks).toBe(0);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(true);
    expect(result.buffer.length).toBe(5 * 1024);
    pipe.reader.advanceTo(result.buffer.end);
    pipe.reader.complete();
    pipe.writer.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);
    expect(pool.disposedBlocks).toBe(0);
  });

  it('H6c a request of exactly the custom pool maximum is served by the custom pool', async () => {
    const rent = vi.spyOn(MemoryPool.shared, 'rent');
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool);
    const memory = pipe.writer.getMemory(4096);
    expect(memory.length).toBe(4096);
    pipe.writer.advance(4096);
    await pipe.writer.flush();
    expect(rent).not.toHaveBeenCalled();
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(true);
    expect(pool.currentlyRentedBlocks).toBe(1);
    pipe.reader.advanceTo(result.buffer.end);
    pipe.reader.complete();
    pipe.writer.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);
    expect(pool.disposedBlocks).toBe(1);
  });

  it('H6d a small request with a custom pool rents max(minimumSegmentSize, sizeHint) capped at the pool maximum', () => {
    const pool = new TrackingPool(4096);
    const rent = vi.spyOn(pool, 'rent');
    const pipe = new Pipe({ pool, minimumSegmentSize: 100 });
    expect(pipe.writer.getMemory(10).length).toBe(100);
    expect(rent).toHaveBeenLastCalledWith(100);
    pipe.writer.advance(100);
    expect(pipe.writer.getMemory(3000).length).toBe(3000);
    expect(rent).toHaveBeenLastCalledWith(3000);
    pipe.writer.complete();
    pipe.reader.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);

    const capped = new TrackingPool(4096);
    const big = new Pipe({ pool: capped, minimumSegmentSize: 10_000 });
    expect(big.writer.getMemory(1).length).toBe(4096);
    expect(capped.currentlyRentedBlocks).toBe(1);
  });

  it('H7 write spreads a large buffer over minimum-sized segments', async () => {
    const pool = new TrackingPool(4096);
    const pipe = poolPipe(pool, 4096);
    const data = pattern(8193);
    await pipe.writer.write(data);
    pipe.writer.complete();
    expect(pool.currentlyRentedBlocks).toBe(3);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(8193);
    expect(segmentLengths(result.buffer)).toEqual([4096, 4096, 1]);
    expect(result.buffer.toUint8Array()).toEqual(data);
    pipe.reader.advanceTo(result.buffer.end);
    pipe.reader.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);
    expect(pool.disposedBlocks).toBe(3);
  });

  it('H8 segment objects are reused', async () => {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 4096);
    await pipe.writer.flush();
    const first = await settledValue(pipe.reader.read());
    const segment = segmentOf(first.buffer.end);
    expect(segment).not.toBeNull();
    pipe.reader.advanceTo(first.buffer.end);
    expect(pipe.length).toBe(0);

    writeEmpty(pipe.writer, 4096);
    await pipe.writer.flush();
    const second = await settledValue(pipe.reader.read());
    expect(segmentOf(second.buffer.end)).toBe(segment);
    pipe.reader.advanceTo(second.buffer.end);
  });

  it('H9 the segment pool is a LIFO bounded to 256 segments', async () => {
    const blockCount = 257;
    const pipe = lenPipe();
    for (let i = 0; i < blockCount; i++) writeEmpty(pipe.writer, 4096);
    await pipe.writer.flush();
    const first = await settledValue(pipe.reader.read());
    expect(segmentLengths(first.buffer)).toHaveLength(blockCount);
    const oldSegments = segmentsOf(first.buffer, 4096, blockCount);
    expect(new Set(oldSegments).size).toBe(blockCount);
    pipe.reader.advanceTo(first.buffer.end);

    for (let i = 0; i < blockCount; i++) writeEmpty(pipe.writer, 4096);
    await pipe.writer.flush();
    const second = await settledValue(pipe.reader.read());
    expect(segmentLengths(second.buffer)).toHaveLength(blockCount);
    const newSegments = segmentsOf(second.buffer, 4096, blockCount);
    pipe.reader.advanceTo(second.buffer.end);

    for (let i = 0; i < 256; i++) expect(newSegments[255 - i]).toBe(oldSegments[i]);
    expect(newSegments).not.toContain(oldSegments[256]);
  });

  it('H10 one-byte segments through getMemory()', async () => {
    const pool = new TrackingPool(4096);
    const pipe = new Pipe({ pool, minimumSegmentSize: 1 });
    const alphabet = Array.from({ length: 26 }, (_, i) => 0x61 + i);
    for (const letter of alphabet) {
      const memory = pipe.writer.getMemory();
      expect(memory.length).toBe(1);
      memory[0] = letter;
      pipe.writer.advance(1);
    }
    expect(pipe.writer.unflushedBytes).toBe(26);
    expect(pool.currentlyRentedBlocks).toBe(26);
    await pipe.writer.flush();
    pipe.writer.complete();
    const result = await settledValue(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.toString()).toBe('abcdefghijklmnopqrstuvwxyz');
    expect(segmentLengths(result.buffer)).toEqual(new Array(26).fill(1));
    expect(pipe.writer.unflushedBytes).toBe(0);
    pipe.reader.advanceTo(result.buffer.end);
    pipe.reader.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);
  });

  it('H11a data past the default 4096-byte segment boundary makes a multi-segment buffer', async () => {
    const pipe = new Pipe();
    writeEmpty(pipe.writer, 4096);
    await pipe.writer.flush();
    const exact = await settledValue(pipe.reader.read());
    expect(exact.buffer.isSingleSegment).toBe(true);
    pipe.reader.advanceTo(exact.buffer.start, exact.buffer.end);

    writeEmpty(pipe.writer, 1);
    await pipe.writer.flush();
    const more = await settledValue(pipe.reader.read());
    expect(more.buffer.length).toBe(4097);
    expect(more.buffer.isSingleSegment).toBe(false);
    expect(segmentLengths(more.buffer)).toEqual([4096, 1]);
    pipe.reader.advanceTo(more.buffer.end);
  });

  it('H11b "Hello Pipelines World" is multi-segment with minimumSegmentSize 5, single with the default', async () => {
    for (const minimumSegmentSize of [5, undefined]) {
      const pipe = new Pipe({
        readerScheduler: PipeScheduler.inline,
        writerScheduler: PipeScheduler.immediate,
        ...(minimumSegmentSize === undefined ? {} : { minimumSegmentSize }),
      });
      await pipe.writer.write('Hello Pipelines World');
      const result = await within(pipe.reader.readAtLeast(20));
      expect(result.buffer.length).toBe(21);
      expect(result.buffer.toString()).toBe('Hello Pipelines World');
      expect(result.buffer.isSingleSegment).toBe(minimumSegmentSize === undefined);
      pipe.reader.advanceTo(result.buffer.end);
    }
  });

  it('H12 an empty write head after a full segment that swaps its block for a bigger one keeps its place: lengths and bytes stay right', async () => {
    const pipe = new Pipe({ pauseWriterThreshold: 0 });
    await pipe.writer.write(new Uint8Array(4096).fill(1));
    // The first segment is full: getMemory links an empty head; a bigger hint swaps that head's block.
    pipe.writer.getMemory(10);
    const memory = pipe.writer.getMemory(10_000);
    memory.fill(2, 0, 10_000);
    pipe.writer.advance(10_000);
    await pipe.writer.flush();
    const result = await within(pipe.reader.read());
    expect(segmentLengths(result.buffer)).toEqual([4096, 10_000]);
    expect(result.buffer.length).toBe(14_096);
    expect(result.buffer.getOffset(result.buffer.end)).toBe(14_096);
    const at = result.buffer.getPosition(4100);
    expect(result.buffer.slice(at).length).toBe(9996);
    pipe.reader.advanceTo(at);
    expect(pipe.length).toBe(9996);
    const rest = await within(pipe.reader.read());
    expect(rest.buffer.length).toBe(9996);
    expect(rest.buffer.toUint8Array().every((b) => b === 2)).toBe(true);
    pipe.reader.advanceTo(rest.buffer.end);
    expect(pipe.length).toBe(0);
  });
});
