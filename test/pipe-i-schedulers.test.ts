import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { Pipe, PipeScheduler, type FlushResult, type ReadResult } from '../dist/src/index.js';
import { nextImmediate, peek, settledValue, within, writeEmpty } from './helpers.js';

// Group I: schedulers, continuations and which side runs what (dotnet-pipelines-behaviors.md, section I).
// A released read resumes through readerScheduler, a released flush through writerScheduler.
// I5 (completion callbacks) and I7 (SynchronizationContext) are inapplicable: neither is ported.

/** A scheduler that only queues: nothing it was given runs until drain(). */
interface QueueScheduler extends PipeScheduler {
  count: number;
  readonly queue: Array<() => void>;
  drain(): void;
}

function queueScheduler(): QueueScheduler {
  const scheduler: QueueScheduler = {
    count: 0,
    queue: [],
    schedule<T>(callback: (state: T) => void, state: T): void {
      scheduler.count++;
      scheduler.queue.push(() => callback(state));
    },
    drain(): void {
      while (scheduler.queue.length > 0) scheduler.queue.shift()!();
    },
  };
  return scheduler;
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

async function expectFulfilled<T>(promise: Promise<T>): Promise<T> {
  const peeked = await peek(promise);
  expect(peeked.state).toBe('fulfilled');
  return (peeked as { value: T }).value;
}

async function expectRejected(promise: Promise<unknown>): Promise<unknown> {
  const peeked = await peek(promise);
  expect(peeked.state).toBe('rejected');
  return (peeked as { error: unknown }).error;
}

/** A paused writer (pause 64 / resume 32): 64 bytes flushed, the flush pending. */
async function pausedPipe(options: { readerScheduler?: PipeScheduler; writerScheduler?: PipeScheduler } = {}): Promise<{ pipe: Pipe; flush: Promise<FlushResult> }> {
  const pipe = new Pipe({ pauseWriterThreshold: 64, resumeWriterThreshold: 32, ...options });
  writeEmpty(pipe.writer, 64);
  const flush = pipe.writer.flush();
  await expectPending(flush);
  return { pipe, flush };
}

describe('I: schedulers', () => {
  it('I1 a read released by a flush resumes through the reader scheduler', async () => {
    const readerScheduler = queueScheduler();
    const pipe = new Pipe({ readerScheduler, writerScheduler: PipeScheduler.inline });
    const read = pipe.reader.read();
    await expectPending(read);

    const flush = pipe.writer.write('Hello World');
    await expectFulfilled(flush);
    expect(readerScheduler.count).toBe(1);
    await expectPending(read);
    await nextImmediate();
    await expectPending(read);

    readerScheduler.drain();
    const result = await expectFulfilled(read);
    expect(result.buffer.toString()).toBe('Hello World');
    expect(readerScheduler.count).toBe(1);
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('I1b completing the writer resumes the read through the reader scheduler only', async () => {
    const readerScheduler = queueScheduler();
    const writerScheduler = queueScheduler();
    const pipe = new Pipe({ readerScheduler, writerScheduler });
    const read = pipe.reader.read();
    pipe.writer.complete();
    expect(readerScheduler.count).toBe(1);
    expect(writerScheduler.count).toBe(0);
    await expectPending(read);
    readerScheduler.drain();
    const result = await expectFulfilled(read);
    expect(result.isCompleted).toBe(true);
  });

  it('I1c cancelPendingRead resumes the read through the reader scheduler only', async () => {
    const readerScheduler = queueScheduler();
    const writerScheduler = queueScheduler();
    const pipe = new Pipe({ readerScheduler, writerScheduler });
    const read = pipe.reader.read();
    pipe.reader.cancelPendingRead();
    expect(readerScheduler.count).toBe(1);
    expect(writerScheduler.count).toBe(0);
    await expectPending(read);
    readerScheduler.drain();
    const result = await expectFulfilled(read);
    expect(result.isCanceled).toBe(true);
    pipe.reader.advanceTo(result.buffer.start);
  });

  it('I1d aborting a read signal resumes it through the reader scheduler only', async () => {
    const readerScheduler = queueScheduler();
    const writerScheduler = queueScheduler();
    const pipe = new Pipe({ readerScheduler, writerScheduler });
    const controller = new AbortController();
    const read = pipe.reader.read({ signal: controller.signal });
    read.catch(() => {});
    controller.abort();
    expect(readerScheduler.count).toBe(1);
    expect(writerScheduler.count).toBe(0);
    await expectPending(read);
    readerScheduler.drain();
    const error = await expectRejected(read);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });

  it('I1e a flush that does not release a read schedules nothing', async () => {
    const readerScheduler = queueScheduler();
    const writerScheduler = queueScheduler();
    const pipe = new Pipe({ readerScheduler, writerScheduler });
    await expectFulfilled(pipe.writer.write('abc'));
    expect(readerScheduler.count).toBe(0);
    expect(writerScheduler.count).toBe(0);
    const result = await expectFulfilled(pipe.reader.read());
    expect(result.buffer.toString()).toBe('abc');
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('I2 a flush released by advanceTo resumes through the writer scheduler', async () => {
    const writerScheduler = queueScheduler();
    const { pipe, flush } = await pausedPipe({ readerScheduler: PipeScheduler.inline, writerScheduler });
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    expect(writerScheduler.count).toBe(1);
    await expectPending(flush);
    await nextImmediate();
    await expectPending(flush);

    writerScheduler.drain();
    expect(await expectFulfilled(flush)).toMatchObject({ isCanceled: false, isCompleted: false });
  });

  it('I2b completing the reader resumes the flush through the writer scheduler only', async () => {
    const readerScheduler = queueScheduler();
    const writerScheduler = queueScheduler();
    const { pipe, flush } = await pausedPipe({ readerScheduler, writerScheduler });
    pipe.reader.complete();
    expect(writerScheduler.count).toBe(1);
    expect(readerScheduler.count).toBe(0);
    await expectPending(flush);
    writerScheduler.drain();
    expect(await expectFulfilled(flush)).toMatchObject({ isCompleted: true });
  });

  it('I2c cancelPendingFlush resumes the flush through the writer scheduler only', async () => {
    const readerScheduler = queueScheduler();
    const writerScheduler = queueScheduler();
    const { pipe, flush } = await pausedPipe({ readerScheduler, writerScheduler });
    pipe.writer.cancelPendingFlush();
    expect(writerScheduler.count).toBe(1);
    expect(readerScheduler.count).toBe(0);
    await expectPending(flush);
    writerScheduler.drain();
    expect(await expectFulfilled(flush)).toMatchObject({ isCanceled: true, isCompleted: false });
  });

  it('I2d aborting a flush signal resumes it through the writer scheduler only', async () => {
    const readerScheduler = queueScheduler();
    const writerScheduler = queueScheduler();
    const pipe = new Pipe({ pauseWriterThreshold: 64, resumeWriterThreshold: 32, readerScheduler, writerScheduler });
    const controller = new AbortController();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush({ signal: controller.signal });
    flush.catch(() => {});
    await expectPending(flush);
    controller.abort();
    expect(writerScheduler.count).toBe(1);
    expect(readerScheduler.count).toBe(0);
    await expectPending(flush);
    writerScheduler.drain();
    expect(await expectRejected(flush)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  });

  it('I2e a readAtLeast that must wait releases the paused writer through the writer scheduler', async () => {
    const readerScheduler = queueScheduler();
    const writerScheduler = queueScheduler();
    const { pipe, flush } = await pausedPipe({ readerScheduler, writerScheduler });
    const read = pipe.reader.readAtLeast(128);
    expect(writerScheduler.count).toBe(1);
    expect(readerScheduler.count).toBe(0);
    await expectPending(flush);
    await expectPending(read);
    writerScheduler.drain();
    expect(await expectFulfilled(flush)).toMatchObject({ isCanceled: false, isCompleted: false });

    writeEmpty(pipe.writer, 64);
    await expectFulfilled(pipe.writer.flush());
    expect(readerScheduler.count).toBe(1);
    await expectPending(read);
    readerScheduler.drain();
    const result = await expectFulfilled(read);
    expect(result.buffer.length).toBe(128);
  });

  it('I3a immediate: a read released by a flush resumes only in a later setImmediate', async () => {
    const pipe = new Pipe({ readerScheduler: PipeScheduler.immediate, writerScheduler: PipeScheduler.immediate });
    let resumed = false;
    const read = pipe.reader.read().then((result) => {
      resumed = true;
      return result;
    });
    await expectPending(read);
    await expectFulfilled(pipe.writer.write('Hello World'));
    expect(resumed).toBe(false);
    await expectPending(read);
    await nextImmediate();
    const result = await expectFulfilled(read);
    expect(resumed).toBe(true);
    expect(result.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('I3b immediate: a flush released by advanceTo resumes only in a later setImmediate', async () => {
    const { pipe, flush } = await pausedPipe({ readerScheduler: PipeScheduler.immediate, writerScheduler: PipeScheduler.immediate });
    let resumed = false;
    const observed = flush.then((result) => {
      resumed = true;
      return result;
    });
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    expect(resumed).toBe(false);
    await expectPending(observed);
    await nextImmediate();
    expect(await expectFulfilled(observed)).toMatchObject({ isCanceled: false, isCompleted: false });
    expect(resumed).toBe(true);
  });

  it('I3c immediate: cancellations and completions also resume in a later setImmediate', async () => {
    const pipe = new Pipe({ readerScheduler: PipeScheduler.immediate, writerScheduler: PipeScheduler.immediate });
    const canceled = pipe.reader.read();
    pipe.reader.cancelPendingRead();
    await expectPending(canceled);
    await nextImmediate();
    const result = await expectFulfilled(canceled);
    expect(result.isCanceled).toBe(true);
    pipe.reader.advanceTo(result.buffer.start);

    const completed = pipe.reader.read();
    pipe.writer.complete();
    await expectPending(completed);
    await nextImmediate();
    expect((await expectFulfilled(completed)).isCompleted).toBe(true);
  });

  it('I4a inline: flush resolves the pending read before it returns', async () => {
    const pipe = new Pipe();
    const read = pipe.reader.read();
    await expectPending(read);
    await pipe.writer.write('x');
    const result = await expectFulfilled(read);
    expect(result.buffer.toString()).toBe('x');
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('I4b inline: advanceTo resolves the pending flush before it returns', async () => {
    const { pipe, flush } = await pausedPipe();
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    expect(await expectFulfilled(flush)).toMatchObject({ isCanceled: false, isCompleted: false });
  });

  it('I4c inline: cancelPendingRead resolves the pending read before it returns', async () => {
    const pipe = new Pipe();
    const read = pipe.reader.read();
    await expectPending(read);
    pipe.reader.cancelPendingRead();
    expect((await expectFulfilled(read)).isCanceled).toBe(true);
  });

  it('I4d inline: cancelPendingFlush resolves the pending flush before it returns', async () => {
    const { pipe, flush } = await pausedPipe();
    pipe.writer.cancelPendingFlush();
    expect(await expectFulfilled(flush)).toMatchObject({ isCanceled: true });
  });

  it('I4e inline: abort() rejects the pending read and flush before it returns', async () => {
    const pipe = new Pipe({ pauseWriterThreshold: 64, resumeWriterThreshold: 32 });
    const readController = new AbortController();
    const read = pipe.reader.read({ signal: readController.signal });
    read.catch(() => {});
    await expectPending(read);
    readController.abort();
    expect(await expectRejected(read)).toMatchObject({ name: 'AbortError' });

    const flushController = new AbortController();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush({ signal: flushController.signal });
    flush.catch(() => {});
    await expectPending(flush);
    flushController.abort();
    expect(await expectRejected(flush)).toMatchObject({ name: 'AbortError' });
  });

  it('I4f inline: completing one end resolves the other end\'s pending operation before it returns', async () => {
    const readSide = new Pipe();
    const read = readSide.reader.read();
    await expectPending(read);
    readSide.writer.complete();
    expect((await expectFulfilled(read)).isCompleted).toBe(true);

    const { pipe, flush } = await pausedPipe();
    pipe.reader.complete();
    expect((await expectFulfilled(flush)).isCompleted).toBe(true);
  });

  describe.each([
    ['inline', PipeScheduler.inline],
    ['immediate', PipeScheduler.immediate],
  ] as const)('with the %s scheduler', (name, scheduler) => {
    it(`I6a ${name}: the context where read() was called flows into its continuation`, async () => {
      const storage = new AsyncLocalStorage<number>();
      const pipe = new Pipe({ readerScheduler: scheduler, writerScheduler: scheduler });
      const seen = storage.run(10, async () => {
        const result: ReadResult = await pipe.reader.read();
        pipe.reader.advanceTo(result.buffer.end);
        return storage.getStore();
      });
      await expectPending(seen);
      await storage.run(20, () => pipe.writer.write('Hello'));
      expect(await within(seen)).toBe(10);
    });

    it(`I6b ${name}: the context where flush() was called flows into its continuation`, async () => {
      const storage = new AsyncLocalStorage<number>();
      const pipe = new Pipe({ pauseWriterThreshold: 20, resumeWriterThreshold: 10, readerScheduler: scheduler, writerScheduler: scheduler });
      const seen = storage.run(10, async () => {
        writeEmpty(pipe.writer, 20);
        await pipe.writer.flush();
        return storage.getStore();
      });
      await expectPending(seen);
      await storage.run(20, async () => {
        const result = await pipe.reader.read();
        pipe.reader.advanceTo(result.buffer.end);
      });
      expect(await within(seen)).toBe(10);
    });
  });

  it('I6c a custom scheduler drained in a third context still resumes in the caller\'s context', async () => {
    const storage = new AsyncLocalStorage<number>();
    const readerScheduler = queueScheduler();
    const pipe = new Pipe({ readerScheduler });
    const seen = storage.run(10, async () => {
      const result = await pipe.reader.read();
      pipe.reader.advanceTo(result.buffer.end);
      return storage.getStore();
    });
    await storage.run(20, () => pipe.writer.write('Hello'));
    storage.run(30, () => readerScheduler.drain());
    expect(await within(seen)).toBe(10);
  });
});
