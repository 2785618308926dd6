// The I/O adapters: createReader (group K: a Node Readable, a ReadableStream or an async iterable as a
// PipeReader), createWriter (group L: a Node Writable or a WritableStream as a PipeWriter),
// toReadable / toWritable / toReadableStream / toWritableStream (groups M and N: pipe ends as streams,
// copies through stream.pipeline and pipeTo) and StreamConnection (Q8: any Duplex as a DuplexPipe).
// Groups M and N are .NET's asStream / CopyToAsync; here they map to the to*() adapters.
import { once } from 'node:events';
import * as net from 'node:net';
import { Duplex, Readable, Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  createReader,
  createWriter,
  Pipe,
  StreamConnection,
  toReadable,
  toReadableStream,
  toWritable,
  toWritableStream,
  type PipeReader,
  type PipeWriter,
} from '../dist/src/index.js';
import { ascii, nextImmediate, peek, randomChunks, randomData, seededRandom, within, rejection, settleTurns, expectSameBytes } from './helpers.js';

const MB = 1 << 20;

/**
 * Reads to the end, copying what it consumes. With `random`, each read leaves up to 99 bytes of its
 * buffer unconsumed (examined), so consumed positions fall anywhere across the source's chunks.
 */
async function drain(reader: PipeReader, random?: () => number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const result = await reader.read();
    const buffer = result.buffer;
    let take = buffer.length;
    if (random !== undefined && !result.isCompleted) take -= Math.floor(random() * Math.min(100, buffer.length + 1));
    parts.push(buffer.slice(0, take).toUint8Array());
    reader.advanceTo(buffer.getPosition(take), buffer.end);
    if (result.isCompleted && take === buffer.length) return Buffer.concat(parts);
  }
}

/** Writes `data` through getMemory/advance in random pieces, flushing at random points, then completes. */
async function produce(writer: PipeWriter, data: Uint8Array, seed: number, maxPiece = 20_000): Promise<void> {
  const random = seededRandom(seed);
  for (let offset = 0; offset < data.length;) {
    const piece = Math.min(data.length - offset, 1 + Math.floor(random() * maxPiece));
    if (random() < 0.3) {
      const result = await writer.write(data.subarray(offset, offset + piece));
      if (result.isCompleted) throw new Error('the reader completed early');
    } else {
      const memory = writer.getMemory(Math.floor(random() * 2 * piece));
      const count = Math.min(memory.length, piece);
      memory.set(data.subarray(offset, offset + count));
      writer.advance(count);
      if (random() < 0.5) await writer.flush();
      offset += count;
      continue;
    }
    offset += piece;
  }
  await writer.flush();
  writer.complete();
}

/** A Readable pushing the chunks one per read() call, synchronously or after a turn. */
function readableOf(chunks: Uint8Array[], asyncPush = false): Readable {
  let i = 0;
  return new Readable({
    highWaterMark: 8192,
    read() {
      const push = (): void => {
        this.push(i < chunks.length ? chunks[i++] : null);
      };
      if (asyncPush) setImmediate(push);
      else push();
    },
  });
}

function readableStreamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i % 7 === 0) await nextImmediate();
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

async function* generatorOf(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < chunks.length; i++) {
    if (i % 5 === 0) await nextImmediate();
    yield chunks[i]!;
  }
}

/** A PassThrough-like Readable fed by hand. */
function manualReadable(): Readable {
  return new Readable({ read() {} });
}

// ---------------------------------------------------------------------------------------------------

