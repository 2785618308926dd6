// readLines(reader, { maxLineLength }) and its two fast forms, readLineBatches (one step per read) and
// forEachLine (a callback per line): '\n' and '\r\n' terminators, lines split at every byte boundary
// across segments and flushes, exact maxLineLength edges, early rejection of an endless line, the final
// unterminated line, and a seeded fast-check fuzz against a reference parser over the flat bytes, each
// in all three forms; then what the forms differ in: steps per read, stopping, errors from the
// callback, signals, and how each leaves the reader.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forEachLine, Pipe, readLineBatches, readLines, SharedPipe, type PipeReader, type ReadLinesOptions, type ReadOnlySequence } from '../dist/src/index.js';
import { collect, framingForms, itemsOf, type Framing, type FramingForm } from './framing-forms.js';
import { ascii, ForwardingReader, peek, rejectedWithin, seededRandom, TrackingPool, within, rejection, parseThroughSmallPipe, writeSmall } from './helpers.js';

const decoder = new TextDecoder();

function lineFraming(options: ReadLinesOptions = {}): Framing {
  return {
    each: (reader) => readLines(reader, options),
    batches: (reader) => readLineBatches(reader, options),
    forEach: (reader, onLine) => forEachLine(reader, onLine, options),
  };
}

/** Copies of every line `form` yields (each line is only valid until the next step). */
function collectLines(reader: PipeReader, maxLineLength?: number, form: FramingForm = 'for await'): Promise<Uint8Array[]> {
  return collect(form, lineFraming(maxLineLength === undefined ? {} : { maxLineLength }), reader);
}

async function linesOf(reader: PipeReader, maxLineLength?: number, form: FramingForm = 'for await'): Promise<string[]> {
  return (await within(collectLines(reader, maxLineLength, form))).map((line) => decoder.decode(line));
}

function segmentLengths(buffer: ReadOnlySequence): number[] {
  return [...buffer].map((segment) => segment.length);
}

const sample = 'alpha\nbe\r\n\n\r\ngamma delta\r\nx\nlast';
const sampleLines = ['alpha', 'be', '', '', 'gamma delta', 'x', 'last'];

describe.each(framingForms)('readLines terminators and the final line (%s)', (form) => {
  it("'\\n' and '\\r\\n' both end a line; the '\\r' is dropped; empty lines are yielded", async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write(sample));
    pipe.writer.complete();
    expect(await linesOf(pipe.reader, undefined, form)).toEqual(sampleLines);
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
      expect(await linesOf(pipe.reader, undefined, form), JSON.stringify(text)).toEqual(expected);
    }
  });
});

describe('readLines steps', () => {

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

describe.each(framingForms)('readLines across segments and flushes (%s)', (form) => {
  it('every split point of the input into two flushes gives the same lines', async () => {
    const data = ascii(sample);
    for (let cut = 0; cut <= data.length; cut++) {
      const pipe = new Pipe();
      const consumer = collectLines(pipe.reader, undefined, form);
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
        const lines = await linesOf(pipe.reader, undefined, form);
        expect(lines, `segment size ${size}, shift ${shift}`).toEqual(['p'.repeat(shift), ...expected]);
      }
    }
  });

  it("a '\\r\\n' split between two flushes is one terminator, not a line ending in '\\r'", async () => {
    const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 1 });
    const consumer = collectLines(pipe.reader, undefined, form);
    for (const part of ['ab\r', '\n', 'cd', '\r', '\n', '\r', '\r\n']) {
      writeSmall(pipe.writer, ascii(part));
      await within(pipe.writer.flush());
    }
    pipe.writer.complete();
    expect((await within(consumer)).map((line) => decoder.decode(line))).toEqual(['ab', 'cd', '\r']);
  });
});

