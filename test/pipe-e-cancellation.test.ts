import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { AbortError, Pipe, SequencePosition, type FlushResult, type ReadResult } from '../dist/src/index.js';
import { ascii, bytes, peek, settledValue, within, writeEmpty } from './helpers.js';

// Group E: cancellation (dotnet-pipelines-behaviors.md, section E). cancelPendingRead/Flush are
// sticky one-shot flags that resolve with isCanceled; an AbortSignal rejects with an AbortError.
// "The continuation ran inline" is checked as "the promise is settled right after the call".

/** F_PT: pause 65 / resume 6, inline schedulers. */
function ptPipe(): Pipe {
  return new Pipe({ pauseWriterThreshold: 65, resumeWriterThreshold: 6 });
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

/** Asserts the promise is already rejected with an AbortError and returns the error. */
async function expectAborted(promise: Promise<unknown>): Promise<unknown> {
  const peeked = await peek(promise);
  expect(peeked.state).toBe('rejected');
  const error = (peeked as { error: unknown }).error;
  expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  return error;
}

function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

function writeUnflushed(pipe: Pipe, data: Uint8Array): void {
  const memory = pipe.writer.getMemory(data.length);
  memory.set(data);
  pipe.writer.advance(data.length);
}

describe('E: cancellation', () => {
  it('E1 a cancel before the read is sticky and one-shot', async () => {
    const pipe = ptPipe();
    pipe.reader.cancelPendingRead();
    const read = pipe.reader.read();
    expect((await peek(read)).state).toBe('fulfilled');
    const result = await read;
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.length).toBe(0);
    pipe.reader.advanceTo(result.buffer.end);
    await expectPending(pipe.reader.read());
  });

  it('E2 a cancel while holding data, before advancing, cancels the next read', async () => {
    const pipe = ptPipe();
    await pipe.writer.write(ascii('Hello World'));
    const first = await settledValue(pipe.reader.read());
    expect(first.buffer.length).toBe(11);
    expect(first.isCanceled).toBe(false);
    pipe.reader.cancelPendingRead();
    pipe.reader.advanceTo(first.buffer.end);
    const next = pipe.reader.read();
    expect((await peek(next)).state).toBe('fulfilled');
    const result = await next;
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.length).toBe(0);
  });

  it('E3 cancelPendingRead resolves a pending read as canceled; the data comes on the next read', async () => {
    const pipe = ptPipe();
    writeUnflushed(pipe, ascii('Hello World'));
    const pending = pipe.reader.read();
    await expectPending(pending);
    pipe.reader.cancelPendingRead();
    expect((await peek(pending)).state).toBe('fulfilled');
    const canceled = await pending;
    expect(canceled.isCanceled).toBe(true);
    expect(canceled.isCompleted).toBe(false);
    expect(canceled.buffer.length).toBe(0);

    await pipe.writer.flush();
    const result = await settledValue(pipe.reader.read());
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('E4 a canceled read still carries the flushed data', async () => {
    const pipe = ptPipe();
    await pipe.writer.write(ascii('Hello World'));
    pipe.reader.cancelPendingRead();
    const result = await settledValue(pipe.reader.read());
    expect(result.isCanceled).toBe(true);
    expect(result.buffer.length).toBe(11);
    expect(result.buffer.toString()).toBe('Hello World');
  });

  it('E5a no advanceTo is required after a canceled read', async () => {
    const pipe = ptPipe();
    pipe.reader.cancelPendingRead();
    await pipe.writer.write(bytes(1, 2, 3));
    const canceled = await settledValue(pipe.reader.read());
    expect(canceled.isCanceled).toBe(true);
    const next = pipe.reader.read();
    expect((await peek(next)).state).toBe('fulfilled');
    const result = await next;
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('E5b a read after a canceled pending read returns the data written later (corefx#31696)', async () => {
    const pipe = new Pipe();
    const first = pipe.reader.read();
    pipe.reader.cancelPendingRead();
    const canceled = await within(first);
    expect(canceled.isCanceled).toBe(true);
    const second = pipe.reader.read();
    await expectPending(second);
    await pipe.writer.write(bytes(1, 2, 3));
    const result = await within(second);
    expect(result.isCanceled).toBe(false);
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  });

  it('E6 a canceled read is resolved inside cancelPendingRead, and a read from its continuation pends', async () => {
    const pipe = ptPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    const continuation = read.then((result) => ({ result, next: pipe.reader.read() }));
    pipe.reader.cancelPendingRead();
    expect((await peek(read)).state).toBe('fulfilled');
    const { result, next } = await within(continuation);
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
    await expectPending(next);
  });

  it('E7 an empty write does not wake the reader, but cancelPendingRead does', async () => {
    const pipe = ptPipe();
    const read = pipe.reader.read();
    await pipe.writer.write(new Uint8Array(0));
    await expectPending(read);
    pipe.reader.cancelPendingRead();
    const result = await settledValue(read);
    expect(result.isCanceled).toBe(true);
    expect(result.buffer.length).toBe(0);
  });

  it('E8 writing inside the canceled read continuation: the result is canceled, the next read gets the bytes', async () => {
    const pipe = ptPipe();
    const read = pipe.reader.read();
    const continuation = read.then(async (result) => {
      await pipe.writer.write(bytes(1));
      return result;
    });
    pipe.reader.cancelPendingRead();
    const canceled = await within(continuation);
    expect(canceled.isCanceled).toBe(true);
    const result = await within(pipe.reader.read());
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1));
  });

  it('E9 cancellations do not accumulate', async () => {
    const pipe = new Pipe();
    await pipe.writer.write(new Uint8Array(10_000));
    for (let i = 0; i < 3; i++) {
      pipe.reader.cancelPendingRead();
      const canceled = await settledValue(pipe.reader.read());
      expect(canceled.isCanceled).toBe(true);
      expect(canceled.buffer.length).toBe(10_000);
      const result = await settledValue(pipe.reader.read());
      expect(result.isCanceled).toBe(false);
      expect(result.buffer.length).toBe(10_000);
      pipe.reader.advanceTo(result.buffer.start);
    }
  });

  it('E10a a pre-aborted signal on read returns a rejected promise and changes no read state', async () => {
    const pipe = ptPipe();
    const controller = new AbortController();
    controller.abort();
    let read!: Promise<ReadResult>;
    expect(() => { read = pipe.reader.read({ signal: controller.signal }); }).not.toThrow();
    await expectAborted(read);
    await expect(read).rejects.toBeInstanceOf(AbortError);
    // No read is outstanding: a plain read works and there is nothing to advance.
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }));
    const next = pipe.reader.read();
    await expectPending(next);
    await pipe.writer.write(bytes(7));
    expect((await settledValue(next)).buffer.toUint8Array()).toEqual(bytes(7));
  });

  it('E10b a pre-aborted signal with data ready still rejects, and a later read gets the data', async () => {
    const pipe = ptPipe();
    await pipe.writer.write(bytes(1, 2));
    const controller = new AbortController();
    controller.abort();
    await expectAborted(pipe.reader.read({ signal: controller.signal }));
    const result = await settledValue(pipe.reader.read());
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2));
  });

  it('E10c readAtLeast(0) with a pre-aborted signal returns a rejected promise', async () => {
    const pipe = ptPipe();
    const controller = new AbortController();
    controller.abort();
    let read!: Promise<ReadResult>;
    expect(() => { read = pipe.reader.readAtLeast(0, { signal: controller.signal }); }).not.toThrow();
    await expectAborted(read);
    await expectPending(pipe.reader.read());
  });

  it('E11a aborting a pending read rejects it inside abort(); a read from the continuation pends', async () => {
    const pipe = ptPipe();
    const controller = new AbortController();
    const read = pipe.reader.read({ signal: controller.signal });
    await expectPending(read);
    const continuation = read.then(
      () => { throw new Error('expected the read to reject'); },
      (error: unknown) => ({ error, next: pipe.reader.read() }),
    );
    controller.abort();
    await expectAborted(read);
    const { error, next } = await within(continuation);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expectPending(next);
  });

  it('E11b the continuation attached after the abort sees the same outcome', async () => {
    const pipe = ptPipe();
    const controller = new AbortController();
    const read = pipe.reader.read({ signal: controller.signal });
    await expectPending(read);
    controller.abort();
    await expectAborted(read);
    const { error, next } = await within(read.then(
      () => { throw new Error('expected the read to reject'); },
      (e: unknown) => ({ error: e, next: pipe.reader.read() }),
    ));
    expect(error).toMatchObject({ name: 'AbortError' });
    await expectPending(next);
  });

  it('E12 abort then cancelPendingRead: the signal wins, and the cancel stays for the next read', async () => {
    const pipe = ptPipe();
    const controller = new AbortController();
    const read = pipe.reader.read({ signal: controller.signal });
    await expectPending(read);
    controller.abort();
    pipe.reader.cancelPendingRead();
    await expectAborted(read);
    // No read was pending when cancelPendingRead ran: it is sticky for the next one (E1).
    const next = await settledValue(pipe.reader.read());
    expect(next.isCanceled).toBe(true);
  });

  it('E13 the pipe works again after a signal cancellation', async () => {
    const pipe = ptPipe();
    const controller = new AbortController();
    const read = pipe.reader.read({ signal: controller.signal });
    controller.abort();
    await expectAborted(read);
    const next = pipe.reader.read();
    await pipe.writer.write(bytes(1, 2, 3));
    const result = await within(next);
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  });

  it('E14a an aborted signal of a finished read does not affect a read with a new signal', async () => {
    const pipe = ptPipe();
    await pipe.writer.write(bytes(1));
    const s1 = new AbortController();
    const first = await settledValue(pipe.reader.read({ signal: s1.signal }));
    pipe.reader.advanceTo(first.buffer.start);
    s1.abort();
    const s2 = new AbortController();
    const second = await settledValue(pipe.reader.read({ signal: s2.signal }));
    expect(second.isCanceled).toBe(false);
    expect(second.buffer.toUint8Array()).toEqual(bytes(1));
  });

  it('E14b aborting the signal of a finished read leaves tryRead empty and not canceled', async () => {
    const pipe = ptPipe();
    await pipe.writer.write(bytes(1));
    const s = new AbortController();
    const result = await settledValue(pipe.reader.read({ signal: s.signal }));
    pipe.reader.advanceTo(result.buffer.end);
    s.abort();
    expect(pipe.reader.tryRead()).toBeNull();
  });

  it('E14c the same with new data: tryRead returns it, not canceled', async () => {
    const pipe = ptPipe();
    await pipe.writer.write(bytes(1));
    const s = new AbortController();
    const result = await settledValue(pipe.reader.read({ signal: s.signal }));
    pipe.reader.advanceTo(result.buffer.end);
    s.abort();
    await pipe.writer.write(bytes(2));
    const next = pipe.reader.tryRead();
    expect(next).not.toBeNull();
    expect(next!.isCanceled).toBe(false);
    expect(next!.buffer.toUint8Array()).toEqual(bytes(2));
  });

  it('E14d aborting a finished read\'s signal before advanceTo does not cancel the next read', async () => {
    const pipe = ptPipe();
    await pipe.writer.write(bytes(1));
    const s = new AbortController();
    const result = await settledValue(pipe.reader.read({ signal: s.signal }));
    s.abort();
    pipe.reader.advanceTo(result.buffer.end);
    const s2 = new AbortController();
    const next = pipe.reader.read({ signal: s2.signal });
    await expectPending(next);
    await pipe.writer.write(bytes(2));
    const later = await settledValue(next);
    expect(later.isCanceled).toBe(false);
    expect(later.buffer.toUint8Array()).toEqual(bytes(2));
  });

  it('E14e abort listeners are removed when a read or flush ends', async () => {
    const pipe = ptPipe();
    const s = new AbortController();
    // A pending read registers a listener; data releases it and the listener goes away.
    const read = pipe.reader.read({ signal: s.signal });
    expect(abortListeners(s.signal)).toBe(1);
    await pipe.writer.write(bytes(1));
    const result = await settledValue(read);
    expect(abortListeners(s.signal)).toBe(0);
    pipe.reader.advanceTo(result.buffer.end);
    // A read canceled by cancelPendingRead removes it too.
    const read2 = pipe.reader.read({ signal: s.signal });
    expect(abortListeners(s.signal)).toBe(1);
    pipe.reader.cancelPendingRead();
    expect((await settledValue(read2)).isCanceled).toBe(true);
    expect(abortListeners(s.signal)).toBe(0);
    // A paused flush released by the reader removes its listener.
    const f = new AbortController();
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush({ signal: f.signal });
    await expectPending(flush);
    expect(abortListeners(f.signal)).toBe(1);
    const all = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(all.buffer.end);
    await settledValue(flush);
    expect(abortListeners(f.signal)).toBe(0);
  });

  it('E15 cancelPendingFlush resolves a paused flush as canceled without throwing', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    pipe.writer.cancelPendingFlush();
    expect((await peek(flush)).state).toBe('fulfilled');
    const result = await flush;
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
  });

  it('E16 a cancel before a flush that would pause: sync-completed as canceled, data committed', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    pipe.writer.cancelPendingFlush();
    const flush = pipe.writer.flush();
    expect((await peek(flush)).state).toBe('fulfilled');
    expect((await flush).isCanceled).toBe(true);
    expect(pipe.writer.unflushedBytes).toBe(0);
    expect(pipe.length).toBe(65);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(65);
  });

  it('E17 the flush cancel flag is one-shot', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 1);
    pipe.writer.cancelPendingFlush();
    const first = pipe.writer.flush();
    expect((await peek(first)).state).toBe('fulfilled');
    expect((await first).isCanceled).toBe(true);
    const second = pipe.writer.flush();
    expect((await peek(second)).state).toBe('fulfilled');
    expect((await second).isCanceled).toBe(false);
  });

  it('E18 after a canceled flush the writer is still paused: a flush from the continuation pends', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    const continuation = flush.then((result) => ({ result, next: pipe.writer.flush() }));
    pipe.writer.cancelPendingFlush();
    expect((await peek(flush)).state).toBe('fulfilled');
    const { result, next } = await within(continuation);
    expect(result.isCanceled).toBe(true);
    await expectPending(next);
    expect(pipe.length).toBe(65);
  });

  it('E19a cancelPendingFlush then the reader releases the writer: the flush is canceled', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    pipe.writer.cancelPendingFlush();
    const read = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(read.buffer.end);
    const result = await settledValue(flush);
    expect(result.isCanceled).toBe(true);
    // The flag was consumed by that flush.
    writeEmpty(pipe.writer, 1);
    expect((await settledValue(pipe.writer.flush())).isCanceled).toBe(false);
  });

  it('E19b (port) the reader releases the writer, then cancelPendingFlush: the flush already resolved, the cancel applies to the next flush', async () => {
    // .NET computes the result in GetResult, after the cancel, and reports isCanceled; a promise is
    // settled when the reader releases it, so here the cancel is kept for the next flush instead.
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    const read = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(read.buffer.end);
    pipe.writer.cancelPendingFlush();
    expect((await settledValue(flush)).isCanceled).toBe(false);
    const next = await settledValue(pipe.writer.flush());
    expect(next.isCanceled).toBe(true);
  });

  it('E20a a pre-aborted signal on flush rejects without committing the advanced bytes', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 5);
    const controller = new AbortController();
    controller.abort();
    let flush!: Promise<FlushResult>;
    expect(() => { flush = pipe.writer.flush({ signal: controller.signal }); }).not.toThrow();
    await expectAborted(flush);
    expect(pipe.writer.unflushedBytes).toBe(5);
    expect(pipe.length).toBe(0);
    expect(pipe.reader.tryRead()).toBeNull();
    // A later flush commits them.
    expect((await settledValue(pipe.writer.flush())).isCanceled).toBe(false);
    expect((await settledValue(pipe.reader.read())).buffer.length).toBe(5);
  });

  it('E20b after a pre-aborted flush, completing the writer completes a pending read', async () => {
    const pipe = ptPipe();
    const read = pipe.reader.read();
    const controller = new AbortController();
    controller.abort();
    await expectAborted(pipe.writer.flush({ signal: controller.signal }));
    await expectPending(read);
    pipe.writer.complete();
    const result = await settledValue(read);
    expect(result.isCompleted).toBe(true);
  });

  it('E21a aborting a paused flush rejects it inside abort(); a flush from the continuation pends', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const controller = new AbortController();
    const flush = pipe.writer.flush({ signal: controller.signal });
    await expectPending(flush);
    const continuation = flush.then(
      () => { throw new Error('expected the flush to reject'); },
      (error: unknown) => ({ error, next: pipe.writer.flush() }),
    );
    controller.abort();
    await expectAborted(flush);
    const { error, next } = await within(continuation);
    expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    await expectPending(next);
  });

  it('E21b the continuation attached after the abort sees the same outcome', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const controller = new AbortController();
    const flush = pipe.writer.flush({ signal: controller.signal });
    await expectPending(flush);
    controller.abort();
    await expectAborted(flush);
    const { next } = await within(flush.then(
      () => { throw new Error('expected the flush to reject'); },
      (error: unknown) => ({ error, next: pipe.writer.flush() }),
    ));
    await expectPending(next);
  });

  it('E21c abort then cancelPendingFlush: the signal wins, and the cancel stays for the next flush', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const controller = new AbortController();
    const flush = pipe.writer.flush({ signal: controller.signal });
    await expectPending(flush);
    controller.abort();
    pipe.writer.cancelPendingFlush();
    await expectAborted(flush);
    const next = await settledValue(pipe.writer.flush());
    expect(next.isCanceled).toBe(true);
  });

  it('E22a data survives a flush abort: the reader gets it and releases the writer\'s next flush', async () => {
    const pipe = ptPipe();
    const controller = new AbortController();
    // The second flush travels in an object: resolving with a promise would adopt its state.
    let reachedSecond!: (started: { flush: Promise<FlushResult> }) => void;
    const secondStarted = new Promise<{ flush: Promise<FlushResult> }>((resolve) => { reachedSecond = resolve; });
    const writer = (async () => {
      writeEmpty(pipe.writer, 65);
      let caught: unknown;
      try {
        await pipe.writer.flush({ signal: controller.signal });
      } catch (error) {
        caught = error;
      }
      const second = pipe.writer.flush();
      reachedSecond({ flush: second });
      return { caught, second: await second };
    })();

    controller.abort();
    const { flush: second } = await within(secondStarted);
    await expectPending(second);
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(65);
    expect(result.buffer.toUint8Array().every((b) => b === 0)).toBe(true);
    pipe.reader.advanceTo(result.buffer.end);
    const outcome = await within(writer);
    expect(outcome.caught).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(outcome.second.isCanceled).toBe(false);
    expect(outcome.second.isCompleted).toBe(false);
  });

  it('E22b a flush with a new signal is not affected by an earlier aborted one', async () => {
    const pipe = ptPipe();
    const s1 = new AbortController();
    writeEmpty(pipe.writer, 1);
    await settledValue(pipe.writer.flush({ signal: s1.signal }));
    s1.abort();
    const s2 = new AbortController();
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush({ signal: s2.signal });
    await expectPending(flush);
    const result = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    const done = await settledValue(flush);
    expect(done.isCanceled).toBe(false);
  });

  it('E23 completing the writer with an abort error from an abort listener rejects the pending read with it', async () => {
    const pipe = ptPipe();
    const controller = new AbortController();
    const error = new AbortError('canceled by the test');
    controller.signal.addEventListener('abort', () => pipe.writer.complete(error), { once: true });
    const read = pipe.reader.read();
    await expectPending(read);
    controller.abort();
    const peeked = await peek(read);
    expect(peeked.state).toBe('rejected');
    expect((peeked as { error: unknown }).error).toBe(error);
    await expect(pipe.reader.read()).rejects.toBe(error);
  });
});