describe('K createReader', () => {
  const data = randomData(1, 4 * MB);
  const chunks = randomChunks(data, 2, 32 * 1024);

  it('K3a round trip of 4 MB from a Node Readable (random chunk sizes, partial consumes), byte-exact', async () => {
    const reader = createReader(readableOf(chunks));
    expectSameBytes(await within(drain(reader, seededRandom(3)), 15_000), data);
    reader.complete();
  });

  it('K3b round trip of 4 MB from a Node Readable pushing asynchronously, byte-exact', async () => {
    const reader = createReader(readableOf(chunks, true));
    expectSameBytes(await within(drain(reader, seededRandom(4)), 15_000), data);
    reader.complete();
  });

  it('K3c round trip of 4 MB from a WHATWG ReadableStream, byte-exact', async () => {
    const reader = createReader(readableStreamOf(chunks));
    expectSameBytes(await within(drain(reader, seededRandom(5)), 15_000), data);
    reader.complete();
  });

  it('K3d round trip of 4 MB from an async generator, byte-exact', async () => {
    const reader = createReader(generatorOf(chunks));
    expectSameBytes(await within(drain(reader, seededRandom(6)), 15_000), data);
    reader.complete();
  });

  it('K1 each source chunk becomes a segment, uncopied', async () => {
    const parts = [ascii('Hello '), ascii('World'), ascii('!')];
    for (const source of [readableOf(parts), readableStreamOf(parts), generatorOf(parts)]) {
      const reader = createReader(source);
      let result = await within(reader.read());
      while (!result.isCompleted) {
        reader.advanceTo(result.buffer.start, result.buffer.end);
        result = await within(reader.read());
      }
      expect(result.buffer.toString()).toBe('Hello World!');
      const segments = [...result.buffer];
      expect(segments.length).toBe(3);
      segments.forEach((segment, i) => {
        expect(segment.buffer).toBe(parts[i]!.buffer);
        expect(segment.byteOffset).toBe(parts[i]!.byteOffset);
        expect(segment.length).toBe(parts[i]!.length);
      });
      reader.advanceTo(result.buffer.end);
      reader.complete();
    }
  });

  it('K2 tryRead depends on examined', async () => {
    const source = manualReadable();
    const reader = createReader(source);
    source.push(ascii('Hello World'));
    const result = await within(reader.read());
    expect(result.buffer.length).toBe(11);
    reader.advanceTo(result.buffer.start, result.buffer.getPosition(5));
    const again = reader.tryRead();
    expect(again).not.toBeNull();
    expect(again!.buffer.toString()).toBe('Hello World');
    reader.advanceTo(again!.buffer.end);
    expect(reader.tryRead()).toBeNull();
    reader.complete();
  });

  it('K5 EOF is sticky: repeated reads report completion and the source is not pulled again', async () => {
    let pulls = 0;
    const source: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          pulls++;
          return Promise.resolve(pulls === 1 ? { done: false, value: ascii('Hello World') } : { done: true, value: undefined });
        },
      }),
    };
    const reader = createReader(source);
    let result = await within(reader.read());
    while (!result.isCompleted) {
      reader.advanceTo(result.buffer.start, result.buffer.end);
      result = await within(reader.read());
    }
    const pullsAtEnd = pulls;
    // Examined but not consumed past the end: read again, completed each time, same data.
    reader.advanceTo(result.buffer.start, result.buffer.end);
    result = await within(reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.toString()).toBe('Hello World');
    reader.advanceTo(result.buffer.end);
    result = await within(reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.length).toBe(0);
    reader.advanceTo(result.buffer.end);
    result = await within(reader.read());
    expect(result.isCompleted).toBe(true);
    reader.advanceTo(result.buffer.end);
    expect(pulls).toBe(pullsAtEnd);
    reader.complete();
  });

  it('K6 partial consume across source chunks', async () => {
    const source = manualReadable();
    const reader = createReader(source);
    const ten = Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    source.push(ten);
    let result = await within(reader.read());
    expect(result.buffer.length).toBe(10);
    reader.advanceTo(result.buffer.getPosition(4), result.buffer.end);
    const next = reader.read();
    expect((await peek(next)).state).toBe('pending');
    source.push(Uint8Array.from([10, 11]));
    result = await within(next);
    expect(result.buffer.length).toBe(8);
    expect([...result.buffer.toUint8Array()]).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
    expect([...result.buffer].length).toBe(2);
    reader.advanceTo(result.buffer.end);
    reader.complete();
  });

  it('K7a complete() destroys a Node Readable once; read and advanceTo afterwards throw ERR_PIPE_COMPLETED', async () => {
    const source = manualReadable();
    let destroys = 0;
    const destroy = source._destroy.bind(source);
    source._destroy = (error, callback) => {
      destroys++;
      destroy(error, callback);
    };
    const reader = createReader(source);
    source.push(ascii('abc'));
    const result = await within(reader.read());
    // Completing without advancing is fine.
    reader.complete();
    expect(source.destroyed).toBe(true);
    reader.complete();
    await settleTurns();
    expect(destroys).toBe(1);
    expect(() => reader.read()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
    expect(() => reader.tryRead()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
    expect(() => reader.advanceTo(result.buffer.end)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
  });

  it('K7b leaveOpen: true leaves a Node Readable open and usable', async () => {
    const source = manualReadable();
    const reader = createReader(source, { leaveOpen: true });
    source.push(ascii('first'));
    const result = await within(reader.read());
    expect(result.buffer.toString()).toBe('first');
    reader.advanceTo(result.buffer.end);
    reader.complete();
    expect(source.destroyed).toBe(false);
    source.push(ascii('second'));
    source.push(null);
    const rest: Buffer[] = [];
    await within((async () => {
      for await (const chunk of source) rest.push(chunk as Buffer);
    })());
    expect(Buffer.concat(rest).toString()).toBe('second');
  });

  it('K7c complete() cancels a ReadableStream; leaveOpen: true releases its lock instead', async () => {
    let canceled = 0;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(ascii('one'));
      },
      cancel() {
        canceled++;
      },
    });
    const reader = createReader(stream);
    const result = await within(reader.read());
    expect(result.buffer.toString()).toBe('one');
    reader.advanceTo(result.buffer.end);
    reader.complete();
    await settleTurns();
    expect(canceled).toBe(1);

    let keptController!: ReadableStreamDefaultController<Uint8Array>;
    const kept = new ReadableStream<Uint8Array>({
      start(controller) {
        keptController = controller;
        controller.enqueue(ascii('one'));
      },
      cancel() {
        canceled++;
      },
    });
    const leaving = createReader(kept, { leaveOpen: true });
    const first = await within(leaving.read());
    expect(first.buffer.toString()).toBe('one');
    leaving.advanceTo(first.buffer.end);
    leaving.complete();
    await settleTurns();
    expect(canceled).toBe(1);
    expect(kept.locked).toBe(false);
    keptController.enqueue(ascii('two'));
    const after = kept.getReader();
    const chunk = await within(after.read());
    expect(new TextDecoder().decode(chunk.value)).toBe('two');
    after.releaseLock();
  });

  it('K7d complete() returns an async iterator; leaveOpen: true does not', async () => {
    for (const leaveOpen of [false, true]) {
      let returned = false;
      async function* source(): AsyncGenerator<Uint8Array> {
        try {
          for (let i = 0; ; i++) yield ascii(`chunk ${i};`);
        } finally {
          returned = true;
        }
      }
      // pauseThreshold 1: the pump stops after each chunk until it is consumed, so the generator sits at a yield.
      const reader = createReader(source(), { leaveOpen, pauseThreshold: 1 });
      const result = await within(reader.read());
      expect(result.buffer.toString()).toBe('chunk 0;');
      reader.advanceTo(result.buffer.end);
      const second = await within(reader.read());
      expect(second.buffer.toString()).toBe('chunk 1;');
      reader.complete();
      await settleTurns();
      expect(returned, `leaveOpen ${leaveOpen}`).toBe(!leaveOpen);
    }
  });

  it('K8a cancelPendingRead on an idle source: tryRead returns a canceled result; cancels do not accumulate', async () => {
    const source = manualReadable();
    const reader = createReader(source);
    reader.cancelPendingRead();
    reader.cancelPendingRead();
    const canceled = reader.tryRead();
    expect(canceled).not.toBeNull();
    expect(canceled!.isCanceled).toBe(true);
    expect(canceled!.isCompleted).toBe(false);
    const next = reader.read();
    expect((await peek(next)).state).toBe('pending');
    source.push(ascii('x'));
    const result = await within(next);
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toString()).toBe('x');
    reader.advanceTo(result.buffer.end);
    reader.complete();
  });

  it('K8b a pending read: cancelPendingRead resolves it canceled; an aborted signal rejects it with AbortError', async () => {
    const source = manualReadable();
    const reader = createReader(source);
    const pending = reader.read();
    expect((await peek(pending)).state).toBe('pending');
    reader.cancelPendingRead();
    const canceled = await within(pending);
    expect(canceled.isCanceled).toBe(true);
    reader.advanceTo(canceled.buffer.start);

    const controller = new AbortController();
    const aborted = reader.read({ signal: controller.signal });
    expect((await peek(aborted)).state).toBe('pending');
    controller.abort();
    const error = await rejection(within(aborted));
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');

    const pre = await rejection(within(reader.read({ signal: AbortSignal.abort() })));
    expect(pre.code).toBe('ABORT_ERR');
    // The reader still works.
    source.push(ascii('ok'));
    const result = await within(reader.read());
    expect(result.buffer.toString()).toBe('ok');
    reader.advanceTo(result.buffer.end);
    reader.complete();
  });

  it('K-errors a source error becomes the reader\'s error: Node Readable, ReadableStream, async iterable', async () => {
    const failure = new Error('source broke');
    // Node Readable destroyed with an error while a read is pending.
    const node = manualReadable();
    const nodeReader = createReader(node);
    const pending = nodeReader.read();
    node.destroy(failure);
    expect(await rejection(within(pending))).toBe(failure);
    // Every later read rejects with it too.
    expect(await rejection(within(nodeReader.read()))).toBe(failure);
    nodeReader.complete();

    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const web = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
    });
    const webReader = createReader(web);
    const webPending = webReader.read();
    controller.error(failure);
    expect(await rejection(within(webPending))).toBe(failure);
    webReader.complete();

    async function* broken(): AsyncGenerator<Uint8Array> {
      yield ascii('partial');
      await nextImmediate();
      throw failure;
    }
    const genReader = createReader(broken());
    const first = await within(genReader.read());
    expect(first.buffer.toString()).toBe('partial');
    genReader.advanceTo(first.buffer.end);
    expect(await rejection(within(genReader.read()))).toBe(failure);
    genReader.complete();
  });

  it('K-errors a Node Readable closed before its end rejects with ERR_STREAM_PREMATURE_CLOSE', async () => {
    const source = manualReadable();
    const reader = createReader(source);
    const pending = reader.read();
    source.destroy();
    const error = await rejection(within(pending));
    expect(error.code).toBe('ERR_STREAM_PREMATURE_CLOSE');
    reader.complete();
  });

  it('K-bound a fast endless Node Readable with pauseThreshold 64 KiB: at most threshold + one chunk is buffered, one more per waiting read', async () => {
    const threshold = 64 * 1024;
    const chunk = 4096;
    let produced = 0;
    const source = new Readable({
      read() {
        produced += chunk;
        this.push(new Uint8Array(chunk).fill(produced / chunk));
      },
    });
    const reader = createReader(source, { pauseThreshold: threshold });
    try {
      await within(once(source, 'pause'));
      await settleTurns();
      expect(source.isPaused()).toBe(true);
      // Nothing consumed yet: the reader holds at least the threshold and at most one chunk more.
      const first = await within(reader.read());
      expect(first.buffer.length).toBeGreaterThanOrEqual(threshold);
      expect(first.buffer.length).toBeLessThanOrEqual(threshold + chunk);
      // Consuming down to exactly half the threshold does not resume the source ("below half").
      reader.advanceTo(first.buffer.getPosition(first.buffer.length - threshold / 2));
      expect(source.isPaused()).toBe(true);
      const second = await within(reader.read());
      expect(second.buffer.length).toBe(threshold / 2);
      // One byte more resumes it, and it pauses again bounded the same way.
      reader.advanceTo(second.buffer.getPosition(1));
      expect(source.isPaused()).toBe(false);
      await within(once(source, 'pause'));
      await settleTurns();
      const third = await within(reader.read());
      expect(third.buffer.length).toBeGreaterThanOrEqual(threshold);
      expect(third.buffer.length).toBeLessThanOrEqual(threshold + chunk);
      // Examining without consuming asks for more (a frame longer than the threshold): the waiting read
      // resumes the source and gets the next chunk, then the source pauses again at once.
      // The reader may rewrite a result for its next read: keep the length.
      const thirdLength = third.buffer.length;
      reader.advanceTo(third.buffer.start, third.buffer.end);
      const producedThen = produced;
      const fourth = await within(reader.read());
      expect(fourth.buffer.length).toBeGreaterThan(thirdLength);
      await settleTurns(10);
      expect(source.isPaused()).toBe(true);
      // One step per read: Node's own readable buffer (its highWaterMark) is the only other memory in play.
      expect(produced - producedThen).toBeLessThanOrEqual(source.readableHighWaterMark + 2 * chunk);
      reader.advanceTo(fourth.buffer.start, fourth.buffer.end);
      const waiting = reader.read();
      reader.cancelPendingRead();
      const canceled = await within(waiting);
      reader.advanceTo(canceled.buffer.start, canceled.buffer.end);
    } finally {
      reader.complete();
    }
    expect(source.destroyed).toBe(true);
  });

  it('K-bound a fast endless async generator with pauseThreshold 64 KiB: it is not pulled past threshold + one chunk, and one more per waiting read', async () => {
    const threshold = 64 * 1024;
    const chunk = 3000;
    let produced = 0;
    let pulledBeyond = false;
    let filled!: () => void;
    const full = new Promise<void>((resolve) => (filled = resolve));
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        if (produced >= threshold) pulledBeyond = true;
        produced += chunk;
        if (produced >= threshold) filled();
        yield new Uint8Array(chunk);
      }
    }
    const reader = createReader(endless(), { pauseThreshold: threshold });
    try {
      await within(full);
      await settleTurns(10);
      expect(pulledBeyond).toBe(false);
      const result = await within(reader.read());
      expect(result.buffer.length).toBe(produced);
      expect(result.buffer.length).toBeLessThanOrEqual(threshold + chunk);
      // Examining without consuming: the waiting read pulls exactly one more chunk, no more.
      const length = result.buffer.length;
      reader.advanceTo(result.buffer.start, result.buffer.end);
      const producedThen = produced;
      const longer = await within(reader.read());
      expect(longer.buffer.length).toBe(length + chunk);
      await settleTurns(10);
      expect(produced).toBe(producedThen + chunk);
      reader.advanceTo(longer.buffer.start, longer.buffer.end);
      const waiting = reader.read();
      reader.cancelPendingRead();
      const canceled = await within(waiting);
      // Consuming everything resumes the pulls.
      reader.advanceTo(canceled.buffer.end);
      const more = await within(reader.read());
      expect(more.buffer.length).toBeGreaterThan(0);
      reader.advanceTo(more.buffer.end);
    } finally {
      reader.complete();
    }
  });

  it('K-progress a reader holding a partial line between half and the full pauseThreshold still gets the rest', async () => {
    // 500 bytes of complete line, then 600 bytes of a line whose end comes in the next chunk: after the
    // first chunk the source is paused (1100 >= 1024); the reader consumes the first line and waits for
    // the rest of the second, holding 600 unconsumed bytes (>= half of 1024, < 1024).
    const first = ascii('y'.repeat(499) + '\n' + 'x'.repeat(600));
    const second = ascii('x'.repeat(10) + '\n');
    for (const source of [readableOf([first, second]), readableStreamOf([first, second]), generatorOf([first, second])]) {
      const reader = createReader(source, { pauseThreshold: 1024 });
      const lines: number[] = [];
      try {
        for (;;) {
          const result = await within(reader.read(), 2_000, 'a read for the rest of a line');
          let rest = result.buffer;
          for (let at = rest.indexOf(0x0a); at >= 0; at = rest.indexOf(0x0a)) {
            lines.push(at);
            rest = rest.slice(at + 1);
          }
          reader.advanceTo(rest.start, result.buffer.end);
          if (result.isCompleted) break;
        }
      } finally {
        reader.complete();
      }
      expect(lines).toEqual([499, 610]);
    }
  });

  it('K11 invalid arguments throw ERR_INVALID_ARG_VALUE', () => {
    expect(() => createReader(null as unknown as Readable)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => createReader(42 as unknown as Readable)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    for (const options of [{ pauseThreshold: 0 }, { pauseThreshold: -1 }, { pauseThreshold: 1.5 }, { leaveOpen: 'yes' }]) {
      expect(() => createReader(generatorOf([]), options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
  });
});

// ---------------------------------------------------------------------------------------------------

interface Sink {
  readonly stream: Writable;
  /** Every chunk the Writable received, kept without copying. */
  readonly chunks: Uint8Array[];
  bytes(): Uint8Array;
  /** Write callbacks not called yet (manual mode). */
  readonly callbacks: ((error?: Error | null) => void)[];
}

function sink(options: { highWaterMark?: number; mode?: 'sync' | 'async' | 'manual'; fail?: (index: number) => Error | undefined } = {}): Sink {
  const chunks: Uint8Array[] = [];
  const callbacks: ((error?: Error | null) => void)[] = [];
  const mode = options.mode ?? 'async';
  let index = 0;
  const stream = new Writable({
    highWaterMark: options.highWaterMark ?? 1024,
    write(chunk: Uint8Array, _encoding, callback) {
      const failure = options.fail?.(index++);
      if (failure === undefined) chunks.push(chunk);
      const done = (): void => callback(failure ?? null);
      if (mode === 'sync') done();
      else if (mode === 'async') setImmediate(done);
      else callbacks.push(callback);
    },
  });
  return { stream, chunks, callbacks, bytes: () => Buffer.concat(chunks) };
}

describe('L createWriter', () => {
  const data = randomData(11, 4 * MB);

  it('L6a round trip of 4 MB into a Writable with a small highWaterMark and async callbacks, byte-exact (blocks never reused)', async () => {
    const target = sink({ highWaterMark: 1024, mode: 'async' });
    const writer = createWriter(target.stream);
    const done = finished(target.stream);
    await within(produce(writer, data, 12), 20_000);
    await within(done);
    // The chunks were kept without copying: a reused block would show here.
    expectSameBytes(target.bytes(), data);
  });

  it('L6b round trip of 4 MB into a WritableStream with a small highWaterMark, byte-exact', async () => {
    const chunks: Uint8Array[] = [];
    let closed = false;
    const stream = new WritableStream<Uint8Array>(
      {
        write(chunk) {
          chunks.push(chunk);
          return chunks.length % 3 === 0 ? nextImmediate() : undefined;
        },
        close() {
          closed = true;
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 1024 }),
    );
    const writer = createWriter(stream);
    await within(produce(writer, data, 13), 20_000);
    await within((async () => {
      while (!closed) await nextImmediate();
    })());
    expectSameBytes(Buffer.concat(chunks), data);
  });

  it('L1 nothing is written until a flush; L4 an empty flush writes nothing', async () => {
    const target = sink({ mode: 'sync' });
    const writer = createWriter(target.stream);
    let writes = 0;
    target.stream.on('data', () => {});
    const write = target.stream.write.bind(target.stream);
    target.stream.write = ((chunk: Uint8Array, ...rest: never[]) => {
      writes++;
      return write(chunk, ...rest);
    }) as typeof target.stream.write;
    expect((await within(writer.flush())).isCompleted).toBe(false);
    expect(writes).toBe(0);
    const memory = writer.getMemory(11);
    memory.set(ascii('Hello World'));
    writer.advance(11);
    expect(writer.unflushedBytes).toBe(11);
    expect(target.chunks.length).toBe(0);
    await within(writer.flush());
    expect(writer.unflushedBytes).toBe(0);
    expect(Buffer.from(target.bytes()).toString()).toBe('Hello World');
    writer.complete();
  });

  it('L2 complete() hands over buffered bytes; with leaveOpen: true the Writable is not ended', async () => {
    const target = sink({ mode: 'sync' });
    const writer = createWriter(target.stream, { leaveOpen: true });
    writer.getMemory(11).set(ascii('Hello World'));
    writer.advance(11);
    writer.complete();
    expect(writer.unflushedBytes).toBe(0);
    expect(Buffer.from(target.bytes()).toString()).toBe('Hello World');
    expect(target.stream.writableEnded).toBe(false);
    expect(target.stream.destroyed).toBe(false);
    target.stream.end();
  });

  it('L3 complete(error) discards buffered bytes and destroys the Writable with the error', async () => {
    const target = sink({ mode: 'sync' });
    const failure = new Error('giving up');
    const errored = once(target.stream, 'error');
    const writer = createWriter(target.stream);
    writer.getMemory(11).set(ascii('Hello World'));
    writer.advance(11);
    writer.complete(failure);
    expect(target.chunks.length).toBe(0);
    expect(writer.unflushedBytes).toBe(0);
    expect(target.stream.destroyed).toBe(true);
    expect((await within(errored))[0]).toBe(failure);
  });

  it('L9 complete() ends the Writable once; a second complete() is a no-op; leaveOpen: true keeps it open', async () => {
    const target = sink({ mode: 'sync' });
    let ends = 0;
    const end = target.stream.end.bind(target.stream);
    target.stream.end = ((...args: never[]) => {
      ends++;
      return end(...args);
    }) as typeof target.stream.end;
    const writer = createWriter(target.stream);
    await within(writer.write(ascii('abc')));
    writer.complete();
    writer.complete();
    await within(finished(target.stream));
    expect(ends).toBe(1);
    expect(Buffer.from(target.bytes()).toString()).toBe('abc');

    const open = sink({ mode: 'sync' });
    const leaving = createWriter(open.stream, { leaveOpen: true });
    await within(leaving.write(ascii('abc')));
    leaving.complete();
    expect(open.stream.writableEnded).toBe(false);
    expect(open.stream.write(ascii('def'))).toBe(true);
    expect(Buffer.from(open.bytes()).toString()).toBe('abcdef');
  });

  it('L9b a WritableStream: complete() closes it, complete(error) aborts it with the error, leaveOpen releases the lock', async () => {
    const events: string[] = [];
    let abortReason: unknown;
    const make = (): WritableStream<Uint8Array> =>
      new WritableStream<Uint8Array>({
        write(chunk) {
          events.push(`write ${new TextDecoder().decode(chunk)}`);
        },
        close() {
          events.push('close');
        },
        abort(reason) {
          abortReason = reason;
          events.push('abort');
        },
      });
    const closing = createWriter(make());
    await within(closing.write(ascii('a')));
    closing.complete();
    await settleTurns();
    expect(events).toEqual(['write a', 'close']);

    events.length = 0;
    const failure = new Error('stop');
    const aborting = createWriter(make());
    aborting.getMemory(1)[0] = 0x62;
    aborting.advance(1);
    aborting.complete(failure);
    await settleTurns();
    expect(events).toEqual(['abort']);
    expect(abortReason).toBe(failure);

    events.length = 0;
    const stream = make();
    const leaving = createWriter(stream, { leaveOpen: true });
    await within(leaving.write(ascii('c')));
    leaving.complete();
    await settleTurns();
    expect(stream.locked).toBe(false);
    expect(events).toEqual(['write c']);
  });

  it('L-backpressure flush stays pending while the Writable needs drain, and resolves on drain', async () => {
    const target = sink({ highWaterMark: 16, mode: 'manual' });
    const writer = createWriter(target.stream);
    const flush = writer.write(new Uint8Array(100).fill(7));
    expect(target.stream.writableNeedDrain).toBe(true);
    await settleTurns();
    expect((await peek(flush)).state).toBe('pending');
    // Another flush while one is pending is misuse.
    expect(() => writer.flush()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_FLUSH_PENDING' }));
    expect(target.callbacks.length).toBe(1);
    target.callbacks.shift()!();
    const result = await within(flush);
    expect(result).toEqual(expect.objectContaining({ isCanceled: false, isCompleted: false }));
    expect(target.bytes().length).toBe(100);
    writer.complete();
    await settleTurns();
    target.callbacks.forEach((callback) => callback());
  });

  it('L-backpressure a WritableStream: flush stays pending until the sink takes the chunk', async () => {
    let release!: () => void;
    const stream = new WritableStream<Uint8Array>(
      {
        write() {
          return new Promise<void>((resolve) => (release = resolve));
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 16 }),
    );
    const writer = createWriter(stream);
    const flush = writer.write(new Uint8Array(100));
    await settleTurns();
    expect((await peek(flush)).state).toBe('pending');
    release();
    expect((await within(flush)).isCompleted).toBe(false);
    writer.complete();
  });

  it('L7 a flush waiting for drain: cancelPendingFlush resolves it canceled; an aborted signal rejects it with AbortError', async () => {
    const target = sink({ highWaterMark: 16, mode: 'manual' });
    const writer = createWriter(target.stream);
    const flush = writer.write(new Uint8Array(100));
    await settleTurns();
    expect((await peek(flush)).state).toBe('pending');
    writer.cancelPendingFlush();
    expect((await within(flush)).isCanceled).toBe(true);

    const controller = new AbortController();
    writer.getMemory(10);
    writer.advance(10);
    const aborted = writer.flush({ signal: controller.signal });
    await settleTurns();
    expect((await peek(aborted)).state).toBe('pending');
    controller.abort();
    const error = await rejection(within(aborted));
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');
    expect((await rejection(within(writer.flush({ signal: AbortSignal.abort() })))).code).toBe('ABORT_ERR');
    target.callbacks.splice(0).forEach((callback) => callback());
    writer.complete();
  });

  it('L-errors a destination error becomes the flush\'s error (Writable and WritableStream)', async () => {
    const failure = new Error('disk full');
    const target = sink({ highWaterMark: 16, mode: 'manual', fail: (i) => (i === 0 ? failure : undefined) });
    target.stream.on('error', () => {});
    const writer = createWriter(target.stream);
    const flush = writer.write(new Uint8Array(100));
    await settleTurns();
    expect((await peek(flush)).state).toBe('pending');
    target.callbacks.shift()!(failure);
    expect(await rejection(within(flush))).toBe(failure);
    // The next flush fails at once with the same error.
    writer.getMemory(1);
    writer.advance(1);
    expect(await rejection(within(writer.flush()))).toBe(failure);
    writer.complete();

    const webFailure = new Error('sink broke');
    const stream = new WritableStream<Uint8Array>(
      {
        async write() {
          await nextImmediate();
          throw webFailure;
        },
      },
      new ByteLengthQueuingStrategy({ highWaterMark: 16 }),
    );
    const webWriter = createWriter(stream);
    expect(await rejection(within(webWriter.write(new Uint8Array(100))))).toBe(webFailure);
    expect(await rejection(within(webWriter.write(new Uint8Array(1))))).toBe(webFailure);
    webWriter.complete();
  });

  it('L5 one-byte buffers (minimumBufferSize 1)', async () => {
    const target = sink({ mode: 'sync' });
    const writer = createWriter(target.stream, { minimumBufferSize: 1 });
    for (let c = 0x61; c <= 0x7a; c++) {
      const memory = writer.getMemory();
      expect(memory.length).toBeGreaterThanOrEqual(1);
      memory[0] = c;
      writer.advance(1);
    }
    await within(writer.flush());
    expect(Buffer.from(target.bytes()).toString()).toBe('abcdefghijklmnopqrstuvwxyz');
    writer.complete();
  });

  it('L11 validation and misuse', async () => {
    const target = sink({ mode: 'sync' });
    for (const options of [{ minimumBufferSize: 0 }, { minimumBufferSize: -2 }, { leaveOpen: 1 }]) {
      expect(() => createWriter(target.stream, options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    }
    expect(() => createWriter({} as Writable)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const writer = createWriter(target.stream);
    expect(() => writer.getMemory(-1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const memory = writer.getMemory();
    expect(() => writer.advance(memory.length + 1)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_WRITE_BEYOND_MEMORY' }));
    writer.advance(11);
    expect(writer.unflushedBytes).toBe(11);
    writer.complete();
    expect(writer.unflushedBytes).toBe(0);
    expect(() => writer.getMemory()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
  });
});

// ---------------------------------------------------------------------------------------------------

describe('M pipe ends as node streams (toReadable / toWritable)', () => {
  it('M1 destroying the Readable from toReadable completes the pipe reader: a later write resolves isCompleted', async () => {
    const pipe = new Pipe();
    const readable = toReadable(pipe.reader);
    readable.destroy();
    await within(once(readable, 'close'));
    const result = await within(pipe.writer.write(ascii('after')));
    expect(result.isCompleted).toBe(true);
    expect(() => pipe.reader.read()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
  });

  it('M1b destroying it with an error completes the reader with that error: a later write rejects with it', async () => {
    const pipe = new Pipe();
    const readable = toReadable(pipe.reader);
    readable.on('error', () => {});
    const failure = new Error('consumer gone');
    readable.destroy(failure);
    // (events.once would reject on the 'error' event.)
    await within(new Promise((resolve) => readable.once('close', resolve)));
    expect(await rejection(within(pipe.writer.write(ascii('after'))))).toBe(failure);
  });

  it('M-error a reader error destroys the Readable with it', async () => {
    const pipe = new Pipe();
    const readable = toReadable(pipe.reader);
    const errored = once(readable, 'error');
    readable.resume();
    await within(pipe.writer.write(ascii('some')));
    const failure = new Error('producer broke');
    pipe.writer.complete(failure);
    expect((await within(errored))[0]).toBe(failure);
    expect(readable.destroyed).toBe(true);
  });

  it('M7 cancelPendingRead while toReadable is reading destroys it with ReadCanceledError (an AbortError)', async () => {
    const pipe = new Pipe();
    const readable = toReadable(pipe.reader);
    const errored = once(readable, 'error');
    readable.resume();
    await settleTurns();
    pipe.reader.cancelPendingRead();
    const [error] = (await within(errored)) as [Error & { code?: unknown }];
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');
  });

  it('M9 ending the Writable from toWritable completes the writer: the reader gets the bytes, then isCompleted', async () => {
    const pipe = new Pipe();
    const writable = toWritable(pipe.writer);
    writable.write(ascii('Hello '));
    writable.end(ascii('World'));
    await within(finished(writable));
    expectSameBytes(await within(drain(pipe.reader)), ascii('Hello World'));
    expect(() => pipe.writer.getMemory()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
  });

  it('M9b destroying the Writable with an error completes the writer with it: the reader\'s read rejects', async () => {
    const pipe = new Pipe();
    const writable = toWritable(pipe.writer);
    writable.on('error', () => {});
    const failure = new Error('producer aborted');
    writable.destroy(failure);
    await within(new Promise((resolve) => writable.once('close', resolve)));
    expect(await rejection(within(pipe.reader.read()))).toBe(failure);
  });

  it('M-backpressure a toWritable write calls back only once the pipe reader caught up', async () => {
    const pipe = new Pipe({ pauseWriterThreshold: 1024, resumeWriterThreshold: 512 });
    const writable = toWritable(pipe.writer);
    let calledBack = false;
    writable.write(new Uint8Array(4096), () => (calledBack = true));
    await settleTurns();
    expect(calledBack).toBe(false);
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(4096);
    pipe.reader.advanceTo(result.buffer.end);
    await within((async () => {
      while (!calledBack) await nextImmediate();
    })());
    writable.end();
    await within(finished(writable));
  });
});

describe('N copies through stream.pipeline and pipeTo', () => {
  const data = randomData(21, 4 * MB);

  it('N2a Pipe → toReadable → pipeline → toWritable → Pipe: 4 MB byte-exact, completion carried through', async () => {
    const source = new Pipe();
    const target = new Pipe();
    const producing = produce(source.writer, data, 22);
    const piping = pipeline(toReadable(source.reader), toWritable(target.writer));
    const consuming = drain(target.reader, seededRandom(23));
    const [, , received] = await within(Promise.all([producing, piping, consuming]), 20_000);
    expectSameBytes(received, data);
  });

  it('N2b a Node Readable → toWritable(pipe.writer); pipe.reader → toReadable → createReader: 4 MB byte-exact', async () => {
    const pipe = new Pipe({ pauseWriterThreshold: 8192, resumeWriterThreshold: 4096 });
    const piping = pipeline(readableOf(randomChunks(data, 24, 50_000), true), toWritable(pipe.writer));
    const reader = createReader(toReadable(pipe.reader));
    const [, received] = await within(Promise.all([piping, drain(reader, seededRandom(25))]), 20_000);
    expectSameBytes(received, data);
    reader.complete();
  });

  it('N2c toReadableStream(pipe.reader).pipeTo(toWritableStream(other.writer)): 4 MB byte-exact', async () => {
    const source = new Pipe();
    const target = new Pipe();
    const producing = produce(source.writer, data, 26);
    const piping = toReadableStream(source.reader).pipeTo(toWritableStream(target.writer));
    const consuming = drain(target.reader, seededRandom(27));
    const [, , received] = await within(Promise.all([producing, piping, consuming]), 20_000);
    expectSameBytes(received, data);
  });

  it('N2d createReader(ReadableStream) → createWriter(WritableStream) by hand: the two adapters agree', async () => {
    const chunks: Uint8Array[] = [];
    const destination = new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk.slice()) }, new ByteLengthQueuingStrategy({ highWaterMark: 4096 }));
    const reader = createReader(readableStreamOf(randomChunks(data, 28, 20_000)));
    const writer = createWriter(destination);
    await within((async () => {
      for (;;) {
        const result = await reader.read();
        for (const segment of result.buffer) await writer.write(segment);
        reader.advanceTo(result.buffer.end);
        if (result.isCompleted) break;
      }
      writer.complete();
      reader.complete();
    })(), 20_000);
    await settleTurns();
    expectSameBytes(Buffer.concat(chunks), data);
  });

  it('N-abort aborting the WritableStream from toWritableStream completes the pipe writer with the reason', async () => {
    const pipe = new Pipe();
    const stream = toWritableStream(pipe.writer);
    const failure = new Error('upload canceled');
    await within(stream.abort(failure));
    expect(await rejection(within(pipe.reader.read()))).toBe(failure);
  });

  it('N-close closing the WritableStream completes the writer: the reader sees the bytes and isCompleted', async () => {
    const pipe = new Pipe();
    const stream = toWritableStream(pipe.writer);
    const writer = stream.getWriter();
    await within(writer.write(ascii('abc')));
    await within(writer.close());
    expectSameBytes(await within(drain(pipe.reader)), ascii('abc'));
  });

  it('N-cancel canceling the ReadableStream from toReadableStream completes the pipe reader: a later write resolves isCompleted', async () => {
    const pipe = new Pipe();
    const stream = toReadableStream(pipe.reader);
    await within(pipe.writer.write(ascii('first')));
    const reader = stream.getReader();
    const chunk = await within(reader.read());
    expect(new TextDecoder().decode(chunk.value)).toBe('first');
    await within(reader.cancel());
    expect((await within(pipe.writer.write(ascii('later')))).isCompleted).toBe(true);
  });

  it('N-error a writer error errors the ReadableStream from toReadableStream', async () => {
    const pipe = new Pipe();
    const reader = toReadableStream(pipe.reader).getReader();
    const pending = reader.read();
    const failure = new Error('broken upstream');
    pipe.writer.complete(failure);
    expect(await rejection(within(pending))).toBe(failure);
  });

  it('N-error a destination failing inside stream.pipeline rejects the pipeline and completes the pipe reader with the error', async () => {
    const pipe = new Pipe();
    const failure = new Error('destination broke');
    const destination = new Writable({
      write(_chunk, _encoding, callback) {
        callback(failure);
      },
    });
    const piping = pipeline(toReadable(pipe.reader), destination);
    await within(pipe.writer.write(ascii('boom')));
    expect(await rejection(within(piping))).toBe(failure);
    expect(await rejection(within(pipe.writer.write(ascii('more'))))).toBe(failure);
  });
});

// ---------------------------------------------------------------------------------------------------

/** Two connected loopback sockets, both allowing half-open. */
async function socketPair(): Promise<{ a: net.Socket; b: net.Socket; close(): void }> {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'));
  const accepted = once(server, 'connection');
  const a = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  const [b] = (await within(accepted)) as [net.Socket];
  if (a.readyState !== 'open') await within(once(a, 'connect'));
  server.close();
  return {
    a,
    b,
    close: () => {
      a.destroy();
      b.destroy();
    },
  };
}

describe('Q8 StreamConnection over a Duplex', () => {
  it('Q8a 4 MB each way at once between two StreamConnections over a socket pair, byte-exact', async () => {
    const pair = await socketPair();
    try {
      const left = StreamConnection.create(pair.a);
      const right = StreamConnection.create(pair.b);
      const there = randomData(31, 4 * MB);
      const back = randomData(32, 4 * MB);
      const [, , gotThere, gotBack] = await within(
        Promise.all([produce(left.output, there, 33), produce(right.output, back, 34), drain(right.input, seededRandom(35)), drain(left.input, seededRandom(36))]),
        20_000,
      );
      expectSameBytes(gotThere, there, 'left → right');
      expectSameBytes(gotBack, back, 'right → left');
      left.input.complete();
      right.input.complete();
      expect(pair.a.destroyed).toBe(true);
      expect(pair.b.destroyed).toBe(true);
    } finally {
      pair.close();
    }
  });

  it('Q8b completing output ends the writable side (half-close): the peer reads to the end and still answers', async () => {
    const pair = await socketPair();
    try {
      const client = StreamConnection.create(pair.a);
      const server = StreamConnection.create(pair.b);
      await within(client.output.write(ascii('Hello, world!')));
      client.output.complete();
      expect(pair.a.writableEnded).toBe(true);
      // The client side is not destroyed yet: its input is still open.
      expect(pair.a.destroyed).toBe(false);
      const request = await within(drain(server.input));
      expect(Buffer.from(request).toString()).toBe('Hello, world!');
      server.input.complete();
      await within(server.output.write(Buffer.from(request).reverse()));
      server.output.complete();
      const reply = await within(drain(client.input));
      expect(Buffer.from(reply).toString()).toBe('!dlrow ,olleH');
      client.input.complete();
      // Both sides completed on each connection: the streams are destroyed.
      expect(pair.a.destroyed).toBe(true);
      expect(pair.b.destroyed).toBe(true);
    } finally {
      pair.close();
    }
  });

  it('Q8c over a hand-made Duplex: bytes written to output come out of the duplex, bytes pushed in come out of input', async () => {
    const written: Buffer[] = [];
    let pushIn!: (chunk: Uint8Array | null) => void;
    const duplex: Duplex = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        written.push(chunk);
        callback();
      },
      final(callback) {
        written.push(Buffer.from('<FIN>'));
        callback();
      },
    });
    pushIn = (chunk) => duplex.push(chunk);
    const connection = StreamConnection.create(duplex);
    const data = randomData(41, 300_000);
    const chunks = randomChunks(data, 42, 10_000);
    const consumer = drain(connection.input, seededRandom(43));
    for (const chunk of chunks) pushIn(chunk);
    pushIn(null);
    expectSameBytes(await within(consumer), data, 'input');
    await within(produce(connection.output, data, 44));
    await within((async () => {
      while (written.length === 0 || written[written.length - 1]!.toString() !== '<FIN>') await nextImmediate();
    })());
    expectSameBytes(Buffer.concat(written.slice(0, -1)), data, 'output');
    connection.input.complete();
    expect(duplex.destroyed).toBe(true);
  });

  it('Q8d a stream error rejects the input read and the output flush with it', async () => {
    const pair = await socketPair();
    try {
      const connection = StreamConnection.create(pair.a);
      const pending = connection.input.read();
      const failure = new Error('stream broke');
      pair.a.destroy(failure);
      expect(await rejection(within(pending))).toBe(failure);
      connection.output.getMemory(1);
      connection.output.advance(1);
      expect(await rejection(within(connection.output.flush()))).toBe(failure);
    } finally {
      pair.close();
    }
  });

  it('Q8e StreamConnection.create rejects what is not a Duplex with ERR_INVALID_ARG_VALUE', () => {
    expect(() => StreamConnection.create({} as Duplex)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => StreamConnection.create(null as unknown as Duplex)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
