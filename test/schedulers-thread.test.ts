// ThreadScheduler: one dedicated worker; runs keep their thread, pipe ends in the arguments move
// there, errors cross back with name, message and code; close() and abort.
import { threadId as mainThreadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDuplexPair,
  ReadPendingError,
  SharedPipe,
  ThreadpipeError,
  ThreadScheduler,
  type ThreadSchedulerOptions,
} from '../dist/src/index.js';
import { fnv1aOf, raiseFlag, seededBytes, sendSeeded, waitForFlag } from '../dist/test/fixtures/sched-data.js';
import type { ParseResult } from '../dist/test/fixtures/sched-tasks.js';
import { peek, within, rejection, quiet, flags } from './helpers.js';
import { transferCases } from './scheduler-transfer-cases.js';

const tasks = new URL('../dist/test/fixtures/sched-tasks.js', import.meta.url);

const schedulers: ThreadScheduler[] = [];
const controllers: AbortController[] = [];

function scheduler(options?: ThreadSchedulerOptions): ThreadScheduler {
  const s = new ThreadScheduler(tasks, options);
  schedulers.push(s);
  return s;
}

/** An abort controller aborted after the test, so no run is left in flight when close() waits. */
function controller(): AbortController {
  const c = new AbortController();
  controllers.push(c);
  return c;
}

/** Options for a run that could be left in flight by a failing test: afterEach aborts it. */
function cleanup(): { signal: AbortSignal } {
  return { signal: controller().signal };
}

afterEach(async () => {
  for (const c of controllers.splice(0)) c.abort();
  await within(Promise.all(schedulers.splice(0).map((s) => s.close())), 5_000, 'close() in afterEach');
});

describe('TS affinity: every run stays on the scheduler thread', () => {
  it('TS1 every run reports the same threadId, the scheduler\'s, never the main thread\'s', async () => {
    const s = scheduler({ name: 'affinity' });
    expect(s.threadId).toBeGreaterThan(0);
    expect(s.threadId).not.toBe(mainThreadId);
    const sequential: { threadId: number; own: number; isMainThread: boolean }[] = [];
    for (let i = 0; i < 20; i++) sequential.push(await within(s.run('whoAmI')));
    const concurrent = await within(Promise.all(Array.from({ length: 20 }, () => s.run<{ threadId: number; own: number; isMainThread: boolean }>('whoAmI'))));
    for (const who of [...sequential, ...concurrent]) {
      expect(who).toEqual({ threadId: s.threadId, own: s.threadId, isMainThread: false });
    }
    // A second scheduler is another thread.
    const other = scheduler();
    const whoElse = await within(other.run<{ threadId: number }>('whoAmI'));
    expect(whoElse.threadId).toBe(other.threadId);
    expect(other.threadId).not.toBe(s.threadId);
  });

  it('TS2 SharedPipes parsed on the thread: every byte checked against the seed, same threadId each time', async () => {
    const s = scheduler();
    const length = 1 << 20;
    const seen = new Set<number>();
    for (const seed of [11, 12, 13]) {
      const pipe = new SharedPipe({ capacity: 1 << 16 });
      const parsing = quiet(s.run<ParseResult>('parse', { input: pipe.reader, seed }, cleanup()));
      const sent = await within(sendSeeded(pipe.writer, seed, length), 10_000, 'send');
      const result = await within(parsing, 10_000, 'parse');
      expect(result).toMatchObject({ count: length, mismatches: 0, firstMismatch: -1, checksum: sent });
      seen.add(result.threadId);
      expect(pipe.writer.stats().bytesConsumed).toBe(pipe.writer.stats().bytesWritten);
    }
    expect([...seen]).toEqual([s.threadId]);
  });

  it('TS3 two parses interleave on the one thread (async functions), both byte-exact', async () => {
    const s = scheduler();
    const length = 256 * 1024;
    const a = new SharedPipe({ capacity: 4096 });
    const b = new SharedPipe({ capacity: 4096 });
    const parseA = quiet(s.run<ParseResult>('parse', { input: a.reader, seed: 21 }, cleanup()));
    const parseB = quiet(s.run<ParseResult>('parse', { input: b.reader, seed: 22 }, cleanup()));
    const [sentA, sentB] = await within(Promise.all([sendSeeded(a.writer, 21, length), sendSeeded(b.writer, 22, length)]), 10_000, 'send');
    const [ra, rb] = await within(Promise.all([parseA, parseB]), 10_000, 'parse');
    expect(ra).toMatchObject({ count: length, mismatches: 0, checksum: sentA, threadId: s.threadId });
    expect(rb).toMatchObject({ count: length, mismatches: 0, checksum: sentB, threadId: s.threadId });
  });

  it('TS4 pipe ends found at any depth of the arguments move and are revived', async () => {
    const s = scheduler();
    const pipes = [new SharedPipe({ capacity: 1024 }), new SharedPipe({ capacity: 2048 })];
    const running = quiet(s.run<ParseResult[]>('parseAll', { batch: { jobs: [{ input: pipes[0]!.reader, seed: 31 }, { input: pipes[1]!.reader, seed: 32 }] } }, cleanup()));
    // Moved synchronously by run(): the main thread can no longer read them.
    expect(() => pipes[0]!.reader.tryRead()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_END_MOVED' }));
    const sums = await within(Promise.all([sendSeeded(pipes[0]!.writer, 31, 50_000), sendSeeded(pipes[1]!.writer, 32, 70_000)]));
    const results = await within(running);
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ count: 50_000, mismatches: 0, checksum: sums[0], threadId: s.threadId });
    expect(results[1]).toMatchObject({ count: 70_000, mismatches: 0, checksum: sums[1], threadId: s.threadId });
  });

  it('TS5 a DuplexPipe { input, output } moves whole: bytes go there and come back transformed', async () => {
    const s = scheduler();
    const [local, remote] = createDuplexPair({ capacity: 8192 });
    const seed = 41;
    const length = 300_000;
    const running = quiet(s.run<ParseResult>('transform', { ...remote, seed }, cleanup()));
    const data = seededBytes(seed, length);
    const receiving = (async () => {
      let count = 0;
      let mismatches = 0;
      for (;;) {
        const result = await local.input.read();
        for (const segment of result.buffer) {
          for (const byte of segment) {
            if (byte !== (data[count]! ^ 0xa5)) mismatches++;
            count++;
          }
        }
        local.input.advanceTo(result.buffer.end);
        if (result.isCompleted) break;
      }
      local.input.complete();
      return { count, mismatches };
    })();
    const sent = await within(sendSeeded(local.output, seed, length, { data }), 10_000, 'send');
    const [result, back] = await within(Promise.all([running, receiving]), 10_000, 'transform');
    expect(result).toMatchObject({ count: length, mismatches: 0, checksum: sent, threadId: s.threadId });
    expect(back).toEqual({ count: length, mismatches: 0 });
  });

  it('TS6 async functions interleave: a run waiting on a gate is released by a later run on the same thread', async () => {
    const s = scheduler();
    const gate = flags(1);
    const waiting = quiet(s.run<{ value: unknown; threadId: number }>('waitGate', { gate, value: 'through' }, cleanup()));
    // The waiting run does not block the thread: the next run gets in and opens the gate.
    expect(await within(s.run('openGate', { gate }))).toBe('opened');
    expect(await within(waiting)).toEqual({ value: 'through', threadId: s.threadId });
  });
});

