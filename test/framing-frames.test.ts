// readFrames(reader, { prefix, maxFrameSize }) and writeFrame(writer, payload, prefix): round trips for
// the four prefixes at their size edges, the exact prefix encodings, maxFrameSize edges, ERR_FRAME_TOO_LARGE
// as soon as the prefix is known, ERR_FRAME_INVALID for a stream ending inside a frame or a bad varint, a
// frame larger than a SharedPipe's ring, and a seeded fast-check fuzz against a reference parser.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Pipe,
  readFrames,
  SharedPipe,
  writeFrame,
  type FramePrefix,
  type PipeReader,
} from '../dist/src/index.js';
import { peek, seededRandom, TrackingPool, within, rejection, parseThroughSmallPipe, readAll, expectSameBytes } from './helpers.js';

const prefixes: FramePrefix[] = ['u16be', 'u32be', 'u32le', 'varint'];
const prefixLimit: Record<FramePrefix, number> = { u16be: 0xffff, u32be: 0xffffffff, u32le: 0xffffffff, varint: 0xffffffff };

/** The reference encoding of a length prefix (independent of writeFrame). */
function encodePrefix(prefix: FramePrefix, length: number): number[] {
  switch (prefix) {
    case 'u16be':
      return [(length >>> 8) & 0xff, length & 0xff];
    case 'u32be':
      return [(length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
    case 'u32le':
      return [length & 0xff, (length >>> 8) & 0xff, (length >>> 16) & 0xff, (length >>> 24) & 0xff];
    case 'varint': {
      const out: number[] = [];
      let value = length;
      while (value >= 0x80) {
        out.push((value % 0x80) | 0x80);
        value = Math.floor(value / 0x80);
      }
      out.push(value);
      return out;
    }
  }
}

function payloadOf(size: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (random() * 256) | 0;
  return payload;
}

/** Copies of every payload (a payload is only valid until the next step). */
async function collectFrames(reader: PipeReader, prefix: FramePrefix, maxFrameSize: number): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = [];
  for await (const frame of readFrames(reader, { prefix, maxFrameSize })) frames.push(frame.toUint8Array());
  return frames;
}

const edgeSizes = [0, 1, 127, 128, 16383, 16384, 65535];
const largeSizes = [65536, (1 << 20) + 3];

describe('writeFrame encodings', () => {
  it('each prefix is written exactly, followed by the payload', async () => {
    const cases: [FramePrefix, number, number[]][] = [
      ['u16be', 300, [0x01, 0x2c]],
      ['u16be', 65535, [0xff, 0xff]],
      ['u32be', 300, [0x00, 0x00, 0x01, 0x2c]],
      ['u32le', 300, [0x2c, 0x01, 0x00, 0x00]],
      ['u32be', 0x010203, [0x00, 0x01, 0x02, 0x03]],
      ['u32le', 0x010203, [0x03, 0x02, 0x01, 0x00]],
      ['varint', 0, [0x00]],
      ['varint', 127, [0x7f]],
      ['varint', 128, [0x80, 0x01]],
      ['varint', 300, [0xac, 0x02]],
      ['varint', 16383, [0xff, 0x7f]],
      ['varint', 16384, [0x80, 0x80, 0x01]],
      ['varint', 2097152, [0x80, 0x80, 0x80, 0x01]],
    ];
    for (const [prefix, size, header] of cases) {
      expect(encodePrefix(prefix, size), `reference ${prefix} ${size}`).toEqual(header);
      // pause 0: never pause, the whole frame is flushed before it is read.
      const pipe = new Pipe({ pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
      const payload = payloadOf(size, size);
      writeFrame(pipe.writer, payload, prefix);
      // writeFrame does not flush.
      expect(pipe.writer.unflushedBytes).toBe(header.length + size);
      expect(pipe.reader.tryRead()).toBeNull();
      await within(pipe.writer.flush());
      pipe.writer.complete();
      const raw = await within(readAll(pipe.reader));
      expect([...raw.subarray(0, header.length)], `${prefix} ${size}`).toEqual(header);
      expectSameBytes(raw.subarray(header.length), payload, `${prefix} ${size}`);
    }
  });

  it('a payload over the prefix limit throws ERR_FRAME_TOO_LARGE and writes nothing', () => {
    const pipe = new Pipe();
    expect(() => writeFrame(pipe.writer, new Uint8Array(65536), 'u16be')).toThrow(expect.objectContaining({ code: 'ERR_FRAME_TOO_LARGE' }));
    expect(pipe.writer.unflushedBytes).toBe(0);
    expect(() => writeFrame(pipe.writer, new Uint8Array(1), 'u8' as FramePrefix)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => writeFrame(pipe.writer, [1, 2] as unknown as Uint8Array, 'u16be')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(pipe.writer.unflushedBytes).toBe(0);
  });
});

describe('readFrames / writeFrame round trips', () => {
  for (const prefix of prefixes) {
    it(`${prefix}: sizes ${[...edgeSizes, ...(prefix === 'u16be' ? [] : largeSizes)].join(', ')} round-trip byte for byte`, async () => {
      const sizes = [...edgeSizes, ...(prefix === 'u16be' ? [] : largeSizes), 0, 1];
      const payloads = sizes.map((size, i) => payloadOf(size, 100 + i));
      const pipe = new Pipe();
      const consumer = collectFrames(pipe.reader, prefix, prefixLimit[prefix]);
      const producer = (async () => {
        for (const payload of payloads) {
          writeFrame(pipe.writer, payload, prefix);
          await within(pipe.writer.flush());
        }
        pipe.writer.complete();
      })();
      const [frames] = await within(Promise.all([consumer, producer]), 10_000);
      expect(frames.length).toBe(payloads.length);
      frames.forEach((frame, i) => expectSameBytes(frame, payloads[i]!, `${prefix} frame ${i} (${sizes[i]} bytes)`));
    });
  }

  it('many frames in one flush, split into 1-byte segments, all come out', async () => {
    for (const prefix of prefixes) {
      const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 1 });
      const payloads = [0, 1, 2, 3, 130, 0, 5].map((size, i) => payloadOf(size, i));
      for (const payload of payloads) writeFrame(pipe.writer, payload, prefix);
      await within(pipe.writer.flush());
      pipe.writer.complete();
      const frames = await within(collectFrames(pipe.reader, prefix, 1000));
      expect(frames.length, prefix).toBe(payloads.length);
      frames.forEach((frame, i) => expectSameBytes(frame, payloads[i]!, `${prefix} frame ${i}`));
    }
  });

  it('a payload is yielded once its last byte arrives, not before', async () => {
    const pipe = new Pipe();
    const iterator = readFrames(pipe.reader, { prefix: 'u16be', maxFrameSize: 100 })[Symbol.asyncIterator]();
    await within(pipe.writer.write(Uint8Array.from([0x00])));
    const next = iterator.next();
    expect((await peek(next)).state).toBe('pending');
    await within(pipe.writer.write(Uint8Array.from([0x03, 1, 2])));
    expect((await peek(next)).state).toBe('pending');
    await within(pipe.writer.write(Uint8Array.from([3, 0x00])));
    const frame = await within(next);
    expect([...frame.value!.toUint8Array()]).toEqual([1, 2, 3]);
    pipe.writer.complete();
    // The stray byte of a next prefix is a truncated frame at the end.
    expect((await rejection(within(iterator.next()))).code).toBe('ERR_FRAME_INVALID');
  });
});

describe('readFrames maxFrameSize', () => {
  for (const prefix of prefixes) {
    it(`${prefix}: a frame of exactly maxFrameSize passes, maxFrameSize + 1 rejects with ERR_FRAME_TOO_LARGE`, async () => {
      for (const max of [0, 100, 16384]) {
        const pipe = new Pipe();
        const consumer = collectFrames(pipe.reader, prefix, max);
        writeFrame(pipe.writer, payloadOf(max, 1), prefix);
        await within(pipe.writer.flush());
        pipe.writer.complete();
        const frames = await within(consumer);
        expect(frames.length).toBe(1);
        expectSameBytes(frames[0]!, payloadOf(max, 1), `${prefix} max ${max}`);

        const over = new Pipe();
        const seen: number[] = [];
        const failing = within((async () => {
          for await (const frame of readFrames(over.reader, { prefix, maxFrameSize: max })) seen.push(frame.length);
        })());
        writeFrame(over.writer, payloadOf(Math.min(max, 3), 2), prefix);
        writeFrame(over.writer, payloadOf(max + 1, 3), prefix);
        await within(over.writer.flush());
        over.writer.complete();
        const error = await rejection(failing);
        expect(error.code, `${prefix} max ${max}`).toBe('ERR_FRAME_TOO_LARGE');
        expect(error.name).toBe('FrameTooLargeError');
        expect(seen).toEqual([Math.min(max, 3)]);
      }
    });

    it(`${prefix}: an oversize frame rejects as soon as its prefix is known, before any of its body was written`, async () => {
      const max = 1000;
      const pipe = new Pipe();
      const iterator = readFrames(pipe.reader, { prefix, maxFrameSize: max })[Symbol.asyncIterator]();
      const header = encodePrefix(prefix, max + 1);
      // All but the last prefix byte: the length is not known yet.
      await within(pipe.writer.write(Uint8Array.from(header.slice(0, -1))));
      const next = iterator.next();
      expect((await peek(next)).state).toBe('pending');
      // The last prefix byte, flushed; no body, and the writer stays open.
      await within(pipe.writer.write(Uint8Array.from(header.slice(-1))));
      const error = await rejection(within(next));
      expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
      expect((error as { size?: unknown }).size).toBe(max + 1);
      expect((error as { limit?: unknown }).limit).toBe(max);
      pipe.writer.complete();
      pipe.reader.complete();
    });
  }
});

describe('readFrames malformed input', () => {
  for (const prefix of prefixes) {
    it(`${prefix}: the stream ending inside a body or inside a prefix rejects with ERR_FRAME_INVALID after the whole frames`, async () => {
      const whole = [...encodePrefix(prefix, 2), 7, 8];
      for (const tail of [[...encodePrefix(prefix, 10), 1, 2, 3, 4, 5], [...encodePrefix(prefix, 10)], encodePrefix(prefix, 300).slice(0, -1)]) {
        if (tail.length === 0) continue;
        const pipe = new Pipe();
        await within(pipe.writer.write(Uint8Array.from([...whole, ...tail])));
        pipe.writer.complete();
        const seen: number[][] = [];
        const error = await rejection(within((async () => {
          for await (const frame of readFrames(pipe.reader, { prefix, maxFrameSize: 1000 })) seen.push([...frame.toUint8Array()]);
        })()));
        expect(error.code, `${prefix} tail ${JSON.stringify(tail)}`).toBe('ERR_FRAME_INVALID');
        expect(error.name).toBe('InvalidFrameError');
        expect(seen).toEqual([[7, 8]]);
      }
    });
  }

  it('varint: more than 5 bytes, or a 5-byte value over 32 bits, rejects with ERR_FRAME_INVALID without waiting for more', async () => {
    for (const header of [[0x80, 0x80, 0x80, 0x80, 0x80], [0xff, 0xff, 0xff, 0xff, 0x1f], [0x80, 0x80, 0x80, 0x80, 0x10]]) {
      const pipe = new Pipe();
      await within(pipe.writer.write(Uint8Array.from(header)));
      // The writer stays open: the varint is known to be bad from these bytes alone.
      const error = await rejection(within(readFrames(pipe.reader, { prefix: 'varint', maxFrameSize: 0xffffffff }).next()));
      expect(error.code, JSON.stringify(header)).toBe('ERR_FRAME_INVALID');
    }
    // 2^32 - 1 in 5 bytes is a valid length (here over the limit).
    const pipe = new Pipe();
    await within(pipe.writer.write(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])));
    const error = await rejection(within(readFrames(pipe.reader, { prefix: 'varint', maxFrameSize: 100 }).next()));
    expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
    expect((error as { size?: unknown }).size).toBe(0xffffffff);
  });

  it('a canceled read ends the iteration with an AbortError', async () => {
    const pipe = new Pipe();
    const next = readFrames(pipe.reader, { prefix: 'u16be', maxFrameSize: 10 }).next();
    pipe.reader.cancelPendingRead();
    const error = await rejection(within(next));
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');
  });
});

