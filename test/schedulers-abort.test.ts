// Abort reaches a blocked task: a run blocked in readSync / flushSync cannot see its signal (its
// thread's event loop is stuck), so after a grace period the scheduler fails the run's ends through
// shared memory, which wakes the Atomics.wait; the run rejects at once and the thread is usable again.
// PoolScheduler.run() rejects as soon as its signal aborts, like ThreadScheduler.run().
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SharedPipe } from '../dist/src/index.js';
import { now, raiseFlag, waitForFlag } from '../dist/test/fixtures/sched-data.js';
import { flags, peek, quiet, rejectedWithin, schedulerKinds, settleTurns, within } from './helpers.js';

const tasks = new URL('../dist/test/fixtures/sched-tasks.js', import.meta.url);

const { kinds, destroyAll } = schedulerKinds(tasks);

afterEach(destroyAll);

const wakeups: string[] = [];

afterAll(() => {
  console.log(`abort of a blocked run → the next run served on its thread\n  ${wakeups.join('\n  ')}`);
});

for (const [kind, factory] of kinds) {
  describe(`AB ${kind}`, () => {
    const blocked: [string, string, (pipe: SharedPipe) => Record<string, unknown>, (pipe: SharedPipe) => Promise<unknown>][] = [
      ['readSync', 'readSyncUntilError', (pipe) => ({ input: pipe.reader }), (pipe) => pipe.writer.write(new Uint8Array(8))],
      ['flushSync', 'flushSyncUntilError', (pipe) => ({ output: pipe.writer }), (pipe) => pipe.reader.read()],
      // An end passed as its handle (moved by hand before the run) is watched over all the same.
      ['readSync on an end passed as a handle', 'readSyncUntilError', (pipe) => ({ input: pipe.reader.handle() }), (pipe) => pipe.writer.write(new Uint8Array(8))],
    ];
    for (const [call, task, ends, farSide] of blocked) {
      it(`AB1 ${kind}: aborting a run blocked in ${call} rejects at once, wakes the thread, and the next run works on the same thread`, async () => {
        const s = factory();
        const before = await within(s.run<{ threadId: number }>('whoAmI'), 10_000);
        const pipe = new SharedPipe({ capacity: 4096 });
        const started = flags(1);
        const c = new AbortController();
        const running = quiet(s.run(task, { ...ends(pipe), flags: started }, { signal: c.signal }));
        await within(waitForFlag(started, 0), 10_000, `the task to block in ${call}`);
        const t0 = now();
        c.abort();
        await settleTurns(1);
        const state = await peek(running);
        expect(state.state).toBe('rejected');
        expect((state as { error: unknown }).error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
        // The thread was blocked; it is free again: a new run lands on it and completes.
        const after = await within(s.run<{ threadId: number }>('whoAmI'), 5_000, 'a run after the abort');
        wakeups.push(`${kind} ${call}: ${(now() - t0).toFixed(1)} ms from abort to the next run's result`);
        expect(after.threadId).toBe(before.threadId);
        // The run's ring failed with the AbortError on this side too, instead of waiting.
        expect(await rejectedWithin(farSide(pipe))).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      });
    }

    it(`AB4 ${kind}: a task that ignores its signal while holding an end lets it go after the grace (its far end fails with the AbortError), and close() does not wait for it`, async () => {
      const s = factory();
      const pipe = new SharedPipe({ capacity: 1024 });
      const g = flags(1);
      const started = flags(1);
      const c = new AbortController();
      const running = quiet(s.run('ignoreAbort', { gate: g, flags: started, input: pipe.reader }, { signal: c.signal }));
      await within(waitForFlag(started, 0), 10_000, 'the task to start');
      // More than the ring holds: the write waits for a reader that never reads.
      const write = pipe.writer.write(new Uint8Array(2000));
      c.abort();
      expect(await rejectedWithin(running)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(await rejectedWithin(write, 10_000)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      await within(s.close(), 10_000, 'close() with an aborted task still running');
    });

    it(`AB2 ${kind}: a run whose task ignores its signal rejects as soon as the signal aborts; the thread lives on`, async () => {
      const s = factory();
      const g = flags(1);
      const started = flags(1);
      const c = new AbortController();
      const running = quiet(s.run<{ threadId: number }>('ignoreAbort', { gate: g, flags: started }, { signal: c.signal }));
      const thread = await within(waitForFlag(started, 0), 10_000, 'the task to start');
      c.abort();
      await settleTurns(1);
      expect((await peek(running)).state).toBe('rejected');
      expect(await rejectedWithin(running)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      raiseFlag(g, 0);
      expect(await within(s.run<{ threadId: number }>('whoAmI'), 5_000)).toMatchObject({ threadId: thread });
    });

    it(`AB3 ${kind}: aborting a run whose thread answers (an async read) cancels cooperatively: the read comes back canceled, the far end is not failed`, async () => {
      const s = factory();
      const pipe = new SharedPipe({ capacity: 1024 });
      const f = flags(4);
      const c = new AbortController();
      const running = quiet(s.run('readUntilCanceled', { input: pipe.reader, flags: f }, { signal: c.signal }));
      await within(waitForFlag(f, 0), 10_000, 'the task to start reading');
      c.abort();
      expect(await rejectedWithin(running)).toMatchObject({ name: 'AbortError' });
      await within(waitForFlag(f, 1), 5_000, 'the pending read to come back canceled');
      // The task completed its reader itself, cleanly: the writer sees a completed reader, not an error.
      await within(waitForFlag(f, 2), 5_000, 'the function\'s signal to abort');
      expect(await within(pipe.writer.write(new Uint8Array(4)))).toMatchObject({ isCompleted: true });
    });
  });
}
