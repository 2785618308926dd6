import { threadId, Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { ReadySet, SharedPipe, type ReadResult } from '../dist/src/index.js';
import type { ReadySetJob } from '../dist/test/fixtures/ready-set-worker.js';
import { ringData } from '../dist/test/fixtures/random.js';
import { within } from './helpers.js';

// ReadySet: slots any thread marks and one thread takes, each marked slot taken once; and a ring
// writer's markOnPublish, which makes a thousand rings cost their reader's thread one wait.

const workerUrl = new URL('../dist/test/fixtures/ready-set-worker.js', import.meta.url);
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function runWorker(job: ReadySetJob): { worker: Worker; report: Promise<Record<string, unknown>> } {
  const worker = new Worker(workerUrl, { workerData: job });
  const report = new Promise<Record<string, unknown>>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, report };
}

describe('ReadySet', () => {
  it('refuses bad options, slots and handles by name, with a code', () => {
    for (const options of [undefined, null, 5]) expect(() => new ReadySet(options as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'options' }));
    for (const size of [0, -1, 1.5, 2 ** 21, '8']) expect(() => new ReadySet({ size: size as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'size' }));
    const set = new ReadySet({ size: 40 });
    for (const slot of [-1, 40, 1.5, Number.NaN]) expect(() => set.mark(slot)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'slot' }));
    expect(() => set.listen(40, () => {})).toThrow(expect.objectContaining({ argument: 'slot' }));
    expect(() => set.listen(1, 'no' as never)).toThrow(expect.objectContaining({ argument: 'onReady' }));
    set.listen(1, () => {});
    expect(() => set.listen(1, () => {})).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'slot' }));
    set.unlisten(1);
    for (const handle of [null, {}, { kind: 'threadpipe.ReadySetHandle', buffer: new SharedArrayBuffer(512) }]) {
      expect(() => ReadySet.from(handle as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'handle' }));
    }
  });

  it('takes a slot marked many times once, and each marked slot of many', async () => {
    const set = new ReadySet({ size: 100 });
    const taken: number[] = [];
    // Marked before anyone listens: the first take, when the listener starts, finds them.
    for (let i = 0; i < 50; i++) set.mark(7);
    set.mark(99);
    set.mark(0);
    for (const slot of [0, 7, 31, 32, 99]) set.listen(slot, (s) => taken.push(s));
    // Never inside listen(): the first take comes once this tick's listeners are in place.
    expect(taken).toEqual([]);
    await turn();
    expect(taken.sort((a, b) => a - b)).toEqual([0, 7, 99]);
    taken.length = 0;
    for (let round = 0; round < 3; round++) {
      set.mark(32);
      set.mark(31);
      set.mark(32);
    }
    await within(
      (async () => {
        while (taken.length < 2) await turn();
      })(),
      2_000,
      'the marks taken',
    );
    await turn();
    expect(taken.sort((a, b) => a - b)).toEqual([31, 32]);
    for (const slot of [0, 7, 31, 32, 99]) set.unlisten(slot);
  });

  it('a mark without a listener is dropped; a listener that throws does not stop the others', async () => {
    const set = new ReadySet({ size: 8 });
    const taken: number[] = [];
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown): void => void uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      set.listen(1, () => {
        throw new Error('listener 1 failed');
      });
      set.listen(2, (slot) => taken.push(slot));
      set.mark(1);
      set.mark(2);
      set.mark(5);
      await within(
        (async () => {
          while (taken.length < 1 || uncaught.length < 1) await turn();
        })(),
        2_000,
        'both listeners called',
      );
      expect(taken).toEqual([2]);
      expect(String(uncaught[0])).toContain('listener 1 failed');
    } finally {
      process.off('uncaughtException', onUncaught);
      set.unlisten(1);
      set.unlisten(2);
    }
  });

  it('a listener that leaves from inside its call, as the last one, does not stop later listeners from being called', async () => {
    const set = new ReadySet({ size: 4 });
    const calls: string[] = [];
    for (let round = 0; round < 3; round++) {
      set.mark(1);
      set.listen(1, () => {
        calls.push(`round ${round}`);
        set.unlisten(1);
      });
      await within(
        (async () => {
          while (calls.length <= round) await turn();
        })(),
        2_000,
        `round ${round}`,
      );
    }
    expect(calls).toEqual(['round 0', 'round 1', 'round 2']);
  });

  it('is one object per thread: from(handle) here gives back the set itself', () => {
    const set = new ReadySet({ size: 8 });
    expect(ReadySet.from(set.handle())).toBe(set);
    expect(ReadySet.from(structuredClone(set.handle()))).toBe(set);
    expect(ReadySet.from(set.handle()).size).toBe(8);
  });

  it('is taken from by one thread at a time: another gets ERR_READY_SET_IN_USE until the last listener leaves', async () => {
    const set = new ReadySet({ size: 8 });
    set.listen(3, () => {});
    const first = runWorker({ kind: 'listen', set: set.handle() });
    try {
      expect(await within(first.report, 10_000, 'the worker')).toEqual({ code: 'ERR_READY_SET_IN_USE', threadId });
    } finally {
      await first.worker.terminate();
    }
    set.unlisten(3);
    const second = runWorker({ kind: 'listen', set: set.handle() });
    try {
      expect(await within(second.report, 10_000, 'the worker')).toEqual({ listened: true });
    } finally {
      await second.worker.terminate();
    }
  });

  for (const [rings, seed] of [
    [64, 1],
    [300, 2],
  ] as const) {
    it(`${rings} rings written from a worker in random order, read here by readiness only: every byte, in order (seed ${seed})`, async () => {
      const bytesPerRing = 20_000;
      const set = new ReadySet({ size: rings });
      const pipes = Array.from({ length: rings }, () => new SharedPipe({ capacity: 1024, maxCapacity: 4096, pauseWriterThreshold: 2048 }));
      const received = pipes.map(() => [] as Uint8Array[]);
      let completed = 0;
      let failure: unknown;
      const done = new Promise<void>((resolve) => {
        pipes.forEach((pipe, slot) => {
          const reader = pipe.reader;
          const onReady = (): void => {
            let result: ReadResult | null;
            try {
              result = reader.tryRead();
            } catch (error) {
              failure = { slot, error, received: received[slot]!.reduce((n, b) => n + b.length, 0) };
              return resolve();
            }
            if (result === null) return;
            for (const segment of result.buffer) received[slot]!.push(segment.slice());
            reader.advanceTo(result.buffer.end);
            if (result.isCompleted) {
              set.unlisten(slot);
              reader.complete();
              if (++completed === rings) resolve();
            }
          };
          set.listen(slot, onReady);
        });
      });
      const writers = pipes.map((pipe) => pipe.writer.handle());
      const { worker, report } = runWorker({ kind: 'write', set: set.handle(), writers, seed, bytesPerRing, maxChunk: 700 });
      try {
        await within(done, 30_000, 'every ring read to its end');
        expect(failure).toBeUndefined();
        expect(await within(report, 10_000, 'the writer')).toEqual({ done: true });
        for (let slot = 0; slot < rings; slot++) {
          const got = Buffer.concat(received[slot]!);
          expect(got.length).toBe(bytesPerRing);
          expect(got.equals(ringData(seed, slot, bytesPerRing))).toBe(true);
        }
        expect(set.stats().wakeups).toBeLessThanOrEqual(set.stats().waits);
        expect(set.stats().rescues).toBe(0);
      } finally {
        await worker.terminate();
      }
    });
  }
});

