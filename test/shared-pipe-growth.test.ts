import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { pendingOperations, readLines, SharedPipe } from '../dist/src/index.js';
import { seededRandom } from '../dist/test/fixtures/random.js';
import { concatBytes as bytesOf, within } from './helpers.js';

// A ring that starts small and grows (SharedPipeOptions.maxCapacity): what it accepts, when it grows,
// that views a reader holds stay true across a growth, and that only past the maximum does a read
// fail with ERR_FRAME_TOO_LARGE. Across threads: shared-pipe-threads.test.ts; every contract case also
// runs over growing rings (test/contract/implementations.ts).

const KiB = 1024;

function pattern(length: number, seed: number): Uint8Array {
  const rng = seededRandom(seed);
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(rng() * 256);
  return bytes;
}


describe('SharedPipe maxCapacity: options', () => {
  it('defaults to the capacity: the ring never grows', () => {
    const pipe = new SharedPipe({ capacity: 1024 });
    expect(pipe.reader.maxCapacity).toBe(1024);
    expect(pipe.writer.maxCapacity).toBe(1024);
    expect(pipe.reader.handle().buffer.growable).toBe(false);
  });

  it.each([
    [{ capacity: 1024, maxCapacity: 1000 }, /maxCapacity.*power of two/],
    [{ capacity: 1024, maxCapacity: 512 }, /maxCapacity.*>= capacity \(1024\)/],
    [{ capacity: 1024, maxCapacity: 2 ** 31 }, /maxCapacity/],
    [{ capacity: 16, maxCapacity: 1024, pauseWriterThreshold: 2048 }, /pauseWriterThreshold.*<= maxCapacity \(1024\)/],
  ])('rejects %j with a coded error naming the option', (options, message) => {
    expect(() => new SharedPipe(options)).toThrow(message);
    try {
      new SharedPipe(options);
    } catch (error) {
      expect((error as { code?: string }).code).toMatch(/^ERR_(INVALID_ARG_VALUE|OUT_OF_RANGE)$/);
    }
  });

  it('accepts a pause threshold above the starting capacity, up to the maximum', () => {
    const pipe = new SharedPipe({ capacity: 16, maxCapacity: 64 * KiB, pauseWriterThreshold: 32 * KiB });
    expect(pipe.writer.capacity).toBe(16);
    expect(pipe.reader.handle().buffer.growable).toBe(true);
  });
});

