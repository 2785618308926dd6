import { describe, expect, it } from 'vitest';
import { MemoryPool, Pipe, PipeScheduler, SequencePosition } from '../dist/src/index.js';
import { bytes, peek, settledValue, TrackingPool, within, writeEmpty } from './helpers.js';

// Group B: consumed vs examined, read completion rules and pipe.length
// (dotnet-pipelines-behaviors.md, section B). pipe.length = flushed bytes not yet examined.

function testPool(): MemoryPool {
  return new MemoryPool({ maxBufferSize: 4096 });
}

/** F_RW: default thresholds (65536 / 32768), inline schedulers. */
function rwPipe(pool: MemoryPool = testPool()): Pipe {
  return new Pipe({ pool, readerScheduler: PipeScheduler.inline, writerScheduler: PipeScheduler.inline });
}

/** F_LEN: pause 0 / resume 0, inline schedulers, 4096-byte blocks. */
function lenPipe(): Pipe {
  return new Pipe({
    pool: testPool(),
    readerScheduler: PipeScheduler.inline,
    writerScheduler: PipeScheduler.inline,
    pauseWriterThreshold: 0,
    resumeWriterThreshold: 0,
  });
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

/** A TrackingPool that also remembers which blocks came back. */
class RecordingPool extends TrackingPool {
  readonly returned: Uint8Array[] = [];

  override return(block: Uint8Array): void {
    this.returned.push(block);
    super.return(block);
  }
}

describe('B: consumed vs examined, read completion, length', () => {
  it('B1 examining everything makes the next read wait; new data wakes it', async () => {
    const pipe = rwPipe();
    pipe.writer.getMemory(1);
    pipe.writer.advance(100);
    await within(pipe.writer.flush());

    let result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(100);
    pipe.reader.advanceTo(result.buffer.end);

    let read = pipe.reader.read();
    await expectPending(read);

    pipe.writer.getMemory(1);
    pipe.writer.advance(1);
    void pipe.writer.flush();
    // Inline reader scheduler: the flush resolved the pending read before returning.
    expect((await peek(read)).state).toBe('fulfilled');
    result = await read;
    expect(result.buffer.length).toBe(1);
    pipe.reader.advanceTo(result.buffer.end);

    read = pipe.reader.read();
    await expectPending(read);
    pipe.writer.complete();
    expect((await within(read)).isCompleted).toBe(true);
  });

  it('B2 examining less than everything makes the next read return at once with the same data', async () => {
    const pipe = rwPipe();
    const data = Uint8Array.from({ length: 10000 }, (_, i) => i & 0xff);
    await within(pipe.writer.write(data));

    const first = await within(pipe.reader.read());
    expect(first.buffer.length).toBe(10000);
    pipe.reader.advanceTo(first.buffer.start, first.buffer.getPosition(2048));
    expect(pipe.length).toBe(10000 - 2048);

    const read = pipe.reader.read();
    expect((await peek(read)).state).toBe('fulfilled');
    const second = await read;
    expect(second.buffer.length).toBe(10000);
    expect(Buffer.from(second.buffer.toUint8Array()).equals(Buffer.from(data))).toBe(true);
    pipe.reader.advanceTo(second.buffer.end);
  });

  it('B2b examining up to one byte short of the end still does not wait', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3, 4)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.getPosition(1), first.buffer.getPosition(3));
    const second = await settledValue(pipe.reader.read());
    expect(second.buffer.toUint8Array()).toEqual(bytes(2, 3, 4));
  });

  it('B3a once the writer completed, a read after examining everything returns at once', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)));
    pipe.writer.complete();

    let result = await within(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);

    const read = pipe.reader.read();
    expect((await peek(read)).state).toBe('fulfilled');
    result = await read;
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
  });

  it('B3b once the writer completed, readAtLeast(100) returns at once, three times in a row', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)));
    pipe.writer.complete();

    for (let i = 0; i < 3; i++) {
      const read = pipe.reader.readAtLeast(100);
      expect((await peek(read)).state).toBe('fulfilled');
      const result = await read;
      expect(result.isCompleted).toBe(true);
      expect(result.buffer.length).toBe(10);
      pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    }
  });

  it('B4a length counts flushed bytes (writeEmpty then flush)', async () => {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 10);
    expect(pipe.length).toBe(0); // not flushed yet
    await within(pipe.writer.flush());
    expect(pipe.length).toBe(10);
  });

  it('B4b length counts flushed bytes after getMemory(0) first', async () => {
    const pipe = lenPipe();
    pipe.writer.getMemory(0);
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    expect(pipe.length).toBe(10);
  });

  it('B4c length decreases by what was examined', async () => {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    const result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.slice(5).start);
    expect(pipe.length).toBe(5);
  });

  it('B4d length does not change when nothing is examined', async () => {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    const result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start);
    expect(pipe.length).toBe(10);
  });

  it('B4e examining everything without consuming makes length 0', async () => {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    const result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
    expect(pipe.length).toBe(0);
  });

  it('B4f length is based on the previously examined position', async () => {
    const pipe = lenPipe();
    for (let i = 0; i < 5; i++) {
      writeEmpty(pipe.writer, 10);
      await within(pipe.writer.flush());
      expect(pipe.length).toBe(10);
      const result = await within(pipe.reader.read());
      expect(result.buffer.length).toBe(10 * (i + 1)); // nothing consumed so far
      pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
      expect(pipe.length).toBe(0);
    }
  });

  it('B5 byte-by-byte length accounting (N = 4096)', async () => {
    const N = 4096;
    const pipe = lenPipe();
    for (let i = 0; i < N; i++) {
      pipe.writer.getMemory(100);
      pipe.writer.advance(1);
      await settledValue(pipe.writer.flush());
      if (pipe.length !== i + 1) expect(pipe.length).toBe(i + 1);
    }
    expect(pipe.length).toBe(N);
    for (let i = N - 1; i >= 0; i--) {
      const result = await settledValue(pipe.reader.read());
      if (result.buffer.length !== i + 1) expect(result.buffer.length).toBe(i + 1);
      const consumed = result.buffer.slice(1).start;
      pipe.reader.advanceTo(consumed, consumed);
      if (pipe.length !== i) expect(pipe.length).toBe(i);
    }
    expect(pipe.length).toBe(0);
  });

  it('B6a segment reuse does not corrupt the last-examined bookkeeping', async () => {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 4096);
    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());

    let result = await within(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(false);
    const position = result.buffer.slice(result.buffer.start, 4096).end;
    pipe.reader.advanceTo(position);
    expect(pipe.length).toBe(4096);

    writeEmpty(pipe.writer, 4096); // reuses the segment returned above
    await within(pipe.writer.flush());
    result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(8192);
    pipe.reader.advanceTo(result.buffer.start);
    expect(pipe.length).toBe(8192);

    result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    expect(pipe.length).toBe(0);
  });

  it('B6b consumed and examined as different positions at the same offset (end of block 1, start of block 2)', async () => {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());
    const first = await within(pipe.reader.read());
    const endOfFirstBlock = first.buffer.end; // (block 1, 4096)
    pipe.reader.advanceTo(first.buffer.start);

    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());
    let result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(8192);
    const startOfSecondBlock = result.buffer.getPosition(4096);
    expect(result.buffer.getOffset(endOfFirstBlock)).toBe(4096);
    expect(result.buffer.getOffset(startOfSecondBlock)).toBe(4096);
    expect(endOfFirstBlock.equals(startOfSecondBlock)).toBe(false);

    expect(() => pipe.reader.advanceTo(startOfSecondBlock, endOfFirstBlock)).not.toThrow();
    expect(pipe.length).toBe(4096);

    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());
    result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(8192);
    pipe.reader.advanceTo(result.buffer.start);
    expect(pipe.length).toBe(8192);

    result = await within(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    expect(pipe.length).toBe(0);
  });

  it('B6c examined at the second-last block works', async () => {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 4096);
    writeEmpty(pipe.writer, 4096);
    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());

    let result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(12288);
    const endOfFirstBlock = result.buffer.slice(result.buffer.start, 4096).end;
    pipe.reader.advanceTo(endOfFirstBlock, result.buffer.getPosition(8192));
    expect(pipe.length).toBe(4096);

    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());
    result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(12288);
    pipe.reader.advanceTo(result.buffer.end);
    expect(pipe.length).toBe(0);
  });

  async function readTen(): Promise<{ pipe: Pipe; end: SequencePosition; start: SequencePosition }> {
    const pipe = lenPipe();
    writeEmpty(pipe.writer, 10);
    await within(pipe.writer.flush());
    const result = await within(pipe.reader.read());
    return { pipe, start: result.buffer.start, end: result.buffer.end };
  }

  it('B7a advanceTo(none, end) is allowed and ends the read', async () => {
    const { pipe, end } = await readTen();
    expect(() => pipe.reader.advanceTo(SequencePosition.none, end)).not.toThrow();
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }),
    );
  });

  it('B7b advanceTo(start, none) is allowed and ends the read', async () => {
    const { pipe, start } = await readTen();
    expect(() => pipe.reader.advanceTo(start, SequencePosition.none)).not.toThrow();
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }),
    );
    // Nothing was examined: the next read returns the same bytes at once.
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(10);
  });

  it('B7c advanceTo(none, none) is allowed, ends the read and changes nothing', async () => {
    const { pipe } = await readTen();
    expect(() => pipe.reader.advanceTo(SequencePosition.none, SequencePosition.none)).not.toThrow();
    expect(pipe.length).toBe(10);
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }),
    );
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(10);
  });

  it('B8 consuming up to the write head while a write is active keeps the write head', async () => {
    const pool = new RecordingPool(4096);
    const pipe = rwPipe(pool);
    for (let i = 0; i < 2; i++) {
      const memory = pipe.writer.getMemory(1);
      memory.fill(i + 1);
      pipe.writer.advance(memory.length);
    }
    await within(pipe.writer.flush());

    const result = await within(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(false);
    const memory = pipe.writer.getMemory(1); // writing is active now
    expect(() => pipe.reader.advanceTo(result.buffer.getPosition(result.buffer.length))).not.toThrow();
    // The write head's block must not have gone back to the pool.
    expect(pool.returned.some((block) => block.buffer === memory.buffer)).toBe(false);
    expect(pool.currentlyRentedBlocks).toBeGreaterThanOrEqual(1);

    memory.fill(0x5a);
    expect(() => pipe.writer.advance(memory.length)).not.toThrow();
    await within(pipe.writer.flush());
    const next = await within(pipe.reader.read());
    expect(next.buffer.length).toBe(memory.length);
    expect(next.buffer.toUint8Array().every((b) => b === 0x5a)).toBe(true);
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('B9a tryRead on an empty pipe returns null, and advanceTo(none) is allowed afterwards', () => {
    const pipe = rwPipe();
    expect(pipe.reader.tryRead()).toBeNull();
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).not.toThrow();
  });

  it('B9b tryRead after the writer completed returns a completed result', () => {
    const pipe = rwPipe();
    pipe.writer.complete();
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    expect(result!.isCompleted).toBe(true);
    expect(result!.isCanceled).toBe(false);
  });

  it('B9c tryRead after cancelPendingRead returns a canceled result', () => {
    const pipe = rwPipe();
    pipe.reader.cancelPendingRead();
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    expect(result!.isCanceled).toBe(true);
    expect(result!.isCompleted).toBe(false);
  });

  it('B9d tryRead with unexamined data returns it', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    expect(result!.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
    pipe.reader.advanceTo(result!.buffer.start, result!.buffer.getPosition(1));
    // Still unexamined data left: true again, with the same bytes.
    const again = pipe.reader.tryRead();
    expect(again).not.toBeNull();
    expect(again!.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  });

  it('B9e tryRead with everything examined and no new data returns null', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = pipe.reader.tryRead();
    pipe.reader.advanceTo(result!.buffer.start, result!.buffer.end);
    expect(pipe.reader.tryRead()).toBeNull();
    // New data makes it true again, with the unconsumed bytes too.
    await within(pipe.writer.write(bytes(4)));
    const next = pipe.reader.tryRead();
    expect(next).not.toBeNull();
    expect(next!.buffer.toUint8Array()).toEqual(bytes(1, 2, 3, 4));
  });

  it('B10a advancing to the start re-delivers the same bytes at once', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start);
    expect(pipe.length).toBe(3);
    const read = pipe.reader.read();
    expect((await peek(read)).state).toBe('fulfilled');
    expect((await read).buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  });

  it('B10b advancing to the start re-delivers the same bytes plus newly flushed ones', async () => {
    const pipe = rwPipe();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start);
    await within(pipe.writer.write(bytes(4, 5)));
    const second = await settledValue(pipe.reader.read());
    expect(second.buffer.toUint8Array()).toEqual(bytes(1, 2, 3, 4, 5));
    pipe.reader.advanceTo(second.buffer.end);
    expect(pipe.length).toBe(0);
  });
});
