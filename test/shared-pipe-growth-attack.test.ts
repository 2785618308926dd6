import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SharedPipe, type ReadResult, type SharedPipeReader, type SharedPipeWriter } from '../dist/src/index.js';
import { checkPattern, fillPattern, patternByte } from '../dist/test/fixtures/ring-harness.js';
import { nextImmediate, seededRandom, within } from './helpers.js';

// Rings that grow, pushed where the growth meets the rest of the ring: blocking flushes with the
// reader on this thread, a growth the system refuses, a skipped tail at the read position after a
// canceled read, ring positions past 2^32, and many rings in one process. Every byte is checked.

const KiB = 1024;

function pattern(size: number, offset: number, seed: number): Uint8Array {
  const data = new Uint8Array(size);
  fillPattern(data, offset, size, seed);
  return data;
}

function expectPattern(result: ReadResult, offset: number, seed: number): void {
  let at = offset;
  for (const segment of result.buffer) {
    checkPattern(segment, at, seed);
    at += segment.length;
  }
}

/** Resolves with 'pending' when the promise has not settled within `ms`: for asserting a wait, not a result. */
async function stillPending<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([promise, pending]);
  } finally {
    clearTimeout(timer);
  }
}

// Header words (src/ring/layout.ts), for starting a ring at chosen positions.
const kWritePos = 32;
const kReadPos = 64;
const kExaminedPos = 65;

/** A pipe whose ring positions start at `start` (both ends revived here after the header is set). */
function pipeAt(start: number, options: ConstructorParameters<typeof SharedPipe>[0]): { reader: SharedPipeReader; writer: SharedPipeWriter } {
  const pipe = new SharedPipe(options);
  const readerHandle = pipe.reader.handle();
  const writerHandle = pipe.writer.handle();
  const header = new Int32Array(readerHandle.buffer, 0, 128);
  header[kWritePos] = start | 0;
  header[kReadPos] = start | 0;
  header[kExaminedPos] = start | 0;
  return { reader: SharedPipe.reader(readerHandle), writer: SharedPipe.writer(writerHandle) };
}

