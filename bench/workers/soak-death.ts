// Peer-death episodes of the soak: a fresh SharedPipe whose one end goes to a victim thread that
// streams for a moment and then dies (terminated, an uncaught throw, process.exit), while the far end
// (on the main thread or the long-lived survivor worker) keeps reading or writing and must fail with
// ERR_PIPE_PEER_EXITED. Every byte that crosses before the death is checked, on both sides.
import type { SharedPipeReader, SharedPipeWriter } from 'threadpipe';
import { seededRandom } from '../../test/fixtures/random.js';
import { chooseSync, chunkSize, errorCode, Yielder } from './soak-lane.js';
import { ByteStream, kNeedleBytes, wallNow } from './soak-stream.js';

export type DeathCause = 'terminate' | 'throw' | 'exit';
/** How the victim's end reached its thread. */
export type MoveKind = 'handle()' | 'watchWorker' | 'ThreadScheduler';

export interface DeathPlan {
  readonly id: number;
  readonly cause: DeathCause;
  readonly move: MoveKind;
  /** The end the dying thread holds. */
  readonly victimSide: 'reader' | 'writer';
  /** Where the far end lives. */
  readonly far: 'main' | 'worker';
  /** The far end (on the survivor worker) uses readSync / writeSync. */
  readonly farSync: boolean;
  /** The victim uses readSync / writeSync (only when it is terminated: a blocked thread cannot throw). */
  readonly victimSync: boolean;
  readonly capacity: number;
  readonly streamSeed: number;
  readonly victimSeed: number;
  readonly farSeed: number;
  /** After how long the victim dies (throw / exit: its own timer; terminate: the main thread's). */
  readonly dieAfterMs: number;
}

/** The exit code a victim's process.exit() uses, to tell it from other exits. */
export const kVictimExitCode = 7;

const kReady = 0;
const kGiveUp = 1;
const kVictimMismatch = 2;
const kDeathTs = 0;

/** The episode's shared words: victim ready, give-up (the far end stops waiting), death time. */
export class EpisodeMemory {
  readonly sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #f64: Float64Array;

  static create(): EpisodeMemory {
    return new EpisodeMemory(new SharedArrayBuffer(32));
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.#i32 = new Int32Array(sab, 0, 4);
    this.#f64 = new Float64Array(sab, 16, 2);
  }

  get readyWord(): { readonly array: Int32Array; readonly index: number } {
    return { array: this.#i32, index: kReady };
  }

  markReady(): void {
    Atomics.store(this.#i32, kReady, 1);
    Atomics.notify(this.#i32, kReady);
  }

  get ready(): boolean {
    return Atomics.load(this.#i32, kReady) !== 0;
  }

  giveUp(): void {
    Atomics.store(this.#i32, kGiveUp, 1);
  }

  get gaveUp(): boolean {
    return Atomics.load(this.#i32, kGiveUp) !== 0;
  }

  markVictimMismatch(): void {
    Atomics.store(this.#i32, kVictimMismatch, 1);
  }

  get victimMismatch(): boolean {
    return Atomics.load(this.#i32, kVictimMismatch) !== 0;
  }

  get deathTs(): number {
    return this.#f64[kDeathTs]!;
  }

  set deathTs(value: number) {
    this.#f64[kDeathTs] = value;
  }
}

/** What the far end saw. `code` is set when an operation failed; `detectTs` is when it did. */
export interface FarReport {
  readonly outcome: 'failed' | 'completed' | 'gave-up' | 'mismatch';
  readonly code: string | undefined;
  readonly message: string;
  readonly detectTs: number;
  readonly bytes: number;
}

/** Streams on the victim's end until the thread dies; never returns. */
export async function runVictim(end: SharedPipeReader | SharedPipeWriter, plan: DeathPlan, memory: EpisodeMemory): Promise<never> {
  if (plan.cause !== 'terminate') {
    setTimeout(() => {
      memory.deathTs = wallNow();
      if (plan.cause === 'exit') process.exit(kVictimExitCode);
      throw new Error(`soak: victim of episode ${plan.id} throws`);
    }, plan.dieAfterMs);
  }
  memory.markReady();
  const rng = seededRandom(plan.victimSeed);
  const stream = new ByteStream(plan.streamSeed);
  const yielder = new Yielder();
  const sync = plan.victimSync && plan.cause === 'terminate';
  let offset = 0;
  if ('flush' in end) {
    const scratch = new Uint8Array(end.capacity);
    for (;;) {
      await yielder.maybeYield();
      const data = scratch.subarray(0, chunkSize(rng, end.capacity));
      stream.fill(data, offset);
      offset += data.length;
      if (sync) end.writeSync(data);
      else await end.write(data);
    }
  }
  for (;;) {
    await yielder.maybeYield();
    const result = sync ? end.readSync() : await end.read();
    for (const segment of result.buffer) {
      if (stream.firstMismatch(segment, offset) >= 0) memory.markVictimMismatch();
      offset += segment.length;
    }
    end.advanceTo(result.buffer.end);
  }
}

/** The far end: reads (checking) or writes until an operation fails, the pipe completes, or the episode gives up. */
export async function runFar(end: SharedPipeReader | SharedPipeWriter, plan: DeathPlan, memory: EpisodeMemory, canBlock: boolean): Promise<FarReport> {
  const rng = seededRandom(plan.farSeed);
  const stream = new ByteStream(plan.streamSeed);
  const yielder = new Yielder();
  const mode = plan.farSync ? 'sync' : 'async';
  let offset = 0;
  const report = (outcome: FarReport['outcome'], error?: unknown): FarReport => ({
    outcome,
    code: errorCode(error),
    message: error instanceof Error ? error.message : '',
    detectTs: wallNow(),
    bytes: offset,
  });
  try {
    if ('flush' in end) {
      const scratch = new Uint8Array(end.capacity);
      for (;;) {
        await yielder.maybeYield();
        if (memory.gaveUp) return report('gave-up');
        const data = scratch.subarray(0, chunkSize(rng, end.capacity / 2));
        stream.fill(data, offset);
        offset += data.length;
        const result = chooseSync(rng, mode, canBlock) ? end.writeSync(data) : await end.write(data);
        if (result.isCompleted) return report('completed');
      }
    }
    for (;;) {
      await yielder.maybeYield();
      if (memory.gaveUp) return report('gave-up');
      const result = chooseSync(rng, mode, canBlock) ? end.readSync() : await end.read();
      if (result.isCanceled && memory.gaveUp) return report('gave-up');
      let at = 0;
      for (const segment of result.buffer) {
        const index = stream.firstMismatch(segment, offset + at);
        if (index >= 0) {
          const received = result.buffer.slice(at + index, Math.min(result.buffer.length, at + index + kNeedleBytes)).toUint8Array();
          return { ...report('mismatch'), message: JSON.stringify(stream.describe(received, offset + at + index)) };
        }
        at += segment.length;
      }
      offset += at;
      end.advanceTo(result.buffer.end);
      if (result.isCompleted) return report('completed');
    }
  } catch (error) {
    return report('failed', error);
  } finally {
    end.complete();
  }
}
