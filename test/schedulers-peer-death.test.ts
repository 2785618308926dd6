// Peer death: when the thread holding one end of a SharedPipe dies (uncaught error, process.exit,
// terminate, out of memory), the far end's pending and later reads/flushes reject with
// ERR_PIPE_PEER_EXITED instead of hanging — however the end got there (a scheduler run, watchWorker,
// a handle posted by hand), also while the thread that started the holder is blocked in readSync or
// flushSync, and for a pool thread that ends after its task returned. Latency from the death to the
// rejection is measured and printed; the bound in the tests is generous on purpose (it catches a hang).
import { threadId as mainThreadId, Worker, type ResourceLimits } from 'node:worker_threads';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  createDuplexPair,
  PeerExitedError,
  PoolScheduler,
  SharedPipe,
  ThreadScheduler,
  watchWorker,
  type RingSnapshot,
  type SharedPipeHandle,
  type SharedPipeReader,
  type SharedPipeWriter,
} from '../dist/src/index.js';
import { now, raiseFlag, seededBytes, waitForFlag } from '../dist/test/fixtures/sched-data.js';
import { peek, within, quiet } from './helpers.js';

const tasks = new URL('../dist/test/fixtures/sched-tasks.js', import.meta.url);
const userWorker = new URL('../dist/test/fixtures/sched-user-worker.js', import.meta.url);
const blockedCreator = new URL('../dist/test/fixtures/sched-blocked-creator.js', import.meta.url);
const kMemoryLimits: ResourceLimits = { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 };

/** Generous: the target is ~100 ms; this only catches "never" and multi-slice stalls. */
const kBoundMs = 2_000;
const latencies: Record<string, number[]> = {};

const closers: (() => Promise<unknown>)[] = [];
const controllers: AbortController[] = [];

afterEach(async () => {
  for (const c of controllers.splice(0)) c.abort();
  await within(Promise.allSettled(closers.splice(0).map((close) => close())), 5_000, 'cleanup');
});

afterAll(() => {
  const summary = Object.entries(latencies).map(([kind, values]) => `${kind}: ${values.map((ms) => ms.toFixed(1)).join(', ')} ms`);
  console.log(`death → ERR_PIPE_PEER_EXITED latency\n  ${summary.join('\n  ')}`);
});

function record(kind: string, ms: number): void {
  (latencies[kind] ??= []).push(ms);
}

function threadScheduler(): ThreadScheduler {
  const s = new ThreadScheduler(tasks);
  closers.push(() => s.close());
  return s;
}

function poolScheduler(): PoolScheduler {
  const p = new PoolScheduler(tasks, { minThreads: 1, maxThreads: 1, concurrentTasksPerThread: 4 });
  closers.push(() => p.close());
  return p;
}

function startWorker(options: { resourceLimits?: ResourceLimits } = {}): Worker {
  const worker = new Worker(userWorker, options);
  worker.on('error', () => {});
  closers.push(() => worker.terminate());
  return worker;
}

function signal(): AbortSignal {
  const c = new AbortController();
  controllers.push(c);
  return c.signal;
}

function flags(words = 2): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * words));
}

function clock(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(8));
}

async function rejection(promise: Promise<unknown>, ms = 5_000): Promise<Error & { code?: unknown; cause?: unknown }> {
  try {
    await within(promise, ms, 'the expected rejection');
  } catch (error) {
    if (error instanceof Error && /did not settle within/.test(error.message)) throw error;
    return error as Error & { code?: unknown };
  }
  throw new Error('expected the promise to reject');
}

function expectPeerExited(error: unknown): void {
  expect(error).toBeInstanceOf(PeerExitedError);
  expect(error).toMatchObject({ name: 'PeerExitedError', code: 'ERR_PIPE_PEER_EXITED' });
}

/** A read that is pending (nothing was sent), boxed so that awaiting the helper does not await the read. */
async function pendingRead(reader: SharedPipeReader): Promise<{ pending: Promise<unknown> }> {
  const pending = reader.read();
  expect((await peek(pending)).state).toBe('pending');
  return { pending };
}

