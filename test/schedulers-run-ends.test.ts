// Ends moved into a run belong to it: when the run settles, every end it neither completed nor
// handed on (moved away: returned, or sent on with handle()) is completed — with the run's error if
// it threw — so the far end never waits for a task that has returned. Moving is all or nothing: an
// end that cannot move fails the call with its coded error before any end has moved.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { SharedPipe, watchWorker, type SharedPipeHandle } from '../dist/src/index.js';
import { seededBytes, sendSeeded } from '../dist/test/fixtures/sched-data.js';
import type { ParseResult } from '../dist/test/fixtures/sched-tasks.js';
import { expectSameBytes, peek, quiet, readAll, rejectedWithin, schedulerKinds, within } from './helpers.js';

const tasks = new URL('../dist/test/fixtures/sched-tasks.js', import.meta.url);
const userWorker = new URL('../dist/test/fixtures/sched-user-worker.js', import.meta.url);

const { kinds, destroyAll } = schedulerKinds(tasks);
const workers: Worker[] = [];

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.terminate()));
  await destroyAll();
});

for (const [kind, factory] of kinds) {
  describe(`RE ${kind}: a run completes what it was given`, () => {
    it(`RE1 ${kind}: a task that returns early completes its reader, so a producer blocked on the full ring learns isCompleted`, async () => {
      const s = factory();
      const pipe = new SharedPipe({ capacity: 4096 });
      const running = quiet(s.run<number>('readOnceAndReturn', { input: pipe.reader }));
      // Three rings' worth: the write waits for room the task will never make by reading.
      const writing = quiet(pipe.writer.write(seededBytes(1, 3 * 4096)));
      expect(await within(running, 10_000)).toBeGreaterThan(0);
      expect(await within(writing, 5_000, 'the producer\'s write')).toMatchObject({ isCompleted: true });
      expect(await within(pipe.writer.write(seededBytes(2, 10)))).toMatchObject({ isCompleted: true });
    });

    it(`RE2 ${kind}: a task that returns early completes its writer: the consumer gets every byte, then isCompleted`, async () => {
      const s = factory();
      const pipe = new SharedPipe({ capacity: 4096 });
      const data = seededBytes(3, 1500);
      expect(await within(s.run('writeAndReturn', { output: pipe.writer, data }), 10_000)).toBe(1500);
      expectSameBytes(await within(readAll(pipe.reader)), data);
    });

    it(`RE3 ${kind}: a task that throws completes its ends with its error: both far ends fail with its name, message and code`, async () => {
      const s = factory();
      const incoming = new SharedPipe({ capacity: 4096 });
      const outgoing = new SharedPipe({ capacity: 4096 });
      const running = quiet(s.run('readThenThrow', { input: incoming.reader, output: outgoing.writer }));
      await within(incoming.writer.write(seededBytes(4, 7)));
      const error = await rejectedWithin(running, 10_000);
      expect(error).toMatchObject({ message: 'bad record after 7 bytes', code: 'E_PARSE' });
      const producer = await rejectedWithin(incoming.writer.write(seededBytes(5, 10)));
      expect(producer).toMatchObject({ name: 'Error', message: 'bad record after 7 bytes', code: 'E_PARSE' });
      const consumer = await rejectedWithin(outgoing.reader.read());
      expect(consumer).toMatchObject({ name: 'Error', message: 'bad record after 7 bytes', code: 'E_PARSE' });
    });

    for (const asHandle of [false, true]) {
      it(`RE4 ${kind}: an end handed back in the result (${asHandle ? 'its handle()' : 'the end itself'}) is not completed: the caller revives it and reads on`, async () => {
        const s = factory();
        const pipe = new SharedPipe({ capacity: 4096 });
        const data = seededBytes(6, 100);
        await within(pipe.writer.write(data));
        const result = await within(s.run<{ input: SharedPipeHandle; seen: number }>('readThenHandBack', { input: pipe.reader, count: 10, asHandle }), 10_000);
        expect(result.seen).toBe(10);
        const reader = SharedPipe.reader(result.input);
        const rest = await within(reader.read());
        expectSameBytes(rest.buffer.toUint8Array(), data.subarray(10));
        expect(rest.isCompleted).toBe(false);
        reader.advanceTo(rest.buffer.end);
        // The writer was never told the reader completed: more bytes go through.
        const more = seededBytes(7, 20);
        expect(await within(pipe.writer.write(more))).toMatchObject({ isCompleted: false });
        pipe.writer.complete();
        expectSameBytes(await within(readAll(reader)), more);
      });
    }

    it(`RE5 ${kind}: an end the task moves away with handle() (parked for a later run) is not completed when its run returns`, async () => {
      const s = factory();
      const pipe = new SharedPipe({ capacity: 4096 });
      const key = `${kind}-parked`;
      expect(await within(s.run('park', { key, input: pipe.reader }), 10_000)).toBe('parked');
      const parsing = quiet(s.run<ParseResult>('unparkAndParse', { key, seed: 8 }));
      const sent = await within(sendSeeded(pipe.writer, 8, 50_000), 10_000, 'send');
      expect(await within(parsing, 10_000)).toMatchObject({ count: 50_000, mismatches: 0, checksum: sent });
    });

    it(`RE6 ${kind}: an end found twice in the arguments moves once and arrives as one end`, async () => {
      const s = factory();
      const pipe = new SharedPipe({ capacity: 1024 });
      expect(await within(s.run('sameEnd', { a: pipe.reader, b: [pipe.reader, { again: pipe.reader }] }), 10_000)).toBe(true);
      // ...and is completed once the run returns, like any end it was given.
      expect(await within(pipe.writer.write(seededBytes(9, 4)))).toMatchObject({ isCompleted: true });
    });
  });

  describe(`RE ${kind}: moving is all or nothing`, () => {
    const unmovable: [string, string, () => Promise<{ end: unknown; stillWorks: () => Promise<void> }>][] = [
      ['a completed reader', 'ERR_PIPE_COMPLETED', async () => {
        const pipe = new SharedPipe({ capacity: 1024 });
        pipe.reader.complete();
        return { end: pipe.reader, stillWorks: async () => expect(await within(pipe.writer.write(seededBytes(1, 4)))).toMatchObject({ isCompleted: true }) };
      }],
      ['a reader moved already', 'ERR_PIPE_END_MOVED', async () => {
        const pipe = new SharedPipe({ capacity: 1024 });
        const revived = SharedPipe.reader(pipe.reader.handle());
        return {
          end: pipe.reader,
          stillWorks: async () => {
            await within(pipe.writer.write(seededBytes(2, 4)));
            expectSameBytes((await within(revived.read())).buffer.toUint8Array(), seededBytes(2, 4));
          },
        };
      }],
      ['a reader with a read pending', 'ERR_PIPE_READ_PENDING', async () => {
        const pipe = new SharedPipe({ capacity: 1024 });
        const read = pipe.reader.read();
        expect((await peek(read)).state).toBe('pending');
        return {
          end: pipe.reader,
          stillWorks: async () => {
            await within(pipe.writer.write(seededBytes(3, 4)));
            expectSameBytes((await within(read)).buffer.toUint8Array(), seededBytes(3, 4));
          },
        };
      }],
      ['a writer with unflushed bytes', 'ERR_PIPE_FLUSH_PENDING', async () => {
        const pipe = new SharedPipe({ capacity: 1024 });
        pipe.writer.getMemory(4).set(seededBytes(4, 4));
        pipe.writer.advance(4);
        return {
          end: pipe.writer,
          stillWorks: async () => {
            await within(pipe.writer.flush());
            expectSameBytes((await within(pipe.reader.read())).buffer.toUint8Array(), seededBytes(4, 4));
          },
        };
      }],
    ];

    for (const [what, code, setUp] of unmovable) {
      it(`RE7 ${kind}: ${what} among the arguments throws ${code} naming it; no end moved, each still works where it was`, async () => {
        const s = factory();
        const good = new SharedPipe({ capacity: 1024 });
        const { end, stillWorks } = await setUp();
        expect(() => s.run('parse', { first: good.reader, deep: { list: [end] }, seed: 1 })).toThrow(expect.objectContaining({ code, argument: 'args.deep.list[0]' }));
        // The good reader was not moved: it reads here.
        expect(good.reader.tryRead()).toBeNull();
        await within(good.writer.write(seededBytes(5, 3)));
        expectSameBytes((await within(good.reader.read())).buffer.toUint8Array(), seededBytes(5, 3));
        await stillWorks();
      });
    }
  });
}

describe('RE watchWorker moves all or nothing', () => {
  it('RE8 an end that cannot move throws its code; the others stay here', async () => {
    const worker = new Worker(userWorker);
    workers.push(worker);
    const good = new SharedPipe({ capacity: 1024 });
    const done = new SharedPipe({ capacity: 1024 });
    done.writer.complete();
    expect(() => watchWorker(worker, good.reader, done.writer)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_COMPLETED', argument: 'ends[1]' }));
    await within(good.writer.write(seededBytes(6, 3)));
    const result = await within(good.reader.read());
    expectSameBytes(result.buffer.toUint8Array(), seededBytes(6, 3));
    good.reader.advanceTo(result.buffer.end);
    // An end given twice moves once; both places get its handle.
    const [a, b] = watchWorker(worker, good.reader, good.reader);
    expect(a).toBe(b);
  });
});
