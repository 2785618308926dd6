// Shared by the ring suites (bench/ring-throughput.ts, bench/ring-latency.ts) and their worker
// (bench/workers/ring-peer.ts): the transports under test, each as a producer and a consumer that
// can run on the main thread or in a worker, plus small statistics, GC and table helpers.
//
// A "message" is `size` bytes sent with one flush (or one postMessage / push / stream write); a
// batch transport sends `batch` records of `size` bytes per flush. Consumers count bytes and stop
// at the exact total of a run, so a transport that loses or duplicates data fails the run.
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import { setFlagsFromString, GCProfiler, getHeapStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MessagePort } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { SharedPipe, type SharedPipeHandle, type SharedPipeReader, type SharedPipeWriter } from 'threadpipe';

export type Transport =
  | 'sp-write' // SharedPipe: writer.write(payload) + await; reader.read() + advanceTo
  | 'sp-memory' // SharedPipe: getMemory/set/advance + await flush(); reader.read() + advanceTo
  | 'sp-sync' // SharedPipe: getMemory/set/advance + await flush(); reader.readSync() + advanceTo
  | 'sp-batch' // SharedPipe: `batch` x (getMemory(size)/set/advance(size)), one flush; reader.read()
  | 'sp-batch-sync' // the same, reader.readSync()
  | 'sp-cork' // SharedPipe: cork(), `batch` x await write(payload), uncork(); reader.read()
  | 'sp-blocking' // SharedPipe: getMemory/set/advance + flushSync(); reader.readSync(): no await on either side
  | 'pm-copy' // postMessage(Uint8Array): structured clone copies it; <= 64 in flight, acked by the receiver
  | 'pm-transfer' // postMessage(ArrayBuffer, [ArrayBuffer]): a fresh buffer per message, transferred
  | 'thread-stream' // thread-stream (pino's): stream.write(Buffer), drain, flush(cb) at the end of a run
  | 'ringbuf'; // ringbuf.js RingBuffer<Uint8Array>: push / pop, both sides poll (it has no wake-up)

/** What both ends of a transport need; structured-cloneable (ports go in the transfer list). */
export interface TransportSpec {
  transport: Transport;
  size: number;
  batch: number;
  /** The SharedPipe reader or writer handle for the end in this thread. */
  handle?: SharedPipeHandle;
  port?: MessagePort;
  ringSab?: SharedArrayBuffer;
  /** file: URL of the thread-stream destination module. */
  sinkUrl?: string;
}

export const kWindow = 64; // postMessage: most messages in flight
export const kAckEvery = 16; // postMessage: the receiver acks every 16 messages (cumulative count)
export const kRingCapacity = 1 << 20; // SharedPipe default, and the ringbuf.js capacity
export const kThreadStreamBuffer = 4 * 1024 * 1024; // thread-stream's default

/** ASCII payload (thread-stream decodes UTF-8, so the byte count must survive). */
export function payload(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = 97 + (i % 26);
  return bytes;
}

export function bytesPerMessage(spec: Pick<TransportSpec, 'size' | 'batch'>): number {
  return spec.size * spec.batch;
}

// ---------------------------------------------------------------- producers

export interface Producer {
  /** Sends `count` messages (batches); resolves when sent (thread-stream: when consumed). */
  produce(count: number): Promise<void>;
  close(): Promise<void>;
}

