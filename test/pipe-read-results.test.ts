import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createReader, Pipe, ReadOnlySequence, type PipeReader, type PipeWriter } from '../dist/src/index.js';
import { ascii, within } from './helpers.js';

// What a caller may keep of a read (README, "What a read hands out"): the in-thread Pipe and
// createReader hand out one ReadResult and one sequence per reader, rewritten by each read, so a
// steady read allocates nothing; positions are values and are never changed in place.

const kRounds = 50;

/** A reader with something that feeds it: a Pipe, or createReader over a Readable. */
const readers: [string, () => { reader: PipeReader; feed(data: Uint8Array): Promise<void> }][] = [
  ['Pipe', () => {
    const pipe = new Pipe();
    return { reader: pipe.reader, feed: async (data) => void (await pipe.writer.write(data)) };
  }],
  ['createReader(Readable)', () => {
    const source = new Readable({ read() {} });
    const reader = createReader(source);
    // The reader takes a pushed chunk in the source's 'data' event, a turn or two later.
    return { reader, feed: (data) => new Promise<void>((resolve) => void (source.push(Buffer.from(data)), setImmediate(resolve))) };
  }],
];

describe.each(readers)('V1–V3 on %s', (_name, open) => {
  it('V1 every read hands out the same ReadResult and the same buffer object, rewritten with that read\'s bytes and flags', async () => {
    const { reader, feed } = open();
    await feed(ascii('first'));
    const a = await within(reader.read());
    const buffer = a.buffer;
    expect(buffer.toString()).toBe('first');
    reader.advanceTo(buffer.end);
    await feed(ascii('second'));
    const b = await within(reader.read());
    expect(b).toBe(a);
    expect(b.buffer).toBe(buffer);
    expect(b.buffer.toString()).toBe('second');
    expect(b.isCanceled).toBe(false);
    reader.advanceTo(b.buffer.end);
    reader.cancelPendingRead();
    const canceled = await within(reader.read());
    expect(canceled).toBe(a);
    expect(canceled.isCanceled).toBe(true);
    // No bytes and nothing held: the shared empty sequence.
    expect(canceled.buffer).toBe(ReadOnlySequence.empty);
    reader.complete();
  });

  it('V1b a read that finds data returns the same settled promise each time; a read that waits, a promise of its own', async () => {
    const { reader, feed } = open();
    await feed(ascii('a'));
    const first = reader.read();
    const result = await within(first);
    reader.advanceTo(result.buffer.end);
    await feed(ascii('b'));
    const second = reader.read();
    expect(second).toBe(first);
    expect((await within(second)).buffer.toString()).toBe('b');
    reader.advanceTo(result.buffer.end);
    const waiting = reader.read();
    expect(waiting).not.toBe(first);
    await feed(ascii('c'));
    expect((await within(waiting)).buffer.toString()).toBe('c');
    reader.advanceTo(result.buffer.end);
    reader.complete();
  });

  it('V2 a position kept from an earlier read still names the place it named: consuming to it after a longer read takes exactly those bytes', async () => {
    const { reader, feed } = open();
    await feed(ascii('0123456789'));
    const first = await within(reader.read());
    const tenth = first.buffer.end;
    const fourth = first.buffer.getPosition(4);
    // Examine everything, consume nothing: the next read holds these 10 bytes and the new ones.
    reader.advanceTo(first.buffer.start, first.buffer.end);
    await feed(ascii('abcde'));
    const second = await within(reader.read());
    expect(second.buffer.length).toBe(15);
    expect(tenth).not.toBe(second.buffer.end);
    expect(second.buffer.getOffset(tenth)).toBe(10);
    expect(second.buffer.getOffset(fourth)).toBe(4);
    expect(second.buffer.slice(fourth, tenth).toString()).toBe('456789');
    reader.advanceTo(tenth, second.buffer.end);
    await feed(ascii('f'));
    const third = await within(reader.read());
    expect(third.buffer.toString()).toBe('abcdef');
    reader.advanceTo(third.buffer.end);
    reader.complete();
  });

  it('V3 a slice of a read buffer is a sequence of its own: it keeps its range when the next read rewrites the buffer', async () => {
    const { reader, feed } = open();
    await feed(ascii('hello'));
    const first = await within(reader.read());
    const whole = first.buffer.slice(0);
    const tail = first.buffer.slice(1);
    expect(whole).not.toBe(first.buffer);
    reader.advanceTo(first.buffer.start, first.buffer.end);
    await feed(ascii(' world'));
    const second = await within(reader.read());
    expect(second.buffer.toString()).toBe('hello world');
    // The bytes were not consumed, so the slices still hold them, over their own ranges.
    expect(whole.toString()).toBe('hello');
    expect(tail.toString()).toBe('ello');
    reader.advanceTo(second.buffer.end);
    reader.complete();
  });
});

describe('V4–V5 the steady state of a Pipe allocates no result, sequence, position or view', () => {
  function steady(write: (writer: PipeWriter, round: number) => Promise<unknown>): Promise<void> {
    return (async () => {
      const { reader, writer } = new Pipe();
      const seen = new Set<unknown>();
      let previous: unknown[] | undefined;
      for (let round = 0; round < kRounds; round++) {
        await write(writer, round);
        const result = reader.tryRead();
        expect(result).not.toBeNull();
        const buffer = result!.buffer;
        const objects = [result, buffer, buffer.start, buffer.end, buffer.first];
        // Every round's bytes are its own, read through the very same objects.
        expect(buffer.length).toBe(128);
        expect(buffer.first[0]).toBe(round & 0xff);
        expect(buffer.first[127]).toBe((round * 3) & 0xff);
        if (round > 1) for (const [i, object] of objects.entries()) expect(object, `object ${i} in round ${round}`).toBe(previous![i]);
        for (const object of objects) seen.add(object);
        previous = objects;
        reader.advanceTo(buffer.end);
      }
      // Warm after the first round or two: a handful of objects in all, not five per round.
      expect(seen.size).toBeLessThanOrEqual(2 * 5);
      writer.complete();
      reader.complete();
    })();
  }

  function message(round: number): Uint8Array {
    const data = new Uint8Array(128);
    data[0] = round & 0xff;
    data[127] = (round * 3) & 0xff;
    return data;
  }

  it('V4 write() + tryRead() + advanceTo(end), 128 B a round', () => steady((writer, round) => writer.write(message(round))));

  it('V5 getMemory() + advance + flush: a fresh block is handed out as the block itself, the same one each round', async () => {
    const handed = new Set<Uint8Array>();
    await steady((writer, round) => {
      const memory = writer.getMemory(128);
      handed.add(memory);
      memory.set(message(round));
      writer.advance(128);
      return writer.flush();
    });
    expect(handed.size).toBeLessThanOrEqual(2);
  });
});