describe('SharedPipe growing: blocking flushes with the reader on this thread', () => {
  it('writeSync of more than the ring holds grows the ring as write() does, instead of refusing a flush that would not wait', async () => {
    const pipe = new SharedPipe({ capacity: 16, maxCapacity: 4 * KiB, pauseWriterThreshold: 4 * KiB });
    const data = pattern(100, 0, 11);
    // write() takes these 100 bytes at once (below the pause threshold the ring grows for a whole flush);
    // the blocking twin must not claim it would block this thread forever.
    expect(pipe.writer.writeSync(data)).toEqual({ isCanceled: false, isCompleted: false });
    expect(pipe.writer.capacity).toBe(128);
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(100);
    expectPattern(result, 0, 11);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('writeSync is still refused, keeping its bytes, when the room waits for views the reader on this thread holds', async () => {
    const pipe = new SharedPipe({ capacity: 16, maxCapacity: 4 * KiB, pauseWriterThreshold: 4 * KiB });
    pipe.writer.writeSync(pattern(12, 0, 12));
    const held = await within(pipe.reader.read());
    expect(() => pipe.writer.writeSync(pattern(100, 12, 12))).toThrow(expect.objectContaining({ code: 'ERR_PIPE_SAME_THREAD_WAIT' }));
    expectPattern(held, 0, 12);
    pipe.reader.advanceTo(held.buffer.start, held.buffer.end);
    // The refused bytes were not taken: sending them again delivers each once.
    expect(pipe.writer.writeSync(pattern(100, 12, 12))).toEqual({ isCanceled: false, isCompleted: false });
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(112);
    expectPattern(result, 0, 12);
    pipe.reader.advanceTo(result.buffer.end);
  });
});

describe('SharedPipe growing: a growth the system refuses', () => {
  it('readAtLeast within the capacity the ring reached is served (not ERR_FRAME_TOO_LARGE with the capacity the reader last mapped)', async () => {
    const pipe = new SharedPipe({ capacity: 16, maxCapacity: 4 * KiB, pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
    await within(pipe.writer.write(pattern(100, 0, 13)));
    expect(pipe.writer.capacity).toBe(128);
    // The reader has not read since the ring grew to 128. The next growth is refused, as when the
    // system has no memory for it: 128 is the limit from now on.
    const grow = Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, 'grow')!;
    Object.defineProperty(SharedArrayBuffer.prototype, 'grow', {
      ...grow,
      value(): never {
        throw new RangeError('refused for the test');
      },
    });
    let writing: Promise<unknown>;
    try {
      writing = pipe.writer.write(pattern(100, 100, 13));
    } finally {
      Object.defineProperty(SharedArrayBuffer.prototype, 'grow', grow);
    }
    writing.catch(() => {});
    expect(pipe.writer.capacity).toBe(128);
    const result = await within(pipe.reader.readAtLeast(100), 5_000, 'readAtLeast(100) with 128 bytes buffered');
    expect(result.buffer.length).toBe(128);
    expectPattern(result, 0, 13);
    pipe.reader.advanceTo(result.buffer.end);
    await within(writing, 5_000, 'the rest of the write');
    // Past the limit the ring has now, readAtLeast is refused with it.
    await expect(pipe.reader.readAtLeast(129)).rejects.toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', limit: 128 });
    const rest = await within(pipe.reader.read());
    expect(rest.buffer.length).toBe(72);
    expectPattern(rest, 128, 13);
    pipe.reader.advanceTo(rest.buffer.end);
  });
});

describe('SharedPipe: a skipped tail at the read position after a canceled read that was not advanced', () => {
  /**
   * 40 bytes read and consumed; then 30 bytes through getMemory do not fit in the 24 bytes left before
   * the end of the 64-byte ring, so the writer skips that tail. A readAtLeast is canceled and read
   * again without advanceTo (allowed after a canceled read, as in .NET), so the reader's last result
   * is still the canceled one while the tail sits at its read position.
   */
  async function canceledOverSkippedTail(pipe: SharedPipe, minimum: number): Promise<{ reading: Promise<ReadResult> }> {
    await within(pipe.writer.write(pattern(40, 0, 14)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.end);
    const memory = pipe.writer.getMemory(30);
    fillPattern(memory, 40, 30, 14);
    pipe.writer.advance(30);
    await within(pipe.writer.flush());
    expect(pipe.writer.stats().wraps).toBe(1);
    const canceling = pipe.reader.readAtLeast(minimum);
    pipe.reader.cancelPendingRead();
    const canceled = await within(canceling);
    expect(canceled.isCanceled).toBe(true);
    expect(canceled.buffer.length).toBe(30);
    expectPattern(canceled, 40, 14);
    // Wrapped: an async function returning the promise itself would wait for it.
    return { reading: pipe.reader.readAtLeast(minimum) };
  }

  it('a growing ring grows for the minimum: neither the read nor the write waits forever', async () => {
    const pipe = new SharedPipe({ capacity: 64, maxCapacity: 1024, pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
    const { reading } = await canceledOverSkippedTail(pipe, 100);
    // 10 bytes fill the ring; the rest can only go in once the reader steps over the tail and the ring grows.
    const writing = pipe.writer.write(pattern(200, 70, 14));
    const result = await within(reading, 5_000, 'readAtLeast(100) over a skipped tail');
    expect(result.buffer.length).toBeGreaterThanOrEqual(100);
    expectPattern(result, 40, 14);
    pipe.reader.advanceTo(result.buffer.end);
    await within(writing, 5_000, 'the write behind it');
    expect(pipe.writer.capacity).toBeGreaterThan(64);
    pipe.writer.complete();
    let received = 40 + result.buffer.length;
    for (;;) {
      const rest = await within(pipe.reader.read(), 5_000, 'the rest');
      expectPattern(rest, received, 14);
      received += rest.buffer.length;
      pipe.reader.advanceTo(rest.buffer.end);
      if (rest.isCompleted) break;
    }
    expect(received).toBe(270);
  });

  it('a ring that cannot grow waits for a minimum that fits (no ERR_FRAME_TOO_LARGE), then serves it', async () => {
    const pipe = new SharedPipe({ capacity: 64, pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
    const { reading } = await canceledOverSkippedTail(pipe, 50);
    reading.catch(() => {});
    // The ring is full now: the skipped tail, 30 bytes and these 10. 50 bytes fit in 64.
    await within(pipe.writer.write(pattern(10, 70, 14)));
    // Rejected here with ERR_FRAME_TOO_LARGE when the reader does not step over the tail.
    expect(await stillPending(reading, 100)).toBe('pending');
    await within(pipe.writer.write(pattern(20, 80, 14)), 5_000, 'a write into the room past the tail');
    const result = await within(reading, 5_000, 'readAtLeast(50)');
    expect(result.buffer.length).toBe(60);
    expectPattern(result, 40, 14);
    pipe.reader.advanceTo(result.buffer.end);
  });
});

describe('SharedPipe growing: seeded traffic in one thread from just below 2^32', () => {
  /**
   * Writes through write() (some aborted, some flushes canceled: the bytes still go) and
   * getMemory with several advances per block; reads with read() and readAtLeast(), some canceled and
   * read again without advanceTo, holding views across turns of the event loop (their bytes must not
   * change) and consuming and examining at random. Every byte is checked where it arrives.
   */
  async function traffic(seed: number, options: { capacity: number; maxCapacity: number; pauseWriterThreshold: number; resumeWriterThreshold?: number }, total: number): Promise<{ grows: number; wraps: number }> {
    const start = 2 ** 32 - 1 - Math.floor(seededRandom(seed)() * 3000);
    const { reader, writer } = pipeAt(start, options);
    const max = options.maxCapacity;
    const stream = seed * 31 + 7;
    const wrng = seededRandom(seed);
    const writing = (async () => {
      let offset = 0;
      while (offset < total) {
        const size = Math.min(total - offset, Math.max(1, Math.round(Math.exp(wrng() * Math.log(max * 2)))));
        let flush: Promise<unknown> | null = null;
        if (wrng() < 0.4) {
          const memory = writer.getMemory(size);
          for (let done = 0; done < size;) {
            const count = Math.min(size - done, 1 + Math.floor(wrng() * size));
            fillPattern(memory.subarray(done), offset + done, count, stream);
            writer.advance(count);
            done += count;
          }
          if (wrng() < 0.7 || offset + size === total) flush = writer.flush();
        } else if (wrng() < 0.15) {
          const controller = new AbortController();
          flush = writer.write(pattern(size, offset, stream), { signal: controller.signal });
          controller.abort();
        } else {
          flush = writer.write(pattern(size, offset, stream));
        }
        if (flush !== null) {
          if (wrng() < 0.1) writer.cancelPendingFlush();
          await flush.catch((error: unknown) => {
            if ((error as Error).name !== 'AbortError') throw error;
          });
        }
        offset += size;
        if (wrng() < 0.3) await nextImmediate();
      }
      writer.complete();
    })();
    const rrng = seededRandom(seed + 1);
    const reading = (async () => {
      let consumed = 0;
      let examined = 0;
      for (;;) {
        const wantMore = rrng() < 0.4 && examined < max / 2;
        const pending = wantMore ? reader.readAtLeast(Math.min(1 + Math.floor(rrng() * (max - examined)), max - examined)) : reader.read();
        if (rrng() < 0.15) {
          await nextImmediate();
          reader.cancelPendingRead();
        }
        const result = await pending;
        const bytes = result.buffer.toUint8Array();
        for (let i = 0; i < bytes.length; i++) {
          if (bytes[i] !== patternByte(consumed + i, stream)) expect.fail(`seed ${seed}: byte at ${consumed + i} is ${bytes[i]}, expected ${patternByte(consumed + i, stream)}`);
        }
        if (bytes.length < examined) expect.fail(`seed ${seed}: ${bytes.length} bytes, fewer than the ${examined} examined`);
        if (rrng() < 0.3) {
          for (let turn = 0; turn < 3; turn++) await nextImmediate();
          const again = result.buffer.toUint8Array();
          for (let i = 0; i < bytes.length; i++) if (again[i] !== bytes[i]) expect.fail(`seed ${seed}: a held view's byte at ${consumed + i} changed`);
        }
        if (result.isCompleted) {
          expect(consumed + bytes.length).toBe(total);
          reader.advanceTo(result.buffer.end);
          break;
        }
        if (result.isCanceled && rrng() < 0.6) continue;
        let consume: number;
        let examine: number;
        const pick = rrng();
        if (pick < 0.4 || bytes.length > max / 2) {
          consume = examine = bytes.length;
        } else if (pick < 0.7) {
          consume = Math.floor(rrng() * (bytes.length + 1));
          examine = bytes.length;
        } else {
          consume = Math.floor(rrng() * (bytes.length + 1));
          const low = Math.max(consume, examined);
          examine = low + Math.floor(rrng() * (bytes.length - low + 1));
        }
        reader.advanceTo(result.buffer.getPosition(consume), result.buffer.getPosition(examine));
        consumed += consume;
        examined = examine - consume;
      }
      reader.complete();
    })();
    await within(Promise.all([writing, reading]), 10_000, `seeded traffic, seed ${seed}`);
    const stats = reader.stats();
    expect(stats.bytesConsumed).toBe(stats.bytesWritten);
    expect(stats.bytesWritten).toBeGreaterThan(2 ** 32);
    return { grows: stats.grows, wraps: stats.wraps };
  }

  it('40 seeds over rings growing from 16..64 bytes to 256 B..4 KiB, paused at 0, the start, half or all of the maximum', async () => {
    let grows = 0;
    let wraps = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const capacity = [16, 32, 64][seed % 3]!;
      const maxCapacity = [256, 1024, 4096][(seed >> 2) % 3]!;
      const pause = [0, capacity, maxCapacity / 2, maxCapacity][seed % 4]!;
      const counts = await traffic(seed, { capacity, maxCapacity, pauseWriterThreshold: pause, ...(pause === 0 ? { resumeWriterThreshold: 0 } : {}) }, 20_000);
      grows += counts.grows;
      wraps += counts.wraps;
    }
    expect(grows).toBeGreaterThan(40);
    expect(wraps).toBeGreaterThan(0);
  }, 60_000);
});

/** vm.max_map_count on Linux: how many memory mappings one process may hold. */
function mapCountLimit(): number | null {
  try {
    return Number(readFileSync('/proc/sys/vm/max_map_count', 'utf8').trim());
  } catch {
    return null;
  }
}

describe('SharedPipe growing: many rings in one process', () => {
  const limit = mapCountLimit();
  it.skipIf(limit === null || !(limit > 0) || limit > 200_000)(
    'creating more growable rings than the system can reserve fails with a coded error, it does not abort the process',
    async () => {
      // Each growable ring reserves its maximum up front (two mappings here); past the system's limit the
      // reservation fails. A server creating rings per connection must get an error it can act on.
      const count = Math.ceil(limit! / 2) + 2000;
      const dist = new URL('../dist/src/index.js', import.meta.url).href;
      const script = `import { SharedPipe } from ${JSON.stringify(dist)};
const pipes = [];
try {
  for (let i = 0; i < ${count}; i++) pipes.push(new SharedPipe({ capacity: 2048, maxCapacity: 1 << 22 }));
  console.log('created ' + pipes.length);
} catch (error) {
  console.log('refused ' + pipes.length + ' ' + error.code);
}`;
      // No core file for the abort this test is about.
      const child = spawn('sh', ['-c', 'ulimit -c 0; exec "$0" "$@"', process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      const exit = await within(
        new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal }))),
        60_000,
        `a process creating ${count} growable rings`,
      ).finally(() => child.kill('SIGKILL'));
      expect({ ...exit, out: out.trim() }).toMatchObject({ code: 0, signal: null, out: expect.stringMatching(new RegExp(`^created ${count}$|^refused \\d+ ERR_[A-Z_]+$`)) });
    },
    90_000,
  );
});