/** `writer` when the producer runs on the thread that created the pipe; else revived from spec.handle. */
export async function createProducer(spec: TransportSpec, writer?: SharedPipeWriter): Promise<Producer> {
  const { size, batch } = spec;
  const data = payload(size);
  switch (spec.transport) {
    case 'sp-write': {
      const w = writer ?? SharedPipe.writer(spec.handle!);
      let sent = w.stats().bytesWritten;
      return {
        async produce(count) {
          for (let i = 0; i < count; i++) {
            try {
              await w.write(data);
            } catch (error) {
              if (!isSpurious(error)) throw error;
              // Finish the write where it stopped (the ring counts what was published).
              const written = w.stats().bytesWritten - sent;
              if (written < size) await w.write(data.subarray(written));
            }
            sent += size;
          }
        },
        async close() {
          w.complete();
        },
      };
    }
    case 'sp-cork': {
      const w = writer ?? SharedPipe.writer(spec.handle!);
      return {
        async produce(count) {
          for (let i = 0; i < count; i++) {
            w.cork();
            for (let j = 0; j < batch; j++) await w.write(data);
            w.uncork();
          }
        },
        async close() {
          w.complete();
        },
      };
    }
    case 'sp-memory':
    case 'sp-sync':
    case 'sp-batch':
    case 'sp-batch-sync': {
      const w = writer ?? SharedPipe.writer(spec.handle!);
      return {
        async produce(count) {
          for (let i = 0; i < count; i++) {
            for (let j = 0; j < batch; j++) {
              const memory = w.getMemory(size);
              memory.set(data);
              w.advance(size);
            }
            try {
              await w.flush();
            } catch (error) {
              if (!isSpurious(error)) throw error;
              await w.flush(); // everything was published; wait again
            }
          }
        },
        async close() {
          w.complete();
        },
      };
    }
    case 'sp-blocking': {
      const w = writer ?? SharedPipe.writer(spec.handle!);
      return {
        async produce(count) {
          for (let i = 0; i < count; i++) {
            const memory = w.getMemory(size);
            memory.set(data);
            w.advance(size);
            try {
              w.flushSync();
            } catch (error) {
              if (!isSpurious(error)) throw error;
              w.flushSync();
            }
          }
        },
        async close() {
          w.complete();
        },
      };
    }
    case 'pm-copy':
    case 'pm-transfer': {
      const port = spec.port!;
      const transfer = spec.transport === 'pm-transfer';
      let sent = 0;
      let acked = 0;
      let wake: (() => void) | null = null;
      port.on('message', (received: number) => {
        acked = received;
        const w = wake;
        wake = null;
        w?.();
      });
      return {
        async produce(count) {
          for (let i = 0; i < count; i++) {
            while (sent - acked >= kWindow) await new Promise<void>((resolve) => (wake = resolve));
            if (transfer) {
              const buffer = new ArrayBuffer(size);
              new Uint8Array(buffer).set(data);
              port.postMessage(buffer, [buffer]);
            } else {
              port.postMessage(data);
            }
            sent++;
          }
        },
        async close() {
          port.close();
        },
      };
    }
    case 'thread-stream': {
      // CommonJS with `export =`; loaded with require so the ESM build needs no interop flags.
      const ThreadStream = createRequire(import.meta.url)('thread-stream') as ThreadStreamCtor;
      const stream = new ThreadStream({ filename: spec.sinkUrl!, bufferSize: kThreadStreamBuffer, sync: false, workerData: {} });
      stream.on('error', (error: Error) => {
        console.error('thread-stream error', error);
      });
      let consumed = 0;
      stream.on('count', (bytes: number) => (consumed = bytes));
      await once(stream, 'ready');
      const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      let expected = 0;
      return {
        async produce(count) {
          for (let i = 0; i < count; i++) {
            if (!stream.write(buffer)) await once(stream, 'drain');
          }
          expected += count * size;
          await new Promise<void>((resolve, reject) => stream.flush((error) => (error ? reject(error) : resolve())));
          // The sink reports its byte count from its flush(), before FLUSHED: it must match exactly.
          if (consumed !== expected) throw new Error(`thread-stream: sink saw ${consumed} bytes, expected ${expected}`);
        },
        async close() {
          const closed = once(stream, 'close');
          stream.end();
          await closed;
        },
      };
    }
    case 'ringbuf': {
      const ring = new RingBuffer(spec.ringSab!, Uint8Array);
      return {
        async produce(count) {
          for (let i = 0; i < count; i++) {
            let done = ring.push(data);
            while (done < size) done += ring.push(data, size - done, done);
          }
        },
        async close() {},
      };
    }
  }
}

