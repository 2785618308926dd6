import { afterEach, describe, expect, it } from 'vitest';
import { SharedPipe, type ReadResult } from '../dist/src/index.js';
import { patternByte } from '../dist/test/fixtures/ring-harness.js';
import { nextImmediate, seededRandom, within } from './helpers.js';

// S9: past 2^32 ring positions no segment of an earlier lap is used again. The ring positions are
// free-running 32-bit counters, so a lap segment the reader remembers from 2^32 positions ago has the
// same ring base as the current lap. To get there quickly the writer advances over whole blocks it
// does not fill, except for a few marker bytes at the start and end of each block; the reader checks
// those markers, that every segment of every read has a length within the ring, that the buffer holds
// exactly what was flushed and not consumed, and that advanceTo never refuses a position of the
// buffer it was just handed. Both ends stay in this thread and no call ever has to wait.

const GiB = 2 ** 30;
const kMarker = 4;
/**
 * Blocks of a quarter ring, read and consumed one by one: the writer never holds more than a
 * quarter of the ring, so no flush has a reason to wait (the room a flush keeps for the next block
 * of the same size is there too).
 */
const kBlocksPerLap = 4;
const kSeed = 99;

const created: SharedPipe[] = [];

afterEach(async () => {
  for (const pipe of created.splice(0)) {
    for (const end of [pipe.reader, pipe.writer]) {
      try {
        end.complete();
      } catch {
        // completed already
      }
    }
  }
  await nextImmediate();
});

/** The stream as the reader must see it: flushed bytes from the first unconsumed one, with markers. */
class Stream {
  /** Stream offsets of the first unconsumed, the first unexamined and the first unflushed byte. */
  consumed = 0;
  examined = 0;
  flushed = 0;
  /** Offsets (ascending) whose byte is known: the markers written and not yet consumed. */
  readonly #markers: number[] = [];

  /** Fills the markers of a block of `size` bytes at the flushed end into `memory`. */
  mark(memory: Uint8Array, size: number): void {
    const marks = size <= 2 * kMarker ? [...Array(size).keys()] : [0, 1, 2, 3, size - 4, size - 3, size - 2, size - 1];
    for (const i of marks) {
      memory[i] = patternByte(this.flushed + i, kSeed);
      this.#markers.push(this.flushed + i);
    }
    this.flushed += size;
  }

  /** Checks a read: length, segment lengths and every marker inside it. */
  check(result: ReadResult, capacity: number, label: string): void {
    const buffer = result.buffer;
    expect(buffer.length, `${label}: buffer length`).toBe(this.flushed - this.consumed);
    let total = 0;
    for (const segment of buffer) {
      if (segment.length < 0 || segment.length > capacity) expect.fail(`${label}: a segment of length ${segment.length}`);
      total += segment.length;
    }
    expect(total, `${label}: segment lengths add up`).toBe(buffer.length);
    for (const offset of this.#markers) {
      const byte = buffer.slice(offset - this.consumed, offset - this.consumed + 1).first[0];
      if (byte !== patternByte(offset, kSeed)) expect.fail(`${label}: byte at stream offset ${offset} is ${byte}, expected ${patternByte(offset, kSeed)}`);
    }
  }

