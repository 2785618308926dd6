// readFrames(reader, { prefix, maxFrameSize }) and writeFrame(writer, payload, prefix): round trips for
// the four prefixes at their size edges, the exact prefix encodings, maxFrameSize edges, ERR_FRAME_TOO_LARGE
// as soon as the prefix is known, ERR_FRAME_INVALID for a stream ending inside a frame or a bad varint, a
// frame larger than a SharedPipe's ring, and a seeded fast-check fuzz against a reference parser, each
// in the three forms (readFrames, readFrameBatches, forEachFrame); then what the forms differ in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  forEachFrame,
  Pipe,
  readFrameBatches,
  readFrames,
  SharedPipe,
  writeFrame,
  type FramePrefix,
  type PipeReader,
  type ReadFramesOptions,
  type ReadOnlySequence,
} from '../dist/src/index.js';
import { collect, framingForms, itemsOf, type Framing, type FramingForm } from './framing-forms.js';
import { ForwardingReader, peek, rejectedWithin, seededRandom, TrackingPool, within, rejection, parseThroughSmallPipe, readAll, expectSameBytes, writeSmall } from './helpers.js';

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

function frameFraming(options: ReadFramesOptions): Framing {
  return {
    each: (reader) => readFrames(reader, options),
    batches: (reader) => readFrameBatches(reader, options),
    forEach: (reader, onFrame) => forEachFrame(reader, onFrame, options),
  };
}