describe.each(framingForms)('readLines maxLineLength (%s)', (form) => {
  const max = 100;

  it('a line of exactly maxLineLength passes, with either terminator and as the final line', async () => {
    for (const text of ['x'.repeat(max) + '\n', 'x'.repeat(max) + '\r\n', 'x'.repeat(max)]) {
      const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 7 });
      writeSmall(pipe.writer, ascii(text));
      await within(pipe.writer.flush());
      pipe.writer.complete();
      expect(await linesOf(pipe.reader, max, form)).toEqual(['x'.repeat(max)]);
    }
  });

  it('maxLineLength + 1 rejects with ERR_FRAME_TOO_LARGE, terminated or final, after the earlier lines', async () => {
    for (const text of ['ok\n' + 'x'.repeat(max + 1) + '\n', 'ok\n' + 'x'.repeat(max + 1) + '\r\n', 'ok\n' + 'x'.repeat(max + 1)]) {
      const pipe = new Pipe();
      await within(pipe.writer.write(text));
      pipe.writer.complete();
      const seen: string[] = [];
      const error = await rejection(within((async () => {
        for await (const line of itemsOf(form, lineFraming({ maxLineLength: max }), pipe.reader)) seen.push(line.toString());
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
    const error = await rejection(within(collectLines(pipe.reader, max, form)));
    expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
  });

  it('maxLineLength + 1 bytes without a terminator yet may still become a max-length line ending in \\r\\n: no early rejection', async () => {
    const pipe = new Pipe();
    const consumer = collectLines(pipe.reader, max, form);
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
    const consumer = collectLines(pipe.reader, maxLineLength, form).then(
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

describe.each(framingForms)('readLines over a SharedPipe (capacity 4096, %s)', (form) => {
  it('seeded lines of 0..99 bytes, both terminators, in random writes and in a write per line, around the ring many times: every line comes out as sent', async () => {
    // Lines in shared memory are searched four bytes at a time: every length and start alignment, and
    // terminators on both sides of the wrap, go through that search.
    const random = seededRandom(11);
    const expected: string[] = [];
    let text = '';
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(random() * 100);
      let line = '';
      for (let j = 0; j < length; j++) line += String.fromCharCode(random() < 0.05 ? 0x0d : 0x20 + Math.floor(random() * 90));
      const terminator = random() < 0.5 ? '\r\n' : '\n';
      // A '\r' that ends the bytes before a lone '\n' makes a "\r\n" terminator: it is dropped.
      expected.push(terminator === '\n' && line.endsWith('\r') ? line.slice(0, -1) : line);
      text += line + terminator;
    }
    const data = ascii(text);
    // Random writes; then a write per line that waits until the reader examined it (pause at 1
    // byte), so each read ends just after its '\n', which lands in the last, partial word of the read
    // at every alignment.
    const randomCuts: number[] = [];
    for (let offset = 0; offset < data.length;) {
      offset = Math.min(data.length, offset + 1 + Math.floor(random() * 700));
      randomCuts.push(offset);
    }
    const lineCuts: number[] = [];
    for (let at = data.indexOf(0x0a) + 1; at > 0; at = data.indexOf(0x0a, at) + 1) lineCuts.push(at);
    for (const [cuts, options] of [[randomCuts, {}], [lineCuts, { pauseWriterThreshold: 1, resumeWriterThreshold: 1 }]] as const) {
      const pipe = new SharedPipe({ capacity: 4096, ...options });
      const consumer = linesOf(pipe.reader, 200, form);
      const producer = (async () => {
        let offset = 0;
        for (const cut of cuts) {
          await pipe.writer.write(data.subarray(offset, cut));
          offset = cut;
        }
        pipe.writer.complete();
      })();
      const [lines] = await within(Promise.all([consumer, producer]), 10_000);
      expect(lines.length).toBe(expected.length);
      expect(lines).toEqual(expected);
      pipe.reader.complete();
    }
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

function runLines(chunks: Uint8Array[], max: number, segment: number, form: FramingForm): Promise<Outcome> {
  return parseThroughSmallPipe(chunks, segment, (reader) => itemsOf(form, lineFraming({ maxLineLength: max }), reader), `readLines fuzz run (${form})`).then(({ items, error }) => (error === undefined ? { lines: items } : { lines: items, error }));
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

describe.each(framingForms)('readLines fuzz (fast-check, seed 7, %s)', (form) => {
  it('any bytes, split anyhow: ends in bounded time and yields what the reference parser yields', async () => {
    const byte = fc.oneof(fc.constant(0x0a), fc.constant(0x0d), fc.constant(0x61), fc.integer({ min: 0, max: 255 }));
    await fc.assert(
      fc.asyncProperty(
        fc.array(byte, { maxLength: 120 }).map((values) => Uint8Array.from(values)),
        fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 12 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 1, max: 7 }),
        async (flat, sizes, max, segment) => {
          const outcome = await runLines(chunksOf(flat, sizes), max, segment, form);
          expect(outcome).toEqual(referenceLines(flat, max));
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });
});

// ---- what the forms differ in

/** `count` lines "line <i>\n" as one string. */
function numbered(count: number, from = 0): string {
  let text = '';
  for (let i = from; i < from + count; i++) text += `line ${i}\n`;
  return text;
}

/** Completes the writer and reads what is left. */
async function restAtCompletion(pipe: Pipe): Promise<string> {
  pipe.writer.complete();
  const result = await within(pipe.reader.read());
  const text = result.buffer.toString();
  pipe.reader.advanceTo(result.buffer.end);
  return text;
}

/** Reads what is buffered now; fails unless the read settles at once (the bytes were left unexamined). */
async function readNow(reader: PipeReader): Promise<string> {
  const read = await peek(reader.read());
  if (read.state !== 'fulfilled') throw new Error(`expected the read to settle at once, it is ${read.state}`);
  const text = read.value.buffer.toString();
  reader.advanceTo(read.value.buffer.end);
  return text;
}

describe('one await per read: every complete line of a read is parsed from that read', () => {
  it('1000 lines flushed at once cost one read() in every form; batches: one batch of all 1000', async () => {
    for (const form of framingForms) {
      const pipe = new Pipe();
      await within(pipe.writer.write(numbered(1000)));
      pipe.writer.complete();
      const reader = new ForwardingReader(pipe.reader);
      expect(await linesOfForm(reader, form), form).toEqual(numbered(1000).split('\n').slice(0, -1));
      // The read that found the lines also reported the writer's completion.
      expect(reader.reads, form).toBe(1);
    }
    const pipe = new Pipe();
    await within(pipe.writer.write(numbered(1000)));
    pipe.writer.complete();
    const sizes: number[] = [];
    for await (const batch of readLineBatches(pipe.reader)) sizes.push(batch.length);
    expect(sizes).toEqual([1000]);
  });

  it('forEachLine calls back for all lines of a read before any other microtask runs', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write(numbered(50)));
    pipe.writer.complete();
    let microtaskRan = false;
    const seenBeforeMicrotask: number[] = [];
    await within(forEachLine(pipe.reader, (line) => {
      if (seenBeforeMicrotask.length === 0) queueMicrotask(() => (microtaskRan = true));
      if (!microtaskRan) seenBeforeMicrotask.push(line.length);
    }));
    expect(microtaskRan).toBe(true);
    expect(seenBeforeMicrotask.length).toBe(50);
  });

  it('readLineBatches yields the same array object each step, refilled with that read\'s lines', async () => {
    const pipe = new Pipe();
    const iterator = readLineBatches(pipe.reader)[Symbol.asyncIterator]();
    await within(pipe.writer.write('a\nb\nc\npart'));
    const first = (await within(iterator.next())).value!;
    expect(first.map((line) => line.toString())).toEqual(['a', 'b', 'c']);
    await within(pipe.writer.write('ial\nd\n'));
    const second = (await within(iterator.next())).value!;
    expect(second).toBe(first);
    expect(second.map((line) => line.toString())).toEqual(['partial', 'd']);
    pipe.writer.complete();
    expect((await within(iterator.next())).done).toBe(true);
  });

  it('a partial line is not searched again from its start on the next read: lines still come out right across many small writes', async () => {
    const long = 'y'.repeat(5000);
    const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 16 });
    const consumer = linesOfForm(pipe.reader, 'callback', 10_000);
    const data = ascii(`${long}\r\n${long}\nshort\r`);
    // 13-byte flushes put the '\r' of the first terminator, and its '\n', at every kind of boundary.
    for (let offset = 0; offset < data.length; offset += 13) {
      writeSmall(pipe.writer, data.subarray(offset, offset + 13));
      await within(pipe.writer.flush());
    }
    pipe.writer.complete();
    expect(await within(consumer)).toEqual([long, long, 'short\r']);
  });
});

describe('forEachLine stopping and failing', () => {
  it('returning false stops after that line: the promise resolves, the rest is left unexamined and a second loop goes on', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write('one\ntwo\nthree\nfour\npar'));
    const seen: string[] = [];
    await within(forEachLine(pipe.reader, (line) => {
      seen.push(line.toString());
      return seen.length < 2 ? undefined : false;
    }));
    expect(seen).toEqual(['one', 'two']);
    const rest: string[] = [];
    const more = forEachLine(pipe.reader, (line) => void rest.push(line.toString()));
    await within(pipe.writer.write('tial\n'));
    pipe.writer.complete();
    await within(more);
    expect(rest).toEqual(['three', 'four', 'partial']);
  });

  it('after a stop the reader is free: its next read settles at once with what was not consumed', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write('a\nb\nc'));
    await within(forEachLine(pipe.reader, () => false));
    expect(await readNow(pipe.reader)).toBe('b\nc');
    pipe.writer.complete();
    pipe.reader.complete();
  });

  it('a stop before what the caller had examined earlier keeps that examined (it cannot move back) and still resolves', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write('a\nb\n'));
    const peeked = await within(pipe.reader.read());
    pipe.reader.advanceTo(peeked.buffer.start, peeked.buffer.end);
    await within(pipe.writer.write('c\n'));
    const seen: string[] = [];
    await within(forEachLine(pipe.reader, (line) => {
      seen.push(line.toString());
      return false;
    }));
    expect(seen).toEqual(['a']);
    expect(await restAtCompletion(pipe)).toBe('b\nc\n');
  });

  it('an error thrown by the callback rejects the loop with that error; the line counts as consumed, the rest is read at once', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write('a\nb\nc\nd'));
    const failure = new Error('bad line');
    const seen: string[] = [];
    const error = await rejection(within(forEachLine(pipe.reader, (line) => {
      seen.push(line.toString());
      if (line.toString() === 'b') throw failure;
    })));
    expect(error).toBe(failure);
    expect(seen).toEqual(['a', 'b']);
    // Not completed by the loop: the writer goes on, and the reader reads on from 'c'.
    expect((await within(pipe.writer.write('\n'))).isCompleted).toBe(false);
    expect(await readNow(pipe.reader)).toBe('c\nd\n');
    pipe.writer.complete();
    pipe.reader.complete();
  });

  it('a callback that returns a promise rejects the loop with ERR_INVALID_ARG_VALUE naming onLine', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write('a\nb\n'));
    const error = await rejection(within(forEachLine(pipe.reader, async () => {})));
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(error.message).toContain("'onLine'");
    expect(await readNow(pipe.reader)).toBe('b\n');
  });

  it('an oversize line rejects after the callback saw the lines before it; they are consumed, the long one is not', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write(`ok\n${'x'.repeat(11)}\nnext\n`));
    const seen: string[] = [];
    const error = await rejection(within(forEachLine(pipe.reader, (line) => void seen.push(line.toString()), { maxLineLength: 10 })));
    expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
    expect(seen).toEqual(['ok']);
    expect(await restAtCompletion(pipe)).toBe(`${'x'.repeat(11)}\nnext\n`);
  });
});

