// A stalled wait explains itself: pendingOperations() entries for ring ends carry a snapshot of the
// ring's shared state — positions, unexamined bytes, pause state, who waits for what, and which
// thread holds each end (an ERR_PIPE_PEER_EXITED error carries the same; see schedulers-peer-death).
import { threadId as mainThreadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { pendingOperations, Pipe, SharedPipe, ThreadScheduler, type RingSnapshot } from '../dist/src/index.js';
import { seededBytes, waitForFlag } from '../dist/test/fixtures/sched-data.js';
import { flags, peek, quiet, within } from './helpers.js';

const tasks = new URL('../dist/test/fixtures/sched-tasks.js', import.meta.url);

const schedulers: ThreadScheduler[] = [];
const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await within(Promise.allSettled(schedulers.splice(0).map((s) => s.destroy())), 10_000, 'destroy() in afterEach');
});

/** The snapshot of the one pending operation on `pipe`'s ring. */
function snapshotOf(pipeName: string): RingSnapshot | undefined {
  const entries = pendingOperations().filter((entry) => entry.pipe === pipeName);
  expect(entries).toHaveLength(1);
  return entries[0]!.snapshot;
}

describe('SN pendingOperations() snapshots', () => {
  it('SN1 a pending read: positions, unexamined bytes, the reader waiting for data, both ends held by this thread', async () => {
    const pipe = new SharedPipe({ capacity: 1024 });
    await within(pipe.writer.write(seededBytes(1, 10)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.getPosition(4), first.buffer.end);
    const read = quiet(pipe.reader.read());
    cleanups.push(() => pipe.reader.cancelPendingRead());
    expect((await peek(read)).state).toBe('pending');
    const entry = pendingOperations().find((e) => e.operation === 'read' && e.snapshot !== undefined)!;
    expect(entry).toBeDefined();
    expect(entry.snapshot).toEqual({
      pipe: entry.pipe,
      capacity: 1024,
      maxCapacity: 1024,
      written: 10,
      consumed: 4,
      examined: 10,
      unconsumed: 6,
      unexamined: 0,
      pauseWriterThreshold: 1024,
      resumeWriterThreshold: 512,
      paused: false,
      reader: { thread: mainThreadId, state: 'open', exited: false, waitingFor: 'data' },
      writer: { thread: mainThreadId, state: 'open', exited: false, waitingFor: null },
    });
  });

  it('SN2 a readAtLeast names how much it waits for', async () => {
    const pipe = new SharedPipe({ capacity: 1024 });
    await within(pipe.writer.write(seededBytes(2, 5)));
    const read = quiet(pipe.reader.readAtLeast(20));
    cleanups.push(() => pipe.reader.cancelPendingRead());
    expect((await peek(read)).state).toBe('pending');
    const entry = pendingOperations().find((e) => e.operation === 'readAtLeast')!;
    expect(entry.snapshot).toMatchObject({ written: 5, unexamined: 5, reader: { waitingFor: 'at least 20 unexamined bytes' } });
  });

  it('SN3 a paused flush: the unexamined bytes at the threshold, paused, the writer waiting', async () => {
    const pipe = new SharedPipe({ capacity: 1024, pauseWriterThreshold: 64, resumeWriterThreshold: 32 });
    const flush = quiet(pipe.writer.write(seededBytes(3, 64)));
    cleanups.push(() => pipe.writer.cancelPendingFlush());
    expect((await peek(flush)).state).toBe('pending');
    const entry = pendingOperations().find((e) => e.operation === 'flush' || e.operation === 'write')!;
    expect(entry.snapshot).toMatchObject({
      written: 64,
      unexamined: 64,
      paused: true,
      pauseWriterThreshold: 64,
      resumeWriterThreshold: 32,
      writer: { thread: mainThreadId, waitingFor: expect.any(String) },
      reader: { waitingFor: null },
    });
  });

  it('SN4 an end moved to another thread is named by that thread\'s id', async () => {
    const s = new ThreadScheduler(tasks);
    schedulers.push(s);
    const pipe = new SharedPipe({ capacity: 1024 });
    const ready = flags(1);
    const controller = new AbortController();
    cleanups.push(() => controller.abort());
    quiet(s.run('hold', { ready, output: pipe.writer }, { signal: controller.signal }));
    await within(waitForFlag(ready, 0), 10_000, 'the thread to revive the writer');
    const read = quiet(pipe.reader.read());
    cleanups.push(() => pipe.reader.cancelPendingRead());
    expect((await peek(read)).state).toBe('pending');
    const pipeName = pendingOperations().find((e) => e.operation === 'read' && e.snapshot?.writer.thread === s.threadId)?.pipe;
    expect(pipeName).toBeDefined();
    expect(snapshotOf(pipeName!)).toMatchObject({ reader: { thread: mainThreadId, waitingFor: 'data' }, writer: { thread: s.threadId, state: 'open' } });
  });

  it('SN5 an in-thread Pipe has no shared state: its entries carry no snapshot', async () => {
    const pipe = new Pipe();
    const read = quiet(pipe.reader.read());
    cleanups.push(() => pipe.reader.cancelPendingRead());
    expect((await peek(read)).state).toBe('pending');
    const entry = pendingOperations().find((e) => e.pipe.startsWith('Pipe#'));
    expect(entry).toBeDefined();
    expect(entry).not.toHaveProperty('snapshot');
  });
});
