// Parallel gzip: the input is cut into chunks, each compressed on a PoolScheduler thread as an
// independent gzip member, and the members are written in input order. Concatenated members are a
// valid gzip stream (RFC 1952), which gunzip and zlib decompress to the concatenated input.
import { createReadStream, type ReadStream } from 'node:fs';
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

const compressModule = new URL('./compress.js', import.meta.url);

export const kDefaultChunkSize = 1 << 20;
/** The largest read from a file: a chunk's worth at a time, up to this. */
const kMaxReadSize = 1 << 20;

/**
 * A file as pgzip reads it: in reads of a chunk (fs streams read 64 KiB by default, sixteen reads
 * and callbacks on the main thread per 1 MiB chunk, CPU the compressing threads could use).
 */
export function readFile(path: string, chunkSize = kDefaultChunkSize): ReadStream {
  return createReadStream(path, { highWaterMark: Math.min(chunkSize, kMaxReadSize) });
}

/**
 * Chunks handed to each thread ahead of the one it compresses: when it finishes a member it starts
 * the next at once instead of waiting for the main thread (busy reading and writing, or not even
 * scheduled on a machine with as many cores as compressing threads) to hand it one.
 */
const kQueuedPerThread = 1;
/** Chunks in flight per thread: the one compressing, the one queued at it, one more waiting for whichever thread frees first. */
const kInFlightPerThread = kQueuedPerThread + 2;

export async function pgzip(
  source: NodeJS.ReadableStream | AsyncIterable<Uint8Array>,
  destination: NodeJS.WritableStream,
  options: PgzipOptions = {},
): Promise<PgzipResult> {
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
  const reader = createReader(source as NodeJS.ReadableStream, { pauseThreshold: chunkSize * 2, leaveOpen: true });
  const writer = createWriter(destination, { leaveOpen: true });
  // Members are written strictly in input order, with a bounded number of chunks in flight.
  const inFlight: Promise<Compressed>[] = [];
  // Chunk buffers come back with their members and are filled again: memory a thread touched once
  // costs nothing to write into, where a fresh 1 MiB buffer costs hundreds of page faults.
  const spare: ArrayBuffer[] = [];
  let bytesIn = 0;
  let bytesOut = 0;
  let chunks = 0;
  const writeNext = async (): Promise<void> => {
    const { member, chunk } = await inFlight.shift()!;
    if (chunk.byteLength === chunkSize) spare.push(chunk);
    bytesOut += member.length;
    const flushed = await writer.write(member);
    if (flushed.isCompleted) throw new Error('the destination closed before the output was complete');
  };
  try {
    for (;;) {
      const result = await reader.readAtLeast(chunkSize);
      const buffer = result.buffer;
      const take = Math.min(buffer.length, chunkSize);
      if (take > 0) {
        // The one copy of the input: out of the reader's segments into a buffer of the chunk's own,
        // which moves to the compressing thread (transferList) instead of being copied again.
        const chunk = new Uint8Array(spare.pop() ?? new ArrayBuffer(chunkSize), 0, take);
        buffer.slice(0, take).copyTo(chunk);
        reader.advanceTo(buffer.getPosition(take));
        bytesIn += take;
        chunks++;
        inFlight.push(pool.run<Compressed>('compress', { chunk, level }, { transferList: [chunk.buffer] }));
        if (inFlight.length >= threads * kInFlightPerThread) await writeNext();
      } else {
        reader.advanceTo(buffer.end);
      }
      if (result.isCompleted && take === buffer.length) break;
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
    reader.complete();
    await pool.close();
  }
  return { startupSeconds: (started - startup) / 1000, bytesIn, bytesOut, chunks, seconds: (performance.now() - started) / 1000, threads };
}
