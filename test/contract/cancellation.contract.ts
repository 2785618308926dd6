import { getEventListeners } from 'node:events';
import { expect } from 'vitest';
import { AbortError, SequencePosition, type FlushResult, type ReadResult } from '../../dist/src/index.js';
import { ascii, bytes, expectSameBytes, peek, quiet } from '../helpers.js';
import { contractCase, expectLength, expectPending, expectSameError, kBoundMs, pattern, put, readBytes, ready, rejectionOf, released, within, writeEmpty, type ContractCase, type ContractPipe } from './harness.js';
import { F_PT, F_RW } from './implementations.js';

// Group E: cancellation (dotnet-pipelines-behaviors.md, section E), and the ring parity rule that
// a canceled or aborted flush cancels the wait, not the data (S6, S8). cancelPendingRead/Flush are
// sticky one-shot flags that resolve with isCanceled; an AbortSignal rejects with an AbortError.
// "The continuation ran inline" is checked as "the promise is settled right after the call" where
// the schedulers are inline, and as "it settles" elsewhere.

/**
 * Asserts the promise rejects with an AbortError and returns the error: already rejected when `now`
 * (a pre-aborted signal on an end of this thread, or an abort with inline schedulers).
 */
async function expectAborted(promise: Promise<unknown>, now: boolean): Promise<unknown> {
  let error: unknown;
  if (now) {
    const peeked = await peek(promise);
    expect(peeked.state).toBe('rejected');
    error = (peeked as { error: unknown }).error;
  } else {
    error = await rejectionOf(promise, 'the aborted operation');
  }
  expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  return error;
}

function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort();
  return controller.signal;
}

/**
 * Aborts a pending operation: it rejects with an AbortError (inside abort() where the schedulers are
 * inline), and the same operation started again from its rejection handler, attached before or after
 * the abort, pends.
 */
async function abortPending(pipe: ContractPipe, start: (signal: AbortSignal) => Promise<unknown>, again: () => Promise<unknown>, attach: 'before' | 'after'): Promise<void> {
  const controller = new AbortController();
  const pending = start(controller.signal);
  await expectPending(pipe, pending);
  const handlers = [
    () => {
      throw new Error('expected the operation to reject');
    },
    (error: unknown) => ({ error, next: again() }),
  ] as const;
  const before = attach === 'before' ? pending.then(...handlers) : undefined;
  controller.abort();
  await expectAborted(pending, pipe.caps.inlineResume);
  const { error, next } = await within(before ?? pending.then(...handlers));
  expect(error).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  await expectPending(pipe, next);
}

/**
 * Aborts a pending operation, then cancels the end's pending operation: the signal wins (an
 * AbortError), and since nothing was pending when the cancel came, it is kept for the next one.
 */
async function abortThenCancel(
  pipe: ContractPipe,
  side: 'reader' | 'writer',
  start: (signal: AbortSignal) => Promise<unknown>,
  cancel: () => void,
  next: () => Promise<{ isCanceled: boolean }>,
): Promise<void> {
  const controller = new AbortController();
  const pending = start(controller.signal);
  await expectPending(pipe, pending);
  controller.abort();
  cancel();
  await expectAborted(pending, pipe.caps.inlineResume);
  expect((await ready(pipe, side, next())).isCanceled).toBe(true);
}

