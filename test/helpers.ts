import { expect } from 'vitest';
import { MemoryPool, Pipe, PipeReader, PoolScheduler, ThreadScheduler, type PipeWriter, type ReadOnlySequence, type ReadResult, type SequencePosition } from '../dist/src/index.js';

export type Peeked<T> = { state: 'pending' } | { state: 'fulfilled'; value: T } | { state: 'rejected'; error: unknown };

const kPending = Symbol('pending');

/**
 * Where a promise stands right now, without waiting for it: a promise that was already settled when
 * this is called reports its outcome ("completed synchronously" in the .NET cases).
 */
export async function peek<T>(promise: Promise<T>): Promise<Peeked<T>> {
  try {
    const value = await Promise.race([promise, Promise.resolve(kPending)]);
    return value === kPending ? { state: 'pending' } : { state: 'fulfilled', value: value as T };
  } catch (error) {
    return { state: 'rejected', error };
  }
}

export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  return (await peek(promise)).state !== 'pending';
}

/** The fulfilled value of a promise that must already be settled; fails the test otherwise. */
export async function settledValue<T>(promise: Promise<T>): Promise<T> {
  const p = await peek(promise);
  if (p.state === 'pending') throw new Error('expected the promise to be settled already');
  if (p.state === 'rejected') throw p.error;
  return p.value;
}

/** Races a promise against a timer so a broken implementation fails instead of hanging. */
export async function within<T>(promise: Promise<T>, ms = 5_000, label = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Lets every queued setImmediate callback run (and the microtasks they queue). */
export function nextImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** .NET's `writeEmpty(W, n)`: n zero bytes through getMemory/advance, not flushed. */
export function writeEmpty(writer: PipeWriter, count: number): void {
  const memory = writer.getMemory(count);
  memory.fill(0, 0, count);
  writer.advance(count);
}

/** A pool that rents exactly what is asked and counts blocks (.NET's DisposeTrackingBufferPool). */
export class TrackingPool extends MemoryPool {
  currentlyRentedBlocks = 0;
  disposedBlocks = 0;
  readonly #rented = new Set<Uint8Array>();

  constructor(maxBufferSize = 4096) {
    super({ maxBufferSize });
  }

  override rent(minimumSize: number): Uint8Array {
    const block = new Uint8Array(minimumSize);
    this.#rented.add(block);
    this.currentlyRentedBlocks++;
    return block;
  }

  override return(block: Uint8Array): void {
    if (!this.#rented.delete(block)) throw new Error('a block was returned twice or was never rented here');
    this.currentlyRentedBlocks--;
    this.disposedBlocks++;
  }
}

import { seededRandom } from './fixtures/random.js';

export { seededRandom };

/** `size` seeded pseudo-random bytes. */
export function randomData(seed: number, size: number): Uint8Array {
  const random = seededRandom(seed);
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 4) {
    const value = (random() * 2 ** 32) >>> 0;
    data[i] = value & 0xff;
    if (i + 1 < size) data[i + 1] = (value >>> 8) & 0xff;
    if (i + 2 < size) data[i + 2] = (value >>> 16) & 0xff;
    if (i + 3 < size) data[i + 3] = value >>> 24;
  }
  return data;
}

/** `data` cut into chunks of 1..maxChunk bytes (random sizes), each its own copy. */
export function randomChunks(data: Uint8Array, seed: number, maxChunk: number): Uint8Array[] {
  const random = seededRandom(seed);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < data.length;) {
    const size = Math.min(data.length - offset, 1 + Math.floor(random() * maxChunk));
    chunks.push(data.slice(offset, offset + size));
    offset += size;
  }
  return chunks;
}

export function bytes(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

export function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: unknown };
  }
  throw new Error('expected the promise to reject');
}

/** The error a promise rejects with, within `ms`; fails the test if it resolves or is still pending then. */
export function rejectedWithin(promise: Promise<unknown>, ms = 5_000): Promise<Error & { code?: unknown; cause?: unknown }> {
  return within(rejection(promise), ms, 'the expected rejection');
}

