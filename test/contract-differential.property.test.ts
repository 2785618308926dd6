import fc from 'fast-check';
import { describe, it } from 'vitest';
import { Pipe, PipeScheduler, SequencePosition, SharedPipe, type FlushResult, type PipeReader, type PipeWriter, type ReadResult } from '../dist/src/index.js';
import { patternByte } from '../dist/test/fixtures/ring-harness.js';
import { peek, settleTurns } from './helpers.js';

// The differential property: random sequences of pipe operations with random thresholds, applied to
// a Pipe and to a SharedPipe with both ends in this thread, must be observed the same way: the
// bytes and flags of every result, every synchronous throw (by code), and which operations are
// still pending once the event loop has settled after each step. The writes are kept within a
// quarter of the ring, so the ring never runs out of room and only the Pipe's rules can make a
// flush wait.

type Op =
  | { kind: 'write'; size: number; signal: boolean }
  | { kind: 'getMemory+advance'; hint: number; count: number }
  | { kind: 'flush'; signal: boolean }
  | { kind: 'read'; signal: boolean }
  | { kind: 'tryRead' }
  /** Percentages of the outstanding result: consumed, then examined between consumed and the end. */
  | { kind: 'advanceTo'; consumed: number; examined: number; single: boolean }
  | { kind: 'cancelPendingRead' }
  | { kind: 'cancelPendingFlush' }
  | { kind: 'completeWriter'; failed: boolean }
  | { kind: 'completeReader'; failed: boolean }
  /** Aborts the signals of the operations started with one so far. */
  | { kind: 'abort' };

interface Config {
  pause: number;
  resume: number;
}

const kMaxPause = 64;
const kRuns = 300;
const kSeed = 0x5eed;
/** Event-loop turns after each step: a ring wake-up is one task, a Pipe resumes inline. */
const kSettle = 8;

const configArb: fc.Arbitrary<Config> = fc
  .integer({ min: 0, max: kMaxPause })
  .chain((pause) => fc.record({ pause: fc.constant(pause), resume: fc.integer({ min: 0, max: pause }) }));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), size: fc.integer({ min: 0, max: 80 }), signal: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 0, max: 40 })
      .chain((hint) => fc.record({ kind: fc.constant('getMemory+advance' as const), hint: fc.constant(hint), count: fc.integer({ min: 0, max: Math.max(hint, 1) }) })),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flush' as const), signal: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), signal: fc.boolean() }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'tryRead' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('advanceTo' as const),
      consumed: fc.integer({ min: 0, max: 100 }),
      examined: fc.integer({ min: 0, max: 100 }),
      single: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancelPendingRead' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'cancelPendingFlush' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('completeWriter' as const), failed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('completeReader' as const), failed: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'abort' as const }) },
);

function describeError(error: unknown): string {
  const e = error as { name?: string; message?: string; code?: string };
  return e.code !== undefined ? e.code : `${e.name}: ${e.message}`;
}

function describeRead(result: ReadResult): string {
  return `[${[...result.buffer.toUint8Array()].join(',')}]${result.isCanceled ? ' canceled' : ''}${result.isCompleted ? ' completed' : ''}`;
}

function describeFlush(result: FlushResult): string {
  return `flushed${result.isCanceled ? ' canceled' : ''}${result.isCompleted ? ' completed' : ''}`;
}

/** One pipe under the operations, recording what a user of it can observe. */
class Subject {
  readonly reader: PipeReader;
  readonly writer: PipeWriter;
  readonly #pending = new Map<number, { label: string; promise: Promise<string> }>();
  #nextId = 1;
  #last: ReadResult | null = null;
  #written = 0;
  /** Bytes handed to the writer by calls that did not throw, and bytes consumed by advanceTo calls that did not. */
  #accepted = 0;
  #consumed = 0;
  #controllers: AbortController[] = [];

  constructor(reader: PipeReader, writer: PipeWriter) {
    this.reader = reader;
    this.writer = writer;
  }

  /** Bytes written but not yet consumed (unflushed ones included). */
  get outstanding(): number {
    return this.#accepted - this.#consumed;
  }

  /** Applies one operation; returns what was observable at once. */
  apply(op: Op): string {
    try {
      return this.#apply(op);
    } catch (error) {
      return `throws ${describeError(error)}`;
    }
  }

  /** The operations that settled since the last call, then those still pending. */
  async observe(): Promise<string[]> {
    const seen: string[] = [];
    const waiting: string[] = [];
    for (const [id, entry] of this.#pending) {
      const state = await peek(entry.promise);
      if (state.state === 'pending') {
        waiting.push(`#${id} ${entry.label}`);
      } else {
        this.#pending.delete(id);
        seen.push(`#${id} ${entry.label} -> ${state.state === 'fulfilled' ? state.value : `rejects ${describeError(state.error)}`}`);
      }
    }
    return [...seen, `pending: ${waiting.join(', ') || 'none'}`];
  }

  close(): void {
    for (const end of [this.reader, this.writer]) {
      try {
        end.complete();
      } catch {
        // completed already
      }
    }
  }

