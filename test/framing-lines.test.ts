// readLines(reader, { maxLineLength }): '\n' and '\r\n' terminators, lines split at every byte boundary
// across segments and flushes, exact maxLineLength edges, early rejection of an endless line, the final
// unterminated line, and a seeded fast-check fuzz against a reference parser over the flat bytes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Pipe, readLines, type PipeReader, type ReadOnlySequence } from '../dist/src/index.js';
import { ascii, peek, TrackingPool, within, rejection, parseThroughSmallPipe, writeSmall } from './helpers.js';

const decoder = new TextDecoder();

/** Copies of every line readLines yields (each line is only valid until the next step). */
async function collectLines(reader: PipeReader, maxLineLength?: number): Promise<Uint8Array[]> {
  const lines: Uint8Array[] = [];
  for await (const line of readLines(reader, maxLineLength === undefined ? {} : { maxLineLength })) lines.push(line.toUint8Array());
  return lines;
}

async function linesOf(reader: PipeReader, maxLineLength?: number): Promise<string[]> {
  return (await within(collectLines(reader, maxLineLength))).map((line) => decoder.decode(line));
}

function segmentLengths(buffer: ReadOnlySequence): number[] {
  return [...buffer].map((segment) => segment.length);
}

const sample = 'alpha\nbe\r\n\n\r\ngamma delta\r\nx\nlast';
const sampleLines = ['alpha', 'be', '', '', 'gamma delta', 'x', 'last'];

describe('readLines terminators and the final line', () => {
  it("'\\n' and '\\r\\n' both end a line; the '\\r' is dropped; empty lines are yielded", async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write(sample));
    pipe.writer.complete();
    expect(await linesOf(pipe.reader)).toEqual(sampleLines);
  });

  it('a final unterminated line is yielded at the end of the stream, a trailing newline adds no empty line', async () => {
    for (const [text, expected] of [
      ['one\ntwo', ['one', 'two']],
      ['one\ntwo\n', ['one', 'two']],
      ['one\r\n', ['one']],
      ['\n', ['']],
      ['', []],
      ['solo', ['solo']],
      // A '\r' without '\n' is data, in the middle or at the very end.
      ['a\rb\nc\r', ['a\rb', 'c\r']],
    ] as const) {
      const pipe = new Pipe();
      await within(pipe.writer.write(text));
      pipe.writer.complete();
      expect(await linesOf(pipe.reader), JSON.stringify(text)).toEqual(expected);
    }
  });

  it('lines are yielded as they arrive and the iteration waits for the terminator', async () => {
    const pipe = new Pipe();
    const iterator = readLines(pipe.reader)[Symbol.asyncIterator]();
    await within(pipe.writer.write('first\r'));
    const next = iterator.next();
    expect((await peek(next)).state).toBe('pending');
    await within(pipe.writer.write('\nsec'));
    const first = await within(next);
    expect(first.done).toBe(false);
    expect(first.value!.toString()).toBe('first');
    const second = iterator.next();
    expect((await peek(second)).state).toBe('pending');
    await within(pipe.writer.write('ond\n'));
    expect((await within(second)).value!.toString()).toBe('second');
    const end = iterator.next();
    expect((await peek(end)).state).toBe('pending');
    pipe.writer.complete();
    expect((await within(end)).done).toBe(true);
  });

  it('readLines never completes the reader: the caller reads on after the iteration ended', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write('a\nb\n'));
    const iterator = readLines(pipe.reader)[Symbol.asyncIterator]();
    expect((await within(iterator.next())).value!.toString()).toBe('a');
    await within(iterator.return(undefined));
    // The rest is still there (unconsumed) for the next reader of the pipe: it was examined, so the
    // next read waits for more, here the writer's completion.
    pipe.writer.complete();
    const result = await within(pipe.reader.read());
    expect(result.buffer.toString()).toBe('b\n');
    expect(result.isCompleted).toBe(true);
    pipe.reader.advanceTo(result.buffer.end);
    pipe.reader.complete();
  });
});