/**
 * Spurious ERR_FRAME_TOO_LARGE from a flush that waits for room: the writer's deadlock check can read
 * the reader's new EXAMINED_POS with its old READ_POS (advanceTo stores examined first) while the
 * reader is in a read, and conclude that the reader holds the whole ring. Our consumers always consume
 * everything they read, so it cannot be real here: counted, reported, and the flush is retried.
 */
export const spurious = { count: 0 };
function isSpurious(error: unknown): boolean {
  if ((error as { code?: string } | null)?.code !== 'ERR_FRAME_TOO_LARGE') return false;
  spurious.count++;
  return true;
}

interface ThreadStreamLike {
  write(data: Buffer): boolean;
  flush(cb: (error?: Error) => void): void;
  end(): void;
  on(event: string, listener: (...args: any[]) => void): this;
  once(event: string, listener: (...args: any[]) => void): this;
}
type ThreadStreamCtor = new (options: { filename: string; bufferSize?: number; sync?: boolean; workerData?: unknown }) => ThreadStreamLike &
  import('node:events').EventEmitter;

// ---------------------------------------------------------------- consumers

export interface Consumer {
  /** Takes exactly `bytes` bytes; sync consumers block the thread until then. */
  consume(bytes: number): Promise<void> | void;
}

export function createConsumer(spec: TransportSpec, reader?: SharedPipeReader): Consumer {
  switch (spec.transport) {
    case 'sp-write':
    case 'sp-memory':
    case 'sp-batch':
    case 'sp-cork': {
      const r = reader ?? SharedPipe.reader(spec.handle!);
      return {
        async consume(bytes) {
          let total = 0;
          while (total < bytes) {
            const result = await r.read();
            const buffer = result.buffer;
            total += buffer.length;
            r.advanceTo(buffer.end);
          }
          if (total !== bytes) throw new Error(`SharedPipe consumer: ${total} bytes, expected ${bytes}`);
        },
      };
    }
    case 'sp-sync':
    case 'sp-batch-sync':
    case 'sp-blocking': {
      const r = reader ?? SharedPipe.reader(spec.handle!);
      return {
        consume(bytes) {
          let total = 0;
          while (total < bytes) {
            const buffer = r.readSync().buffer;
            total += buffer.length;
            r.advanceTo(buffer.end);
          }
          if (total !== bytes) throw new Error(`SharedPipe consumer: ${total} bytes, expected ${bytes}`);
        },
      };
    }
    case 'pm-copy':
    case 'pm-transfer': {
      const port = spec.port!;
      let received = 0;
      let total = 0;
      let target = Infinity;
      let finish: (() => void) | null = null;
      port.on('message', (message: Uint8Array | ArrayBuffer) => {
        total += message.byteLength;
        received++;
        if (received % kAckEvery === 0) port.postMessage(received);
        if (total >= target && finish !== null) {
          port.postMessage(received);
          const f = finish;
          finish = null;
          f();
        }
      });
      return {
        consume(bytes) {
          total = 0;
          target = bytes;
          return new Promise<void>((resolve, reject) => {
            finish = () => (total === bytes ? resolve() : reject(new Error(`postMessage consumer: ${total} bytes, expected ${bytes}`)));
          });
        },
      };
    }
    case 'ringbuf': {
      const ring = new RingBuffer(spec.ringSab!, Uint8Array);
      const into = new Uint8Array(Math.max(spec.size * spec.batch, 65536));
      return {
        consume(bytes) {
          let total = 0;
          while (total < bytes) total += ring.pop(into);
          if (total !== bytes) throw new Error(`ringbuf consumer: ${total} bytes, expected ${bytes}`);
        },
      };
    }
    case 'thread-stream':
      throw new Error('thread-stream consumers are its own worker (bench/workers/thread-stream-sink.ts)');
  }
}