describe('signals', () => {
  it('forEachLine: an abort while waiting for data rejects with an AbortError carrying the reason; the reader reads on', async () => {
    const pipe = new Pipe();
    const controller = new AbortController();
    const seen: string[] = [];
    const loop = forEachLine(pipe.reader, (line) => void seen.push(line.toString()), { signal: controller.signal });
    await within(pipe.writer.write('a\n'));
    expect((await peek(loop)).state).toBe('pending');
    const reason = new Error('stop now');
    controller.abort(reason);
    const error = await rejectedWithin(loop);
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');
    expect(error.cause).toBe(reason);
    expect(seen).toEqual(['a']);
    await within(pipe.writer.write('b\n'));
    expect(await readNow(pipe.reader)).toBe('b\n');
  });

  it('forEachLine: an abort from inside the callback stops after that line; the rest stays unexamined', async () => {
    const pipe = new Pipe();
    const controller = new AbortController();
    await within(pipe.writer.write('a\nb\nc\n'));
    const seen: string[] = [];
    const error = await rejectedWithin(forEachLine(pipe.reader, (line) => {
      seen.push(line.toString());
      controller.abort();
    }, { signal: controller.signal }));
    expect(error.code).toBe('ABORT_ERR');
    expect(seen).toEqual(['a']);
    expect(await readNow(pipe.reader)).toBe('b\nc\n');
  });

  it('a signal aborted before the call rejects every form at its first step and consumes nothing', async () => {
    for (const form of framingForms) {
      const pipe = new Pipe();
      await within(pipe.writer.write('a\nb\n'));
      const error = await rejectedWithin(collect(form, lineFraming({ signal: AbortSignal.abort() }), pipe.reader));
      expect(error.code, form).toBe('ABORT_ERR');
      expect(await readNow(pipe.reader), form).toBe('a\nb\n');
    }
  });

  it('readLines and readLineBatches: an abort while a step waits rejects that step; an abort between steps rejects the next one', async () => {
    for (const form of ['for await', 'batches'] as const) {
      const pipe = new Pipe();
      const controller = new AbortController();
      const framing = lineFraming({ signal: controller.signal });
      const iterator = (form === 'for await' ? framing.each(pipe.reader) : framing.batches(pipe.reader))[Symbol.asyncIterator]();
      const waiting = iterator.next();
      expect((await peek(waiting)).state).toBe('pending');
      controller.abort();
      expect((await rejectedWithin(waiting)).code, form).toBe('ABORT_ERR');

      const second = new Pipe();
      const later = new AbortController();
      await within(second.writer.write('a\nb\n'));
      const lines = lineFraming({ signal: later.signal }).each(second.reader)[Symbol.asyncIterator]();
      expect((await within(lines.next())).value!.toString()).toBe('a');
      later.abort();
      expect((await rejectedWithin(lines.next())).code).toBe('ABORT_ERR');
      // 'a' was handed out and is consumed; 'b' was not (it was examined, as when a loop is left).
      expect(await restAtCompletion(second)).toBe('b\n');
    }
  });
});

