// PoolScheduler: the run() contract over piscina. Aborting a run cancels that task cooperatively
// (its function sees the signal, its pipes are canceled) without killing the thread or its neighbours.
import { threadId as mainThreadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolScheduler, ReadPendingError, SharedPipe, ThreadpipeError, type PoolSchedulerOptions } from '../dist/src/index.js';
import { fnv1aOf, raiseFlag, seededBytes, sendSeeded, waitForFlag } from '../dist/test/fixtures/sched-data.js';
import type { ParseResult } from '../dist/test/fixtures/sched-tasks.js';
import { peek, within, quiet, flags } from './helpers.js';
import { transferCases } from './scheduler-transfer-cases.js';

const tasks = new URL('../dist/test/fixtures/sched-tasks.js', import.meta.url);

const pools: PoolScheduler[] = [];
const controllers: AbortController[] = [];

function pool(options: PoolSchedulerOptions = { minThreads: 1, maxThreads: 1, concurrentTasksPerThread: 4 }): PoolScheduler {
  const p = new PoolScheduler(tasks, options);
  pools.push(p);
  return p;
}

/** Options for a run that a failing test could leave in flight: afterEach aborts it (tasks here honour their signal). */
function cleanup(): { signal: AbortSignal } {
  const c = new AbortController();
  controllers.push(c);
  return { signal: c.signal };
}

afterEach(async () => {
  for (const c of controllers.splice(0)) c.abort();
  await within(Promise.all(pools.splice(0).map((p) => p.close())), 10_000, 'close() in afterEach');
});

async function rejection(promise: Promise<unknown>, ms = 5_000): Promise<Error & { code?: unknown; cause?: unknown }> {
  try {
    await within(promise, ms, 'the expected rejection');
  } catch (error) {
    if (error instanceof Error && /did not settle within/.test(error.message)) throw error;
    return error as Error & { code?: unknown };
  }
  throw new Error('expected the promise to reject');
}

describe('PS runs on pool threads', () => {
  it('PS1 runs execute on a pool thread, never the main thread; with one thread, always the same one', async () => {
    const p = pool();
    const who = await within(Promise.all(Array.from({ length: 20 }, () => p.run<{ threadId: number; own: number; isMainThread: boolean }>('whoAmI'))), 10_000);
    const ids = new Set(who.map((w) => w.threadId));
    expect(ids.size).toBe(1);
    const [id] = ids;
    expect(id).not.toBe(mainThreadId);
    for (const w of who) expect(w).toEqual({ threadId: id, own: id, isMainThread: false });
    expect(p.threads).toBe(1);
  });

  it('PS2 a SharedPipe parsed on a pool thread: every byte checked against the seed', async () => {
    const p = pool();
    const length = 1 << 19;
    const pipe = new SharedPipe({ capacity: 1 << 14 });
    const parsing = quiet(p.run<ParseResult>('parse', { input: pipe.reader, seed: 101 }, cleanup()));
    const sent = await within(sendSeeded(pipe.writer, 101, length), 10_000, 'send');
    const result = await within(parsing, 10_000, 'parse');
    expect(result).toMatchObject({ count: length, mismatches: 0, firstMismatch: -1, checksum: sent });
    expect(result.threadId).not.toBe(mainThreadId);
  });
});

