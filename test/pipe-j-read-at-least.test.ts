import { describe, expect, it } from 'vitest';
import {
  Pipe,
  PipeReader,
  PipeScheduler,
  type ReadResult,
  type SequencePosition,
} from '../dist/src/index.js';
import { peek, settledValue, within, writeEmpty } from './helpers.js';

// Group J: readAtLeast (dotnet-pipelines-behaviors.md, section J). J1–J6 run twice: against the
// Pipe's own reader, and (as J10) against a reader that only forwards the abstract members, so
// readAtLeast goes through PipeReader's generic loop. J11 (StreamPipeReader) is outside this group's scope.

/** F_RAL: default options with an inline reader scheduler (the writer scheduler is the "thread pool"). */
function ralPipe(minimumSegmentSize?: number): Pipe {
  return new Pipe({
    readerScheduler: PipeScheduler.inline,
    writerScheduler: PipeScheduler.immediate,
    ...(minimumSegmentSize === undefined ? {} : { minimumSegmentSize }),
  });
}

/** Forwards the abstract members to another reader; readAtLeast and copyTo come from PipeReader itself. */
class ForwardingReader extends PipeReader {
  readonly inner: PipeReader;
  reads = 0;

  constructor(inner: PipeReader) {
    super();
    this.inner = inner;
  }

  protected readCore(signal: AbortSignal | undefined): Promise<ReadResult> {
    this.reads++;
    return this.inner.read(signal === undefined ? undefined : { signal });
  }

  protected tryReadCore(): ReadResult | null {
    return this.inner.tryRead();
  }

  protected advanceToCore(consumed: SequencePosition, examined: SequencePosition): void {
    this.inner.advanceTo(consumed, examined);
  }

  protected cancelPendingReadCore(): void {
    this.inner.cancelPendingRead();
  }

