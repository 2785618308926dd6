// One soak lane: a SharedPipe carrying `bytes` bytes of the seeded stream (soak-stream.ts) from a
// writer to a reader, each on the main thread or a worker. Both loops run on either thread; the
// choices they make (API, sizes, advances, self-cancels and aborts) come from their own seeded
// generators. A small SharedArrayBuffer per lane carries their counters (the main thread watches
// them for progress), the operation each side is in (for a hang dump) and the publish timestamp the
// reader measures its wake-ups against.
import type { FlushResult, OperationOptions, ReadOnlySequence, ReadResult, SharedPipeReader, SharedPipeWriter } from 'threadpipe';
import { seededRandom } from '../../test/fixtures/random.js';
import { ByteStream, kNeedleBytes, wallNow, type MismatchReport } from './soak-stream.js';

export type Direction = 'main→worker' | 'worker→main' | 'worker→worker';
/** How a side on a worker waits: always async, always blocking, or a seeded mix per operation. */
export type ApiMode = 'async' | 'sync' | 'mixed';

/** What a run exercises; each can be turned off with --skip. */
export interface Features {
  /** cancelPendingRead / cancelPendingFlush from the side's own thread and from the main thread. */
  readonly cancel: boolean;
  /** AbortSignal aborts on reads, flushes and writes. */
  readonly abort: boolean;
  /** getMemory hints above half the ring and above its capacity. */
  readonly bigMemory: boolean;
  /** Partial consumes and partial examines (else every read is consumed whole). */
  readonly partial: boolean;
  /** readSync / flushSync / writeSync on worker sides (else every side is async). */
  readonly sync: boolean;
}

export interface LaneSpec {
  readonly id: number;
  readonly direction: Direction;
  /** The ring's size; for a growing ring, what it may grow to. */
  readonly capacity: number;
  /** A growing ring starts here (and grows up to `capacity`); undefined: a ring of fixed size. */
  readonly startCapacity: number | undefined;
  /** Passed to the SharedPipe as given (undefined: the ring's default). */
  readonly pauseWriterThreshold: number | undefined;
  readonly resumeWriterThreshold: number | undefined;
  readonly bytes: number;
  /** The writer goes on past `bytes` until the ring's position counter reaches this (0: no such goal). */
  readonly minRingPositions: number;
  readonly streamSeed: number;
  readonly writerSeed: number;
  readonly readerSeed: number;
  readonly writerMode: ApiMode;
  readonly readerMode: ApiMode;
  readonly features: Features;
  /** A sleeping reader's wake-up above this is counted as over the limit. */
  readonly stallLimitMs: number;
}

/**
 * Something the pipe got wrong that the soak carried on around: a broken contract (getMemory threw),
 * or a mismatch it could place in the stream (lost or repeated bytes), after which the reader checks
 * the rest against the stream where the received bytes were found.
 */
export interface SoakNote {
  readonly kind: 'contract' | 'mismatch';
  readonly lane: number;
  readonly side: 'writer' | 'reader';
  readonly what: string;
  readonly code: string | undefined;
  readonly message: string;
}

export const writerCounters = [
  'bytes',
  'chunks',
  'writes',
  'writeSyncs',
  'getMemory',
  'getMemoryAboveHalf',
  'getMemoryAboveCapacity',
  'partialAdvances',
  'flushes',
  'flushSyncs',
  'flushCanceled',
  'flushAborted',
  'selfCancels',
  'selfAborts',
  'memoryFailures',
  'longestFlushMs',
] as const;

export const readerCounters = [
  'bytes',
  'checked',
  'rechecked',
  'reads',
  'readSyncs',
  'tryReads',
  'tryReadEmpty',
  'slept',
  'stallSamples',
  'stallTotalMs',
  'longestStallMs',
  /** 1 when the longest stall was a readSync() (a blocked thread), 0 for a read() (its event loop may have added to it). */
  'longestStallInReadSync',
  'stallsOverLimit',
  'stallUnder1ms',
  'stallUnder10ms',
  'stallUnder50ms',
  'stallUnder200ms',
  'stallOver200ms',
  'readCanceled',
  'readAborted',
  'selfCancels',
  'selfAborts',
  'partialConsumes',
  'partialExamines',
  'examineAllWaits',
  'multiSegment',
  'mismatches',
  'unexplainedMismatches',
  'lostBytes',
  'duplicatedBytes',
] as const;