describe('PS abort', () => {
  it('PS3 aborting a running task leaves its neighbour on the same thread running: it completes byte-exact on that thread', async () => {
    const p = pool({ minThreads: 1, maxThreads: 1, concurrentTasksPerThread: 2 });
    const progress = flags(4); // [2*slot] thread id, [2*slot+1] bytes consumed
    const a = new SharedPipe({ capacity: 1 << 14 });
    const b = new SharedPipe({ capacity: 1 << 14 });
    const seedA = 201;
    const seedB = 202;
    const sentA = 100_000;
    const lengthB = 1 << 19;
    const dataB = seededBytes(seedB, lengthB);
    const abortA = new AbortController();
    controllers.push(abortA);
    const runA = quiet(p.run<ParseResult>('parse', { input: a.reader, seed: seedA, progress, slot: 0 }, { signal: abortA.signal }));
    const runB = quiet(p.run<ParseResult>('parse', { input: b.reader, seed: seedB, progress, slot: 1 }, cleanup()));
    // Both tasks run at once on the one thread (each reports its thread id when it starts)...
    await within(waitForFlag(progress, 0), 5_000, 'task A to start');
    await within(waitForFlag(progress, 2), 5_000, 'task B to start beside task A (concurrentTasksPerThread: 2)');
    // ...each partway through its stream with a read pending.
    await within(Promise.all([
      sendSeeded(a.writer, seedA, sentA, { complete: false }),
      sendSeeded(b.writer, seedB, lengthB / 2, { complete: false, data: dataB }),
    ]), 10_000, 'the first halves');
    await within(waitForFlag(progress, 1, (count) => count === sentA), 5_000, 'task A to consume what was sent');
    await within(waitForFlag(progress, 3, (count) => count === lengthB / 2), 5_000, 'task B to consume what was sent');
    const threadA = Atomics.load(progress, 0);
    expect(threadA).toBeGreaterThan(0);
    expect(threadA).not.toBe(mainThreadId);
    expect(Atomics.load(progress, 2)).toBe(threadA);

    abortA.abort();
    const errorA = await rejection(runA);
    expect(errorA.name).toBe('AbortError');
    expect((await peek(runB)).state).toBe('pending');

    // B goes on: the rest of its stream, then completion.
    await within(sendSeeded(b.writer, seedB, lengthB, { from: lengthB / 2, data: dataB }), 10_000, 'the second half');
    const resultB = await within(runB, 10_000, 'task B');
    expect(resultB).toMatchObject({ count: lengthB, mismatches: 0, firstMismatch: -1, checksum: fnv1aOf(dataB), threadId: threadA });
    // The thread was not replaced.
    expect(p.threads).toBe(1);
    expect(await within(p.run('whoAmI'))).toMatchObject({ threadId: threadA });
  });

  it('PS4 an aborted task that ends with signal.throwIfAborted() rejects run() with name AbortError and code ABORT_ERR', async () => {
    const p = pool();
    const progress = flags(2);
    const pipe = new SharedPipe({ capacity: 4096 });
    const c = new AbortController();
    const running = quiet(p.run<ParseResult>('parse', { input: pipe.reader, seed: 1, progress, slot: 0 }, { signal: c.signal }));
    await within(waitForFlag(progress, 0), 5_000, 'the task to start');
    c.abort();
    const error = await rejection(running);
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');
  });

  it('PS5 aborting a task cancels its pipe\'s pending read and aborts the signal its function sees; the thread lives on', async () => {
    const p = pool();
    const pipe = new SharedPipe({ capacity: 1024 });
    const f = flags(4);
    const c = new AbortController();
    const before = await within(p.run<{ threadId: number }>('whoAmI'));
    const running = quiet(p.run('readUntilCanceled', { input: pipe.reader, flags: f }, { signal: c.signal }));
    await within(waitForFlag(f, 0), 5_000, 'the task to start reading');
    c.abort();
    await within(waitForFlag(f, 1), 5_000, 'the pending read to come back canceled');
    await within(waitForFlag(f, 2), 5_000, 'the function\'s signal to abort');
    // The function chose to return after the cancel (cooperative): the run settles either way.
    await within(running.catch(() => undefined));
    expect(await within(p.run('whoAmI'))).toMatchObject({ threadId: before.threadId });
  });

  it('PS6 a pre-aborted signal rejects with AbortError and moves nothing', async () => {
    const p = pool();
    const pipe = new SharedPipe({ capacity: 1024 });
    const c = new AbortController();
    c.abort();
    const error = await rejection(p.run('parse', { input: pipe.reader, seed: 1 }, { signal: c.signal }));
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(pipe.reader.tryRead()).toBeNull();
  });
});

describe('PS concurrency', () => {
  it('PS14 concurrentTasksPerThread: 2 on one thread: a task waiting on a gate does not keep the next task from running', async () => {
    const p = pool({ minThreads: 1, maxThreads: 1, concurrentTasksPerThread: 2 });
    const gate = flags(1);
    const waiting = quiet(p.run<{ value: unknown; threadId: number }>('waitGate', { gate, value: 'through' }, cleanup()));
    cleanup().signal.addEventListener('abort', () => raiseFlag(gate, 0));
    expect(await within(p.run('openGate', { gate }), 5_000, 'a second task beside the waiting one')).toBe('opened');
    expect(await within(waiting)).toMatchObject({ value: 'through' });
  });
});