describe('readFrames over a SharedPipe (capacity 4096)', () => {
  async function withRing(body: (pipe: SharedPipe) => Promise<void>): Promise<void> {
    const pipe = new SharedPipe({ capacity: 4096 });
    try {
      await body(pipe);
    } finally {
      pipe.writer.complete();
      pipe.reader.complete();
    }
  }

  for (const prefix of prefixes) {
    it(`${prefix}: a frame larger than the ring rejects with ERR_FRAME_TOO_LARGE at once, though under maxFrameSize`, async () => {
      await withRing(async (pipe) => {
        const iterator = readFrames(pipe.reader, { prefix, maxFrameSize: 65535 })[Symbol.asyncIterator]();
        const header = encodePrefix(prefix, 4096);
        await within(pipe.writer.write(Uint8Array.from([...header, 1, 2, 3])));
        const error = await rejection(within(iterator.next(), 2_000));
        expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
      });
    });
  }

  it('u32be: a frame of exactly capacity - prefix bytes fits and round-trips; one byte more does not', async () => {
    await withRing(async (pipe) => {
      const payload = payloadOf(4096 - 4, 9);
      const consumer = collectFrames(pipe.reader, 'u32be', 1 << 20);
      const producer = (async () => {
        await within(pipe.writer.write(Uint8Array.from(encodePrefix('u32be', payload.length))));
        await within(pipe.writer.write(payload));
        await within(pipe.writer.write(Uint8Array.from([0, 0, 0, 1, 42])));
        pipe.writer.complete();
      })();
      const [frames] = await within(Promise.all([consumer, producer]));
      expect(frames.length).toBe(2);
      expectSameBytes(frames[0]!, payload, 'frame of capacity - 4');
      expect([...frames[1]!]).toEqual([42]);
    });
    await withRing(async (pipe) => {
      const iterator = readFrames(pipe.reader, { prefix: 'u32be', maxFrameSize: 1 << 20 })[Symbol.asyncIterator]();
      await within(pipe.writer.write(Uint8Array.from(encodePrefix('u32be', 4096 - 3))));
      const error = await rejection(within(iterator.next(), 2_000));
      expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
    });
  });

  it('frames written with writeFrame into the ring round-trip in order (with flushes between)', async () => {
    await withRing(async (pipe) => {
      const payloads = Array.from({ length: 200 }, (_, i) => payloadOf((i * 37) % 1500, i));
      const consumer = collectFrames(pipe.reader, 'varint', 2000);
      const producer = (async () => {
        for (const payload of payloads) {
          writeFrame(pipe.writer, payload, 'varint');
          await within(pipe.writer.flush());
        }
        pipe.writer.complete();
      })();
      const [frames] = await within(Promise.all([consumer, producer]), 10_000);
      expect(frames.length).toBe(payloads.length);
      frames.forEach((frame, i) => expectSameBytes(frame, payloads[i]!, `ring frame ${i}`));
    });
  });
});

