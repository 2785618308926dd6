import { expect } from 'vitest';
import type { ReadResult } from '../../dist/src/index.js';
import { settledValue } from '../helpers.js';
import { contractCase, expectPending, kBoundMs, ready, readyAtLeast, released, thrownBy, within, writeEmpty, type ContractCase, type ContractPipe } from './harness.js';
import { F_BP, F_RW } from './implementations.js';

// Group J: readAtLeast (dotnet-pipelines-behaviors.md, section J). J1–J6 hold for every reader,
// whether readAtLeast is the pipe's own or PipeReader's generic loop (J10); J7–J9 are the pipe's own
// (nativeReadAtLeast): it counts unexamined bytes, examines nothing while it waits and releases a
// paused writer.

/** A readAtLeast released by the writer: settled before the releasing call returns where it is the pipe's own, inline one. */
function releasedAtLeast(pipe: ContractPipe, promise: Promise<ReadResult>): Promise<ReadResult> {
  return pipe.caps.nativeReadAtLeast && pipe.caps.inlineResume ? settledValue(promise) : within(promise, kBoundMs, 'readAtLeast');
}

export const readAtLeastCases: readonly ContractCase[] = [
  contractCase('J1', 'reads at least the minimum', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write('Hello World'));
    const read = await readyAtLeast(pipe, pipe.reader.readAtLeast(11));
    expect(read.buffer.length).toBe(11);
    expect(read.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(read.buffer.end);
  }),

  contractCase('J2', 'waits until the minimum arrives', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write('Hello'));
    const read = pipe.reader.readAtLeast(11);
    await expectPending(pipe, read);
    await within(pipe.writer.write(' World'));
    const done = await releasedAtLeast(pipe, read);
    expect(done.buffer.length).toBe(11);
    expect(done.buffer.toString()).toBe('Hello World');
    pipe.reader.advanceTo(done.buffer.end);
  }),

  contractCase('J3', 'returns everything available once the minimum is met, then read works', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(new Uint8Array(5)));
    const atLeast = await readyAtLeast(pipe, pipe.reader.readAtLeast(3));
    expect(atLeast.buffer.length).toBe(5);
    pipe.reader.advanceTo(atLeast.buffer.end);
    await pipe.barrier();
    await within(pipe.writer.write(new Uint8Array(6)));
    const next = await ready(pipe, 'reader', pipe.reader.read());
    expect(next.buffer.length).toBe(6);
    pipe.reader.advanceTo(next.buffer.end);
  }),

  contractCase('J4', 'a completed writer short-circuits the minimum', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.writer.complete();
    await pipe.barrier();
    for (let i = 0; i < 3; i++) {
      const read = await readyAtLeast(pipe, pipe.reader.readAtLeast(100));
      expect(read.isCompleted).toBe(true);
      expect(read.buffer.length).toBe(0);
      pipe.reader.advanceTo(read.buffer.end);
    }
  }),

  contractCase('J4b', 'a writer completing while readAtLeast waits ends the wait with what there is', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write('abc'));
    const read = pipe.reader.readAtLeast(100);
    await expectPending(pipe, read);
    pipe.writer.complete();
    const done = await within(read);
    expect(done.isCompleted).toBe(true);
    expect(done.buffer.toString()).toBe('abc');
    pipe.reader.advanceTo(done.buffer.end);
  }),

  ...[undefined, 5].flatMap((minimumSegmentSize) =>
    [false, true].map((readFirst) => {
      const variant = `minimumSegmentSize ${minimumSegmentSize ?? 'default'}${readFirst ? ', after a non-consuming read' : ''}`;
      return contractCase('J5', `reads "Hello Pipelines World" with ${variant}`, [], async (impl) => {
        const pipe = await impl.open(minimumSegmentSize === undefined ? F_RW : { minimumSegmentSize });
        await within(pipe.writer.write('Hello Pipelines World'));
        if (readFirst) {
          const first = await ready(pipe, 'reader', pipe.reader.read());
          pipe.reader.advanceTo(first.buffer.start);
        }
        const read = await readyAtLeast(pipe, pipe.reader.readAtLeast(20));
        expect(read.buffer.length).toBe(21);
        expect(read.buffer.toString()).toBe('Hello Pipelines World');
        if (pipe.caps.segments) expect(read.buffer.isSingleSegment).toBe(minimumSegmentSize === undefined);
        pipe.reader.advanceTo(read.buffer.end);
      });
    }),
  ),

  contractCase('J6a', 'a pre-aborted signal rejects with an AbortError', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write('Hello World'));
    const controller = new AbortController();
    controller.abort();
    const read = pipe.reader.readAtLeast(1, { signal: controller.signal });
    await expect(within(read)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  }),

  contractCase('J6b', 'a canceled pending read makes readAtLeast return isCanceled at once', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write('Hello World'));
    pipe.reader.cancelPendingRead();
    const read = await readyAtLeast(pipe, pipe.reader.readAtLeast(1000));
    expect(read.isCanceled).toBe(true);
    expect(read.isCompleted).toBe(false);
    expect(read.buffer.length).toBe(11);
    pipe.reader.advanceTo(read.buffer.start);
  }),

  contractCase('J6c', 'aborting while readAtLeast waits rejects with an AbortError', ['realReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write('Hello'));
    const controller = new AbortController();
    const read = pipe.reader.readAtLeast(100, { signal: controller.signal });
    await expectPending(pipe, read);
    controller.abort();
    await expect(within(read)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
  }),

  contractCase('J7', 'a waiting readAtLeast releases a paused writer and keeps it from pausing', ['backpressure', 'nativeReadAtLeast'], async (impl) => {
    const pipe = await impl.open(F_BP);
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(pipe, flush);

    const read = pipe.reader.readAtLeast(192);
    expect(await released(pipe, flush)).toMatchObject({ isCanceled: false, isCompleted: false });
    await expectPending(pipe, read);

    writeEmpty(pipe.writer, 64);
    expect(await ready(pipe, 'writer', pipe.writer.flush())).toMatchObject({ isCanceled: false, isCompleted: false });
    await expectPending(pipe, read);
    writeEmpty(pipe.writer, 64);
    expect(await ready(pipe, 'writer', pipe.writer.flush())).toMatchObject({ isCanceled: false, isCompleted: false });

    const done = await released(pipe, read);
    expect(done.buffer.length).toBe(192);
    pipe.reader.advanceTo(done.buffer.end);
  }),

  contractCase('J8a', 'the minimum counts unexamined bytes, not the buffer length', ['nativeReadAtLeast'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(new Uint8Array(10)));
    const first = await ready(pipe, 'reader', pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start, first.buffer.end);

    const read = pipe.reader.readAtLeast(5);
    await expectPending(pipe, read);
    await within(pipe.writer.write(new Uint8Array(4)));
    await expectPending(pipe, read);
    await within(pipe.writer.write(new Uint8Array(1)));
    const done = await released(pipe, read);
    expect(done.buffer.length).toBe(15);
    pipe.reader.advanceTo(done.buffer.start, done.buffer.end);
  }),

  contractCase('J8b', 'the minimum resets once a read yields: a later read wakes on one byte', ['nativeReadAtLeast'], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write(new Uint8Array(2)));
    const read = pipe.reader.readAtLeast(5);
    await expectPending(pipe, read);
    await within(pipe.writer.write(new Uint8Array(3)));
    const done = await released(pipe, read);
    expect(done.buffer.length).toBe(5);
    pipe.reader.advanceTo(done.buffer.start, done.buffer.end);

    const next = pipe.reader.read();
    await expectPending(pipe, next);
    await within(pipe.writer.write(new Uint8Array(1)));
    const woken = await released(pipe, next);
    expect(woken.buffer.length).toBe(6);
    pipe.reader.advanceTo(woken.buffer.end);
  }),

  contractCase('J9a', 'readAtLeast(0) returns at once when data is ready', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    await within(pipe.writer.write('ab'));
    const read = await readyAtLeast(pipe, pipe.reader.readAtLeast(0));
    expect(read.buffer.toString()).toBe('ab');
    pipe.reader.advanceTo(read.buffer.end);
  }),

  contractCase('J9b', 'readAtLeast(0) waits like read for the next non-empty flush', [], async (impl) => {
    const pipe = await impl.open(F_RW);
    const read = pipe.reader.readAtLeast(0);
    await expectPending(pipe, read);
    await within(pipe.writer.flush());
    await expectPending(pipe, read);
    await within(pipe.writer.write('a'));
    const done = await releasedAtLeast(pipe, read);
    expect(done.buffer.toString()).toBe('a');
    pipe.reader.advanceTo(done.buffer.start, done.buffer.end);

    // Everything examined: readAtLeast(0) waits even though a byte is still buffered.
    const again = pipe.reader.readAtLeast(0);
    await expectPending(pipe, again);
    await within(pipe.writer.write('b'));
    const next = await releasedAtLeast(pipe, again);
    expect(next.buffer.toString()).toBe('ab');
    pipe.reader.advanceTo(next.buffer.end);
  }),

  contractCase('J9c', 'a negative minimum throws a RangeError synchronously', ['localReader'], async (impl) => {
    const pipe = await impl.open(F_RW);
    expect(thrownBy(() => pipe.reader.readAtLeast(-1))).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' });
    expect(() => pipe.reader.readAtLeast(-1)).toThrow(RangeError);
  }),
];