describe('SharedPipe maxCapacity: growing in one thread', () => {
  it('a flush below the pause threshold hands all of its bytes over, growing the ring for them', async () => {
    const pipe = new SharedPipe({ capacity: 16, maxCapacity: 64 * KiB, pauseWriterThreshold: 32 * KiB });
    const data = pattern(10 * KiB, 1);
    const flushed = await within(pipe.writer.write(data), 5_000, 'a write below the pause threshold with no reader');
    expect(flushed.isCompleted).toBe(false);
    expect(pipe.writer.capacity).toBe(16 * KiB);
    const result = await within(pipe.reader.read(), 5_000);
    expect(bytesOf(result.buffer)).toEqual(data);
    pipe.reader.advanceTo(result.buffer.end);
    expect(pipe.reader.capacity).toBe(16 * KiB);
    expect(pipe.reader.stats().grows).toBe(1);
  });

  it('views a reader holds keep their bytes while the writer grows the ring and writes on', async () => {
    const pipe = new SharedPipe({ capacity: 16, maxCapacity: 4 * KiB, pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
    const first = pattern(12, 2);
    await pipe.writer.write(first);
    const held = await within(pipe.reader.read(), 5_000);
    expect(bytesOf(held.buffer)).toEqual(first);
    // Without backpressure the writer grows for these at once, while the reader still holds its views.
    const more = pattern(3000, 3);
    const writing = pipe.writer.write(more);
    expect(pipe.writer.capacity).toBeGreaterThan(16);
    expect(bytesOf(held.buffer)).toEqual(first);
    pipe.reader.advanceTo(held.buffer.getPosition(5), held.buffer.end);
    await within(writing, 5_000, 'the write once the reader let go of its views');
    const next = await within(pipe.reader.read(), 5_000);
    const expected = new Uint8Array(7 + more.length);
    expected.set(first.subarray(5));
    expected.set(more, 7);
    expect(bytesOf(next.buffer)).toEqual(expected);
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('a line longer than the ring arrives whole; the ring grew for it and no further than needed', async () => {
    const pipe = new SharedPipe({ capacity: 16, maxCapacity: 1 << 20 });
    const line = new Uint8Array(100_000).fill(0x61);
    const writing = (async () => {
      for (let offset = 0; offset < line.length; offset += 4096) await pipe.writer.write(line.subarray(offset, offset + 4096));
      await pipe.writer.write('\nshort\n');
      pipe.writer.complete();
    })();
    const lengths: number[] = [];
    await within(
      (async () => {
        for await (const got of readLines(pipe.reader, { maxLineLength: 1 << 20 })) lengths.push(got.length);
      })(),
      10_000,
      'the lines',
    );
    await writing;
    expect(lengths).toEqual([100_000, 5]);
    expect(pipe.reader.capacity).toBe(128 * KiB);
  });

  it('readAtLeast beyond the ring waits for the ring to grow, up to the maximum', async () => {
    const pipe = new SharedPipe({ capacity: 64, maxCapacity: 8 * KiB });
    const data = pattern(5000, 4);
    const reading = pipe.reader.readAtLeast(5000);
    for (let offset = 0; offset < data.length; offset += 100) void pipe.writer.write(data.subarray(offset, offset + 100));
    const result = await within(reading, 5_000, 'readAtLeast(5000) on a ring of 64 bytes');
    expect(bytesOf(result.buffer).subarray(0, 5000)).toEqual(data);
    pipe.reader.advanceTo(result.buffer.end);
    expect(pipe.reader.capacity).toBe(8 * KiB);
  });

  it('past the maximum, readAtLeast and a line too long for it fail with ERR_FRAME_TOO_LARGE', async () => {
    const pipe = new SharedPipe({ capacity: 64, maxCapacity: 1024 });
    await expect(pipe.reader.readAtLeast(1025)).rejects.toMatchObject({ code: 'ERR_FRAME_TOO_LARGE' });
    void pipe.writer.write(new Uint8Array(2000).fill(0x62));
    const lines = readLines(pipe.reader, { maxLineLength: 1 << 20 });
    await expect(within(lines.next(), 5_000, 'a line longer than the largest ring')).rejects.toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', limit: 1024 });
    expect(pipe.reader.capacity).toBe(1024);
  });

  it('publishes threadpipe:ring:grow with the new capacity, and the snapshot shows the maximum', async () => {
    const events: unknown[] = [];
    const listener = (message: unknown): void => void events.push(message);
    subscribe('threadpipe:ring:grow', listener);
    try {
      const pipe = new SharedPipe({ capacity: 16, maxCapacity: 1024, pauseWriterThreshold: 1024 });
      await pipe.writer.write(new Uint8Array(100));
      expect(events).toEqual([{ pipe: expect.stringMatching(/^SharedPipe#/), capacity: 128 }]);
      const result = await pipe.reader.read();
      pipe.reader.advanceTo(result.buffer.end);
      const waiting = pipe.reader.read();
      const entry = pendingOperations().find((operation) => operation.snapshot?.pipe === events.map((e) => (e as { pipe: string }).pipe)[0]);
      expect(entry?.snapshot).toMatchObject({ capacity: 128, maxCapacity: 1024 });
      pipe.writer.complete();
      await within(waiting, 5_000);
    } finally {
      unsubscribe('threadpipe:ring:grow', listener);
    }
  });
});

describe('SharedPipe maxCapacity: frames', () => {
  it('a frame larger than the ring but within its maximum is read whole; one past the maximum is refused at its prefix', async () => {
    const { forEachFrame, writeFrame } = await import('../dist/src/index.js');
    const pipe = new SharedPipe({ capacity: 64, maxCapacity: 64 * KiB });
    const payload = pattern(20 * KiB, 5);
    const writing = (async () => {
      writeFrame(pipe.writer, payload, 'u32be');
      await pipe.writer.flush();
      pipe.writer.complete();
    })();
    const got: Uint8Array[] = [];
    await within(forEachFrame(pipe.reader, (frame) => void got.push(bytesOf(frame)), { prefix: 'u32be', maxFrameSize: 1 << 20 }), 5_000, 'a frame larger than the ring');
    await writing;
    expect(got).toEqual([payload]);

    const small = new SharedPipe({ capacity: 64, maxCapacity: 1024 });
    writeFrame(small.writer, new Uint8Array(2000), 'u32be');
    void small.writer.flush();
    await expect(within(forEachFrame(small.reader, () => {}, { prefix: 'u32be', maxFrameSize: 1 << 20 }), 5_000)).rejects.toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', limit: 1024 });
  });
});
