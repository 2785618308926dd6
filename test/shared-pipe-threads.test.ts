import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedPipe, type RingStats } from '../dist/src/index.js';
import {
  readPattern,
  writePattern,
  type AdvancePolicy,
  type ErrorInfo,
  type ReadReport,
  type WriteReport,
} from '../dist/test/fixtures/ring-harness.js';
import type { RingWorkerJob } from '../dist/test/fixtures/ring-worker.js';
import { nextImmediate, within } from './helpers.js';

// The SharedPipe between real worker threads. Every byte is a deterministic function of its absolute
// stream offset (test/fixtures/ring-harness.ts) and the reader checks each one it is handed, including
// bytes handed out again after a partial consume. Chunks run from 1 byte to more than the capacity.

const workerUrl = new URL('../dist/test/fixtures/ring-worker.js', import.meta.url);

const running = new Set<Worker>();

afterEach(async () => {
  await Promise.all([...running].map((worker) => worker.terminate()));
  running.clear();
});

interface Started<T> {
  worker: Worker;
  /** The worker's result; rejects with its error (name, message and code kept) or when it dies first. */
  done: Promise<T>;
}

function startWorker<T>(job: RingWorkerJob, transferList: readonly ArrayBuffer[] = []): Started<T> {
  const worker = new Worker(workerUrl, { workerData: job, transferList: transferList as ArrayBuffer[] });
  running.add(worker);
  const done = new Promise<T>((resolve, reject) => {
    worker.once('message', (message: { type: 'done'; result: T } | { type: 'failed'; error: ErrorInfo }) => {
      if (message.type === 'done') resolve(message.result);
      else reject(Object.assign(new Error(`worker (${job.role}) failed: ${message.error.name}: ${message.error.message}`), { code: message.error.code, info: message.error }));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`worker (${job.role}) exited with code ${code} before reporting`)));
  });
  // Keep an unobserved rejection from failing the run before a test looks at it.
  done.catch(() => {});
  return { worker, done };
}

/** Resolves once `condition` holds, yielding to the event loop between checks (no timers). */
async function until(condition: () => boolean, label: string, ms = 10_000): Promise<void> {
  await within(
    (async () => {
      while (!condition()) await nextImmediate();
    })(),
    ms,
    label,
  );
}

type Direction = 'main→worker' | 'worker→main' | 'worker→worker';