describe('leaving a loop early releases the reader', () => {
  it('break out of readLineBatches: the batch is consumed, the reader was advanced and reads on', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write('a\nb\npart'));
    for await (const batch of readLineBatches(pipe.reader)) {
      expect(batch.map((line) => line.toString())).toEqual(['a', 'b']);
      break;
    }
    // Advanced (no ERR_PIPE_READ_PENDING), the partial line kept; it was examined, so the read waits for more.
    const read = pipe.reader.read();
    expect((await peek(read)).state).toBe('pending');
    await within(pipe.writer.write('ial\n'));
    const result = await within(read);
    expect(result.buffer.toString()).toBe('partial\n');
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('readLines: next() calls made while a step waits run after it, in order; return() then advances the reader', async () => {
    const pipe = new Pipe();
    const iterator = readLines(pipe.reader)[Symbol.asyncIterator]();
    const first = iterator.next();
    const second = iterator.next();
    const ended = iterator.return(undefined);
    await within(pipe.writer.write('a\nb\nc\n'));
    expect((await within(first)).value!.toString()).toBe('a');
    expect((await within(second)).value!.toString()).toBe('b');
    expect(await within(ended)).toEqual({ value: undefined, done: true });
    expect((await within(iterator.next())).done).toBe(true);
    expect(await restAtCompletion(pipe)).toBe('c\n');
  });

  it('readLines: throw() ends the loop with that error and advances the reader; a failed step ends it too', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write('a\nb\n'));
    const iterator = readLines(pipe.reader)[Symbol.asyncIterator]();
    expect((await within(iterator.next())).value!.toString()).toBe('a');
    const failure = new Error('consumer gave up');
    expect(await rejection(within(iterator.throw(failure)))).toBe(failure);
    expect((await within(iterator.next())).done).toBe(true);
    expect(await restAtCompletion(pipe)).toBe('b\n');

    const long = new Pipe();
    await within(long.writer.write('x'.repeat(20) + '\n'));
    const strict = readLines(long.reader, { maxLineLength: 10 })[Symbol.asyncIterator]();
    expect((await rejection(within(strict.next()))).code).toBe('ERR_FRAME_TOO_LARGE');
    expect((await within(strict.next())).done).toBe(true);
    expect(await restAtCompletion(long)).toBe('x'.repeat(20) + '\n');
  });
});