describe('TS load', () => {
  it('TS7 10,000 concurrent runs on one ThreadScheduler all complete, in one thread', async () => {
    const s = scheduler();
    const n = 10_000;
    const results = await within(Promise.all(Array.from({ length: n }, (_, i) => s.run<{ i: number; threadId: number }>('tag', { i }))), 20_000, '10,000 runs');
    expect(results).toHaveLength(n);
    results.forEach((result, i) => expect(result.i).toBe(i));
    expect(new Set(results.map((r) => r.threadId))).toEqual(new Set([s.threadId]));
  });
});

describe('TS close', () => {
  it('TS8 close() with work in flight: in-flight runs finish with their results, later runs reject ERR_SCHEDULER_CLOSED', async () => {
    const s = scheduler();
    const gate = flags(1);
    const inFlight = [1, 2, 3].map((value) => s.run<{ value: unknown }>('waitGate', { gate, value })).map(quiet);
    // (close() below lets these finish; if a check fails before the gate opens, open it anyway.)
    controller().signal.addEventListener('abort', () => raiseFlag(gate, 0));
    // Let the runs reach the thread before closing (the last one proves the thread is serving).
    expect(await within(s.run<{ value: unknown }>('tag', { i: 0 }))).toMatchObject({ i: 0 });
    const closing = s.close();
    expect(s.close()).toBe(closing);
    const refused = s.run('whoAmI');
    expect((await peek(refused)).state).toBe('rejected');
    expect(await rejection(refused)).toMatchObject({ name: 'SchedulerClosedError', code: 'ERR_SCHEDULER_CLOSED' });
    // close() waits for the runs in flight.
    expect((await peek(closing)).state).toBe('pending');
    for (const run of inFlight) expect((await peek(run)).state).toBe('pending');
    raiseFlag(gate, 0);
    const values = await within(Promise.all(inFlight));
    expect(values.map((v) => v.value)).toEqual([1, 2, 3]);
    await within(closing);
    expect(await rejection(s.run('whoAmI'))).toMatchObject({ code: 'ERR_SCHEDULER_CLOSED' });
  });

  it('TS9 close() on an idle scheduler resolves; run() afterwards rejects ERR_SCHEDULER_CLOSED', async () => {
    const s = scheduler();
    expect(await within(s.run<{ threadId: number }>('whoAmI'))).toMatchObject({ threadId: s.threadId });
    await within(s.close());
    const error = await rejection(s.run('whoAmI'));
    expect(error).toBeInstanceOf(ThreadpipeError);
    expect(error.code).toBe('ERR_SCHEDULER_CLOSED');
  });

  it('TS10 close() still resolves when a run it waits for is aborted (the run ends on its signal)', async () => {
    // Not registered for afterEach: if close() hangs here, it would hang there too.
    const s = new ThreadScheduler(tasks);
    const started = flags(1);
    const c = new AbortController();
    const running = quiet(s.run('untilAborted', { flags: started }, { signal: c.signal }));
    await within(waitForFlag(started, 0));
    const closing = s.close();
    c.abort();
    expect(await rejection(running)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await within(closing, 3_000, 'close() after the in-flight run was aborted');
    expect(await rejection(s.run('whoAmI'))).toMatchObject({ code: 'ERR_SCHEDULER_CLOSED' });
  });
});

describe('TS errors across the thread boundary', () => {
  const kinds: [string, { name: string; message: string; code?: string; base: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor }][] = [
    ['coded', { name: 'Error', message: 'the database said no', code: 'E_DB_REFUSED', base: Error }],
    ['type', { name: 'TypeError', message: 'expected a widget', code: 'ERR_INVALID_WIDGET', base: TypeError }],
    ['range', { name: 'RangeError', message: 'out of range: 42', base: RangeError }],
    ['custom', { name: 'QuotaError', message: 'quota exceeded for tenant 7', code: 'E_QUOTA', base: Error }],
  ];

  for (const async of [false, true]) {
    for (const [kind, expected] of kinds) {
      it(`TS11 a ${kind} error thrown ${async ? 'after an await' : 'synchronously'} keeps name, message and code`, async () => {
        const s = scheduler();
        const error = await within(rejection(s.run('fail', { kind, async })));
        expect(error).toBeInstanceOf(expected.base);
        expect(error.name).toBe(expected.name);
        expect(error.message).toBe(expected.message);
        if (expected.code === undefined) expect(error.code).toBeUndefined();
        else expect(error.code).toBe(expected.code);
      });
    }
  }

  it('TS12 the cause of an error crosses too; a thrown non-Error becomes an Error with its text', async () => {
    const s = scheduler();
    const error = await within(rejection(s.run('fail', { kind: 'cause' })));
    expect(error.message).toBe('outer failure');
    expect(error.cause).toMatchObject({ message: 'inner failure', code: 'E_INNER' });
    const bare = await within(rejection(s.run('fail', { kind: 'string' })));
    expect(bare).toBeInstanceOf(Error);
    expect(bare.message).toBe('a bare string');
  });

  it('TS13 a threadpipe error raised on the thread comes back with its class and code', async () => {
    const s = scheduler();
    const pipe = new SharedPipe({ capacity: 1024 });
    const error = await within(rejection(s.run('misuse', { input: pipe.reader })));
    expect(error).toBeInstanceOf(ReadPendingError);
    expect(error).toBeInstanceOf(ThreadpipeError);
    expect(error).toMatchObject({ name: 'ReadPendingError', code: 'ERR_PIPE_READ_PENDING' });
  });

  it('TS14 a missing export (or a non-function one) fails with ERR_SCHEDULER_EXPORT_NOT_FOUND naming it; the thread stays usable', async () => {
    const s = scheduler();
    const missing = await within(rejection(s.run('noSuchExport')));
    expect(missing).toMatchObject({ name: 'ExportNotFoundError', code: 'ERR_SCHEDULER_EXPORT_NOT_FOUND' });
    expect(missing.message).toContain("'noSuchExport'");
    expect(missing.message).toContain('sched-tasks.js');
    const notAFunction = await within(rejection(s.run('notAFunction')));
    expect(notAFunction).toMatchObject({ code: 'ERR_SCHEDULER_EXPORT_NOT_FOUND' });
    expect(notAFunction.message).toContain("'notAFunction'");
    expect(await within(s.run('whoAmI'))).toMatchObject({ threadId: s.threadId });
  });

  it('TS15 a missing module rejects with Node\'s ERR_MODULE_NOT_FOUND naming the file, every time', async () => {
    const s = new ThreadScheduler(new URL('../dist/test/fixtures/sched-does-not-exist.js', import.meta.url));
    schedulers.push(s);
    for (let i = 0; i < 2; i++) {
      const error = await within(rejection(s.run('anything')));
      expect(error.code).toBe('ERR_MODULE_NOT_FOUND');
      expect(error.message).toContain('sched-does-not-exist.js');
    }
  });

  it('TS16 a bad export name throws synchronously; arguments that cannot be cloned reject and fail the moved end', async () => {
    const s = scheduler();
    expect(() => s.run('')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => s.run(42 as unknown as string)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const pipe = new SharedPipe({ capacity: 1024 });
    const error = await within(rejection(s.run('parse', { input: pipe.reader, seed: 1, notCloneable: () => 1 })));
    expect(error.name).toBe('DataCloneError');
    // The reader never arrived anywhere: the writer learns instead of waiting forever.
    expect((await within(rejection(pipe.writer.write(new Uint8Array(8))))).name).toBe('DataCloneError');
  });
});

describe('TS abort', () => {
  it('TS17 a pre-aborted signal rejects with AbortError and moves nothing', async () => {
    const s = scheduler();
    const pipe = new SharedPipe({ capacity: 1024 });
    const c = new AbortController();
    c.abort();
    const error = await within(rejection(s.run('parse', { input: pipe.reader, seed: 1 }, { signal: c.signal })));
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    // The reader is still here.
    expect(pipe.reader.tryRead()).toBeNull();
  });

  it('TS18 aborting a running run rejects at once, aborts its signal there and cancels its pipe\'s pending read', async () => {
    const s = scheduler();
    const pipe = new SharedPipe({ capacity: 1024 });
    const f = flags(4);
    const c = new AbortController();
    const running = quiet(s.run('readUntilCanceled', { input: pipe.reader, flags: f }, { signal: c.signal }));
    await within(waitForFlag(f, 0), 5_000, 'the run to start reading');
    expect((await peek(running)).state).toBe('pending');
    c.abort();
    const state = await peek(running);
    expect(state.state).toBe('rejected');
    expect((state as { error: unknown }).error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await within(waitForFlag(f, 1), 5_000, 'the pending read to come back canceled');
    await within(waitForFlag(f, 2), 5_000, 'the function\'s signal to abort');
    // The thread is unharmed.
    expect(await within(s.run('whoAmI'))).toMatchObject({ threadId: s.threadId });
  });

  it('TS21 aborting a running run cancels the pending flush of a writer moved for it', async () => {
    const s = scheduler();
    const pipe = new SharedPipe({ capacity: 4096 });
    const f = flags(4);
    const c = new AbortController();
    const running = quiet(s.run('writeUntilCanceled', { output: pipe.writer, flags: f }, { signal: c.signal }));
    await within(waitForFlag(f, 0), 5_000, 'the run to fill the ring');
    // Nobody reads: the worker's flush stays pending until the abort cancels it.
    c.abort();
    expect(await rejection(running)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await within(waitForFlag(f, 1), 5_000, 'the pending flush to come back canceled');
    await within(waitForFlag(f, 2), 5_000, 'the function\'s signal to abort');
  });

  it('TS19 aborting one run leaves the other runs on the thread running', async () => {
    const s = scheduler();
    const gate = flags(1);
    const started = flags(1);
    const c = new AbortController();
    const aborted = quiet(s.run('untilAborted', { flags: started }, { signal: c.signal }));
    const other = quiet(s.run<{ value: unknown }>('waitGate', { gate, value: 'still here' }, cleanup()));
    await within(waitForFlag(started, 0));
    c.abort();
    expect(await rejection(aborted)).toMatchObject({ name: 'AbortError' });
    raiseFlag(gate, 0);
    expect(await within(other)).toMatchObject({ value: 'still here', threadId: s.threadId });
  });
});

// Sanity of the seeded data itself, so a checksum match above means something.
describe('TS data', () => {
  it('TS20 the seeded stream is deterministic and not trivial', () => {
    const a = seededBytes(5, 4096);
    expect(seededBytes(5, 4096)).toEqual(a);
    expect(seededBytes(6, 4096)).not.toEqual(a);
    expect(new Set(a).size).toBeGreaterThan(200);
    expect(fnv1aOf(a)).not.toBe(fnv1aOf(seededBytes(6, 4096)));
  });
});

transferCases('ThreadScheduler', () => scheduler());
