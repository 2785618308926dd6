// Iterating a reader hands out chunks the consumer owns: they stay intact after the loop has moved on,
// so the Node idioms that keep a chunk — stream.pipeline into a file, Readable.from, stream/consumers,
// an array of chunks — get every byte, for a Pipe, a SharedPipe (one thread, and written from a worker)
// and createReader. `reader.chunks({ copy: false })` is the zero-copy opt-in: views over the pipe's
// memory, each valid until the next step.
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createReader, Pipe, SharedPipe, type PipeReader, type PipeWriter } from '../dist/src/index.js';
import { fillPattern } from '../dist/test/fixtures/ring-harness.js';
import type { RingWorkerJob } from '../dist/test/fixtures/ring-worker.js';
import { ascii, expectSameBytes, randomChunks, randomData, settleTurns, within } from './helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const kTimeoutMs = 15_000;
const workerUrl = new URL('../dist/test/fixtures/ring-worker.js', import.meta.url);

const running = new Set<Worker>();

afterEach(async () => {
  await Promise.all([...running].map((worker) => worker.terminate()));
  running.clear();
});

interface Opened {
  reader: PipeReader;
  expected: Uint8Array;
  /** Settles when the producer wrote everything and completed its end; rejects if it failed. */
  producing: Promise<unknown>;
}

/** Writes every chunk with write() while the consumer runs, then completes; a completed reader is a failure. */
async function produce(writer: PipeWriter, chunks: Uint8Array[]): Promise<void> {
  for (const chunk of chunks) {
    const result = await writer.write(chunk);
    if (result.isCompleted) throw new Error('the reader completed before the last byte');
  }
  writer.complete();
}

function inThread(reader: PipeReader, writer: PipeWriter, seed: number): Opened {
  const expected = randomData(seed, 512 * KiB);
  return { reader, expected, producing: produce(writer, randomChunks(expected, seed + 1, 3000)) };
}

const sources: { name: string; open(seed: number): Opened }[] = [
  {
    // A small pause threshold keeps few segments in flight, so the pool hands the same blocks out again quickly.
    name: 'Pipe',
    open: (seed) => {
      const pipe = new Pipe({ pauseWriterThreshold: 16 * KiB, resumeWriterThreshold: 8 * KiB });
      return inThread(pipe.reader, pipe.writer, seed);
    },
  },
  {
    name: 'SharedPipe, one thread',
    open: (seed) => {
      const pipe = new SharedPipe({ capacity: 4096 });
      return inThread(pipe.reader, pipe.writer, seed);
    },
  },
  {
    name: 'SharedPipe, written from a worker',
    open: (seed) => {
      const pipe = new SharedPipe({ capacity: 64 * KiB });
      const job: RingWorkerJob = { role: 'writer', handle: pipe.writer.handle(), sync: false, seed, rngSeed: seed + 1, total: 2 * MiB, maxChunk: 100 * KiB };
      const expected = new Uint8Array(job.total);
      fillPattern(expected, 0, job.total, seed);
      return { reader: pipe.reader, expected, producing: runWorker(job) };
    },
  },
  {
    name: 'createReader over a Readable',
    open: (seed) => {
      const expected = randomData(seed, 512 * KiB);
      return { reader: createReader(Readable.from(randomChunks(expected, seed + 1, 3000))), expected, producing: Promise.resolve() };
    },
  },
];

function runWorker(job: RingWorkerJob): Promise<unknown> {
  const worker = new Worker(workerUrl, { workerData: job });
  running.add(worker);
  return new Promise((resolve, reject) => {
    worker.once('message', (message: { type: 'done'; result: unknown } | { type: 'failed'; error: { message: string } }) => {
      if (message.type === 'done') resolve(message.result);
      else reject(new Error(`the writer worker failed: ${message.error.message}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the writer worker exited with code ${code} before reporting`)));
  });
}

const idioms: { name: string; consume(reader: PipeReader): Promise<Uint8Array> }[] = [
  {
    name: 'stream.pipeline(reader, fs.createWriteStream(file))',
    consume: async (reader) => {
      const file = join(tmpdir(), `threadpipe-iteration-${randomUUID()}.bin`);
      try {
        await pipeline(reader, createWriteStream(file));
        return await readFile(file);
      } finally {
        await rm(file, { force: true });
      }
    },
  },
  {
    name: 'Readable.from(reader)',
    consume: async (reader) => Buffer.concat(await Readable.from(reader).toArray()),
  },
  {
    name: 'stream/consumers buffer(reader)',
    consume: (reader) => buffer(reader),
  },
  {
    name: 'chunks collected in an array',
    consume: async (reader) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of reader) chunks.push(chunk);
      // More than one read, so a chunk that were a view would have been written over.
      expect(chunks.length).toBeGreaterThan(1);
      return Buffer.concat(chunks);
    },
  },
];

