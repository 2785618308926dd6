import { expect } from 'vitest';
import { expectSameBytes } from '../helpers.js';
import { contractCase, kBoundMs, pattern, readAll, readBytes, within, type ContractCase, type ContractPipe } from './harness.js';

// The ring parity rule on getMemory (S5, CASES.md): getMemory(sizeHint) gives at least max(sizeHint, 1) writable
// bytes for any sizeHint, also above half a ring and above its capacity, and never throws for lack of
// room; what does not fit the ring right now is placed by the next flush, in turns.

/** A small ring, so sizes above half of it and above all of it are cheap; the same thresholds for every pipe. */
const kRing = 4096;
const small = { capacity: kRing, pauseWriterThreshold: kRing };

/** Sizes around half the pipe's capacity (or the nominal ring's, for pipes without one) and past it. */
function sizeHints(pipe: ContractPipe): number[] {
  const capacity = pipe.capacity ?? kRing;
  return [0, 1, 100, capacity / 2 - 1, capacity / 2, capacity / 2 + 1, capacity - 1, capacity, capacity + 1, 4 * capacity + 3];
}

/** The code of what `fn` throws (its message when it has none), or undefined. */
function fails(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

export const getMemoryCases: readonly ContractCase[] = [
  contractCase('S5', 'getMemory(sizeHint) gives at least max(sizeHint, 1) bytes for every size, above half the ring and above its capacity too', ['localWriter'], async (impl) => {
    const probe = await impl.open(small);
    for (const hint of sizeHints(probe)) {
      const pipe = await impl.open(small);
      let memory: Uint8Array | undefined;
      const failure = fails(() => {
        memory = pipe.writer.getMemory(hint);
      });
      expect(failure, `getMemory(${hint}) threw`).toBeUndefined();
      expect(memory!.length, `getMemory(${hint}).length`).toBeGreaterThanOrEqual(Math.max(hint, 1));
    }
  }),

  contractCase('S5', 'a block larger than half the ring or than the ring is filled, advanced and flushed; the reader gets every byte in order', ['localWriter'], async (impl) => {
    const probe = await impl.open(small);
    const capacity = probe.capacity ?? kRing;
    for (const hint of [capacity / 2 + 1, capacity - 1, capacity, capacity + 1, 4 * capacity + 3]) {
      const pipe = await impl.open(small);
      const data = pattern(hint, hint);
      const received = readBytes(pipe.reader, hint);
      const memory = pipe.writer.getMemory(hint);
      memory.set(data);
      pipe.writer.advance(hint);
      await within(pipe.writer.flush(), kBoundMs, `the flush of a ${hint}-byte block`);
      expectSameBytes(await within(received, kBoundMs, `${hint} bytes`), data, `a ${hint}-byte block`);
    }
  }),

  contractCase('S5', 'getMemory with no room in the pipe does not throw; the next flush places the bytes once the reader frees room', ['localWriter'], async (impl) => {
    const pipe = await impl.open({ capacity: 1024, pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
    const full = pattern(1024);
    await within(pipe.writer.write(full), kBoundMs, 'a write that fills the ring exactly');
    const more = pattern(16, 1024);
    let memory: Uint8Array | undefined;
    expect(fails(() => {
      memory = pipe.writer.getMemory(16);
    }), 'getMemory(16) with the ring full').toBeUndefined();
    expect(memory!.length).toBeGreaterThanOrEqual(16);
    memory!.set(more);
    pipe.writer.advance(16);
    const flush = pipe.writer.flush();
    const received = readBytes(pipe.reader, 1040);
    await within(flush, kBoundMs, 'the flush once the reader frees room');
    expectSameBytes(await within(received), Buffer.concat([full, more]));
  }),

  contractCase('S5', 'a getMemory -> advance -> flush loop through a small ring needs no retries: one getMemory per block, every byte in order', ['localWriter'], async (impl) => {
    const pipe = await impl.open({ capacity: 1024, pauseWriterThreshold: 1024 });
    const total = 64 * 1024;
    const block = 300;
    const received = readAll(pipe.reader);
    let failures = 0;
    for (let offset = 0; offset < total; offset += block) {
      const count = Math.min(block, total - offset);
      let memory: Uint8Array | undefined;
      if (fails(() => {
        memory = pipe.writer.getMemory(count);
      }) !== undefined) {
        failures++;
        break;
      }
      memory!.set(pattern(count, offset));
      pipe.writer.advance(count);
      await within(pipe.writer.flush(), kBoundMs, `the flush at offset ${offset}`);
    }
    expect(failures, 'getMemory calls that threw').toBe(0);
    pipe.writer.complete();
    expectSameBytes(await within(received, kBoundMs, 'every byte'), pattern(total));
  }),
];