describe('readLines across segments and flushes', () => {
  it('every split point of the input into two flushes gives the same lines', async () => {
    const data = ascii(sample);
    for (let cut = 0; cut <= data.length; cut++) {
      const pipe = new Pipe();
      const consumer = collectLines(pipe.reader);
      await within(pipe.writer.write(data.subarray(0, cut)));
      await within(pipe.writer.write(data.subarray(cut)));
      pipe.writer.complete();
      const lines = (await within(consumer)).map((line) => decoder.decode(line));
      expect(lines, `cut at ${cut}`).toEqual(sampleLines);
    }
  });

  it('segments of 1..7 bytes (minimumSegmentSize with an exact pool): lines span every segment boundary', async () => {
    const data = ascii(sample + '\n' + 'y'.repeat(40) + '\r\n' + 'z');
    const expected = [...sampleLines, 'y'.repeat(40), 'z'];
    for (let size = 1; size <= 7; size++) {
      for (let shift = 0; shift < size; shift++) {
        // `shift` leading bytes of a first line move every later boundary by one byte each time.
        const prefix = ascii('p'.repeat(shift) + '\n');
        const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: size });
        writeSmall(pipe.writer, prefix);
        writeSmall(pipe.writer, data);
        await within(pipe.writer.flush());
        pipe.writer.complete();
        // The writes really produced segments of `size` bytes.
        const peeked = pipe.reader.tryRead()!;
        expect(Math.max(...segmentLengths(peeked.buffer))).toBe(size);
        expect(segmentLengths(peeked.buffer).length).toBe(Math.ceil((prefix.length + data.length) / size));
        pipe.reader.advanceTo(peeked.buffer.start);
        const lines = await linesOf(pipe.reader);
        expect(lines, `segment size ${size}, shift ${shift}`).toEqual(['p'.repeat(shift), ...expected]);
      }
    }
  });

  it("a '\\r\\n' split between two flushes is one terminator, not a line ending in '\\r'", async () => {
    const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 1 });
    const consumer = collectLines(pipe.reader);
    for (const part of ['ab\r', '\n', 'cd', '\r', '\n', '\r', '\r\n']) {
      writeSmall(pipe.writer, ascii(part));
      await within(pipe.writer.flush());
    }
    pipe.writer.complete();
    expect((await within(consumer)).map((line) => decoder.decode(line))).toEqual(['ab', 'cd', '\r']);
  });
});