/** A writer whose flush is pending: the ring is full (pause threshold = capacity), nobody reads. */
async function pendingFlush(writer: SharedPipeWriter): Promise<{ pending: Promise<unknown> }> {
  const half = writer.capacity / 2;
  expect(await within(writer.write(new Uint8Array(half).fill(1)))).toMatchObject({ isCompleted: false });
  writer.getMemory(half).fill(2);
  writer.advance(half);
  const pending = writer.flush();
  expect((await peek(pending)).state).toBe('pending');
  return { pending };
}

type Death = 'uncaught error' | 'process.exit(3)';
const deaths: Death[] = ['uncaught error', 'process.exit(3)'];

/** Kills a ThreadScheduler's thread through one of its own failure paths; resolves the in-flight killer run's rejection. */
function kill(s: ThreadScheduler, death: Death, at: Float64Array): Promise<Error & { code?: unknown; cause?: unknown }> {
  return death === 'uncaught error'
    ? rejection(s.run('crashLater', { clock: at, message: 'boom', code: 'E_BOOM' }))
    : rejection(s.run('exitNow', { clock: at, code: 3 }));
}

function expectDeathMessage(error: Error, death: Death): void {
  expectPeerExited(error);
  if (death === 'uncaught error') {
    expect(error.message).toMatch(/exited \(code 1\): boom/);
    expect(error.cause).toMatchObject({ message: 'boom', code: 'E_BOOM' });
  } else {
    expect(error.message).toMatch(/exited \(code 3\)/);
  }
}

