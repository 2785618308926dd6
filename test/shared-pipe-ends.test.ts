import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedPipe } from '../dist/src/index.js';
import type { SameThreadWaitJob, SameThreadWaitReport } from '../dist/test/fixtures/ring-same-thread-wait.js';
import { within } from './helpers.js';

// The ring parity rules on the ends of a SharedPipe (CASES.md): a blocking wait that only this thread could end fails
// at once (S10), a completed end cannot be revived (S11), and a reader can move after a tryRead that
// found nothing (S12).

const workerUrl = new URL('../dist/test/fixtures/ring-same-thread-wait.js', import.meta.url);
/** A blocked call never reports; this bound turns it into a failure (the worker is then terminated). */
const kReportMs = 3_000;

const running = new Set<Worker>();

afterEach(async () => {
  await Promise.all([...running].map((worker) => worker.terminate()));
  running.clear();
});

function runInWorker(job: SameThreadWaitJob): Promise<SameThreadWaitReport> {
  const worker = new Worker(workerUrl, { workerData: job });
  running.add(worker);
  return new Promise<SameThreadWaitReport>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the worker exited (code ${code}) before reporting`)));
  });
}

describe('S10: a blocking wait on an end whose other end this thread holds fails at once', () => {
  it.each<[string, SameThreadWaitJob, string]>([
    ['readSync() on an empty ring', { call: 'readSync' }, 'readSync: 7,8,9'],
    ['flushSync() that reaches the pause threshold', { call: 'flushSync', pause: 64 }, 'flushSync: unflushed 64, then read 64'],
  ])('%s throws a coded error instead of blocking; the pipe still works', async (_label, job, afterwards) => {
    const report = await within(runInWorker(job), kReportMs, `${job.call} with the other end on the same thread (a hang means it blocked)`);
    expect(report.outcome).toBe('threw');
    const threw = report as Extract<SameThreadWaitReport, { outcome: 'threw' }>;
    expect(threw.code, threw.message).toEqual(expect.stringMatching(/^ERR_PIPE_/));
    expect(threw.afterwards).toBe(afterwards);
  });
});

describe('S11: a completed end cannot be revived', () => {
  it('SharedPipe.reader(handle) of a reader completed where it was revived throws ERR_PIPE_COMPLETED', () => {
    const pipe = new SharedPipe({ capacity: 1024 });
    const handle = pipe.reader.handle();
    SharedPipe.reader(handle).complete();
    expect(() => SharedPipe.reader(handle)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
    pipe.writer.complete();
  });

  it('SharedPipe.writer(handle) of a completed writer throws ERR_PIPE_COMPLETED; the reader still sees the completion once', async () => {
    const pipe = new SharedPipe({ capacity: 1024 });
    const handle = pipe.writer.handle();
    const writer = SharedPipe.writer(handle);
    await within(writer.write(new Uint8Array([1, 2, 3])));
    writer.complete();
    expect(() => SharedPipe.writer(handle)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED' }));
    const result = await within(pipe.reader.read());
    expect([...result.buffer.toUint8Array()]).toEqual([1, 2, 3]);
    expect(result.isCompleted).toBe(true);
    pipe.reader.complete();
  });
});

describe('S12: handle() after a tryRead that found nothing', () => {
  it('the reader moves, and the revived reader reads what is written next', async () => {
    const pipe = new SharedPipe({ capacity: 1024 });
    expect(pipe.reader.tryRead()).toBeNull();
    const handle = pipe.reader.handle();
    const revived = SharedPipe.reader(handle);
    await within(pipe.writer.write(new Uint8Array([4, 5])));
    const result = await within(revived.read());
    expect([...result.buffer.toUint8Array()]).toEqual([4, 5]);
    revived.advanceTo(result.buffer.end);
    revived.complete();
    pipe.writer.complete();
  });
});