/** The lines of `reader` through `form`, decoded. */
async function linesOfForm(reader: PipeReader, form: FramingForm, maxLineLength?: number): Promise<string[]> {
  return linesOf(reader, maxLineLength, form);
}

describe('a line within one segment is a single-segment sequence', () => {
  it("a line after a '\\n' that ends a segment, up to a '\\n' that opens one, has one chunk", async () => {
    for (const form of framingForms) {
      // Segments of 4 bytes: 'abc\n' | 'defg' | '\r\nhi' | 'j\r' | '\n'.
      const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 4 });
      writeSmall(pipe.writer, ascii('abc\ndefg\r\nhij\r\n'));
      await within(pipe.writer.flush());
      pipe.writer.complete();
      const shapes: [string, number, boolean][] = [];
      for await (const line of itemsOf(form === 'callback' ? 'for await' : form, lineFraming(), pipe.reader)) shapes.push([line.toString(), [...line].length, line.isSingleSegment]);
      expect(shapes, form).toEqual([
        ['abc', 1, true],
        ['defg', 1, true],
        ['hij', 2, false],
      ]);
    }
    const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: 4 });
    writeSmall(pipe.writer, ascii('abc\ndefg\n'));
    await within(pipe.writer.flush());
    pipe.writer.complete();
    const single: boolean[] = [];
    await within(forEachLine(pipe.reader, (line) => void single.push(line.isSingleSegment && line.first.length === line.length)));
    expect(single).toEqual([true, true]);
  });
});