export type WriterCounter = (typeof writerCounters)[number];
export type ReaderCounter = (typeof readerCounters)[number];

/** What a side is doing right now, as stored in the lane memory (for the hang dump). */
export const operations = ['idle', 'read', 'readSync', 'tryRead', 'write', 'writeSync', 'getMemory', 'flush', 'flushSync', 'complete', 'done', 'failed'] as const;
export type Operation = (typeof operations)[number];

const kArmed = 0;
const kWriterOp = 1;
const kReaderOp = 2;
const kStop = 3;
const kInterruptCount = 4;
const kInt32Words = 16;
const kPublishTs = 0;
const kFinalBytes = 1;
const kWriterBase = 2;
const kReaderBase = kWriterBase + writerCounters.length;
const kInterruptBase = kReaderBase + readerCounters.length;
/** The last interrupted operations the writer logs, for naming the one a mismatch falls in. */
const kInterruptLog = 256;
const kFloatWords = kInterruptBase + 3 * kInterruptLog;

/** Writer operations whose wait was cut short, as logged: a lost byte inside one of them names the culprit. */
const interruptions = ['write() canceled', 'write() aborted', 'writeSync() canceled', 'flush() canceled', 'flush() aborted', 'flushSync() canceled'] as const;
type Interruption = (typeof interruptions)[number];

const writerIndex = Object.fromEntries(writerCounters.map((name, i) => [name, kWriterBase + i])) as Record<WriterCounter, number>;
const readerIndex = Object.fromEntries(readerCounters.map((name, i) => [name, kReaderBase + i])) as Record<ReaderCounter, number>;
const operationIndex = Object.fromEntries(operations.map((name, i) => [name, i])) as Record<Operation, number>;

/**
 * The lane's shared counters and side channel. Counters are plain Float64 stores by one side each:
 * the main thread reads them for progress while they run (a torn read only blurs a progress line)
 * and exactly after the side reported done (its message orders the stores before the read).
 */
export class LaneMemory {
  readonly sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;

  static create(): LaneMemory {
    return new LaneMemory(new SharedArrayBuffer(kInt32Words * 4 + kFloatWords * 8));
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.#i32 = new Int32Array(sab, 0, kInt32Words);
    this.#f64 = new Float64Array(sab, kInt32Words * 4, kFloatWords);
  }

  writer(name: WriterCounter): number {
    return this.#f64[writerIndex[name]]!;
  }

  reader(name: ReaderCounter): number {
    return this.#f64[readerIndex[name]]!;
  }

  addWriter(name: WriterCounter, n = 1): void {
    this.#f64[writerIndex[name]]! += n;
  }

  addReader(name: ReaderCounter, n = 1): void {
    this.#f64[readerIndex[name]]! += n;
  }