/** What the cases that hold for both schedulers use of them. */
export interface TestScheduler {
  run<T>(exportName: string, args?: unknown, options?: { signal?: AbortSignal }): Promise<T>;
  close(options?: { timeout?: number }): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A ThreadScheduler and a one-thread PoolScheduler over `module`, by name, for the cases that hold for
 * both. Each one made is tracked; `destroyAll()` (in afterEach) destroys them, so a run a failing test
 * left stuck cannot hang the file.
 */
export function schedulerKinds(module: URL, concurrentTasksPerThread = 4): { kinds: [string, () => TestScheduler][]; destroyAll(): Promise<unknown> } {
  const made: TestScheduler[] = [];
  const track = (scheduler: TestScheduler): TestScheduler => {
    made.push(scheduler);
    return scheduler;
  };
  return {
    kinds: [
      ['ThreadScheduler', () => track(new ThreadScheduler(module))],
      ['PoolScheduler', () => track(new PoolScheduler(module, { minThreads: 1, maxThreads: 1, concurrentTasksPerThread }))],
    ],
    destroyAll: () => within(Promise.allSettled(made.splice(0).map((scheduler) => scheduler.destroy())), 10_000, 'destroy() in afterEach'),
  };
}

/** Gives queued immediates (and the work they queue) a few turns: whatever was due has happened after. */
export async function settleTurns(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await nextImmediate();
}

export function expectSameBytes(actual: Uint8Array, expected: Uint8Array, label = 'bytes'): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.length);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.length);
  if (!a.equals(b)) {
    let i = 0;
    while (a[i] === b[i]) i++;
    expect.fail(`${label}: first difference at byte ${i} of ${expected.length}`);
  }
}

/** Every byte the reader yields until the writer completes (or `limit` bytes came), consuming each read whole. */
export async function readAll(reader: PipeReader, limit = Infinity): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  while (length < limit) {
    const result = await reader.read();
    parts.push(result.buffer.toUint8Array());
    length += result.buffer.length;
    reader.advanceTo(result.buffer.end);
    if (result.isCompleted) break;
  }
  return Buffer.concat(parts);
}

/** Writes through getMemory(1)/advance, so the bytes land in as many segments as the pool's blocks make. */
export function writeSmall(writer: PipeWriter, data: Uint8Array): void {
  for (let offset = 0; offset < data.length;) {
    const memory = writer.getMemory(1);
    const count = Math.min(memory.length, data.length - offset);
    memory.set(data.subarray(offset, offset + count));
    writer.advance(count);
    offset += count;
  }
}

/**
 * Feeds `chunks` through a pipe that pauses at 1 byte (each flush waits until the reader examined
 * it) while `parse` iterates the reader; a limit or format error ends the parse and is reported by code.
 */
export async function parseThroughSmallPipe(
  chunks: Uint8Array[],
  segment: number,
  parse: (reader: PipeReader) => AsyncIterable<ReadOnlySequence>,
  label: string,
): Promise<{ items: number[][]; error?: string }> {
  const pipe = new Pipe({ pool: new TrackingPool(), minimumSegmentSize: segment, pauseWriterThreshold: 1, resumeWriterThreshold: 1 });
  const items: number[][] = [];
  const consumer = (async (): Promise<{ items: number[][]; error?: string }> => {
    try {
      for await (const item of parse(pipe.reader)) items.push([...item.toUint8Array()]);
      return { items };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'ERR_FRAME_TOO_LARGE' && code !== 'ERR_FRAME_INVALID') throw error;
      return { items, error: code };
    } finally {
      pipe.reader.complete();
    }
  })();
  const producer = (async () => {
    for (const chunk of chunks) {
      writeSmall(pipe.writer, chunk);
      if ((await pipe.writer.flush()).isCompleted) break;
    }
    pipe.writer.complete();
  })();
  const [outcome] = await within(Promise.all([consumer, producer]), 2_000, label);
  return outcome;
}

/** Marks a promise handled (a failing test may leave it to reject after the test); returns it unchanged. */
export function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** Shared flag words a test and a worker fixture signal each other through. */
export function flags(words = 4): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * words));
}

/** Forwards PipeReader's abstract members, so readAtLeast and copyTo come from PipeReader itself (J10). */
export class ForwardingReader extends PipeReader {
  readonly inner: PipeReader;
  reads = 0;

  constructor(inner: PipeReader) {
    super();
    this.inner = inner;
  }

  protected readCore(signal: AbortSignal | undefined): Promise<ReadResult> {
    this.reads++;
    return this.inner.read(signal === undefined ? undefined : { signal });
  }

  protected tryReadCore(): ReadResult | null {
    return this.inner.tryRead();
  }

  protected advanceToCore(consumed: SequencePosition, examined: SequencePosition): void {
    this.inner.advanceTo(consumed, examined);
  }

  protected cancelPendingReadCore(): void {
    this.inner.cancelPendingRead();
  }

  protected completeCore(error: Error | undefined): void {
    this.inner.complete(error);
  }
}

/** The bytes of a sequence's segments (or any chunks), copied into one array. */
export function concatBytes(parts: Iterable<Uint8Array>): Uint8Array {
  const list = [...parts];
  const out = new Uint8Array(list.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of list) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
