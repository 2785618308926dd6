import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedPipe, type RingStats } from '../dist/src/index.js';
import type { ErrorInfo } from '../dist/test/fixtures/ring-harness.js';
import type { Wrap4gJob } from '../dist/test/fixtures/ring-wrap4g.js';
import { within } from './helpers.js';

// More than 4 GiB through one 1 MiB ring, worker to worker, so the free-running 32-bit write and
// read positions wrap past 2^32. The stream is uint32 words holding their own absolute offset, written
// in chunks of 65533..65536 bytes (mostly not multiples of 4); the reader checks every byte and now and
// then keeps a short unaligned tail unconsumed. Measured at about 15-25 s on two cores.

const workerUrl = new URL('../dist/test/fixtures/ring-wrap4g.js', import.meta.url);
const GiB = 2 ** 30;
const total = 4.25 * GiB;

const running = new Set<Worker>();

afterEach(async () => {
  await Promise.all([...running].map((worker) => worker.terminate()));
  running.clear();
});

function startWorker<T>(job: Wrap4gJob): Promise<T> {
  const worker = new Worker(workerUrl, { workerData: job });
  running.add(worker);
  const done = new Promise<T>((resolve, reject) => {
    worker.once('message', (message: { type: 'done'; result: T } | { type: 'failed'; error: ErrorInfo }) => {
      if (message.type === 'done') resolve(message.result);
      else reject(Object.assign(new Error(`${job.role} failed: ${message.error.name}: ${message.error.message}`), { code: message.error.code }));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${job.role} exited with code ${code} before reporting`)));
  });
  done.catch(() => {});
  return done;
}

describe('SharedPipe: 32-bit positions wrapping', () => {
  it(
    'moves 4.25 GiB worker→worker through a 1 MiB ring with every byte checked, past 2^32 ring positions',
    async () => {
      const pipe = new SharedPipe({ capacity: 2 ** 20 });
      const writer = startWorker<{ written: number; chunks: number; stats: RingStats }>({ role: 'writer', handle: pipe.writer.handle(), total, chunk: 65536, seed: 42 });
      const reader = startWorker<{ received: number; reads: number; multiSegment: number; stats: RingStats }>({ role: 'reader', handle: pipe.reader.handle(), total, seed: 43 });
      const [w, r] = await within(Promise.all([writer, reader]), 170_000, 'the 4.25 GiB transfer');
      expect(w.written).toBe(total);
      expect(r.received).toBe(total);
      const stats = pipe.reader.stats(); // still readable on the moved end
      // Ring positions count skipped tails too, so the counters are at least the data sent.
      expect(stats.bytesWritten).toBeGreaterThanOrEqual(total);
      expect(stats.bytesConsumed).toBe(stats.bytesWritten);
      expect(stats.bytesWritten).toBeGreaterThan(2 ** 32);
      expect(stats.bytesConsumed).toBeGreaterThan(2 ** 32);
      expect(stats.flushes).toBe(w.chunks);
      // The end of the ring was crossed many times: by skipped tails (getMemory with nothing held behind
      // it stays contiguous) and by data running over the end (a read of two segments).
      expect(stats.wraps).toBeGreaterThan(0);
      expect(stats.wraps + r.multiSegment).toBeGreaterThan(1000);
      // The workers saw the same counters.
      expect(r.stats.bytesConsumed).toBe(stats.bytesConsumed);
      expect(w.stats.bytesWritten).toBe(stats.bytesWritten);
    },
    180_000,
  );
});