describe('PS errors', () => {
  const kinds: [string, { name: string; message: string; code?: string; base: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor }][] = [
    ['coded', { name: 'Error', message: 'the database said no', code: 'E_DB_REFUSED', base: Error }],
    ['type', { name: 'TypeError', message: 'expected a widget', code: 'ERR_INVALID_WIDGET', base: TypeError }],
    ['range', { name: 'RangeError', message: 'out of range: 42', base: RangeError }],
    ['custom', { name: 'QuotaError', message: 'quota exceeded for tenant 7', code: 'E_QUOTA', base: Error }],
  ];

  for (const async of [false, true]) {
    for (const [kind, expected] of kinds) {
      it(`PS7 a ${kind} error thrown ${async ? 'after an await' : 'synchronously'} keeps name, message and code`, async () => {
        const p = pool();
        const error = await rejection(p.run('fail', { kind, async }));
        expect(error).toBeInstanceOf(expected.base);
        expect(error.name).toBe(expected.name);
        expect(error.message).toBe(expected.message);
        if (expected.code === undefined) expect(error.code).toBeUndefined();
        else expect(error.code).toBe(expected.code);
      });
    }
  }

  it('PS8 a cause crosses; a threadpipe error keeps its class and code', async () => {
    const p = pool();
    const error = await rejection(p.run('fail', { kind: 'cause' }));
    expect(error.message).toBe('outer failure');
    expect(error.cause).toMatchObject({ message: 'inner failure', code: 'E_INNER' });
    const pipe = new SharedPipe({ capacity: 1024 });
    const misuse = await rejection(p.run('misuse', { input: pipe.reader }));
    expect(misuse).toBeInstanceOf(ReadPendingError);
    expect(misuse).toBeInstanceOf(ThreadpipeError);
    expect(misuse).toMatchObject({ name: 'ReadPendingError', code: 'ERR_PIPE_READ_PENDING' });
  });

  it('PS9 a missing export (or a non-function one) fails with ERR_SCHEDULER_EXPORT_NOT_FOUND; the pool stays usable', async () => {
    const p = pool();
    const missing = await rejection(p.run('noSuchExport'));
    expect(missing).toMatchObject({ name: 'ExportNotFoundError', code: 'ERR_SCHEDULER_EXPORT_NOT_FOUND' });
    expect(missing.message).toContain("'noSuchExport'");
    expect((await rejection(p.run('notAFunction'))).code).toBe('ERR_SCHEDULER_EXPORT_NOT_FOUND');
    expect(await within(p.run('whoAmI'))).toMatchObject({ isMainThread: false });
  });

  it('PS10 a missing module rejects with Node\'s ERR_MODULE_NOT_FOUND naming the file', async () => {
    const p = new PoolScheduler(new URL('../dist/test/fixtures/sched-does-not-exist.js', import.meta.url), { maxThreads: 1 });
    pools.push(p);
    for (let i = 0; i < 2; i++) {
      const error = await rejection(p.run('anything'), 10_000);
      expect(error.code).toBe('ERR_MODULE_NOT_FOUND');
      expect(error.message).toContain('sched-does-not-exist.js');
    }
  });

  it('PS11 arguments that cannot be cloned reject with DataCloneError, not as a dead thread', async () => {
    const p = pool();
    const pipe = new SharedPipe({ capacity: 1024 });
    const error = await rejection(p.run('parse', { input: pipe.reader, seed: 1, notCloneable: () => 1 }));
    expect(error.name).toBe('DataCloneError');
    expect(error.code).not.toBe('ERR_PIPE_PEER_EXITED');
    // The reader never arrived anywhere: the writer learns instead of waiting forever.
    await rejection(pipe.writer.write(new Uint8Array(8)));
  });

  it('PS12 a bad export name throws synchronously', () => {
    const p = pool();
    expect(() => p.run('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe('PS close', () => {
  it('PS13 close() with work in flight (running and queued): every run finishes with its result; later runs reject ERR_SCHEDULER_CLOSED', async () => {
    const p = pool({ minThreads: 1, maxThreads: 1, concurrentTasksPerThread: 1 });
    const gate = flags(1);
    const inFlight = [1, 2, 3].map((value) => p.run<{ value: unknown }>('waitGate', { gate, value })).map(quiet);
    // If a check fails before the gate opens, afterEach opens it so close() can finish.
    cleanup().signal.addEventListener('abort', () => raiseFlag(gate, 0));
    // One thread running one task at a time: the first run holds it, the other two wait in the queue.
    const closing = p.close();
    expect(p.close()).toBe(closing);
    const refused = p.run('whoAmI');
    expect((await peek(refused)).state).toBe('rejected');
    expect(await rejection(refused)).toMatchObject({ name: 'SchedulerClosedError', code: 'ERR_SCHEDULER_CLOSED' });
    expect((await peek(closing)).state).toBe('pending');
    raiseFlag(gate, 0);
    const values = await within(Promise.all(inFlight), 10_000);
    expect(values.map((v) => v.value)).toEqual([1, 2, 3]);
    await within(closing, 10_000);
    expect((await rejection(p.run('whoAmI'))).code).toBe('ERR_SCHEDULER_CLOSED');
  });
});

transferCases('PoolScheduler', () => pool());

describe('PS transferList on a queued task', () => {
  it('PS15 a task waiting for a busy thread has its listed buffer detached at run() all the same; it later sees every byte', async () => {
    const p = pool({ minThreads: 1, maxThreads: 1, concurrentTasksPerThread: 1 });
    const gate = flags(1);
    cleanup().signal.addEventListener('abort', () => raiseFlag(gate, 0));
    const holding = quiet(p.run('waitGate', { gate, value: 'held' }));
    const bytes = seededBytes(310, 50_000) as Uint8Array<ArrayBuffer>;
    const checksum = fnv1aOf(bytes);
    const queued = quiet(p.run<{ checksums: number[] }>('digest', { parts: [bytes] }, { transferList: [bytes.buffer] }));
    expect(bytes.buffer.byteLength).toBe(0);
    expect((await peek(queued)).state).toBe('pending');
    raiseFlag(gate, 0);
    expect((await within(holding, 10_000)).value).toBe('held');
    expect((await within(queued, 10_000)).checksums).toEqual([checksum]);
  });
});