  protected completeCore(error: Error | undefined): void {
    this.inner.complete(error);
  }
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

type Flavor = { id: (n: string) => string; direct: boolean; reader: (pipe: Pipe) => PipeReader };

const flavors: Flavor[] = [
  { id: (n) => n, direct: true, reader: (pipe) => pipe.reader },
  { id: (n) => `J10 base-class loop, ${n}:`, direct: false, reader: (pipe) => new ForwardingReader(pipe.reader) },
];

for (const flavor of flavors) {
  const { id, direct } = flavor;
  const title = direct ? 'J: readAtLeast on a Pipe' : 'J10: readAtLeast through the PipeReader base class';

  /** Resolves the read; a Pipe must have settled it already when `direct`. */
  const result = async (promise: Promise<ReadResult>): Promise<ReadResult> => (direct ? settledValue(promise) : within(promise));

  describe(title, () => {
    it(`${id('J1')} reads at least the minimum`, async () => {
      const pipe = ralPipe();
      const reader = flavor.reader(pipe);
      await pipe.writer.write('Hello World');
      const read = await result(reader.readAtLeast(11));
      expect(read.buffer.length).toBe(11);
      expect(read.buffer.toString()).toBe('Hello World');
      reader.advanceTo(read.buffer.end);
    });

    it(`${id('J2')} waits until the minimum arrives`, async () => {
      const pipe = ralPipe();
      const reader = flavor.reader(pipe);
      await pipe.writer.write('Hello');
      const read = reader.readAtLeast(11);
      await expectPending(read);
      await pipe.writer.write(' World');
      const done = await result(read);
      expect(done.buffer.length).toBe(11);
      expect(done.buffer.toString()).toBe('Hello World');
      reader.advanceTo(done.buffer.end);
    });

    it(`${id('J3')} returns everything available once the minimum is met, then read works`, async () => {
      const pipe = ralPipe();
      const reader = flavor.reader(pipe);
      await pipe.writer.write(new Uint8Array(5));
      const atLeast = await result(reader.readAtLeast(3));
      expect(atLeast.buffer.length).toBe(5);
      reader.advanceTo(atLeast.buffer.end);
      await pipe.writer.write(new Uint8Array(6));
      const next = await settledValue(reader.read());
      expect(next.buffer.length).toBe(6);
      reader.advanceTo(next.buffer.end);
    });

    it(`${id('J4')} a completed writer short-circuits the minimum`, async () => {
      const pipe = ralPipe();
      const reader = flavor.reader(pipe);
      pipe.writer.complete();
      for (let i = 0; i < 3; i++) {
        const read = await result(reader.readAtLeast(100));
        expect(read.isCompleted).toBe(true);
        expect(read.buffer.length).toBe(0);
        reader.advanceTo(read.buffer.end);
      }
    });

    it(`${id('J4b')} a writer completing while readAtLeast waits ends the wait with what there is`, async () => {
      const pipe = ralPipe();
      const reader = flavor.reader(pipe);
      await pipe.writer.write('abc');
      const read = reader.readAtLeast(100);
      await expectPending(read);
      pipe.writer.complete();
      const done = await within(read);
      expect(done.isCompleted).toBe(true);
      expect(done.buffer.toString()).toBe('abc');
      reader.advanceTo(done.buffer.end);
    });

    for (const minimumSegmentSize of [undefined, 5]) {
      for (const readFirst of [false, true]) {
        const variant = `minimumSegmentSize ${minimumSegmentSize ?? 'default'}${readFirst ? ', after a non-consuming read' : ''}`;
        it(`${id('J5')} reads "Hello Pipelines World" with ${variant}`, async () => {
          const pipe = ralPipe(minimumSegmentSize);
          const reader = flavor.reader(pipe);
          await pipe.writer.write('Hello Pipelines World');
          if (readFirst) {
            const first = await settledValue(reader.read());
            reader.advanceTo(first.buffer.start);
          }
          const read = await result(reader.readAtLeast(20));
          expect(read.buffer.length).toBe(21);
          expect(read.buffer.toString()).toBe('Hello Pipelines World');
          expect(read.buffer.isSingleSegment).toBe(minimumSegmentSize === undefined);
          reader.advanceTo(read.buffer.end);
        });
      }
    }

    it(`${id('J6a')} a pre-aborted signal rejects with an AbortError`, async () => {
      const pipe = ralPipe();
      const reader = flavor.reader(pipe);
      await pipe.writer.write('Hello World');
      const controller = new AbortController();
      controller.abort();
      const read = reader.readAtLeast(1, { signal: controller.signal });
      await expect(within(read)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    });

    it(`${id('J6b')} a canceled pending read makes readAtLeast return isCanceled at once`, async () => {
      const pipe = ralPipe();
      const reader = flavor.reader(pipe);
      await pipe.writer.write('Hello World');
      reader.cancelPendingRead();
      const read = await result(reader.readAtLeast(1000));
      expect(read.isCanceled).toBe(true);
      expect(read.isCompleted).toBe(false);
      expect(read.buffer.length).toBe(11);
      reader.advanceTo(read.buffer.start);
    });

    it(`${id('J6c')} aborting while readAtLeast waits rejects with an AbortError`, async () => {
      const pipe = ralPipe();
      const reader = flavor.reader(pipe);
      await pipe.writer.write('Hello');
      const controller = new AbortController();
      const read = reader.readAtLeast(100, { signal: controller.signal });
      read.catch(() => {});
      await expectPending(read);
      controller.abort();
      await expect(within(read)).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    });
  });
}

describe('J: readAtLeast on a Pipe (Pipe-only behaviors)', () => {
  it('J7 a waiting readAtLeast releases a paused writer and keeps it from pausing', async () => {
    const pipe = new Pipe({ pauseWriterThreshold: 64, resumeWriterThreshold: 32 });
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);

    const read = pipe.reader.readAtLeast(192);
    expect((await peek(read)).state).toBe('pending');
    expect(await settledValue(flush)).toMatchObject({ isCanceled: false, isCompleted: false });

    writeEmpty(pipe.writer, 64);
    expect(await settledValue(pipe.writer.flush())).toMatchObject({ isCanceled: false, isCompleted: false });
    await expectPending(read);
    writeEmpty(pipe.writer, 64);
    expect(await settledValue(pipe.writer.flush())).toMatchObject({ isCanceled: false, isCompleted: false });

    const done = await settledValue(read);
    expect(done.buffer.length).toBe(192);
    pipe.reader.advanceTo(done.buffer.end);
  });

  it('J8a the minimum counts unexamined bytes, not the buffer length', async () => {
    const pipe = ralPipe();
    await pipe.writer.write(new Uint8Array(10));
    const first = await settledValue(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.start, first.buffer.end);

    const read = pipe.reader.readAtLeast(5);
    await expectPending(read);
    await pipe.writer.write(new Uint8Array(4));
    await expectPending(read);
    await pipe.writer.write(new Uint8Array(1));
    const done = await settledValue(read);
    expect(done.buffer.length).toBe(15);
    pipe.reader.advanceTo(done.buffer.start, done.buffer.end);
  });

  it('J8b the minimum resets once a read yields: a later read wakes on one byte', async () => {
    const pipe = ralPipe();
    await pipe.writer.write(new Uint8Array(2));
    const read = pipe.reader.readAtLeast(5);
    await expectPending(read);
    await pipe.writer.write(new Uint8Array(3));
    const done = await settledValue(read);
    expect(done.buffer.length).toBe(5);
    pipe.reader.advanceTo(done.buffer.start, done.buffer.end);

    const next = pipe.reader.read();
    await expectPending(next);
    await pipe.writer.write(new Uint8Array(1));
    const woken = await settledValue(next);
    expect(woken.buffer.length).toBe(6);
    pipe.reader.advanceTo(woken.buffer.end);
  });

  it('J9a readAtLeast(0) returns at once when data is ready', async () => {
    const pipe = ralPipe();
    await pipe.writer.write('ab');
    const read = await settledValue(pipe.reader.readAtLeast(0));
    expect(read.buffer.toString()).toBe('ab');
    pipe.reader.advanceTo(read.buffer.end);
  });

  it('J9b readAtLeast(0) waits like read for the next non-empty flush', async () => {
    const pipe = ralPipe();
    const read = pipe.reader.readAtLeast(0);
    await expectPending(read);
    await pipe.writer.flush();
    await expectPending(read);
    await pipe.writer.write('a');
    const done = await settledValue(read);
    expect(done.buffer.toString()).toBe('a');
    pipe.reader.advanceTo(done.buffer.start, done.buffer.end);

    // Everything examined: readAtLeast(0) waits even though a byte is still buffered.
    const again = pipe.reader.readAtLeast(0);
    await expectPending(again);
    await pipe.writer.write('b');
    const next = await settledValue(again);
    expect(next.buffer.toString()).toBe('ab');
    pipe.reader.advanceTo(next.buffer.end);
  });

  it('J9c a negative minimum throws a RangeError synchronously', () => {
    const pipe = ralPipe();
    expect(() => pipe.reader.readAtLeast(-1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    expect(() => pipe.reader.readAtLeast(-1)).toThrow(RangeError);
  });
});

describe('J10: the base-class loop examines everything while it waits', () => {
  it('J10 the forwarding reader really goes through the generic loop', async () => {
    const pipe = ralPipe();
    const reader = new ForwardingReader(pipe.reader);
    await pipe.writer.write(new Uint8Array(10));
    const read = reader.readAtLeast(50);
    await expectPending(read);
    await pipe.writer.write(new Uint8Array(90));
    const done = await within(read);
    expect(done.buffer.length).toBe(100);
    expect(reader.reads).toBe(2);
    reader.advanceTo(done.buffer.end);
  });

  it('J10 after a wait, advancing to a position before what the loop examined throws', async () => {
    const pipe = ralPipe();
    const reader = new ForwardingReader(pipe.reader);
    await pipe.writer.write(new Uint8Array(10));
    const read = reader.readAtLeast(50);
    await expectPending(read);
    await pipe.writer.write(new Uint8Array(90));
    const done = await within(read);
    expect(done.buffer.length).toBe(100);
    expect(() => reader.advanceTo(done.buffer.getPosition(4))).toThrow(
      expect.objectContaining({ code: 'ERR_PIPE_ADVANCE_OUT_OF_RANGE' }),
    );
  });

  it('J10 the Pipe\'s own readAtLeast does not examine while it waits: the same advance is fine', async () => {
    const pipe = ralPipe();
    await pipe.writer.write(new Uint8Array(10));
    const read = pipe.reader.readAtLeast(50);
    await expectPending(read);
    await pipe.writer.write(new Uint8Array(90));
    const done = await settledValue(read);
    expect(done.buffer.length).toBe(100);
    pipe.reader.advanceTo(done.buffer.getPosition(4));
    const rest = await settledValue(pipe.reader.read());
    expect(rest.buffer.length).toBe(96);
    pipe.reader.advanceTo(rest.buffer.end);
  });
});