  #track(label: string, promise: Promise<string>): string {
    const id = this.#nextId++;
    const observed = promise.then((value) => value);
    observed.catch(() => {});
    this.#pending.set(id, { label, promise: observed });
    return `#${id} ${label} started`;
  }

  #options(signal: boolean): { signal: AbortSignal } | undefined {
    if (!signal) return undefined;
    const controller = new AbortController();
    this.#controllers.push(controller);
    return { signal: controller.signal };
  }

  #bytes(count: number): Uint8Array {
    const data = new Uint8Array(count);
    for (let i = 0; i < count; i++) data[i] = patternByte(this.#written + i, 3);
    this.#written += count;
    return data;
  }

  #apply(op: Op): string {
    switch (op.kind) {
      case 'write': {
        const started = this.#track(`write(${op.size})`, this.writer.write(this.#bytes(op.size), this.#options(op.signal)).then(describeFlush));
        this.#accepted += op.size;
        return started;
      }
      case 'getMemory+advance': {
        const memory = this.writer.getMemory(op.hint);
        if (memory.length < Math.max(op.hint, 1)) return `getMemory(${op.hint}) gave only ${memory.length} bytes`;
        memory.set(this.#bytes(op.count));
        this.writer.advance(op.count);
        this.#accepted += op.count;
        return `advanced ${op.count}`;
      }
      case 'flush':
        return this.#track('flush', this.writer.flush(this.#options(op.signal)).then(describeFlush));
      case 'read':
        return this.#track(
          'read',
          this.reader.read(this.#options(op.signal)).then((result) => {
            this.#last = result;
            return describeRead(result);
          }),
        );
      case 'tryRead': {
        const result = this.reader.tryRead();
        if (result !== null) this.#last = result;
        return result === null ? 'tryRead null' : `tryRead ${describeRead(result)}`;
      }
      case 'advanceTo': {
        const last = this.#last;
        if (last === null) {
          this.reader.advanceTo(SequencePosition.none);
          return 'advanceTo(none) ok';
        }
        const length = last.buffer.length;
        const consumed = Math.floor((op.consumed * length) / 100);
        const examined = consumed + Math.floor((op.examined * (length - consumed)) / 100);
        const at = last.buffer.getPosition(consumed);
        if (op.single) this.reader.advanceTo(at);
        else this.reader.advanceTo(at, last.buffer.getPosition(examined));
        this.#last = null;
        this.#consumed += consumed;
        return op.single ? `advanceTo(${consumed}) ok` : `advanceTo(${consumed}, ${examined}) ok`;
      }
      case 'cancelPendingRead':
        this.reader.cancelPendingRead();
        return 'cancelPendingRead';
      case 'cancelPendingFlush':
        this.writer.cancelPendingFlush();
        return 'cancelPendingFlush';
      case 'completeWriter':
        this.writer.complete(op.failed ? Object.assign(new Error('the writer failed'), { code: 'E_TEST_WRITER' }) : undefined);
        return 'writer completed';
      case 'completeReader':
        this.reader.complete(op.failed ? Object.assign(new Error('the reader failed'), { code: 'E_TEST_READER' }) : undefined);
        return 'reader completed';
      case 'abort':
        for (const controller of this.#controllers.splice(0)) controller.abort();
        return 'aborted';
    }
  }
}

/** A ring four times the budget, which is at least twice the pause threshold (so writes can cross it). */
function capacityFor(config: Config): number {
  let capacity = 256;
  while (capacity < 8 * config.pause) capacity *= 2;
  return capacity;
}

/** Bytes written but not yet consumed stay within this share of the ring: room is never what a flush waits for. */
function withinRoom(ops: readonly Op[], capacity: number): Op[] {
  const budget = capacity / 4;
  return ops.map((op) => {
    if (op.kind === 'write' && op.size > budget) return { ...op, size: budget };
    if (op.kind === 'getMemory+advance' && Math.max(op.hint, 1) > budget) return { ...op, hint: budget, count: Math.min(op.count, budget) };
    return op;
  });
}

async function compare(config: Config, rawOps: readonly Op[]): Promise<void> {
  const capacity = capacityFor(config);
  const ops = withinRoom(rawOps, capacity);
  const pipe = new Pipe({ pauseWriterThreshold: config.pause, resumeWriterThreshold: config.resume, readerScheduler: PipeScheduler.inline, writerScheduler: PipeScheduler.inline });
  const ring = new SharedPipe({ capacity, pauseWriterThreshold: config.pause, resumeWriterThreshold: config.resume });
  const reference = new Subject(pipe.reader, pipe.writer);
  const subject = new Subject(ring.reader, ring.writer);
  const budget = capacity / 4;
  const history: string[] = [];
  try {
    for (const [step, op] of ops.entries()) {
      const adds = op.kind === 'write' ? op.size : op.kind === 'getMemory+advance' ? op.count : 0;
      // An operation that would take the bytes not yet consumed past the budget is left out on both.
      if (reference.outstanding + adds > budget) continue;
      const a = reference.apply(op);
      const b = subject.apply(op);
      await settleTurns(kSettle);
      const seenA = [a, ...(await reference.observe())];
      const seenB = [b, ...(await subject.observe())];
      history.push(`${step}: ${JSON.stringify(op)} -> ${seenA.join(' | ')}`);
      if (JSON.stringify(seenA) !== JSON.stringify(seenB)) {
        throw new Error(
          `pause ${config.pause}, resume ${config.resume}, ring ${capacity}: step ${step} differs\n` +
            `  Pipe:       ${seenA.join(' | ')}\n  SharedPipe: ${seenB.join(' | ')}\nsteps so far:\n  ${history.join('\n  ')}`,
        );
      }
    }
  } finally {
    reference.close();
    subject.close();
    await settleTurns(kSettle);
  }
}

describe('differential: Pipe and SharedPipe (one thread) observed the same under random operations', () => {
  it(`${kRuns} seeded runs of up to 40 operations with random thresholds`, async () => {
    await fc.assert(fc.asyncProperty(configArb, fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' }), compare), {
      seed: kSeed,
      numRuns: kRuns,
      // Shrinking replays runs; bound it so a failing implementation still reports in time.
      interruptAfterTimeLimit: 40_000,
    });
  }, 60_000);
});