// ---------------------------------------------------------------- GC and allocation

let forceGc: (() => void) | undefined;

/** A full GC (via --expose-gc set at run time, so the runner needs no flag). */
export function fullGc(): void {
  if (forceGc === undefined) {
    setFlagsFromString('--expose-gc');
    forceGc = runInNewContext('gc') as () => void;
  }
  forceGc();
}

export interface GcReport {
  /** Scavenges (young generation). */
  minor: number;
  /** Mark-sweep-compact and incremental marking steps finished. */
  major: number;
  /** Time spent in GC pauses, ms (perf_hooks 'gc' entries). */
  gcMs: number;
  /** Bytes allocated on the JS heap during the window (GCProfiler: used-before-GC minus used-after-previous). */
  allocated: number;
  /** Heap used after a full GC at the end minus after a full GC at the start. */
  heapGrowth: number;
}

/** Counts this thread's GCs ('gc' performance entries) and allocation (v8.GCProfiler) between start and stop. */
export class GcWatch {
  #observer: PerformanceObserver | undefined;
  #profiler: GCProfiler | undefined;
  #minor = 0;
  #major = 0;
  #ms = 0;
  #heapStart = 0;
  #usedStart = 0;

  start(): void {
    fullGc();
    this.#heapStart = getHeapStatistics().used_heap_size;
    this.#minor = this.#major = this.#ms = 0;
    this.#observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
        // perf_hooks constants: NODE_PERFORMANCE_GC_MINOR = 1, MAJOR = 4, INCREMENTAL = 8, WEAKCB = 16.
        if (kind === 1) this.#minor++;
        else if (kind === 4 || kind === 8) this.#major++;
        this.#ms += entry.duration;
      }
    });
    this.#observer.observe({ entryTypes: ['gc'] });
    this.#profiler = new GCProfiler();
    this.#profiler.start();
    this.#usedStart = getHeapStatistics().used_heap_size;
  }

  /** Stops the window; await it so that buffered 'gc' entries are delivered first. */
  async stop(): Promise<GcReport> {
    const usedEnd = getHeapStatistics().used_heap_size;
    const profile = this.#profiler!.stop() as unknown as {
      statistics: { gcType: string; beforeGC: { heapStatistics: { usedHeapSize: number } }; afterGC: { heapStatistics: { usedHeapSize: number } } }[];
    };
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.#observer!.disconnect();
    let allocated = 0;
    let last = this.#usedStart;
    for (const gc of profile.statistics) {
      allocated += Math.max(0, gc.beforeGC.heapStatistics.usedHeapSize - last);
      last = gc.afterGC.heapStatistics.usedHeapSize;
    }
    allocated += Math.max(0, usedEnd - last);
    fullGc();
    const heapGrowth = getHeapStatistics().used_heap_size - this.#heapStart;
    return { minor: this.#minor, major: this.#major, gcMs: this.#ms, allocated, heapGrowth };
  }
}

// ---------------------------------------------------------------- statistics and printing

export function now(): number {
  return performance.now();
}

/** p-th percentile (0..1) of the first `n` values of `values`, sorting a copy. */
export function percentile(values: Float64Array, n: number, p: number): number {
  const sorted = values.slice(0, n).sort();
  return sorted[Math.min(n - 1, Math.floor(p * n))]!;
}

export function fmtGBps(bytesPerSec: number): string {
  return `${(bytesPerSec / 2 ** 30).toFixed(2)} GiB/s`;
}

export function fmtUs(ms: number): string {
  const us = ms * 1000;
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2);
}

/** A target printed beside a figure: "≥ 2.5x: met" / "not met" (never asserted). */
export function target(value: number, min: number | undefined, max?: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const ok = (min === undefined || value >= min) && (max === undefined || value <= max);
  return ok ? 'met' : 'NOT met';
}