describe('readLines maxLineLength', () => {
  const max = 100;

  it('a line of exactly maxLineLength passes, with either terminator and as the final line', async () => {
    for (const text of ['x'.repeat(max) + '\n', 'x'.repeat(max) + '\r\n', 'x'.repeat(max)]) {
      const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 7 });
      writeSmall(pipe.writer, ascii(text));
      await within(pipe.writer.flush());
      pipe.writer.complete();
      expect(await linesOf(pipe.reader, max)).toEqual(['x'.repeat(max)]);
    }
  });

  it('maxLineLength + 1 rejects with ERR_FRAME_TOO_LARGE, terminated or final, after the earlier lines', async () => {
    for (const text of ['ok\n' + 'x'.repeat(max + 1) + '\n', 'ok\n' + 'x'.repeat(max + 1) + '\r\n', 'ok\n' + 'x'.repeat(max + 1)]) {
      const pipe = new Pipe();
      await within(pipe.writer.write(text));
      pipe.writer.complete();
      const seen: string[] = [];
      const error = await rejection(within((async () => {
        for await (const line of readLines(pipe.reader, { maxLineLength: max })) seen.push(line.toString());
      })()));
      expect(error.code, JSON.stringify(text.slice(-3))).toBe('ERR_FRAME_TOO_LARGE');
      expect(error.name).toBe('FrameTooLargeError');
      expect(seen).toEqual(['ok']);
    }
  });

  it("a final unterminated line of maxLineLength bytes plus a '\\r' is too long (the '\\r' is data there)", async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write('x'.repeat(max) + '\r'));
    pipe.writer.complete();
    const error = await rejection(within(collectLines(pipe.reader, max)));
    expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
  });

  it('maxLineLength + 1 bytes without a terminator yet may still become a max-length line ending in \\r\\n: no early rejection', async () => {
    const pipe = new Pipe();
    const consumer = collectLines(pipe.reader, max);
    await within(pipe.writer.write('x'.repeat(max) + '\r'));
    expect((await peek(consumer)).state).toBe('pending');
    await within(pipe.writer.write('\n'));
    pipe.writer.complete();
    expect((await within(consumer)).map((line) => decoder.decode(line))).toEqual(['x'.repeat(max)]);
  });

  it('an endless line rejects before the writer has sent more than about max + one chunk', async () => {
    const maxLineLength = 10_000;
    const chunk = new Uint8Array(1000).fill(0x78);
    // pause == chunk size: every write waits until readLines has examined it, so "sent" tracks what it saw.
    const pipe = new Pipe({ pauseWriterThreshold: chunk.length, resumeWriterThreshold: chunk.length });
    let sent = 0;
    let sentAtRejection = -1;
    const consumer = collectLines(pipe.reader, maxLineLength).then(
      () => {
        throw new Error('the endless line was accepted');
      },
      (error: Error & { code?: unknown }) => {
        sentAtRejection = sent;
        return error;
      },
    );
    const producer = (async () => {
      // At most 1 MB: far more than the limit, and bounded if the limit is never enforced.
      for (let i = 0; i < 1000 && sentAtRejection < 0; i++) {
        sent += chunk.length;
        const result = await pipe.writer.write(chunk);
        if (result.isCompleted) break;
      }
    })();
    const error = await within(consumer);
    expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
    expect(sentAtRejection).toBeGreaterThan(maxLineLength);
    expect(sentAtRejection).toBeLessThanOrEqual(maxLineLength + 1 + 2 * chunk.length);
    // The reader was not completed by readLines; completing it releases the producer.
    pipe.reader.complete();
    await within(producer);
    expect(sent).toBeLessThanOrEqual(maxLineLength + 1 + 3 * chunk.length);
    pipe.writer.complete();
  });
});

// ---- fuzzing against a reference parser

type Outcome = { lines: number[][]; error?: string };

/** The reference: split the flat bytes at '\n', drop one '\r' before it, a final unterminated line as is. */
function referenceLines(flat: Uint8Array, max: number): Outcome {
  const lines: number[][] = [];
  let start = 0;
  for (let i = 0; i < flat.length; i++) {
    if (flat[i] !== 0x0a) continue;
    let end = i;
    if (end > start && flat[end - 1] === 0x0d) end--;
    if (end - start > max) return { lines, error: 'ERR_FRAME_TOO_LARGE' };
    lines.push([...flat.subarray(start, end)]);
    start = i + 1;
  }
  if (flat.length - start > max) return { lines, error: 'ERR_FRAME_TOO_LARGE' };
  if (flat.length > start) lines.push([...flat.subarray(start)]);
  return { lines };
}

function runLines(chunks: Uint8Array[], max: number, segment: number): Promise<Outcome> {
  return parseThroughSmallPipe(chunks, segment, (reader) => readLines(reader, { maxLineLength: max }), 'readLines fuzz run').then(({ items, error }) => (error === undefined ? { lines: items } : { lines: items, error }));
}

function chunksOf(flat: Uint8Array, sizes: number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const usable = sizes.some((size) => size > 0) ? sizes : [flat.length];
  for (let i = 0; offset < flat.length; i++) {
    // Zero sizes are empty flushes.
    const size = usable[i % usable.length]!;
    chunks.push(flat.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

describe('readLines fuzz (fast-check, seed 7)', () => {
  it('any bytes, split anyhow: ends in bounded time and yields what the reference parser yields', async () => {
    const byte = fc.oneof(fc.constant(0x0a), fc.constant(0x0d), fc.constant(0x61), fc.integer({ min: 0, max: 255 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(byte, { maxLength: 120 }).map((values) => Uint8Array.from(values)),
        fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 7 }),
        async (flat, sizes, max, segment) => {
          const outcome = await runLines(chunksOf(flat, sizes), max, segment);
          expect(outcome).toEqual(referenceLines(flat, max));
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});