describe('SharedPipeWriter.markOnPublish', () => {
  it('marks its slot when it publishes, grows the ring and completes; null stops it', async () => {
    const set = new ReadySet({ size: 4 });
    const pipe = new SharedPipe({ capacity: 16, maxCapacity: 1024 });
    const marks: number[] = [];
    set.listen(2, (slot) => marks.push(slot));
    pipe.writer.markOnPublish(set, 2);
    const settle = async (count: number): Promise<void> =>
      within(
        (async () => {
          while (marks.length < count) await turn();
        })(),
        2_000,
        `mark ${count}`,
      );
    await pipe.writer.write('hello');
    await settle(1);
    const first = pipe.reader.tryRead()!;
    expect(new TextDecoder().decode(first.buffer.first)).toBe('hello');
    pipe.reader.advanceTo(first.buffer.end);
    // Larger than the ring: it grows, and the reader learns of the bytes from the marks alone.
    await pipe.writer.write(new Uint8Array(200).fill(9));
    await settle(2);
    const grown = pipe.reader.tryRead()!;
    expect(grown.buffer.length).toBe(200);
    pipe.reader.advanceTo(grown.buffer.end);
    pipe.writer.markOnPublish(null);
    await pipe.writer.write('unmarked');
    await turn();
    await turn();
    expect(marks.length).toBe(2);
    pipe.writer.markOnPublish(set, 2);
    pipe.writer.complete();
    await settle(3);
    const last = pipe.reader.tryRead()!;
    expect(last.isCompleted).toBe(true);
    expect(new TextDecoder().decode(last.buffer.first)).toBe('unmarked');
    set.unlisten(2);
  });

  it('refuses what is not a ReadySet, a slot outside it, and a moved end', () => {
    const set = new ReadySet({ size: 4 });
    const pipe = new SharedPipe({ capacity: 64 });
    expect(() => pipe.writer.markOnPublish({} as never, 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'set' }));
    expect(() => pipe.writer.markOnPublish(set, 4)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'slot' }));
    pipe.writer.handle();
    expect(() => pipe.writer.markOnPublish(set, 0)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_END_MOVED' }));
  });
});