interface Scenario {
  direction: Direction;
  capacity: number;
  total: number;
  /** The reader in a worker uses readSync() when true, read() otherwise (a reader on main always uses read()). */
  readSync: boolean;
  /** The writer in a worker uses writeSync()/flushSync() when true. */
  writeSync: boolean;
  policy: AdvancePolicy;
  seed: number;
  /** A growing ring starts at this size and may grow to `capacity`. */
  startCapacity?: number;
  /** 'frame': the largest partial frame the reader holds while it waits. */
  maxHeld?: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** Bytes per run, sized so each run stays far below the test timeout on two cores. */
const totals: Record<number, number> = { [4 * KiB]: 2 * MiB, [64 * KiB]: 8 * MiB, [MiB]: 32 * MiB };

function scenarios(policy: AdvancePolicy, seedBase: number): Scenario[] {
  const list: Scenario[] = [];
  let seed = seedBase;
  for (const capacity of [4 * KiB, 64 * KiB, MiB]) {
    const total = totals[capacity]!;
    list.push({ direction: 'main→worker', capacity, total, readSync: false, writeSync: false, policy, seed: seed++ });
    list.push({ direction: 'main→worker', capacity, total, readSync: true, writeSync: false, policy, seed: seed++ });
    list.push({ direction: 'worker→main', capacity, total, readSync: false, writeSync: false, policy, seed: seed++ });
    list.push({ direction: 'worker→main', capacity, total, readSync: false, writeSync: true, policy, seed: seed++ });
    list.push({ direction: 'worker→worker', capacity, total, readSync: true, writeSync: true, policy, seed: seed++ });
    list.push({ direction: 'worker→worker', capacity, total, readSync: false, writeSync: false, policy, seed: seed++ });
  }
  return list;
}

function describeScenario(s: Scenario): string {
  const reader = s.direction === 'worker→main' ? 'read() on main' : s.readSync ? 'readSync() in a worker' : 'read() in a worker';
  const writer = s.direction === 'main→worker' ? 'async writer on main' : s.writeSync ? 'writeSync/flushSync in a worker' : 'async writer in a worker';
  const ring = s.startCapacity === undefined ? `${s.capacity / KiB} KiB ring` : `ring growing from ${s.startCapacity} bytes to ${s.capacity / KiB} KiB`;
  return `${s.direction}, ${ring}, ${s.total / MiB} MiB, ${writer}, ${reader}, seed ${s.seed}`;
}

async function runScenario(s: Scenario): Promise<{ write: WriteReport; read: ReadReport; stats: RingStats }> {
  const pipe = new SharedPipe(s.startCapacity === undefined ? { capacity: s.capacity } : { capacity: s.startCapacity, maxCapacity: s.capacity });
  const writeJob = { seed: s.seed * 7919, rngSeed: s.seed, total: s.total, maxChunk: s.capacity + s.capacity / 2 + 1 };
  const readJob = { seed: s.seed * 7919, rngSeed: s.seed + 1000, total: s.total, policy: s.policy, ...(s.maxHeld === undefined ? {} : { maxHeld: s.maxHeld }) };
  let write: Promise<WriteReport>;
  let read: Promise<ReadReport>;
  if (s.direction === 'main→worker') {
    const reader = startWorker<{ report: ReadReport }>({ role: 'reader', handle: pipe.reader.handle(), sync: s.readSync, ...readJob });
    write = writePattern(pipe.writer, writeJob);
    read = reader.done.then((r) => r.report);
  } else if (s.direction === 'worker→main') {
    const writer = startWorker<{ report: WriteReport }>({ role: 'writer', handle: pipe.writer.handle(), sync: s.writeSync, ...writeJob });
    write = writer.done.then((r) => r.report);
    read = readPattern(pipe.reader, readJob);
  } else {
    const writer = startWorker<{ report: WriteReport }>({ role: 'writer', handle: pipe.writer.handle(), sync: s.writeSync, ...writeJob });
    const reader = startWorker<{ report: ReadReport }>({ role: 'reader', handle: pipe.reader.handle(), sync: s.readSync, ...readJob });
    write = writer.done.then((r) => r.report);
    read = reader.done.then((r) => r.report);
  }
  // Whichever side fails first fails the test (the other would wait for a peer that stopped).
  const [w, r] = await within(Promise.all([write, read]), 15_000, describeScenario(s));
  return { write: w, read: r, stats: pipe.reader.stats() };
}

function expectDelivered(s: Scenario, result: { write: WriteReport; read: ReadReport; stats: RingStats }): void {
  expect(result.write.written).toBe(s.total);
  expect(result.read.received).toBe(s.total);
  expect(result.stats.bytesWritten).toBeGreaterThanOrEqual(s.total);
  expect(result.stats.bytesConsumed).toBe(result.stats.bytesWritten);
  // The chunking really went from 1 byte to more than the ring, through both write paths.
  expect(result.write.smallestChunk).toBe(1);
  expect(result.write.largestChunk).toBeGreaterThan(s.capacity);
  expect(result.write.viaMemory).toBeGreaterThan(0);
  expect(result.write.viaWrite).toBeGreaterThan(0);
  // The data went round the ring many times.
  expect(result.stats.bytesWritten / s.capacity).toBeGreaterThan(16);
}

describe('SharedPipe across threads: every byte arrives once and in order', () => {
  for (const s of scenarios('examine', 1)) {
    it(`random consumed/examined advances: ${describeScenario(s)}`, async () => {
      const result = await runScenario(s);
      expectDelivered(s, result);
      expect(result.read.redelivered).toBeGreaterThan(0);
    });
  }
});

describe('SharedPipe across threads: a reader holding a partial frame while it waits', () => {
  // 'frame': a quarter of the reads consume all but a partial frame of at most 64 bytes and examine
  // everything, so the reader waits for more while it holds those few bytes (never the whole ring):
  // that is no deadlock, and must not fail with ERR_FRAME_TOO_LARGE.
  const picked = scenarios('frame', 101).filter((s) => (s.direction === 'main→worker' && !s.readSync) || (s.direction === 'worker→worker' && s.readSync));
  for (const s of picked) {
    it(`consume all but a partial frame, examine all: ${describeScenario(s)}`, async () => {
      const result = await runScenario(s);
      expectDelivered(s, result);
      expect(result.read.heldWhileWaiting).toBeGreaterThan(0);
    });
  }
});

describe('SharedPipe across threads: a ring that grows while bytes cross', () => {
  // From the smallest ring to 256 KiB, with the reader holding partial frames of up to 64 KiB while it
  // waits: the ring must grow under views the reader holds, and under a reader that holds more than it
  // can take. Every byte is checked where it lands.
  const growing = scenarios('frame', 201)
    .filter((s) => s.capacity === MiB)
    .map((s) => ({ ...s, capacity: 256 * KiB, startCapacity: 16, total: 8 * MiB, maxHeld: 64 * KiB }));
  for (const s of growing) {
    it(`consume all but a partial frame, examine all: ${describeScenario(s)}`, async () => {
      const result = await runScenario(s);
      expectDelivered(s, result);
      expect(result.stats.grows).toBeGreaterThan(0);
      expect(result.read.heldWhileWaiting).toBeGreaterThan(0);
      expect(result.stats.readerRescues + result.stats.writerRescues).toBe(0);
    });
  }
});

describe('SharedPipe across threads: completion, errors and cancellation', () => {
  it('a writer in a worker completing with an error that has a code fails the read on main with the same name, message and code', async () => {
    const pipe = new SharedPipe({ capacity: 4 * KiB });
    const worker = startWorker({ role: 'fail-writer', handle: pipe.writer.handle(), bytes: 100, name: 'FrameDecodeError', message: 'bad frame header at byte 7', code: 'E_BAD_FRAME' });
    const read = pipe.reader.read();
    read.catch(() => {});
    await within(worker.done, 10_000, 'the failing writer');
    let caught: unknown;
    try {
      // The 100 flushed bytes are hidden: a faulted writer fails the read even with data buffered.
      const result = await within(read, 5_000, 'the read');
      // The read may have been satisfied by the 100 bytes before the error arrived; then the next one fails.
      expect(result.buffer.length).toBe(100);
      pipe.reader.advanceTo(result.buffer.end);
      await within(pipe.reader.read(), 5_000, 'the second read');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(Error);
    expect(caught).toMatchObject({ name: 'FrameDecodeError', message: 'bad frame header at byte 7', code: 'E_BAD_FRAME' });
    // Every later read rejects the same way, and tryRead() throws it.
    await expect(within(pipe.reader.read(), 5_000)).rejects.toMatchObject({ name: 'FrameDecodeError', code: 'E_BAD_FRAME' });
    expect(() => pipe.reader.tryRead()).toThrow(expect.objectContaining({ name: 'FrameDecodeError', message: 'bad frame header at byte 7', code: 'E_BAD_FRAME' }));
  });

  it('a writer in a worker completing with an error fails a read on main that was already waiting', async () => {
    const pipe = new SharedPipe({ capacity: 4 * KiB });
    const read = pipe.reader.readAtLeast(1000);
    read.catch(() => {});
    const worker = startWorker({ role: 'fail-writer', handle: pipe.writer.handle(), bytes: 10, name: 'RangeError', message: 'checksum out of range', code: 'E_CHECKSUM' });
    await expect(within(read, 10_000, 'the waiting read')).rejects.toMatchObject({ name: 'RangeError', message: 'checksum out of range', code: 'E_CHECKSUM' });
    await within(worker.done, 10_000);
  });

  for (const sync of [false, true]) {
    it(`a reader on main completing with an error that has a code fails the worker's ${sync ? 'writeSync()' : 'write()'} with the same name, message and code`, async () => {
      const pipe = new SharedPipe({ capacity: 4 * KiB });
      const worker = startWorker<{ outcome: string; writes: number; error: ErrorInfo }>({ role: 'writer-until-error', handle: pipe.writer.handle(), sync });
      // Let the worker get going: it fills the ring and waits for room.
      await until(() => pipe.reader.stats().bytesWritten > 0, 'the first bytes');
      const error = Object.assign(new TypeError('consumer gave up: unsupported encoding'), { code: 'E_UNSUPPORTED' });
      pipe.reader.complete(error);
      const result = await within(worker.done, 10_000, 'the writer');
      expect(result.outcome).toBe('rejected');
      expect(result.error).toMatchObject({ name: 'TypeError', message: 'consumer gave up: unsupported encoding', code: 'E_UNSUPPORTED' });
    });
  }

  it('cancelPendingRead() on main wakes a reader blocked in readSync() in a worker with an isCanceled result', async () => {
    const pipe = new SharedPipe({ capacity: 4 * KiB });
    const worker = startWorker<{ canceled: { isCanceled: boolean; isCompleted: boolean; length: number }; after: { isCanceled: boolean; isCompleted: boolean; data: number[] } }>({
      role: 'blocked-reader',
      handle: pipe.reader.handle(),
    });
    // The worker is asleep in Atomics.wait once it has counted a wait.
    await until(() => pipe.reader.stats().readerWaits > 0, 'the worker to block in readSync()');
    const waitsBefore = pipe.reader.stats().readerWaits;
    pipe.reader.cancelPendingRead(); // a moved end: the control signal still works
    // The canceled result arrives before the writer has done anything: only the cancel woke it.
    await until(() => pipe.reader.stats().reads > 0, 'the canceled readSync() to return');
    expect(pipe.reader.stats().readerWakeups).toBeGreaterThan(0);
    expect(pipe.reader.stats().readerWaits).toBeGreaterThanOrEqual(waitsBefore);
    // The pipe still works after the cancel: the next readSync() gets the data.
    await within(pipe.writer.write(new Uint8Array([1, 2, 3, 4, 5])), 5_000);
    pipe.writer.complete();
    const result = await within(worker.done, 10_000, 'the worker');
    expect(result.canceled).toEqual({ isCanceled: true, isCompleted: false, length: 0 });
    expect(result.after.isCanceled).toBe(false);
    expect(result.after.data).toEqual([1, 2, 3, 4, 5]);
  });

  it('cancelPendingFlush() on main wakes a writer blocked in flushSync() in a worker (pause reached, reader not reading)', async () => {
    const pipe = new SharedPipe({ capacity: 4 * KiB, pauseWriterThreshold: 1024, resumeWriterThreshold: 512 });
    const worker = startWorker<{ isCanceled: boolean; isCompleted: boolean }>({ role: 'blocked-writer', handle: pipe.writer.handle(), bytes: 1024 });
    await until(() => pipe.writer.stats().writerWaits > 0, 'the worker to block in flushSync()');
    expect(pipe.writer.stats().writerPauses).toBe(1);
    pipe.writer.cancelPendingFlush(); // a moved end: the control signal still works
    const result = await within(worker.done, 10_000, 'the canceled flushSync()');
    expect(result).toEqual({ isCanceled: true, isCompleted: false });
    expect(pipe.writer.stats().writerWakeups).toBeGreaterThan(0);
    // The canceled flush still published the bytes.
    const read = await within(pipe.reader.read(), 5_000);
    expect(read.isCompleted).toBe(true);
    const data = read.buffer.toUint8Array();
    expect(data.length).toBe(1024);
    for (let i = 0; i < 1024; i++) if (data[i] !== (i & 255)) throw new Error(`byte ${i} is ${data[i]}`);
    pipe.reader.advanceTo(read.buffer.end);
  });
});