  maxWriter(name: WriterCounter, value: number): void {
    if (value > this.#f64[writerIndex[name]]!) this.#f64[writerIndex[name]] = value;
  }

  setReader(name: ReaderCounter, value: number): void {
    this.#f64[readerIndex[name]] = value;
  }

  maxReader(name: ReaderCounter, value: number): void {
    if (value > this.#f64[readerIndex[name]]!) this.#f64[readerIndex[name]] = value;
  }

  setOperation(side: 'writer' | 'reader', operation: Operation): void {
    Atomics.store(this.#i32, side === 'writer' ? kWriterOp : kReaderOp, operationIndex[operation]);
  }

  operation(side: 'writer' | 'reader'): Operation {
    return operations[Atomics.load(this.#i32, side === 'writer' ? kWriterOp : kReaderOp)] ?? 'idle';
  }

  /** Tells the writers to finish at the next chunk (the --seconds limit). */
  stop(): void {
    Atomics.store(this.#i32, kStop, 1);
  }

  get stopped(): boolean {
    return Atomics.load(this.#i32, kStop) !== 0;
  }

  /** The writer's total, stored before it completes: what the reader must have received in all. */
  get finalBytes(): number {
    return this.#f64[kFinalBytes]!;
  }

  set finalBytes(value: number) {
    this.#f64[kFinalBytes] = value;
  }

  /**
   * The reader, about to read: clears the timestamp, then asks the next publish to stamp it. The
   * clear comes first, so a stamp from before this read never survives into it.
   */
  arm(): void {
    this.#f64[kPublishTs] = 0;
    Atomics.store(this.#i32, kArmed, 1);
  }

  /**
   * The writer, about to publish: the first publish after the reader armed stamps the time (a later
   * one does not overwrite it, so a wake-up lost on the first publish shows its full length).
   */
  stamp(): void {
    if (Atomics.load(this.#i32, kArmed) !== 0 && Atomics.exchange(this.#i32, kArmed, 0) !== 0 && this.#f64[kPublishTs] === 0) {
      this.#f64[kPublishTs] = wallNow();
    }
  }

  /** The writer logs an operation over stream bytes [start, end) whose wait was canceled or aborted. */
  logInterruption(start: number, end: number, kind: Interruption): void {
    const slot = kInterruptBase + 3 * (Atomics.load(this.#i32, kInterruptCount) % kInterruptLog);
    this.#f64[slot] = start;
    this.#f64[slot + 1] = end;
    this.#f64[slot + 2] = interruptions.indexOf(kind);
    Atomics.add(this.#i32, kInterruptCount, 1);
  }

  /** The logged interruptions whose bytes include `offset` (or end at it), the narrowest first. */
  interruptionsAt(offset: number): string[] {
    const count = Atomics.load(this.#i32, kInterruptCount);
    const found: { start: number; end: number; text: string }[] = [];
    for (let i = count - 1; i >= Math.max(0, count - kInterruptLog); i--) {
      const slot = kInterruptBase + 3 * (i % kInterruptLog);
      const start = this.#f64[slot]!;
      const end = this.#f64[slot + 1]!;
      if (start <= offset && offset <= end) found.push({ start, end, text: `${interruptions[this.#f64[slot + 2]!]} over stream bytes [${start}, ${end})` });
    }
    // The narrowest first: a write inside a flushed batch is more to the point than the batch.
    return found.sort((a, b) => a.end - a.start - (b.end - b.start)).map((entry) => entry.text);
  }

  /** The stamp of the first publish since the reader armed, or 0. */
  get publishTs(): number {
    return this.#f64[kPublishTs]!;
  }
}

/** Where a lane side runs: its thread's powers and how it reports notes. */
export interface LaneContext {
  readonly spec: LaneSpec;
  readonly memory: LaneMemory;
  /** This thread may block in readSync / flushSync (a worker). */
  readonly canBlock: boolean;
  note(note: SoakNote): void;
}

/** Thrown by a reader whose bytes differ from the stream; its `code` survives the ring to the writer. */
class StreamMismatchError extends Error {
  readonly code = 'E_SOAK_MISMATCH';
  readonly mismatch: MismatchReport;

  constructor(lane: number, mismatch: MismatchReport, detail: string) {
    super(`lane ${lane}: ${mismatch.kind} at stream offset ${mismatch.offset}${mismatch.distance > 0 ? ` (${mismatch.distance} bytes)` : ''}: expected ${mismatch.expected}, received ${mismatch.received}; ${detail}`);
    this.name = 'StreamMismatchError';
    this.mismatch = mismatch;
  }
}

/** A broken promise of the pipe that ends a lane (a wrong total, a flush reporting a completion that did not happen). */
class LaneFailure extends Error {
  readonly code = 'E_SOAK_LANE';

  constructor(message: string) {
    super(message);
    this.name = 'LaneFailure';
  }
}

export function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A uniformly random integer in [min, max]. */
export function randomInt(rng: () => number, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1));
}

/** Log-uniform in [1, max], with extra weight on 1 and on max. */
export function chunkSize(rng: () => number, max: number): number {
  const pick = rng();
  if (pick < 0.04) return 1;
  if (pick < 0.08) return max;
  return Math.max(1, Math.round(Math.exp(rng() * Math.log(max))));
}

/** How far a writer extends its goal at a time while the ring has not reached its positions goal. */
const kGoalStep = 64 * 1024 * 1024;

/** How long a loop may run on settled promises before it lets timers and messages in. */
const kYieldEveryMs = 4;

/**
 * An async loop whose operations keep completing at once never leaves the microtask queue, so
 * timers (the self-cancels, a victim's death, the main thread's watchdog) would never run.
 */
export class Yielder {
  #last = performance.now();

  async maybeYield(): Promise<void> {
    const now = performance.now();
    if (now - this.#last < kYieldEveryMs) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.#last = performance.now();
  }
}

export function chooseSync(rng: () => number, mode: ApiMode, canBlock: boolean): boolean {
  if (!canBlock || mode === 'async') return false;
  return mode === 'sync' || rng() < 0.5;
}

/** Chance that an async operation gets an AbortSignal that is aborted while it runs. */
const kAbortChance = 0.03;
/** Chance that an async operation's own thread cancels it while it runs. */
const kSelfCancelChance = 0.03;

/** Aborts and self-cancels for one async operation, each fired from a microtask, an immediate or a short timer. */
class Chaos {
  readonly #rng: () => number;
  readonly #features: Features;

  constructor(rng: () => number, features: Features) {
    this.#rng = rng;
    this.#features = features;
  }

  /**
   * Runs `operation`, maybe aborting it (`preAbort`: the signal may be aborted before the call) or
   * cancelling it with `cancel`. Resolves null when it was aborted.
   */
  async run<T>(operation: (options?: OperationOptions) => Promise<T>, cancel: () => void, preAbort: boolean, counted: { abort(): void; cancel(): void }): Promise<T | null> {
    const roll = this.#rng();
    let controller: AbortController | undefined;
    let undo: (() => void) | undefined;
    if (this.#features.abort && roll < kAbortChance) {
      controller = new AbortController();
      counted.abort();
      const abort = controller.abort.bind(controller);
      if (preAbort && this.#rng() < 0.2) abort();
      else undo = this.#later(abort);
    } else if (this.#features.cancel && roll < kAbortChance + kSelfCancelChance) {
      counted.cancel();
      undo = this.#later(cancel);
    }
    try {
      return await operation(controller === undefined ? undefined : { signal: controller.signal });
    } catch (error) {
      if (controller?.signal.aborted && isAbortError(error)) return null;
      throw error;
    } finally {
      undo?.();
    }
  }

  #later(action: () => void): () => void {
    const how = this.#rng();
    if (how < 0.3) {
      let live = true;
      queueMicrotask(() => live && action());
      return () => (live = false);
    }
    if (how < 0.6) {
      const immediate = setImmediate(action);
      return () => clearImmediate(immediate);
    }
    const timer = setTimeout(action, randomInt(this.#rng, 0, 3));
    return () => clearTimeout(timer);
  }
}

/** A getMemory hint: mostly what a chunk needs, sometimes 0, above half the ring, above its capacity. */
function memoryHint(rng: () => number, capacity: number, remaining: number, big: boolean): number {
  const pick = rng();
  if (pick < 0.1) return 0;
  if (big && pick < 0.2) return randomInt(rng, capacity / 2 + 1, capacity);
  if (big && pick < 0.27) return randomInt(rng, capacity + 1, 2 * capacity);
  return Math.min(remaining, chunkSize(rng, capacity / 2));
}

/** What each side of a lane works with: its own seeded choices, the lane's stream, its chaos. */
function sideKit(spec: LaneSpec, seed: number): { rng: () => number; stream: ByteStream; chaos: Chaos; yielder: Yielder } {
  const rng = seededRandom(seed);
  return { rng, stream: new ByteStream(spec.streamSeed), chaos: new Chaos(rng, spec.features), yielder: new Yielder() };
}

/** Sends the lane's bytes, then completes the writer (with the error, if one ends the lane). */
export async function runLaneWriter(writer: SharedPipeWriter, ctx: LaneContext): Promise<void> {
  const { spec, memory } = ctx;
  const { rng, stream, chaos, yielder } = sideKit(spec, spec.writerSeed);
  const capacity = writer.capacity;
  const scratch = new Uint8Array(2 * capacity);
  const counted = { abort: () => memory.addWriter('selfAborts'), cancel: () => memory.addWriter('selfCancels') };
  const cancel = (): void => writer.cancelPendingFlush();
  let offset = 0;

  /** Counts the outcome of a wait over stream bytes [start, offset); `how` names the call. */
  const settle = (result: FlushResult | null, started: number, start: number, how: 'write()' | 'writeSync()' | 'flush()' | 'flushSync()'): void => {
    memory.maxWriter('longestFlushMs', performance.now() - started);
    if (result === null) {
      memory.addWriter('flushAborted');
      memory.logInterruption(start, offset, `${how} aborted` as Interruption);
    } else if (result.isCanceled) {
      memory.addWriter('flushCanceled');
      memory.logInterruption(start, offset, `${how} canceled` as Interruption);
    }
    if (result?.isCompleted) throw new LaneFailure(`lane ${spec.id}: a flush reported the reader completed at stream offset ${offset}, but the reader had not completed`);
  };

  /** write() / writeSync() of the next `size` stream bytes; every byte counts as handed over, whatever the result. */
  const writeChunk = async (size: number, sync: boolean): Promise<void> => {
    const data = scratch.subarray(0, size);
    stream.fill(data, offset);
    memory.stamp();
    const started = performance.now();
    let result: FlushResult | null;
    if (sync) {
      memory.setOperation('writer', 'writeSync');
      memory.addWriter('writeSyncs');
      result = writer.writeSync(data);
    } else {
      memory.setOperation('writer', 'write');
      memory.addWriter('writes');
      // No abort before the call here: whether a write refused up front hands its bytes over is not pinned down.
      result = await chaos.run((options) => writer.write(data, options), cancel, false, counted);
    }
    offset += size;
    memory.addWriter('bytes', size);
    memory.addWriter('chunks');
    settle(result, started, offset - size, sync ? 'writeSync()' : 'write()');
  };

  try {
    // The goal grows past `bytes` while the ring has not yet reached `minRingPositions` (bytes lost
    // to a broken cancel never reach the ring, and the run past 2^32 positions must still happen).
    let goal = spec.bytes;
    for (;;) {
      if (offset >= goal && writer.stats().bytesWritten < spec.minRingPositions) goal = offset + kGoalStep;
      if (offset >= goal || memory.stopped) break;
      await yielder.maybeYield();
      const sync = chooseSync(rng, spec.writerMode, ctx.canBlock);
      if (rng() < 0.3) {
        await writeChunk(Math.min(goal - offset, chunkSize(rng, 2 * capacity)), sync);
        continue;
      }
      const batch = randomInt(rng, 1, 3);
      const batchStart = offset;
      for (let i = 0; i < batch && offset < goal; i++) {
        const remaining = goal - offset;
        const hint = memoryHint(rng, capacity, remaining, spec.features.bigMemory);
        memory.setOperation('writer', 'getMemory');
        memory.addWriter('getMemory');
        if (hint > capacity) memory.addWriter('getMemoryAboveCapacity');
        else if (hint > capacity / 2) memory.addWriter('getMemoryAboveHalf');
        let block: Uint8Array;
        try {
          block = writer.getMemory(hint);
        } catch (error) {
          memory.addWriter('memoryFailures');
          ctx.note({ kind: 'contract', lane: spec.id, side: 'writer', what: `getMemory(${hint}) on a ${capacity}-byte ring threw`, code: errorCode(error), message: (error as Error).message });
          // Keep the stream going: write() places the chunk (after what this batch advanced) in turns.
          await writeChunk(Math.min(remaining, Math.max(1, hint)), sync);
          continue;
        }
        if (block.length < Math.max(1, hint)) {
          ctx.note({ kind: 'contract', lane: spec.id, side: 'writer', what: `getMemory(${hint}) returned ${block.length} bytes`, code: undefined, message: 'less than max(sizeHint, 1)' });
        }
        const room = Math.min(block.length, remaining);
        const pick = rng();
        const count = pick < 0.6 ? Math.min(room, Math.max(1, hint)) : pick < 0.85 ? randomInt(rng, 1, room) : room;
        if (count < Math.min(room, Math.max(1, hint))) memory.addWriter('partialAdvances');
        stream.fill(block.subarray(0, count), offset);
        writer.advance(count);
        offset += count;
        memory.addWriter('bytes', count);
        memory.addWriter('chunks');
      }
      if (writer.unflushedBytes === 0) continue;
      memory.stamp();
      const started = performance.now();
      if (sync) {
        memory.setOperation('writer', 'flushSync');
        memory.addWriter('flushSyncs');
        settle(writer.flushSync(), started, batchStart, 'flushSync()');
      } else {
        memory.setOperation('writer', 'flush');
        memory.addWriter('flushes');
        settle(await chaos.run((options) => writer.flush(options), cancel, true, counted), started, batchStart, 'flush()');
      }
    }
    memory.finalBytes = offset;
    memory.setOperation('writer', 'complete');
    memory.stamp();
    writer.complete();
    memory.setOperation('writer', 'done');
  } catch (error) {
    memory.setOperation('writer', 'failed');
    writer.complete(error as Error);
    throw error;
  }
}

/** Receives and checks the lane's bytes until the writer completes, then completes the reader. */
export async function runLaneReader(reader: SharedPipeReader, ctx: LaneContext): Promise<void> {
  const { spec, memory } = ctx;
  const { rng, stream, chaos, yielder } = sideKit(spec, spec.readerSeed);
  const keepMax = spec.features.partial ? Math.floor(reader.capacity / 4) : 0;
  const counted = { abort: () => memory.addReader('selfAborts'), cancel: () => memory.addReader('selfCancels') };
  const cancel = (): void => reader.cancelPendingRead();
  const checker = new StreamChecker(stream, spec.id);
  /** Pipe offsets (bytes received, counted from the first): consumed, examined, and the end of what earlier reads presented. */
  let consumed = 0;
  let examined = 0;
  let presented = 0;
  try {
    for (;;) {
      await yielder.maybeYield();
      const sync = chooseSync(rng, spec.readerMode, ctx.canBlock);
      let result: ReadResult | null;
      const waitsBefore = reader.stats().readerWaits;
      memory.arm();
      if (!sync && rng() < 0.1) {
        memory.setOperation('reader', 'tryRead');
        memory.addReader('tryReads');
        result = reader.tryRead();
        if (result === null) {
          memory.addReader('tryReadEmpty');
          continue;
        }
      } else if (sync) {
        memory.setOperation('reader', 'readSync');
        memory.addReader('readSyncs');
        result = reader.readSync();
      } else {
        memory.setOperation('reader', 'read');
        memory.addReader('reads');
        result = await chaos.run((options) => reader.read(options), cancel, true, counted);
        if (result === null) {
          memory.addReader('readAborted');
          continue;
        }
      }
      const returned = wallNow();
      if (reader.stats().readerWaits > waitsBefore && !result.isCanceled) {
        memory.addReader('slept');
        const published = memory.publishTs;
        if (published > 0) recordStall(memory, returned - published, spec.stallLimitMs, sync);
      }
      if (result.isCanceled) memory.addReader('readCanceled');
      const buffer = result.buffer;
      const length = buffer.length;
      if (!buffer.isSingleSegment) memory.addReader('multiSegment');
      const hold = checker.check(buffer, consumed, result.isCompleted, (mismatch, pipeOffset) => {
        const culprits = memory.interruptionsAt(mismatch.offset);
        const where = `read of ${length} bytes at pipe offset ${consumed} (examined to ${examined}), ${buffer.isSingleSegment ? 'one segment' : 'two segments'}${result.isCanceled ? ', canceled' : ''}`;
        noteMismatch(
          ctx,
          culprits.length === 0,
          `${mismatch.distance} bytes ${mismatch.kind} at stream offset ${mismatch.offset} (pipe offset ${pipeOffset})`,
          culprits[0]?.replace(/ over .*/, ''),
          `${where}; expected ${mismatch.expected}, received ${mismatch.received}${culprits.length > 0 ? `; the offset falls in: ${culprits.join(', ')}` : ''}`,
        );
        memory.addReader(mismatch.kind === 'lost' ? 'lostBytes' : 'duplicatedBytes', mismatch.distance);
      });
      const again = Math.min(length, Math.max(0, presented - consumed));
      memory.addReader('rechecked', again);
      memory.addReader('checked', length - again);
      presented = Math.max(presented, consumed + length);

      if (result.isCompleted) {
        // The writer stores its total before it completes; short of the lane's bytes only when stopped.
        const total = memory.finalBytes;
        if (total < spec.bytes && !memory.stopped) throw new LaneFailure(`lane ${spec.id}: the writer completed after ${total} of ${spec.bytes} bytes without being stopped`);
        const end = checker.streamOffset(consumed + length);
        if (end !== total) {
          const culprits = memory.interruptionsAt(end);
          noteMismatch(
            ctx,
            culprits.length === 0,
            `the writer completed with the stream at ${end} of ${total} bytes`,
            culprits[0]?.replace(/ over .*/, ''),
            `${Math.abs(total - end)} bytes ${end < total ? 'never arrived (a lost tail)' : 'more than were written'}${culprits.length > 0 ? `; the offset falls in: ${culprits.join(', ')}` : ''}`,
          );
          memory.addReader(end < total ? 'lostBytes' : 'duplicatedBytes', Math.abs(total - end));
        }
        reader.advanceTo(buffer.end);
        consumed += length;
        memory.addReader('bytes', length);
        break;
      }
      if (hold >= 0) {
        // Too few bytes after a mismatch to tell what happened: keep them and wait for more.
        reader.advanceTo(buffer.getPosition(hold - consumed), buffer.end);
        examined = consumed + length;
        consumed = hold;
        checker.forget(consumed);
        continue;
      }
      const minExamined = examined - consumed;
      if (length < minExamined) {
        throw new LaneFailure(`lane ${spec.id}: a read returned ${length} bytes at stream offset ${consumed}, fewer than the ${minExamined} already examined there (lost bytes)`);
      }
      let consume = length;
      let examine = length;
      const pick = rng();
      if (result.isCanceled && pick < 0.5) {
        consume = 0;
        examine = minExamined;
      } else if (keepMax > 0 && length > 0 && pick < 0.15) {
        // Consume part, examine everything: the next read must wait for bytes beyond the end.
        consume = length - randomInt(rng, 1, Math.min(keepMax, length));
        memory.addReader('partialConsumes');
        memory.addReader('examineAllWaits');
      } else if (keepMax > 0 && length > 0 && pick < 0.25) {
        examine = randomInt(rng, Math.max(minExamined, length - keepMax), length);
        consume = randomInt(rng, Math.max(0, length - keepMax), examine);
        memory.addReader('partialExamines');
      }
      reader.advanceTo(buffer.getPosition(consume), buffer.getPosition(examine));
      examined = consumed + examine;
      consumed += consume;
      checker.forget(consumed);
      memory.addReader('bytes', consume);
    }
    memory.setOperation('reader', 'complete');
    reader.complete();
    memory.setOperation('reader', 'done');
  } catch (error) {
    memory.setOperation('reader', 'failed');
    reader.complete(error as Error);
    throw error;
  }
}

/** A lane gives up after this many mismatches; the first few are reported in full. */
const kMaxMismatches = 100_000;
const kMismatchNotes = 20;

/**
 * Checks what the reader receives against the stream. Pipe offsets count bytes as received; a
 * mismatch whose bytes are found nearby in the stream (lost or repeated bytes) is reported, and from
 * there on pipe offsets map to the stream where they were found, so one loss does not end the lane
 * and every later byte is still checked. Bytes found nowhere near end the lane.
 */
class StreamChecker {
  readonly #stream: ByteStream;
  readonly #lane: number;
  /** From each `pipe` offset on (ascending), stream offset = pipe offset + shift. */
  #breaks: { pipe: number; shift: number }[] = [{ pipe: 0, shift: 0 }];

  constructor(stream: ByteStream, lane: number) {
    this.#stream = stream;
    this.#lane = lane;
  }

  streamOffset(pipe: number): number {
    return pipe + this.#breaks[this.#breakAt(pipe)]!.shift;
  }

  /**
   * Checks `buffer`, received at pipe offset `at`, calling `placed` for each mismatch it can place.
   * Returns the pipe offset of a mismatch too close to the end of the buffer to place (the reader
   * consumes up to it and waits for more), or -1. `final`: no more bytes will come.
   */
  check(buffer: ReadOnlySequence, at: number, final: boolean, placed: (mismatch: MismatchReport, pipeOffset: number) => void): number {
    let p = at;
    for (const segment of buffer) {
      for (let i = 0; i < segment.length;) {
        const b = this.#breakAt(p + i);
        const shift = this.#breaks[b]!.shift;
        const end = Math.min(segment.length, (this.#breaks[b + 1]?.pipe ?? Infinity) - p);
        const index = this.#stream.firstMismatch(segment.subarray(i, end), p + i + shift);
        if (index < 0) {
          i = end;
          continue;
        }
        const q = p + i + index;
        const received = buffer.slice(q - at, Math.min(buffer.length, q - at + kNeedleBytes)).toUint8Array();
        if (received.length < kNeedleBytes && !final) return q;
        const mismatch = this.#stream.describe(received, q + shift);
        if (mismatch.kind === 'corrupted') {
          throw new StreamMismatchError(this.#lane, mismatch, `pipe offset ${q}, in a read of ${buffer.length} bytes at pipe offset ${at}`);
        }
        placed(mismatch, q);
        // Whatever was mapped beyond q came before this mismatch was seen: the new mapping replaces it.
        this.#breaks.splice(b + 1);
        this.#breaks.push({ pipe: q, shift: shift + (mismatch.kind === 'lost' ? mismatch.distance : -mismatch.distance) });
        i += index;
      }
      p += segment.length;
    }
    return -1;
  }

  /** Drops mappings that only cover bytes before `consumed`: they are never presented again. */
  forget(consumed: number): void {
    const b = this.#breakAt(consumed);
    if (b > 0) this.#breaks.splice(0, b);
  }

  #breakAt(pipe: number): number {
    let b = this.#breaks.length - 1;
    while (b > 0 && this.#breaks[b]!.pipe > pipe) b--;
    return b;
  }
}

/**
 * Counts a mismatch and reports the first few in full. `unexplained`: no canceled or aborted writer
 * operation covers its offset, so it is not the known loss of a cut-short write (reported apart).
 */
function noteMismatch(ctx: LaneContext, unexplained: boolean, what: string, culprit: string | undefined, message: string): void {
  const { memory, spec } = ctx;
  memory.addReader('mismatches');
  if (unexplained) memory.addReader('unexplainedMismatches');
  if (memory.reader('mismatches') > kMaxMismatches) throw new LaneFailure(`lane ${spec.id}: more than ${kMaxMismatches} mismatches, giving up`);
  const shown = unexplained ? memory.reader('unexplainedMismatches') : memory.reader('mismatches') - memory.reader('unexplainedMismatches');
  if (shown <= kMismatchNotes) ctx.note({ kind: 'mismatch', lane: spec.id, side: 'reader', what, code: culprit ?? kUnexplained, message });
}

/** The cause given to a mismatch no canceled or aborted writer operation covers. */
export const kUnexplained = 'no canceled or aborted writer operation there';

function recordStall(memory: LaneMemory, ms: number, limitMs: number, sync: boolean): void {
  memory.addReader('stallSamples');
  memory.addReader('stallTotalMs', ms);
  if (ms > memory.reader('longestStallMs')) {
    memory.setReader('longestStallMs', ms);
    memory.setReader('longestStallInReadSync', sync ? 1 : 0);
  }
  if (ms > limitMs) memory.addReader('stallsOverLimit');
  memory.addReader(ms < 1 ? 'stallUnder1ms' : ms < 10 ? 'stallUnder10ms' : ms < 50 ? 'stallUnder50ms' : ms < 200 ? 'stallUnder200ms' : 'stallOver200ms');
}