describe('PD ThreadScheduler thread dies', () => {
  for (const death of deaths) {
    it(`PD1 ${death}: the far end's pending read rejects ERR_PIPE_PEER_EXITED, and so do the runs in flight`, async () => {
      const s = threadScheduler();
      const pipe = new SharedPipe({ capacity: 4096 });
      const ready = flags();
      const holding = quiet(rejection(s.run('hold', { ready, output: pipe.writer }, { signal: signal() })));
      await within(waitForFlag(ready, 0), 5_000, 'the thread to revive the writer');
      const { pending: read } = await pendingRead(pipe.reader);
      const at = clock();
      const killer = quiet(kill(s, death, at));
      const error = await rejection(read);
      const latency = now() - at[0]!;
      expectPeerExited(error);
      record(`ThreadScheduler ${death}, read`, latency);
      expect(at[0]).toBeGreaterThan(0);
      expect(latency).toBeLessThan(kBoundMs);
      // Later reads fail the same way.
      expectPeerExited(await rejection(pipe.reader.read()));
      // Both runs in flight on the dead thread reject, naming how it died.
      expectDeathMessage(await holding, death);
      expectDeathMessage(await killer, death);
      // The scheduler is dead: later runs reject too, and close() still resolves.
      expectPeerExited(await rejection(s.run('whoAmI')));
      await within(s.close());
    });

    it(`PD2 ${death}: the far end's pending flush (pipe full) rejects ERR_PIPE_PEER_EXITED`, async () => {
      const s = threadScheduler();
      const pipe = new SharedPipe({ capacity: 8192 });
      const ready = flags();
      const holding = quiet(rejection(s.run('hold', { ready, input: pipe.reader }, { signal: signal() })));
      await within(waitForFlag(ready, 0), 5_000, 'the thread to revive the reader');
      const { pending: flush } = await pendingFlush(pipe.writer);
      const at = clock();
      const killer = quiet(kill(s, death, at));
      const error = await rejection(flush);
      const latency = now() - at[0]!;
      expectPeerExited(error);
      record(`ThreadScheduler ${death}, flush`, latency);
      expect(latency).toBeLessThan(kBoundMs);
      // Later writes and flushes fail too.
      expectPeerExited(await rejection(pipe.writer.write(new Uint8Array(16))));
      expectPeerExited(await rejection(pipe.writer.flush()));
      expectDeathMessage(await holding, death);
      expectDeathMessage(await killer, death);
    });
  }

  it('PD3 every ring end the thread held fails: both directions of a duplex pair and an end it opened and kept after its run returned', async () => {
    const s = threadScheduler();
    const [local, remote] = createDuplexPair({ capacity: 4096 });
    const ready = flags(2);
    const holding = quiet(rejection(s.run('hold', { ready, ...remote }, { signal: signal() })));
    const opened = await within(s.run<{ input: SharedPipeHandle }>('openAndKeep', {}));
    const kept = SharedPipe.reader(opened.input);
    await within(waitForFlag(ready, 0));
    const { pending: read } = await pendingRead(local.input as SharedPipeReader);
    const { pending: flush } = await pendingFlush(local.output as SharedPipeWriter);
    const { pending: keptRead } = await pendingRead(kept);
    const at = clock();
    const killer = quiet(kill(s, 'process.exit(3)', at));
    for (const pending of [read, flush, keptRead]) expectPeerExited(await rejection(pending));
    record('ThreadScheduler process.exit(3), three ends', now() - at[0]!);
    expectPeerExited(await holding);
    expectPeerExited(await killer);
  });

  it('PD12 out of memory under resourceLimits: the far end\'s pending read rejects; the run names ERR_WORKER_OUT_OF_MEMORY as the cause', async () => {
    const s = new ThreadScheduler(tasks, { resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    closers.push(() => s.close());
    const pipe = new SharedPipe({ capacity: 4096 });
    const ready = flags();
    const holding = quiet(rejection(s.run('hold', { ready, output: pipe.writer }, { signal: signal() })));
    await within(waitForFlag(ready, 0), 5_000, 'the thread to revive the writer');
    const { pending: read } = await pendingRead(pipe.reader);
    const at = clock();
    const killer = quiet(rejection(s.run('exhaustMemory', { clock: at }), 10_000));
    expectPeerExited(await rejection(read, 10_000));
    // Measured from the start of the allocating run, so it includes the time to exhaust the heap.
    record('ThreadScheduler out of memory (from allocation start), read', now() - at[0]!);
    const error = await killer;
    expectPeerExited(error);
    expect(error.cause).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
    expectPeerExited(await holding);
  });

  it('PD4 a ring the thread completed cleanly before dying stays clean: the data and isCompleted, no error', async () => {
    const s = threadScheduler();
    const pipe = new SharedPipe({ capacity: 4096 });
    const data = seededBytes(7, 1000);
    expect(await within(s.run('finishWriter', { output: pipe.writer, data }))).toBe(1000);
    const at = clock();
    expectPeerExited(await kill(s, 'process.exit(3)', at));
    const result = await within(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.toUint8Array()).toEqual(data);
    pipe.reader.advanceTo(result.buffer.end);
    // Still completed normally, not faulted by the death.
    expect((await within(pipe.reader.read())).isCompleted).toBe(true);
  });

  it('PD5 close() ends the thread: an end it opened and still holds after its run fails the far end', async () => {
    const s = threadScheduler();
    const opened = await within(s.run<{ input: SharedPipeHandle }>('openAndKeep', {}));
    const reader = SharedPipe.reader(opened.input);
    const { pending: read } = await pendingRead(reader);
    await within(s.close());
    expectPeerExited(await rejection(read));
  });
});

describe('PD watchWorker: a worker you start yourself', () => {
  async function startHolding(...ends: (SharedPipeReader | SharedPipeWriter)[]): Promise<Worker> {
    const worker = startWorker();
    const handles = watchWorker(worker, ...ends);
    const ready = flags();
    worker.postMessage({ handles, ready });
    await within(waitForFlag(ready, 0), 5_000, 'the worker to revive the ends');
    return worker;
  }

  it('PD6 terminate(): the far end\'s pending read rejects ERR_PIPE_PEER_EXITED', async () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    const worker = await startHolding(pipe.writer);
    const { pending: read } = await pendingRead(pipe.reader);
    const t0 = now();
    void worker.terminate();
    const error = await rejection(read);
    const latency = now() - t0;
    expectPeerExited(error);
    record('watchWorker terminate(), read', latency);
    expect(latency).toBeLessThan(kBoundMs);
    expectPeerExited(await rejection(pipe.reader.read()));
  });

  it('PD7 terminate(): the far end\'s pending flush (pipe full) rejects ERR_PIPE_PEER_EXITED', async () => {
    const pipe = new SharedPipe({ capacity: 8192 });
    const worker = await startHolding(pipe.reader);
    const { pending: flush } = await pendingFlush(pipe.writer);
    const t0 = now();
    void worker.terminate();
    const error = await rejection(flush);
    const latency = now() - t0;
    expectPeerExited(error);
    record('watchWorker terminate(), flush', latency);
    expect(latency).toBeLessThan(kBoundMs);
    expectPeerExited(await rejection(pipe.writer.write(new Uint8Array(1))));
  });

  it('PD8 a worker terminated before it revived the end still fails the far end', async () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    const worker = startWorker();
    watchWorker(worker, pipe.writer); // the handle is never posted
    const { pending: read } = await pendingRead(pipe.reader);
    await within(worker.terminate());
    expectPeerExited(await rejection(read));
  });

  it('PD9 a worker that completed its end cleanly and exited: the data and isCompleted, no error', async () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    const worker = startWorker();
    const [handle] = watchWorker(worker, pipe.writer);
    const ready = flags();
    // Small enough that the worker's write() needs no reader to return (room is left for a like batch).
    const data = seededBytes(9, 1000);
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.postMessage({ handles: [handle], ready, mode: 'finish', data });
    expect(await within(exited)).toBe(0);
    const result = await within(pipe.reader.read());
    expect(result.isCompleted).toBe(true);
    expect(result.buffer.toUint8Array()).toEqual(data);
    pipe.reader.advanceTo(result.buffer.end);
    expect((await within(pipe.reader.read())).isCompleted).toBe(true);
  });

  it('PD10 watchWorker validates its arguments', () => {
    const pipe = new SharedPipe({ capacity: 1024 });
    expect(() => watchWorker({} as Worker, pipe.reader)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const worker = startWorker();
    expect(() => watchWorker(worker, {} as SharedPipeReader)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe('PD PoolScheduler thread dies mid-task', () => {
  const hows: ['exit' | 'throw', string][] = [['exit', 'process.exit(3)'], ['throw', 'uncaught error']];
  for (const [how, label] of hows) {
    it(`PD11 ${label}: run() rejects ERR_PIPE_PEER_EXITED, the task's pending read and flush far ends too; the pool replaces the thread`, async () => {
      const pool = poolScheduler();
      const toTask = new SharedPipe({ capacity: 8192 });
      const fromTask = new SharedPipe({ capacity: 4096 });
      const ready = flags();
      const gate = flags(1);
      const at = clock();
      const running = quiet(rejection(pool.run('holdThenDie', { ready, gate, how, clock: at, input: toTask.reader, output: fromTask.writer }, { signal: signal() })));
      const threadId = await within(waitForFlag(ready, 0), 5_000, 'the task to start');
      const { pending: read } = await pendingRead(fromTask.reader);
      const { pending: flush } = await pendingFlush(toTask.writer);
      raiseFlag(gate, 0);
      const readError = await rejection(read);
      const latency = now() - at[0]!;
      expectPeerExited(readError);
      expectPeerExited(await rejection(flush));
      record(`PoolScheduler ${label}, read`, latency);
      expect(latency).toBeLessThan(kBoundMs);
      const error = await running;
      expectPeerExited(error);
      expect(error.message).toContain("'holdThenDie'");
      if (how === 'throw') expect(error.cause).toMatchObject({ message: 'pool task exploded' });
      // A new thread serves the next run.
      const who = await within(pool.run<{ threadId: number }>('whoAmI'), 10_000);
      expect(who.threadId).not.toBe(threadId);
      expect(who.threadId).toBeGreaterThan(0);
    });
  }
});

describe('PD an end moved by hand: handle() posted to a plain Worker, no watchWorker', () => {
  type How = 'exit' | 'throw' | 'oom';
  const labels: Record<How, string> = { exit: 'process.exit(3)', throw: 'uncaught error', oom: 'out of memory' };

  /** A worker holding `end`, given its handle the natural way: in a plain message, no transferList. */
  async function handMoved(end: SharedPipeReader | SharedPipeWriter, message: object, options: { resourceLimits?: ResourceLimits } = {}): Promise<Worker> {
    const worker = startWorker(options);
    const ready = flags();
    worker.postMessage({ handles: [end.handle()], ready, ...message });
    await within(waitForFlag(ready, 0), 5_000, 'the worker to revive the end');
    return worker;
  }

  for (const how of ['exit', 'throw', 'oom'] as How[]) {
    it(`PD13 ${labels[how]}: the far end's pending read rejects ERR_PIPE_PEER_EXITED`, async () => {
      const pipe = new SharedPipe({ capacity: 4096 });
      const gate = flags(1);
      const at = clock();
      await handMoved(pipe.writer, { mode: 'die', how, gate, clock: at }, how === 'oom' ? { resourceLimits: kMemoryLimits } : {});
      const { pending: read } = await pendingRead(pipe.reader);
      raiseFlag(gate, 0);
      expectPeerExited(await rejection(read, 10_000));
      const latency = now() - at[0]!;
      record(`hand-moved end, ${labels[how]}${how === 'oom' ? ' (from allocation start)' : ''}, read`, latency);
      expect(at[0]).toBeGreaterThan(0);
      expect(latency).toBeLessThan(kBoundMs * (how === 'oom' ? 5 : 1));
    });
  }

  it('PD14 terminate(): the far end\'s pending read and flush reject ERR_PIPE_PEER_EXITED, seen by the monitor alone', async () => {
    const toWorker = new SharedPipe({ capacity: 8192 });
    const fromWorker = new SharedPipe({ capacity: 4096 });
    const worker = await handMoved(fromWorker.writer, { mode: 'hold' });
    const ready = flags();
    worker.postMessage({ handles: [toWorker.reader.handle()], ready });
    await within(waitForFlag(ready, 0));
    const { pending: read } = await pendingRead(fromWorker.reader);
    const { pending: flush } = await pendingFlush(toWorker.writer);
    const t0 = now();
    void worker.terminate();
    const error = await rejection(read);
    record('hand-moved end, terminate(), read', now() - t0);
    expectPeerExited(error);
    expectPeerExited(await rejection(flush));
    record('hand-moved end, terminate(), flush', now() - t0);
  });

  it('PD15 the error carries a snapshot: positions, the dead holder\'s thread id, what was waiting', async () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    await within(pipe.writer.write(seededBytes(3, 100)));
    const worker = await handMoved(pipe.writer, { mode: 'hold' });
    const holder = worker.threadId;
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.getPosition(40), first.buffer.end);
    const { pending: read } = await pendingRead(pipe.reader);
    void worker.terminate();
    const error = (await rejection(read)) as Error & { snapshot?: RingSnapshot };
    expectPeerExited(error);
    expect(error.snapshot).toMatchObject({
      pipe: expect.stringMatching(/^SharedPipe#/),
      capacity: 4096,
      written: 100,
      consumed: 40,
      examined: 100,
      unconsumed: 60,
      unexamined: 0,
      paused: false,
      writer: { thread: holder, state: 'faulted', exited: true },
      reader: { thread: mainThreadId, state: 'open', exited: false },
    });
  });
});

describe('PD the thread that started the holder is blocked in readSync / flushSync', () => {
  type Mode = 'hand' | 'thread';
  type How = 'exit' | 'throw' | 'oom' | 'terminate';
  const cases: [Mode, How, 'readSync' | 'flushSync'][] = [
    ['hand', 'exit', 'readSync'],
    ['hand', 'throw', 'readSync'],
    ['hand', 'terminate', 'readSync'],
    ['hand', 'oom', 'readSync'],
    ['hand', 'terminate', 'flushSync'],
    ['thread', 'exit', 'readSync'],
    ['thread', 'terminate', 'readSync'],
    ['thread', 'oom', 'readSync'],
    ['thread', 'throw', 'flushSync'],
  ];
  for (const [mode, how, wait] of cases) {
    const holder = mode === 'hand' ? 'a plain Worker given the handle' : 'a ThreadScheduler run';
    it(`PD16 ${holder} dies (${how}) while its creator is blocked in ${wait}: the blocked call throws ERR_PIPE_PEER_EXITED`, async () => {
      const gate = flags(1);
      const at = new Float64Array(new SharedArrayBuffer(16));
      const creator = new Worker(blockedCreator, { workerData: { mode, how, wait, gate, clock: at, userWorker: userWorker.href, tasks: tasks.href } });
      creator.on('error', () => {});
      closers.push(() => creator.terminate());
      const outcome = new Promise<{ type: string; code?: string; snapshot?: RingSnapshot }>((resolve) => {
        creator.on('message', (message: { type: string }) => {
          if (message.type !== 'blocking') resolve(message);
        });
      });
      await within(new Promise((resolve) => creator.once('message', resolve)), 10_000, 'the creator to block');
      raiseFlag(gate, 0);
      const result = await within(outcome, 10_000, `the creator's blocked ${wait} to end`);
      expect(result).toMatchObject({ type: 'threw', code: 'ERR_PIPE_PEER_EXITED' });
      expect(result.snapshot).toMatchObject({ [wait === 'readSync' ? 'writer' : 'reader']: { exited: true } });
      const latency = at[1]! - at[0]!;
      record(`creator blocked in ${wait}, ${mode === 'hand' ? 'hand-moved end' : 'ThreadScheduler'}, ${how}${how === 'oom' ? ' (from allocation start)' : ''}`, latency);
      expect(at[0]).toBeGreaterThan(0);
      expect(latency).toBeLessThan(kBoundMs * (how === 'oom' ? 5 : 1));
    });
  }
});

describe('PD a pool thread that ends after its task returned', () => {
  it('PD17 the end a task opened and kept fails when a later task exits the thread', async () => {
    const pool = poolScheduler();
    const opened = await within(pool.run<{ input: SharedPipeHandle }>('openAndKeep', { data: seededBytes(5, 10) }), 10_000);
    const reader = SharedPipe.reader(opened.input);
    const first = await within(reader.read());
    expect(first.buffer.toUint8Array()).toEqual(seededBytes(5, 10));
    reader.advanceTo(first.buffer.end);
    const { pending: read } = await pendingRead(reader);
    const at = clock();
    const exiting = quiet(rejection(pool.run('exitNow', { clock: at, code: 3 }), 10_000));
    expectPeerExited(await rejection(read));
    record('pool thread process.exit(3) after its task returned, read', now() - at[0]!);
    expectPeerExited(await exiting);
  });

  it('PD18 the end a task opened and kept fails when the pool ends the idle thread (idleTimeout)', async () => {
    const pool = new PoolScheduler(tasks, { minThreads: 0, maxThreads: 1, idleTimeout: 50 });
    closers.push(() => pool.close());
    const opened = await within(pool.run<{ input: SharedPipeHandle }>('openAndKeep', {}), 10_000);
    const returned = now();
    const reader = SharedPipe.reader(opened.input);
    const { pending: read } = await pendingRead(reader);
    expectPeerExited(await rejection(read));
    record('pool thread ended idle (terminate) after its task returned, from the return (includes idleTimeout 50 ms), read', now() - returned);
    expect(pool.threads).toBe(0);
  });
});
