// Parallel gzip: the input is cut into chunks, each compressed on a PoolScheduler thread as an
// independent gzip member, and the members are written in input order. Concatenated members are a
// valid gzip stream (RFC 1952), which gunzip and zlib decompress to the concatenated input.
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { createReader, createWriter, PoolScheduler } from 'threadpipe';
import type { Compressed } from './compress.js';

export interface PgzipOptions {
  level?: number;
  threads?: number;
  chunkSize?: number;
}

export interface PgzipResult {
  /** Starting the pool's threads and loading the compressor in each, before the clock starts. */
  startupSeconds: number;
  bytesIn: number;
  bytesOut: number;
  chunks: number;
  seconds: number;
  threads: number;
}

/** A stream or async iterable of bytes, or the path of a file. */
export type PgzipSource = NodeJS.ReadableStream | AsyncIterable<Uint8Array> | string;

const compressModule = new URL('./compress.js', import.meta.url);

export const kDefaultChunkSize = 1 << 20;

/**
 * Chunks handed to each thread ahead of the one it compresses: when it finishes a member it starts
 * the next at once instead of waiting for the main thread (busy reading and writing, or not even
 * scheduled on a machine with as many cores as compressing threads) to hand it one.
 */
const kQueuedPerThread = 1;
/** Chunks in flight per thread: the one compressing, the one queued at it, one more waiting for whichever thread frees first. */
const kInFlightPerThread = kQueuedPerThread + 2;

/**
 * A file read straight into the chunk buffers: no copy on this thread, and no fresh memory per read
 * (a stream allocates a buffer for every read, which a first pass over the input pays in page faults).
 */
async function* fileChunks(path: string, chunkSize: number, spare: ArrayBuffer[]): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const file = await open(path, 'r');
  try {
    for (;;) {
      const buffer = spare.pop() ?? new ArrayBuffer(chunkSize);
      let filled = 0;
      while (filled < chunkSize) {
        const { bytesRead } = await file.read(new Uint8Array(buffer, filled), 0, chunkSize - filled, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled === 0) return;
      yield new Uint8Array(buffer, 0, filled);
      if (filled < chunkSize) return;
    }
  } finally {
    await file.close();
  }
}

/**
 * A stream through a PipeReader: each chunk is copied once, out of the reader's segments (the
 * stream's own buffers, which stay where they are) into a chunk buffer.
 */
async function* streamChunks(source: NodeJS.ReadableStream | AsyncIterable<Uint8Array>, chunkSize: number, spare: ArrayBuffer[]): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  const reader = createReader(source as NodeJS.ReadableStream, { pauseThreshold: chunkSize * 2, leaveOpen: true });
  try {
    for (;;) {
      const result = await reader.readAtLeast(chunkSize);
      const buffer = result.buffer;
      const take = Math.min(buffer.length, chunkSize);
      if (take > 0) {
        const chunk = new Uint8Array(spare.pop() ?? new ArrayBuffer(chunkSize), 0, take);
        buffer.slice(0, take).copyTo(chunk);
        reader.advanceTo(buffer.getPosition(take));
        yield chunk;
      } else {
        reader.advanceTo(buffer.end);
      }
      if (result.isCompleted && take === buffer.length) return;
    }
  } finally {
    reader.complete();
  }
}

export async function pgzip(source: PgzipSource, destination: NodeJS.WritableStream, options: PgzipOptions = {}): Promise<PgzipResult> {
  const level = options.level ?? 6;
  const threads = options.threads ?? Math.max(1, availableParallelism());
  const chunkSize = options.chunkSize ?? kDefaultChunkSize;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new RangeError(`level must be 0 to 9, got ${level}`);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  if (!Number.isInteger(chunkSize) || chunkSize < 1024) throw new RangeError(`chunkSize must be an integer >= 1024, got ${chunkSize}`);
  const startup = performance.now();
  const pool = new PoolScheduler(compressModule, { minThreads: threads, maxThreads: threads, concurrentTasksPerThread: 1 + kQueuedPerThread });
  const arrived = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  await Promise.all(Array.from({ length: threads }, () => pool.run('rendezvous', { arrived, parties: threads, timeoutMs: 30_000 })));
  const started = performance.now();
  // Chunk buffers move to the compressing threads (transferList) rather than being copied, and come
  // back with their members to be filled again: memory already touched costs nothing to write into,
  // where a fresh 1 MiB buffer costs hundreds of page faults.
  const spare: ArrayBuffer[] = [];
  const input = typeof source === 'string' ? fileChunks(source, chunkSize, spare) : streamChunks(source, chunkSize, spare);
  const writer = createWriter(destination, { leaveOpen: true });
  // Members are written strictly in input order, with a bounded number of chunks in flight.
  const inFlight: Promise<Compressed>[] = [];
  let bytesIn = 0;
  let bytesOut = 0;
  let chunks = 0;
  const writeNext = async (): Promise<void> => {
    const { member, chunk } = await inFlight.shift()!;
    if (chunk.byteLength === chunkSize) spare.push(chunk);
    bytesOut += member.length;
    // The member came back moved and nothing else holds it: hand it over rather than copy it.
    const flushed = await writer.write(member, { transfer: true });
    if (flushed.isCompleted) throw new Error('the destination closed before the output was complete');
  };
  try {
    for await (const chunk of input) {
      bytesIn += chunk.length;
      chunks++;
      inFlight.push(pool.run<Compressed>('compress', { chunk, level }, { transferList: [chunk.buffer] }));
      if (inFlight.length >= threads * kInFlightPerThread) await writeNext();
    }
    if (chunks === 0) inFlight.push(pool.run<Compressed>('compress', { chunk: new Uint8Array(0), level }));
    while (inFlight.length > 0) await writeNext();
    writer.complete();
  } catch (error) {
    writer.complete(error as Error);
    throw error;
  } finally {
    // Wait out chunks still compressing after a failure, so no task outlives the pool.
    await Promise.allSettled(inFlight);
    await pool.close();
  }
  return { startupSeconds: (started - startup) / 1000, bytesIn, bytesOut, chunks, seconds: (performance.now() - started) / 1000, threads };
}
