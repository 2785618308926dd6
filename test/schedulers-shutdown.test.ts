// Schedulers can be stopped: close() lets the runs in flight finish (however long they take);
// destroy(), or close({ timeout }) once the timeout passes, terminates the threads and fails what is
// pending with ERR_SCHEDULER_DESTROYED, and the far ends of the ends those threads held fail with
// ERR_PIPE_PEER_EXITED. Afterwards runs are refused with ERR_SCHEDULER_CLOSED.
import { afterEach, describe, expect, it } from 'vitest';
import { SchedulerDestroyedError, SharedPipe } from '../dist/src/index.js';
import { raiseFlag, waitForFlag } from '../dist/test/fixtures/sched-data.js';
import { flags, peek, quiet, rejectedWithin, schedulerKinds, settleTurns, within, type TestScheduler } from './helpers.js';

const tasks = new URL('../dist/test/fixtures/sched-tasks.js', import.meta.url);

const { kinds, destroyAll } = schedulerKinds(tasks, 1);

afterEach(destroyAll);

function expectDestroyed(error: unknown): void {
  expect(error).toBeInstanceOf(SchedulerDestroyedError);
  expect(error).toMatchObject({ name: 'SchedulerDestroyedError', code: 'ERR_SCHEDULER_DESTROYED' });
}

/** A run stuck on a gate nobody opens (it ignores its signal), once it has started; boxed, so that awaiting this does not await the run. */
async function stuckRun(s: TestScheduler): Promise<{ running: Promise<unknown> }> {
  const started = flags(1);
  const running = quiet(s.run('ignoreAbort', { gate: flags(1), flags: started }));
  await within(waitForFlag(started, 0), 10_000, 'the stuck run to start');
  return { running };
}

for (const [kind, factory] of kinds) {
  describe(`SD ${kind}`, () => {
    it(`SD1 ${kind}: close() waits for a stuck run; destroy() fails it with ERR_SCHEDULER_DESTROYED and both settle; later runs are refused`, async () => {
      const s = factory();
      const { running } = await stuckRun(s);
      const closing = quiet(s.close());
      await settleTurns();
      expect((await peek(closing)).state).toBe('pending');
      expect((await peek(running)).state).toBe('pending');
      const destroying = s.destroy();
      expect(s.destroy()).toBe(destroying);
      expectDestroyed(await rejectedWithin(running));
      await within(destroying, 10_000, 'destroy()');
      await within(closing, 10_000, 'close() after destroy()');
      expect(await rejectedWithin(s.run('whoAmI'))).toMatchObject({ name: 'SchedulerClosedError', code: 'ERR_SCHEDULER_CLOSED' });
      await within(s.close());
    });

    it(`SD2 ${kind}: destroy() ends a thread blocked in readSync: the run fails ERR_SCHEDULER_DESTROYED, the ring's far end ERR_PIPE_PEER_EXITED`, async () => {
      const s = factory();
      const pipe = new SharedPipe({ capacity: 4096 });
      const started = flags(1);
      const running = quiet(s.run('readSyncUntilError', { input: pipe.reader, flags: started }));
      await within(waitForFlag(started, 0), 10_000, 'the task to block in readSync');
      await within(s.destroy(), 10_000, 'destroy()');
      expectDestroyed(await rejectedWithin(running));
      expect(await rejectedWithin(pipe.writer.write(new Uint8Array(8)))).toMatchObject({ name: 'PeerExitedError', code: 'ERR_PIPE_PEER_EXITED' });
    });

    it(`SD3 ${kind}: close({ timeout }) destroys once the timeout passes with a run still stuck`, async () => {
      const s = factory();
      const { running } = await stuckRun(s);
      const closing = s.close({ timeout: 50 });
      expectDestroyed(await rejectedWithin(running));
      await within(closing, 10_000, 'close({ timeout })');
      expect(await rejectedWithin(s.run('whoAmI'))).toMatchObject({ code: 'ERR_SCHEDULER_CLOSED' });
    });

    it(`SD4 ${kind}: close({ timeout }) with runs that finish in time keeps their results and destroys nothing`, async () => {
      const s = factory();
      const g = flags(1);
      const waiting = quiet(s.run<{ value: unknown }>('waitGate', { gate: g, value: 'on time' }));
      const closing = s.close({ timeout: 60_000 });
      raiseFlag(g, 0);
      expect(await within(waiting, 10_000)).toMatchObject({ value: 'on time' });
      await within(closing, 10_000, 'close({ timeout })');
    });

    it(`SD5 ${kind}: close() validates its options`, async () => {
      const s = factory();
      expect(() => s.close({ timeout: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'options.timeout' }));
      expect(() => s.close({ timeout: 1.5 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
      expect(() => s.close(5 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'options' }));
      // A rejected call did not stop the scheduler.
      expect(await within(s.run('tag', { i: 1 }), 10_000)).toMatchObject({ i: 1 });
    });
  });
}

describe('SD PoolScheduler queue', () => {
  it('SD6 destroy() fails queued runs too; the end a queued run was given (never revived) fails on the far side', async () => {
    const s = kinds[1]![1]();
    const { running } = await stuckRun(s);
    const pipe = new SharedPipe({ capacity: 4096 });
    const queued = quiet(s.run('parse', { input: pipe.reader, seed: 1 }));
    await settleTurns();
    expect((await peek(queued)).state).toBe('pending');
    await within(s.destroy(), 10_000, 'destroy()');
    expectDestroyed(await rejectedWithin(running));
    expectDestroyed(await rejectedWithin(queued));
    expect(await rejectedWithin(pipe.writer.write(new Uint8Array(16)))).toMatchObject({ code: 'ERR_PIPE_PEER_EXITED' });
  });
});