// ---- fuzzing against a reference parser

type Outcome = { frames: number[][]; error?: string };

/** The reference: parse the flat bytes frame by frame. */
function referenceFrames(flat: Uint8Array, prefix: FramePrefix, max: number): Outcome {
  const frames: number[][] = [];
  let pos = 0;
  while (pos < flat.length) {
    let length: number;
    let at = pos;
    if (prefix === 'varint') {
      length = 0;
      let done = false;
      for (let i = 0; i < 5; i++) {
        if (at >= flat.length) return { frames, error: 'ERR_FRAME_INVALID' };
        const byte = flat[at++]!;
        length += (byte & 0x7f) * 2 ** (7 * i);
        if ((byte & 0x80) === 0) {
          done = true;
          break;
        }
      }
      if (!done || length > 0xffffffff) return { frames, error: 'ERR_FRAME_INVALID' };
    } else {
      const size = prefix === 'u16be' ? 2 : 4;
      if (at + size > flat.length) return { frames, error: 'ERR_FRAME_INVALID' };
      const b = flat.subarray(at, at + size);
      at += size;
      length = prefix === 'u16be' ? b[0]! * 256 + b[1]! : prefix === 'u32be' ? ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0 : ((b[3]! << 24) | (b[2]! << 16) | (b[1]! << 8) | b[0]!) >>> 0;
    }
    if (length > max) return { frames, error: 'ERR_FRAME_TOO_LARGE' };
    if (at + length > flat.length) return { frames, error: 'ERR_FRAME_INVALID' };
    frames.push([...flat.subarray(at, at + length)]);
    pos = at + length;
  }
  return { frames };
}

