// toWritable / toWritableStream never report success for bytes nobody can read: destroying the
// Writable completes the pipe writer, and once the pipe's reader has completed a write fails with
// ERR_PIPE_READER_COMPLETED, so stream.pipeline() and pipeTo() reject. Over a SharedPipe the Writable
// keeps working under cork() (gathered writes larger than the ring) and with a slow reader.
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { Pipe, SharedPipe, toWritable, toWritableStream, type PipeReader, type PipeWriter } from '../dist/src/index.js';
import { ascii, expectSameBytes, randomChunks, randomData, readAll, rejection, seededRandom, settleTurns, within } from './helpers.js';

const KiB = 1024;
const kTimeoutMs = 15_000;

const pipes: { name: string; create(): { reader: PipeReader; writer: PipeWriter } }[] = [
  { name: 'Pipe', create: () => new Pipe({ pauseWriterThreshold: 16 * KiB, resumeWriterThreshold: 8 * KiB }) },
  { name: 'SharedPipe', create: () => new SharedPipe({ capacity: 4096 }) },
];

/** Reads until `limit` bytes arrived, then completes the reader: a consumer that stops early. */
async function readThenQuit(reader: PipeReader, limit: number): Promise<Uint8Array> {
  const received = await readAll(reader, limit);
  reader.complete();
  return received;
}

/**
 * A slow consumer: after each read it lets the event loop turn a few times before it advances, and
 * leaves up to 99 bytes unconsumed (examined), so the writer keeps meeting a full pipe.
 */
async function slowDrain(reader: PipeReader, seed: number): Promise<Uint8Array> {
  const random = seededRandom(seed);
  const parts: Uint8Array[] = [];
  for (;;) {
    const result = await reader.read();
    const buffer = result.buffer;
    await settleTurns(1 + Math.floor(random() * 3));
    const take = result.isCompleted ? buffer.length : buffer.length - Math.floor(random() * Math.min(100, buffer.length + 1));
    parts.push(buffer.slice(0, take).toUint8Array());
    reader.advanceTo(buffer.getPosition(take), buffer.end);
    if (result.isCompleted) break;
  }
  reader.complete();
  return Buffer.concat(parts);
}

function writeCallback(writable: NodeJS.WritableStream, chunk: Uint8Array): Promise<(Error & { code?: unknown }) | null | undefined> {
  return new Promise((resolve) => writable.write(chunk, (error) => resolve(error)));
}

function readableStreamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

for (const { name, create } of pipes) {
  describe(`toWritable over a ${name}`, () => {
    it('destroy() without an error completes the writer: the reader gets the bytes, then isCompleted', async () => {
      const { reader, writer } = create();
      const writable = toWritable(writer);
      expect(await within(writeCallback(writable, ascii('written before destroy')))).toBeFalsy();
      writable.destroy();
      await within(once(writable, 'close'));
      expect(Buffer.from(await within(readAll(reader))).toString()).toBe('written before destroy');
      expect(() => writer.getMemory()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
    });

    it('a write after the reader completed fails with ERR_PIPE_READER_COMPLETED', async () => {
      const { reader, writer } = create();
      reader.complete();
      const writable = toWritable(writer);
      writable.on('error', () => {});
      const error = await within(writeCallback(writable, ascii('nobody reads this')));
      expect(error).toMatchObject({ code: 'ERR_PIPE_READER_COMPLETED', name: 'ReaderCompletedError' });
    });

    it('pipeline() into it rejects with ERR_PIPE_READER_COMPLETED when the reader stops early', async () => {
      const { reader, writer } = create();
      const data = randomData(31, 256 * KiB);
      const piping = pipeline(Readable.from(randomChunks(data, 32, 3000)), toWritable(writer));
      const [error, received] = await within(Promise.all([rejection(piping), readThenQuit(reader, 20 * KiB)]), kTimeoutMs);
      expect(error).toMatchObject({ code: 'ERR_PIPE_READER_COMPLETED' });
      expectSameBytes(received, data.subarray(0, received.length), 'what the reader got before it stopped');
    });

    it('under cork(): gathered writes, many times the ring, arrive whole and in order at a slow reader', async () => {
      const { reader, writer } = create();
      const data = randomData(41, 200 * KiB);
      const writable = toWritable(writer);
      writable.cork();
      for (const chunk of randomChunks(data, 42, 200)) writable.write(chunk);
      process.nextTick(() => writable.uncork());
      writable.end();
      const [, received] = await within(Promise.all([once(writable, 'finish'), slowDrain(reader, 43)]), kTimeoutMs);
      expectSameBytes(received, data);
    });

    it('pipeline() with chunks larger than the ring and a slow reader: every byte, no deadlock', async () => {
      const { reader, writer } = create();
      const data = randomData(51, 512 * KiB);
      const piping = pipeline(Readable.from(randomChunks(data, 52, 10_000)), toWritable(writer));
      const [, received] = await within(Promise.all([piping, slowDrain(reader, 53)]), kTimeoutMs);
      expectSameBytes(received, data);
    });
  });

  describe(`toWritableStream over a ${name}`, () => {
    it('pipeTo() rejects with ERR_PIPE_READER_COMPLETED when the reader stops early, and completes the writer', async () => {
      const { reader, writer } = create();
      const data = randomData(61, 256 * KiB);
      const piping = readableStreamOf(randomChunks(data, 62, 3000)).pipeTo(toWritableStream(writer));
      const [error, received] = await within(Promise.all([rejection(piping), readThenQuit(reader, 20 * KiB)]), kTimeoutMs);
      expect(error).toMatchObject({ code: 'ERR_PIPE_READER_COMPLETED' });
      expectSameBytes(received, data.subarray(0, received.length), 'what the reader got before it stopped');
      expect(() => writer.getMemory()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
    });

    it('a write after the reader completed rejects with ERR_PIPE_READER_COMPLETED', async () => {
      const { reader, writer } = create();
      reader.complete();
      const stream = toWritableStream(writer).getWriter();
      expect(await rejection(within(stream.write(ascii('lost'))))).toMatchObject({ code: 'ERR_PIPE_READER_COMPLETED' });
    });

    it('pipeTo() with a slow reader delivers every byte', async () => {
      const { reader, writer } = create();
      const data = randomData(71, 256 * KiB);
      const piping = readableStreamOf(randomChunks(data, 72, 10_000)).pipeTo(toWritableStream(writer));
      const [, received] = await within(Promise.all([piping, slowDrain(reader, 73)]), kTimeoutMs);
      expectSameBytes(received, data);
    });
  });
}