export const cancellationCases: readonly ContractCase[] = [
  contractCase('E1', 'a cancel before the read is sticky and one-shot', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    pipe.reader.cancelPendingRead();
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.length).toBe(0);
    pipe.reader.advanceTo(result.buffer.end);
    await expectPending(pipe, pipe.reader.read());
  }),

  contractCase('E2', 'a cancel while holding data, before advancing, cancels the next read', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await within(pipe.writer.write(ascii('Hello World')));
    const first = await ready(pipe, 'reader', pipe.reader.read());
    expect(first.buffer.length).toBe(11);
    expect(first.isCanceled).toBe(false);
    pipe.reader.cancelPendingRead();
    pipe.reader.advanceTo(first.buffer.end);
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.length).toBe(0);
  }),

  contractCase('E3', 'cancelPendingRead resolves a pending read as canceled; the data comes on the next read', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    put(pipe.writer, ascii('Hello World'));
    const pending = pipe.reader.read();
    await expectPending(pipe, pending);
    pipe.reader.cancelPendingRead();
    const canceled = await released(pipe, pending);
    expect(canceled.isCanceled).toBe(true);
    expect(canceled.isCompleted).toBe(false);
    expect(canceled.buffer.length).toBe(0);

    await within(pipe.writer.flush());
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(result.buffer.end);
  }),

  contractCase('E4', 'a canceled read still carries the flushed data', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await within(pipe.writer.write(ascii('Hello World')));
    pipe.reader.cancelPendingRead();
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCanceled).toBe(true);
    expect(result.buffer.length).toBe(11);
    expect(result.buffer.toString()).toBe('Hello World');
  }),

  contractCase('E5a', 'no advanceTo is required after a canceled read', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    pipe.reader.cancelPendingRead();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const canceled = await ready(pipe, 'reader', pipe.reader.read());
    expect(canceled.isCanceled).toBe(true);
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
    pipe.reader.advanceTo(result.buffer.end);
  }),

  contractCase('E5b', 'a read after a canceled pending read returns the data written later (corefx#31696)', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const first = pipe.reader.read();
    pipe.reader.cancelPendingRead();
    const canceled = await within(first);
    expect(canceled.isCanceled).toBe(true);
    const second = pipe.reader.read();
    await expectPending(pipe, second);
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = await within(second);
    expect(result.isCanceled).toBe(false);
    expect(result.isCompleted).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  }),

  contractCase('E6', 'a canceled read is resolved inside cancelPendingRead, and a read from its continuation pends', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    const read = pipe.reader.read();
    await expectPending(pipe, read);
    const continuation = read.then((result) => ({ result, next: pipe.reader.read() }));
    pipe.reader.cancelPendingRead();
    await released(pipe, read);
    const { result, next } = await within(continuation);
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
    await expectPending(pipe, next);
  }),

  contractCase('E7', 'an empty write does not wake the reader, but cancelPendingRead does', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    const read = pipe.reader.read();
    await within(pipe.writer.write(new Uint8Array(0)));
    await expectPending(pipe, read);
    pipe.reader.cancelPendingRead();
    const result = await released(pipe, read);
    expect(result.isCanceled).toBe(true);
    expect(result.buffer.length).toBe(0);
  }),

  contractCase('E8', 'writing inside the canceled read continuation: the result is canceled, the next read gets the bytes', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
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
  }),

  contractCase('E9', 'cancellations do not accumulate', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(new Uint8Array(10_000)));
    for (let i = 0; i < 3; i++) {
      pipe.reader.cancelPendingRead();
      const canceled = await ready(pipe, 'reader', pipe.reader.read());
      expect(canceled.isCanceled).toBe(true);
      expect(canceled.buffer.length).toBe(10_000);
      const result = await ready(pipe, 'reader', pipe.reader.read());
      expect(result.isCanceled).toBe(false);
      expect(result.buffer.length).toBe(10_000);
      pipe.reader.advanceTo(result.buffer.start);
    }
  }),

  contractCase('E10a', 'a pre-aborted signal on read returns a rejected promise and changes no read state', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    let read!: Promise<ReadResult>;
    expect(() => {
      read = pipe.reader.read({ signal: aborted() });
    }).not.toThrow();
    await expectAborted(read, true);
    await expect(read).rejects.toBeInstanceOf(AbortError);
    // No read is outstanding: a plain read works and there is nothing to advance.
    expect(() => pipe.reader.advanceTo(SequencePosition.none)).toThrow(expect.objectContaining({ code: 'ERR_PIPE_NO_READ_TO_ADVANCE' }));
    const next = pipe.reader.read();
    await expectPending(pipe, next);
    await within(pipe.writer.write(bytes(7)));
    expect((await released(pipe, next)).buffer.toUint8Array()).toEqual(bytes(7));
  }),

  contractCase('E10b', 'a pre-aborted signal with data ready still rejects, and a later read gets the data', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await within(pipe.writer.write(bytes(1, 2)));
    await expectAborted(pipe.reader.read({ signal: aborted() }), pipe.caps.localReader);
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2));
  }),

  contractCase('E10c', 'readAtLeast(0) with a pre-aborted signal returns a rejected promise', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    let read!: Promise<ReadResult>;
    expect(() => {
      read = pipe.reader.readAtLeast(0, { signal: aborted() });
    }).not.toThrow();
    await expectAborted(read, pipe.caps.localReader && pipe.caps.nativeReadAtLeast);
    await expectPending(pipe, pipe.reader.read());
  }),

  contractCase('E11a', 'aborting a pending read rejects it inside abort(); a read from the continuation pends', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await abortPending(pipe, (signal) => pipe.reader.read({ signal }), () => pipe.reader.read(), 'before');
  }),

  contractCase('E11b', 'the continuation attached after the abort sees the same outcome', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await abortPending(pipe, (signal) => pipe.reader.read({ signal }), () => pipe.reader.read(), 'after');
  }),

  contractCase('E12', 'abort then cancelPendingRead: the signal wins, and the cancel stays for the next read', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await abortThenCancel(pipe, 'reader', (signal) => pipe.reader.read({ signal }), () => pipe.reader.cancelPendingRead(), () => pipe.reader.read());
  }),

  contractCase('E13', 'the pipe works again after a signal cancellation', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    const controller = new AbortController();
    const read = pipe.reader.read({ signal: controller.signal });
    controller.abort();
    await expectAborted(read, pipe.caps.inlineResume);
    const next = pipe.reader.read();
    await within(pipe.writer.write(bytes(1, 2, 3)));
    const result = await within(next);
    expect(result.isCanceled).toBe(false);
    expect(result.buffer.toUint8Array()).toEqual(bytes(1, 2, 3));
  }),

  contractCase('E14a', 'an aborted signal of a finished read does not affect a read with a new signal', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await within(pipe.writer.write(bytes(1)));
    const s1 = new AbortController();
    const first = await ready(pipe, 'reader', pipe.reader.read({ signal: s1.signal }));
    pipe.reader.advanceTo(first.buffer.start);
    s1.abort();
    const s2 = new AbortController();
    const second = await ready(pipe, 'reader', pipe.reader.read({ signal: s2.signal }));
    expect(second.isCanceled).toBe(false);
    expect(second.buffer.toUint8Array()).toEqual(bytes(1));
  }),

  contractCase('E14b', 'aborting the signal of a finished read leaves tryRead empty and not canceled', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await within(pipe.writer.write(bytes(1)));
    const s = new AbortController();
    const result = await ready(pipe, 'reader', pipe.reader.read({ signal: s.signal }));
    pipe.reader.advanceTo(result.buffer.end);
    s.abort();
    expect(pipe.reader.tryRead()).toBeNull();
  }),

  contractCase('E14c', 'the same with new data: tryRead returns it, not canceled', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await within(pipe.writer.write(bytes(1)));
    const s = new AbortController();
    const result = await ready(pipe, 'reader', pipe.reader.read({ signal: s.signal }));
    pipe.reader.advanceTo(result.buffer.end);
    s.abort();
    await within(pipe.writer.write(bytes(2)));
    const next = pipe.reader.tryRead();
    expect(next).not.toBeNull();
    expect(next!.isCanceled).toBe(false);
    expect(next!.buffer.toUint8Array()).toEqual(bytes(2));
  }),

  contractCase('E14d', "aborting a finished read's signal before advanceTo does not cancel the next read", ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    await within(pipe.writer.write(bytes(1)));
    const s = new AbortController();
    const result = await ready(pipe, 'reader', pipe.reader.read({ signal: s.signal }));
    s.abort();
    pipe.reader.advanceTo(result.buffer.end);
    const s2 = new AbortController();
    const next = pipe.reader.read({ signal: s2.signal });
    await expectPending(pipe, next);
    await within(pipe.writer.write(bytes(2)));
    const later = await released(pipe, next);
    expect(later.isCanceled).toBe(false);
    expect(later.buffer.toUint8Array()).toEqual(bytes(2));
  }),

  contractCase('E14e', 'abort listeners are removed when a read or flush ends', ['localReader', 'localWriter', 'backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    const s = new AbortController();
    // A pending read registers a listener; data releases it and the listener goes away.
    const read = pipe.reader.read({ signal: s.signal });
    expect(abortListeners(s.signal)).toBe(1);
    await within(pipe.writer.write(bytes(1)));
    const result = await released(pipe, read);
    expect(abortListeners(s.signal)).toBe(0);
    pipe.reader.advanceTo(result.buffer.end);
    // A read canceled by cancelPendingRead removes it too.
    const read2 = pipe.reader.read({ signal: s.signal });
    expect(abortListeners(s.signal)).toBe(1);
    pipe.reader.cancelPendingRead();
    expect((await released(pipe, read2)).isCanceled).toBe(true);
    expect(abortListeners(s.signal)).toBe(0);
    // A paused flush released by the reader removes its listener.
    const f = new AbortController();
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush({ signal: f.signal });
    await expectPending(pipe, flush);
    expect(abortListeners(f.signal)).toBe(1);
    const all = await ready(pipe, 'reader', pipe.reader.read());
    pipe.reader.advanceTo(all.buffer.end);
    await released(pipe, flush);
    expect(abortListeners(f.signal)).toBe(0);
  }),

  contractCase('E15', 'cancelPendingFlush resolves a paused flush as canceled without throwing', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush();
    await expectPending(pipe, flush);
    pipe.writer.cancelPendingFlush();
    const result = await released(pipe, flush);
    expect(result.isCanceled).toBe(true);
    expect(result.isCompleted).toBe(false);
  }),

  contractCase('E16', 'a cancel before a flush that would pause: sync-completed as canceled, data committed', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    pipe.writer.cancelPendingFlush();
    const flush = pipe.writer.flush();
    expect((await ready(pipe, 'writer', flush)).isCanceled).toBe(true);
    expect(pipe.writer.unflushedBytes).toBe(0);
    expectLength(pipe, 65);
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.buffer.length).toBe(65);
  }),

  contractCase('E17', 'the flush cancel flag is one-shot', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 1);
    pipe.writer.cancelPendingFlush();
    expect((await ready(pipe, 'writer', pipe.writer.flush())).isCanceled).toBe(true);
    expect((await ready(pipe, 'writer', pipe.writer.flush())).isCanceled).toBe(false);
  }),

  contractCase('E18', 'after a canceled flush the writer is still paused: a flush from the continuation pends', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush();
    await expectPending(pipe, flush);
    const continuation = flush.then((result) => ({ result, next: pipe.writer.flush() }));
    pipe.writer.cancelPendingFlush();
    await released(pipe, flush);
    const { result, next } = await within(continuation);
    expect(result.isCanceled).toBe(true);
    await expectPending(pipe, next);
    expectLength(pipe, 65);
  }),

  contractCase('E19a', 'cancelPendingFlush then the reader releases the writer: the flush is canceled', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush();
    await expectPending(pipe, flush);
    pipe.writer.cancelPendingFlush();
    // The cancel lands before the reader moves (a far writer gets it through its command channel).
    await pipe.barrier();
    const read = await ready(pipe, 'reader', pipe.reader.read());
    pipe.reader.advanceTo(read.buffer.end);
    await pipe.barrier();
    const result = await released(pipe, flush);
    expect(result.isCanceled).toBe(true);
    // The flag was consumed by that flush.
    writeEmpty(pipe.writer, 1);
    expect((await ready(pipe, 'writer', pipe.writer.flush())).isCanceled).toBe(false);
  }),

  contractCase('E19b', '(port) the reader releases the writer, then cancelPendingFlush: the flush already resolved, the cancel applies to the next flush', ['backpressure', 'inlineResume'], async (impl) => {
    // .NET computes the result in GetResult, after the cancel, and reports isCanceled; a promise is
    // settled when the reader releases it, so here the cancel is kept for the next flush instead.
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush();
    await expectPending(pipe, flush);
    const read = await ready(pipe, 'reader', pipe.reader.read());
    pipe.reader.advanceTo(read.buffer.end);
    pipe.writer.cancelPendingFlush();
    expect((await released(pipe, flush)).isCanceled).toBe(false);
    const next = await ready(pipe, 'writer', pipe.writer.flush());
    expect(next.isCanceled).toBe(true);
  }),

  contractCase('E20a', 'a pre-aborted signal on flush rejects without committing the advanced bytes', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 5);
    let flush!: Promise<FlushResult>;
    expect(() => {
      flush = pipe.writer.flush({ signal: aborted() });
    }).not.toThrow();
    await expectAborted(flush, true);
    expect(pipe.writer.unflushedBytes).toBe(5);
    expectLength(pipe, 0);
    if (pipe.caps.localReader) expect(pipe.reader.tryRead()).toBeNull();
    // A later flush commits them.
    expect((await ready(pipe, 'writer', pipe.writer.flush())).isCanceled).toBe(false);
    expect((await ready(pipe, 'reader', pipe.reader.read())).buffer.length).toBe(5);
  }),

  contractCase('E20b', 'after a pre-aborted flush, completing the writer completes a pending read', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_PT);
    const read = pipe.reader.read();
    await expectAborted(pipe.writer.flush({ signal: aborted() }), pipe.caps.localWriter);
    await expectPending(pipe, read);
    pipe.writer.complete();
    const result = await released(pipe, read);
    expect(result.isCompleted).toBe(true);
  }),

  contractCase('E21a', 'aborting a paused flush rejects it inside abort(); a flush from the continuation pends', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    await abortPending(pipe, (signal) => pipe.writer.flush({ signal }), () => pipe.writer.flush(), 'before');
  }),

  contractCase('E21b', 'the continuation attached after the abort sees the same outcome', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    await abortPending(pipe, (signal) => pipe.writer.flush({ signal }), () => pipe.writer.flush(), 'after');
  }),

  contractCase('E21c', 'abort then cancelPendingFlush: the signal wins, and the cancel stays for the next flush', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    await abortThenCancel(pipe, 'writer', (signal) => pipe.writer.flush({ signal }), () => pipe.writer.cancelPendingFlush(), () => pipe.writer.flush());
  }),

  contractCase('E22a', "data survives a flush abort: the reader gets it and releases the writer's next flush", ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    const controller = new AbortController();
    // The second flush travels in an object: resolving with a promise would adopt its state.
    let reachedSecond!: (started: { flush: Promise<FlushResult> }) => void;
    const secondStarted = new Promise<{ flush: Promise<FlushResult> }>((resolve) => {
      reachedSecond = resolve;
    });
    const writer = quiet((async () => {
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
    })());

    controller.abort();
    const { flush: second } = await within(secondStarted);
    await expectPending(pipe, second);
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(65);
    expect(result.buffer.toUint8Array().every((b) => b === 0)).toBe(true);
    pipe.reader.advanceTo(result.buffer.end);
    const outcome = await within(writer);
    expect(outcome.caught).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(outcome.second.isCanceled).toBe(false);
    expect(outcome.second.isCompleted).toBe(false);
  }),

  contractCase('E22b', 'a flush with a new signal is not affected by an earlier aborted one', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    const s1 = new AbortController();
    writeEmpty(pipe.writer, 1);
    await ready(pipe, 'writer', pipe.writer.flush({ signal: s1.signal }));
    s1.abort();
    const s2 = new AbortController();
    writeEmpty(pipe.writer, 65);
    const flush = pipe.writer.flush({ signal: s2.signal });
    await expectPending(pipe, flush);
    const result = await ready(pipe, 'reader', pipe.reader.read());
    pipe.reader.advanceTo(result.buffer.end);
    const done = await released(pipe, flush);
    expect(done.isCanceled).toBe(false);
  }),

  contractCase('E23', 'completing the writer with an abort error from an abort listener rejects the pending read with it', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_PT);
    const controller = new AbortController();
    const error = new AbortError('canceled by the test');
    controller.signal.addEventListener('abort', () => pipe.writer.complete(error), { once: true });
    const read = pipe.reader.read();
    await expectPending(pipe, read);
    controller.abort();
    const caught = pipe.caps.inlineResume ? peekRejected(await peek(read)) : await rejectionOf(read);
    expectSameError(pipe, caught, error);
    expectSameError(pipe, await rejectionOf(pipe.reader.read()), error);
  }),

  ...[64, 1024].map((capacity) =>
    contractCase('S6', `cancelPendingFlush during a paused write of 200 bytes (pause 64, ring ${capacity}): every byte of it is delivered, in order, before the next write`, ['backpressure'], async (impl) => {
      const pipe = await impl.open({ pauseWriterThreshold: 64, resumeWriterThreshold: 32, capacity });
      const first = pattern(200);
      const later = pattern(50, 200);
      const write = pipe.writer.write(first);
      await expectPending(pipe, write, 'the paused write');
      pipe.writer.cancelPendingFlush();
      expect((await within(write, kBoundMs, 'the canceled write')).isCanceled).toBe(true);
      const received = readBytes(pipe.reader, 250);
      await within(pipe.writer.write(later), kBoundMs, 'the next write');
      expectSameBytes(await within(received, kBoundMs, 'all 250 bytes'), Buffer.concat([first, later]));
    }),
  ),

  ...[64, 1024].map((capacity) =>
    contractCase('S8', `aborting a paused write of 200 bytes (pause 64, ring ${capacity}): its bytes are still delivered, in order, before the next write`, ['backpressure'], async (impl) => {
      const pipe = await impl.open({ pauseWriterThreshold: 64, resumeWriterThreshold: 32, capacity });
      const first = pattern(200);
      const later = pattern(50, 200);
      const controller = new AbortController();
      const write = pipe.writer.write(first, { signal: controller.signal });
      await expectPending(pipe, write, 'the paused write');
      controller.abort();
      await expectAborted(write, pipe.caps.inlineResume);
      const received = readBytes(pipe.reader, 250);
      await within(pipe.writer.write(later), kBoundMs, 'the next write');
      expectSameBytes(await within(received, kBoundMs, 'all 250 bytes'), Buffer.concat([first, later]));
    }),
  ),
];

function peekRejected(peeked: Awaited<ReturnType<typeof peek>>): unknown {
  expect(peeked.state).toBe('rejected');
  return (peeked as { error: unknown }).error;
}