/** Copies of every payload `form` yields (a payload is only valid until the next step). */
function collectFrames(reader: PipeReader, prefix: FramePrefix, maxFrameSize: number, form: FramingForm = 'for await'): Promise<Uint8Array[]> {
  return collect(form, frameFraming({ prefix, maxFrameSize }), reader);
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

describe.each(framingForms)('readFrames / writeFrame round trips (%s)', (form) => {
  for (const prefix of prefixes) {
    it(`${prefix}: sizes ${[...edgeSizes, ...(prefix === 'u16be' ? [] : largeSizes)].join(', ')} round-trip byte for byte`, async () => {
      const sizes = [...edgeSizes, ...(prefix === 'u16be' ? [] : largeSizes), 0, 1];
      const payloads = sizes.map((size, i) => payloadOf(size, 100 + i));
      const pipe = new Pipe();
      const consumer = collectFrames(pipe.reader, prefix, prefixLimit[prefix], form);
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
      const frames = await within(collectFrames(pipe.reader, prefix, 1000, form));
      expect(frames.length, prefix).toBe(payloads.length);
      frames.forEach((frame, i) => expectSameBytes(frame, payloads[i]!, `${prefix} frame ${i}`));
    }
  });

});

describe('readFrames steps', () => {
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

describe.each(framingForms)('readFrames maxFrameSize (%s)', (form) => {
  for (const prefix of prefixes) {
    it(`${prefix}: a frame of exactly maxFrameSize passes, maxFrameSize + 1 rejects with ERR_FRAME_TOO_LARGE`, async () => {
      for (const max of [0, 100, 16384]) {
        const pipe = new Pipe();
        const consumer = collectFrames(pipe.reader, prefix, max, form);
        writeFrame(pipe.writer, payloadOf(max, 1), prefix);
        await within(pipe.writer.flush());
        pipe.writer.complete();
        const frames = await within(consumer);
        expect(frames.length).toBe(1);
        expectSameBytes(frames[0]!, payloadOf(max, 1), `${prefix} max ${max}`);

        const over = new Pipe();
        const seen: number[] = [];
        const failing = within((async () => {
          for await (const frame of itemsOf(form, frameFraming({ prefix, maxFrameSize: max }), over.reader)) seen.push(frame.length);
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

describe.each(framingForms)('readFrames malformed input (%s)', (form) => {
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
          for await (const frame of itemsOf(form, frameFraming({ prefix, maxFrameSize: 1000 }), pipe.reader)) seen.push([...frame.toUint8Array()]);
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
      const error = await rejection(within(collectFrames(pipe.reader, 'varint', 0xffffffff, form)));
      expect(error.code, JSON.stringify(header)).toBe('ERR_FRAME_INVALID');
    }
    // 2^32 - 1 in 5 bytes is a valid length (here over the limit).
    const pipe = new Pipe();
    await within(pipe.writer.write(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])));
    const error = await rejection(within(collectFrames(pipe.reader, 'varint', 100, form)));
    expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
    expect((error as { size?: unknown }).size).toBe(0xffffffff);
  });

  it('a canceled read ends the iteration with an AbortError', async () => {
    const pipe = new Pipe();
    const next = collectFrames(pipe.reader, 'u16be', 10, form);
    pipe.reader.cancelPendingRead();
    const error = await rejection(within(next));
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');
  });
});

describe.each(framingForms)('readFrames over a SharedPipe (capacity 4096, %s)', (form) => {
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
        const frames = collectFrames(pipe.reader, prefix, 65535, form);
        const header = encodePrefix(prefix, 4096);
        await within(pipe.writer.write(Uint8Array.from([...header, 1, 2, 3])));
        const error = await rejection(within(frames, 2_000));
        expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
      });
    });
  }

  it('u32be: a frame of exactly capacity - prefix bytes fits and round-trips; one byte more does not', async () => {
    await withRing(async (pipe) => {
      const payload = payloadOf(4096 - 4, 9);
      const consumer = collectFrames(pipe.reader, 'u32be', 1 << 20, form);
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
      const frames = collectFrames(pipe.reader, 'u32be', 1 << 20, form);
      await within(pipe.writer.write(Uint8Array.from(encodePrefix('u32be', 4096 - 3))));
      const error = await rejection(within(frames, 2_000));
      expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
    });
  });

  it('frames written with writeFrame into the ring round-trip in order (with flushes between)', async () => {
    await withRing(async (pipe) => {
      const payloads = Array.from({ length: 200 }, (_, i) => payloadOf((i * 37) % 1500, i));
      const consumer = collectFrames(pipe.reader, 'varint', 2000, form);
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

function runFrames(chunks: Uint8Array[], prefix: FramePrefix, max: number, segment: number, form: FramingForm): Promise<Outcome> {
  return parseThroughSmallPipe(chunks, segment, (reader) => itemsOf(form, frameFraming({ prefix, maxFrameSize: max }), reader), `readFrames fuzz run (${form})`).then(({ items, error }) => (error === undefined ? { frames: items } : { frames: items, error }));
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

describe.each(framingForms)('readFrames fuzz (fast-check, seed 7, %s)', (form) => {
  for (const prefix of prefixes) {
    it(`${prefix}: any bytes, split anyhow: ends in bounded time and yields what the reference parser yields`, async () => {
      await fc.assert(
        fc.asyncProperty(
          inputArb(prefix),
          fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 }),
          fc.integer({ min: 0, max: 50 }),
          fc.integer({ min: 1, max: 7 }),
          async (flat, sizes, max, segment) => {
            const outcome = await runFrames(chunksOf(flat, sizes), prefix, max, segment, form);
            expect(outcome).toEqual(referenceFrames(flat, prefix, max));
          },
        ),
        { seed: 7, numRuns: 300 },
      );
    });
  }
});

// ---- what the forms differ in

/** The bytes of `payloads` framed with `prefix`, in one array. */
function framed(prefix: FramePrefix, payloads: Uint8Array[]): Uint8Array {
  return Uint8Array.from(payloads.flatMap((payload) => [...encodePrefix(prefix, payload.length), ...payload]));
}

/** Reads what is buffered now; fails unless the read settles at once (the bytes were left unexamined). */
async function bytesNow(reader: PipeReader): Promise<number[]> {
  const read = await peek(reader.read());
  if (read.state !== 'fulfilled') throw new Error(`expected the read to settle at once, it is ${read.state}`);
  const bytes = [...read.value.buffer.toUint8Array()];
  reader.advanceTo(read.value.buffer.end);
  return bytes;
}

describe.each(framingForms)('readFrames: every split point into two flushes (%s)', (form) => {
  for (const prefix of prefixes) {
    it(`${prefix}: frames of 0, 1, 2 and 130 bytes cut at every byte come out whole`, async () => {
      const payloads = [0, 1, 2, 130, 0].map((size, i) => payloadOf(size, 40 + i));
      const data = framed(prefix, payloads);
      for (let cut = 0; cut <= data.length; cut++) {
        const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 3 });
        const consumer = collectFrames(pipe.reader, prefix, 1000, form);
        await within(pipe.writer.write(data.subarray(0, cut)));
        await within(pipe.writer.write(data.subarray(cut)));
        pipe.writer.complete();
        const frames = await within(consumer);
        expect(frames.length, `cut at ${cut}`).toBe(payloads.length);
        frames.forEach((frame, i) => expectSameBytes(frame, payloads[i]!, `${prefix} cut ${cut} frame ${i}`));
      }
    });
  }
});

describe('readFrames fast forms', () => {
  it('500 frames flushed at once cost one read() in every form; batches: one batch of all 500', async () => {
    const payloads = Array.from({ length: 500 }, (_, i) => payloadOf(i % 50, i));
    for (const form of framingForms) {
      const pipe = new Pipe();
      await within(pipe.writer.write(framed('varint', payloads)));
      pipe.writer.complete();
      const reader = new ForwardingReader(pipe.reader);
      const frames = await within(collectFrames(reader, 'varint', 100, form));
      expect(frames.length, form).toBe(500);
      frames.forEach((frame, i) => expectSameBytes(frame, payloads[i]!, `${form} frame ${i}`));
      expect(reader.reads, form).toBe(1);
    }
    const pipe = new Pipe();
    await within(pipe.writer.write(framed('u16be', payloads)));
    pipe.writer.complete();
    const sizes: number[] = [];
    for await (const batch of readFrameBatches(pipe.reader, { prefix: 'u16be', maxFrameSize: 100 })) sizes.push(batch.length);
    expect(sizes).toEqual([500]);
  });

  it('forEachFrame: returning false stops after that frame, the rest is left unexamined and a second loop goes on', async () => {
    const payloads = [payloadOf(3, 1), payloadOf(4, 2), payloadOf(5, 3)];
    const pipe = new Pipe();
    await within(pipe.writer.write(framed('u32le', payloads)));
    const options = { prefix: 'u32le', maxFrameSize: 100 } as const;
    const first: number[][] = [];
    await within(forEachFrame(pipe.reader, (frame) => {
      first.push([...frame.toUint8Array()]);
      return false;
    }, options));
    expect(first).toEqual([[...payloads[0]!]]);
    const rest: number[][] = [];
    const more = forEachFrame(pipe.reader, (frame) => void rest.push([...frame.toUint8Array()]), options);
    pipe.writer.complete();
    await within(more);
    expect(rest).toEqual([[...payloads[1]!], [...payloads[2]!]]);
  });

  it('forEachFrame: what the callback throws rejects the loop; that frame is consumed and the reader reads on at once', async () => {
    const payloads = [payloadOf(3, 1), payloadOf(4, 2)];
    const pipe = new Pipe();
    await within(pipe.writer.write(framed('u16be', payloads)));
    const failure = new RangeError('unwanted frame');
    const error = await rejection(within(forEachFrame(pipe.reader, () => {
      throw failure;
    }, { prefix: 'u16be', maxFrameSize: 100 })));
    expect(error).toBe(failure);
    expect(await bytesNow(pipe.reader)).toEqual([...framed('u16be', [payloads[1]!])]);
  });

  it('forEachFrame: an abort while waiting rejects with an AbortError; an oversize frame rejects after the frames before it', async () => {
    const pipe = new Pipe();
    const controller = new AbortController();
    const seen: number[] = [];
    const loop = forEachFrame(pipe.reader, (frame) => void seen.push(frame.length), { prefix: 'u16be', maxFrameSize: 10, signal: controller.signal });
    await within(pipe.writer.write(framed('u16be', [payloadOf(2, 1)])));
    expect((await peek(loop)).state).toBe('pending');
    controller.abort();
    const aborted = await rejectedWithin(loop);
    expect(aborted.code).toBe('ABORT_ERR');
    expect(seen).toEqual([2]);

    await within(pipe.writer.write(framed('u16be', [payloadOf(3, 2), payloadOf(11, 3)])));
    const tooLarge = await rejectedWithin(forEachFrame(pipe.reader, (frame) => void seen.push(frame.length), { prefix: 'u16be', maxFrameSize: 10 }));
    expect(tooLarge.code).toBe('ERR_FRAME_TOO_LARGE');
    expect(seen).toEqual([2, 3]);
  });

  it('readFrameBatches: the frames before a cut-short one come as a batch; the next step rejects with ERR_FRAME_INVALID', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write(Uint8Array.from([...framed('u16be', [payloadOf(2, 1), payloadOf(1, 2)]), 0x00, 0x05, 1])));
    pipe.writer.complete();
    const iterator = readFrameBatches(pipe.reader, { prefix: 'u16be', maxFrameSize: 10 })[Symbol.asyncIterator]();
    const batch = (await within(iterator.next())).value!;
    expect(batch.map((frame) => frame.length)).toEqual([2, 1]);
    expect((await rejection(within(iterator.next()))).code).toBe('ERR_FRAME_INVALID');
    expect((await within(iterator.next())).done).toBe(true);
    // The whole frames were consumed, the cut-short one was not.
    expect(await bytesNow(pipe.reader)).toEqual([0x00, 0x05, 1]);
  });

  it('readFrameBatches: break releases the reader; the frames of the batch are consumed, a partial frame stays', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write(Uint8Array.from([...framed('varint', [payloadOf(2, 1)]), 0x03, 9])));
    for await (const batch of readFrameBatches(pipe.reader, { prefix: 'varint', maxFrameSize: 10 })) {
      expect(batch.length).toBe(1);
      break;
    }
    await within(pipe.writer.write(Uint8Array.from([8, 7])));
    pipe.writer.complete();
    const rest = await within(pipe.reader.read());
    expect([...rest.buffer.toUint8Array()]).toEqual([0x03, 9, 8, 7]);
    pipe.reader.advanceTo(rest.buffer.end);
  });
});

describe('a payload within one segment is a single-segment sequence', () => {
  it('a payload whose prefix ends a segment starts at the next one', async () => {
    for (const form of framingForms) {
      // Segments of 4 bytes: [0 2 1 2] | [0 0 0 4] | [5 6 7 8]: payloads [1 2], [], [5 6 7 8].
      const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 4 });
      writeSmall(pipe.writer, Uint8Array.from([0, 2, 1, 2, 0, 0, 0, 4, 5, 6, 7, 8]));
      await within(pipe.writer.flush());
      pipe.writer.complete();
      const shapes: [number[], number][] = [];
      // The payload and how many chunks its sequence has.
      const record = (frame: ReadOnlySequence): void => void shapes.push([[...frame.toUint8Array()], frame.length === 0 ? 0 : [...frame].length]);
      if (form === 'callback') await within(forEachFrame(pipe.reader, record, { prefix: 'u16be', maxFrameSize: 10 }));
      else for await (const frame of itemsOf(form, frameFraming({ prefix: 'u16be', maxFrameSize: 10 }), pipe.reader)) record(frame);
      expect(shapes, form).toEqual([
        [[1, 2], 1],
        [[], 0],
        [[5, 6, 7, 8], 1],
      ]);
    }
  });
});