describe('for await over a reader yields chunks the consumer owns', () => {
  let seed = 100;
  for (const source of sources) {
    for (const idiom of idioms) {
      const caseSeed = (seed += 10);
      it(`${source.name}: ${idiom.name} gets every byte`, async () => {
        const { reader, expected, producing } = source.open(caseSeed);
        const [received] = await within(Promise.all([idiom.consume(reader), producing]), kTimeoutMs, `${source.name}, ${idiom.name}`);
        expectSameBytes(received, expected, `${source.name}, ${idiom.name}`);
      });
    }
  }

  it('Pipe: one chunk per read, in memory of its own, even when the read spans several segments', async () => {
    const pipe = new Pipe({ minimumSegmentSize: 16 });
    const data = randomData(7, 10 * KiB);
    await within(pipe.writer.write(data.subarray(0, 4 * KiB)));
    await within(pipe.writer.write(data.subarray(4 * KiB)));
    const peek = await within(pipe.reader.read());
    expect(peek.buffer.isSingleSegment).toBe(false);
    pipe.reader.advanceTo(peek.buffer.start);
    pipe.writer.complete();
    const chunks: Uint8Array[] = [];
    for await (const chunk of pipe.reader) chunks.push(chunk);
    expect(chunks).toHaveLength(1);
    const [chunk] = chunks as [Uint8Array];
    expect(chunk.byteOffset).toBe(0);
    expect(chunk.buffer.byteLength).toBe(chunk.length);
    expectSameBytes(chunk, data);
  });

  it('SharedPipe: chunks are not views over the ring', async () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    await within(pipe.writer.write(ascii('copied out of the ring')));
    pipe.writer.complete();
    for await (const chunk of pipe.reader) {
      expect(chunk.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expect(Buffer.from(chunk).toString()).toBe('copied out of the ring');
    }
  });

  it('the pipe memory is released before the chunk is handed out: a paused writer resumes while the consumer keeps the chunk', async () => {
    const pipe = new Pipe({ pauseWriterThreshold: 1024, resumeWriterThreshold: 512 });
    const first = pipe.writer.write(new Uint8Array(2048).fill(1));
    const iterator = pipe.reader[Symbol.asyncIterator]();
    const step = await within(iterator.next());
    expect(step.value).toHaveLength(2048);
    expect(await within(first)).toMatchObject({ isCompleted: false, isCanceled: false });
    await within(iterator.return!());
  });
});

describe('reader.chunks({ copy: false }): zero-copy iteration, opted into', () => {
  it('SharedPipe: each chunk is a view over the ring, and a consumer that copies each in turn gets every byte', async () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    const expected = randomData(51, 256 * KiB);
    const producing = produce(pipe.writer, randomChunks(expected, 52, 3000));
    const parts: Uint8Array[] = [];
    await within(
      (async () => {
        for await (const view of pipe.reader.chunks({ copy: false })) {
          expect(view.buffer).toBeInstanceOf(SharedArrayBuffer);
          parts.push(view.slice());
        }
      })(),
      kTimeoutMs,
    );
    await within(producing);
    expectSameBytes(Buffer.concat(parts), expected);
  });

  it('Pipe: each chunk is a segment of the pipe, not a copy', async () => {
    const pipe = new Pipe({ minimumSegmentSize: 4096 });
    await within(pipe.writer.write(ascii('in place')));
    pipe.writer.complete();
    for await (const view of pipe.reader.chunks({ copy: false })) {
      // A segment of a pooled block: the block is larger than the bytes written into it.
      expect(view.buffer.byteLength).toBeGreaterThanOrEqual(4096);
      expect(Buffer.from(view).toString()).toBe('in place');
    }
  });

  it('chunks() and chunks({ copy: true }) are the owned chunks of for await', async () => {
    for (const options of [undefined, { copy: true }, {}]) {
      const pipe = new SharedPipe({ capacity: 4096 });
      await within(pipe.writer.write(ascii('mine')));
      pipe.writer.complete();
      const received: Uint8Array[] = [];
      for await (const chunk of pipe.reader.chunks(options)) received.push(chunk);
      expect(received.map((chunk) => chunk.buffer instanceof SharedArrayBuffer)).toEqual([false]);
      expect(Buffer.concat(received).toString()).toBe('mine');
    }
  });

  it('breaking out of the loop completes the reader, as for await does', async () => {
    const pipe = new Pipe();
    await within(pipe.writer.write(ascii('abc')));
    for await (const view of pipe.reader.chunks({ copy: false })) {
      expect(view.length).toBe(3);
      break;
    }
    expect((await within(pipe.writer.write(ascii('more')))).isCompleted).toBe(true);
  });

  it('bad options throw ERR_INVALID_ARG_VALUE when chunks() is called, naming the option', () => {
    const pipe = new Pipe();
    for (const bad of [null, 'fast', { copy: 'no' }, { copy: 0 }]) {
      expect(() => pipe.reader.chunks(bad as { copy?: boolean }), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringMatching(/'options(\.copy)?'/) }),
      );
    }
    // Nothing was read: the reader is still usable.
    expect(pipe.reader.tryRead()).toBeNull();
  });

  it('a canceled read ends either loop with an AbortError and completes the reader', async () => {
    for (const copy of [true, false]) {
      const pipe = new Pipe();
      const loop = (async () => {
        for await (const _ of pipe.reader.chunks({ copy })) {
          /* nothing arrives */
        }
      })();
      await settleTurns();
      pipe.reader.cancelPendingRead();
      await expect(within(loop)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(() => pipe.reader.read()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
    }
  });
});