  consume(count: number): void {
    this.consumed += count;
    while (this.#markers.length > 0 && this.#markers[0]! < this.consumed) this.#markers.shift();
  }
}

/** getMemory(size) / markers / advance(size) / flush: the flush must not wait (the ring has the room). */
async function writeBlock(pipe: SharedPipe, stream: Stream, size: number): Promise<void> {
  const memory = pipe.writer.getMemory(size);
  stream.mark(memory, size);
  pipe.writer.advance(size);
  const flush = await within(pipe.writer.flush(), 2_000, `the flush at stream offset ${stream.flushed}`);
  expect(flush).toEqual({ isCanceled: false, isCompleted: false });
}

/**
 * Reads and advances to `consumed` and at least `examinedExtra` bytes past it (never before what was
 * examined already); a refused position fails with where it happened.
 */
async function readAndAdvance(pipe: SharedPipe, stream: Stream, consumed: number, examinedExtra: number, label: string): Promise<void> {
  const result = await within(pipe.reader.read(), 2_000, `${label}: a read`);
  stream.check(result, pipe.reader.capacity, label);
  const buffer = result.buffer;
  const examined = Math.min(buffer.length, Math.max(stream.examined - stream.consumed, consumed + examinedExtra));
  try {
    pipe.reader.advanceTo(buffer.getPosition(consumed), buffer.getPosition(examined));
  } catch (error) {
    expect.fail(`${label}: advanceTo(${consumed}, ${examined}) of a ${buffer.length}-byte buffer threw ${(error as { code?: string }).code}: ${(error as Error).message}`);
  }
  stream.examined = stream.consumed + examined;
  stream.consume(consumed);
}

describe('S9: SharedPipe ring positions past 2^32', () => {
  it('a lap segment remembered from 2^32 positions ago is not used again (1 MiB ring, quarter-ring blocks)', async () => {
    const capacity = 2 ** 20;
    const block = capacity / kBlocksPerLap;
    const pipe = new SharedPipe({ capacity, pauseWriterThreshold: capacity });
    created.push(pipe);
    const stream = new Stream();
    // Up to 5 bytes before the end of the ring, then a write() that copies across it: the read of
    // those bytes spans the end, and the reader remembers the next lap as a segment.
    await writeBlock(pipe, stream, block - 5);
    await readAndAdvance(pipe, stream, block - 5, 0, 'the first block');
    for (let i = 1; i < kBlocksPerLap; i++) {
      await writeBlock(pipe, stream, block);
      await readAndAdvance(pipe, stream, block, 0, `block ${i} of the first lap`);
    }
    const across = new Uint8Array(20).map((_, i) => patternByte(stream.flushed + i, kSeed));
    await within(pipe.writer.write(across));
    stream.flushed += across.length;
    const spanning = await within(pipe.reader.read());
    expect(spanning.buffer.isSingleSegment).toBe(false);
    expect(spanning.buffer.toUint8Array()).toEqual(across);
    pipe.reader.advanceTo(spanning.buffer.end);
    stream.consume(across.length);
    // Back to block alignment, then quarter-ring blocks, each read and consumed whole, so no read spans
    // a lap again until the positions have gone once around 2^32 and come back to the remembered lap.
    await writeBlock(pipe, stream, block - 15);
    await readAndAdvance(pipe, stream, block - 15, 0, 'the alignment block');
    for (let i = 0; stream.flushed < 4 * GiB + 4 * capacity; i++) {
      await writeBlock(pipe, stream, block);
      await readAndAdvance(pipe, stream, block, 0, `block ${i} at stream offset ${stream.consumed}`);
    }
    expect(pipe.reader.stats().bytesConsumed).toBeGreaterThan(2 ** 32);
  }, 60_000);

  it.each([2 ** 18, 2 ** 20])('seeded blocks, skipped tails and partial consumes through a %i-byte ring, across 2^32', async (capacity) => {
    const pipe = new SharedPipe({ capacity, pauseWriterThreshold: capacity });
    created.push(pipe);
    const stream = new Stream();
    const random = seededRandom(capacity);
    // Whole quarter-ring blocks up to a few laps short of 2^32, then seeded sizes across the wrap.
    const lapsBefore = 2 ** 32 / capacity - 8;
    for (let lap = 0; lap < lapsBefore; lap++) {
      for (let i = 0; i < kBlocksPerLap; i++) {
        await writeBlock(pipe, stream, capacity / kBlocksPerLap);
        await readAndAdvance(pipe, stream, capacity / kBlocksPerLap, 0, `lap ${lap}`);
      }
    }
    // What is unconsumed stays within a quarter of the ring, blocks too: with a skipped tail the
    // ring is at most half full, so no flush has a reason to wait.
    const limit = capacity / 4;
    const end = stream.flushed + 64 * capacity;
    for (let i = 0; stream.flushed < end; i++) {
      const held = stream.flushed - stream.consumed;
      if (held < limit) await writeBlock(pipe, stream, 1 + Math.floor(random() * (limit - held)));
      const available = stream.flushed - stream.consumed;
      // Mostly consume everything; now and then keep a tail, or examine only part of it. A tail
      // too long to write after is consumed, so the next read always has a new block to wait for.
      const consumed = available >= limit || random() < 0.7 ? available : Math.floor(random() * available);
      const examinedExtra = Math.floor(random() * (available - consumed + 1));
      await readAndAdvance(pipe, stream, consumed, examinedExtra, `step ${i} at stream offset ${stream.consumed}`);
    }
    expect(pipe.reader.stats().bytesConsumed).toBeGreaterThan(2 ** 32);
  }, 60_000);
});