function runFrames(chunks: Uint8Array[], prefix: FramePrefix, max: number, segment: number): Promise<Outcome> {
  return parseThroughSmallPipe(chunks, segment, (reader) => readFrames(reader, { prefix, maxFrameSize: max }), 'readFrames fuzz run').then(({ items, error }) => (error === undefined ? { frames: items } : { frames: items, error }));
}

function chunksOf(flat: Uint8Array, sizes: number[]): Uint8Array[] {
  const usable = sizes.some((size) => size > 0) ? sizes : [flat.length];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; offset < flat.length; i++) {
    // Zero sizes are empty flushes.
    const size = usable[i % usable.length]!;
    chunks.push(flat.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Arbitrary bytes, or well-formed frames followed by garbage and/or cut short. */
function inputArb(prefix: FramePrefix): fc.Arbitrary<Uint8Array> {
  const framed = fc
    .tuple(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), fc.uint8Array({ maxLength: 6 }), fc.integer({ min: 0, max: 8 }))
    .map(([payloads, garbage, cut]) => {
      const bytes = [...payloads.flatMap((payload) => [...encodePrefix(prefix, payload.length), ...payload]), ...garbage];
      return Uint8Array.from(bytes.slice(0, Math.max(0, bytes.length - cut)));
    });
  return fc.oneof(fc.uint8Array({ maxLength: 64 }), framed, framed);
}

describe('readFrames fuzz (fast-check, seed 7)', () => {
  for (const prefix of prefixes) {
    it(`${prefix}: any bytes, split anyhow: ends in bounded time and yields what the reference parser yields`, async () => {
      await fc.assert(
        fc.asyncProperty(
          inputArb(prefix),
          fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 }),
          fc.integer({ min: 0, max: 50 }),
          fc.integer({ min: 1, max: 7 }),
          async (flat, sizes, max, segment) => {
            const outcome = await runFrames(chunksOf(flat, sizes), prefix, max, segment);
            expect(outcome).toEqual(referenceFrames(flat, prefix, max));
          },
        ),
        { seed: 7, numRuns: 300 },
      );
    });
  }
});
