import { describe, expect, it } from 'vitest';
import { Pipe, PipeScheduler } from '../dist/src/index.js';
import { describeContract } from './contract/harness.js';
import { forwardingPipeImplementation, implementations } from './contract/implementations.js';
import { readAtLeastCases } from './contract/read-at-least.contract.js';
import { ForwardingReader, peek, settledValue, within } from './helpers.js';

// Group J over every implementation, and over a Pipe read through PipeReader's generic readAtLeast
// loop (J10); beside it the cases that tell the two loops apart on a Pipe.

describeContract('J: readAtLeast', readAtLeastCases, [...implementations, forwardingPipeImplementation]);

/** F_RAL: default options with an inline reader scheduler (the writer scheduler is the "thread pool"). */
function ralPipe(minimumSegmentSize?: number): Pipe {
  return new Pipe({
    readerScheduler: PipeScheduler.inline,
    writerScheduler: PipeScheduler.immediate,
    ...(minimumSegmentSize === undefined ? {} : { minimumSegmentSize }),
  });
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

/** readAtLeast(50) through the generic loop, with 10 bytes there and 90 more written while it waits. */
async function waitedThroughGenericLoop(): Promise<{ reader: ForwardingReader; done: Awaited<ReturnType<ForwardingReader['readAtLeast']>> }> {
  const pipe = ralPipe();
  const reader = new ForwardingReader(pipe.reader);
  await pipe.writer.write(new Uint8Array(10));
  const read = reader.readAtLeast(50);
  await expectPending(read);
  await pipe.writer.write(new Uint8Array(90));
  const done = await within(read);
  expect(done.buffer.length).toBe(100);
  return { reader, done };
}

describe('J10: the base-class loop examines everything while it waits', () => {
  it('J10 the forwarding reader really goes through the generic loop', async () => {
    const { reader, done } = await waitedThroughGenericLoop();
    expect(reader.reads).toBe(2);
    reader.advanceTo(done.buffer.end);
  });

  it('J10 after a wait, advancing to a position before what the loop examined throws', async () => {
    const { reader, done } = await waitedThroughGenericLoop();
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
