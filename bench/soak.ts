// The soak: `npm run soak -- --gib 10 [--seed N] [--seconds S] ...` (--help lists everything).
// Randomized traffic through SharedPipes main→worker, worker→main and worker→worker, on small and
// large rings (one lane past 2^32 ring positions when the run is large enough), every byte checked
// against a seeded stream; cancels and aborts on reads and flushes; peer deaths on fresh pipes.
// Prints GiB/s, the longest wake-up stall, the counts of each event and the peer-death latencies.
// Exit codes: 0 passed, 1 failed (mismatch, broken contract, hang, stall or death over its limit),
// 2 bad arguments, 3 stopped by --seconds before the requested bytes were moved.
import { availableParallelism, cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { pendingOperations, SharedPipe, ThreadScheduler, watchWorker, type RingStats, type SharedPipeReader, type SharedPipeWriter } from 'threadpipe';
import { seededRandom } from '../test/fixtures/random.js';
import { EpisodeMemory, kVictimExitCode, runFar, type DeathCause, type DeathPlan, type FarReport, type MoveKind } from './workers/soak-death.js';
import {
  kUnexplained,
  LaneMemory,
  randomInt,
  readerCounters,
  runLaneReader,
  runLaneWriter,
  writerCounters,
  type ApiMode,
  type Direction,
  type Features,
  type LaneSpec,
  type ReaderCounter,
  type SoakNote,
  type WriterCounter,
} from './workers/soak-lane.js';
import type { ErrorInfo, FromPeer, PeerData, ToPeer } from './workers/soak-peer.js';
import { wallNow } from './workers/soak-stream.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
/** The lane that runs one ring past 2^32 positions (data and ring positions both), when the run is large enough to hold it. */
const kWrapLaneBytes = 4.25 * GiB;
const kWrapLaneMinTotal = 4.5 * GiB;
/** An ordinary lane carries at most this share of the run, so a short run still has every kind of lane. */
const kLaneShare = 6;
const kMinLaneBytes = 1 * MiB;
/** The death → ERR_PIPE_PEER_EXITED latency the design promises (printed beside the measured ones). */
const kDeathContractMs = 100;
/** How long a worker may take to start, end, or answer before that counts as a hang. */
const kThreadBoundMs = 10_000;
const kDumpAnswerMs = 1_000;
const kProgressEveryMs = 5_000;
const kWatchdogEveryMs = 1_000;
const kLoopDelayResolutionMs = 5;

const peerUrl = new URL('./workers/soak-peer.js', import.meta.url);
const tasksUrl = new URL('./workers/soak-tasks.js', import.meta.url);

const exitCodes = { passed: 0, failed: 1, usage: 2, incomplete: 3 } as const;

const featureNames = ['cancel', 'abort', 'big-memory', 'partial', 'sync', 'deaths'] as const;
type FeatureName = (typeof featureNames)[number];

interface Options {
  gib: number;
  seed: number;
  seconds: number;
  maxStallMs: number;
  hangSeconds: number;
  deathLimitMs: number;
  deaths: number;
  parallel: number;
  skip: Set<FeatureName>;
}

const usage = `usage: npm run soak -- [options]

  --gib N             GiB to move and check in all (default 10; fractions allowed, e.g. 0.5)
  --seed N            seed of every random choice, 0..4294967295 (default: random, printed)
  --seconds N         stop the traffic after N seconds (default 0: no limit); exit code 3 if
                      the requested GiB were not reached by then
  --max-stall-ms N    fail when a sleeping reader's wake-up takes longer (default 150)
  --hang-seconds N    fail when a lane or episode makes no progress for this long (default 30)
  --death-limit-ms N  fail when a far end takes longer to fail with ERR_PIPE_PEER_EXITED (default 1000)
  --deaths N          at least N peer-death episodes (default 32: each kind once); more run while
                      the traffic lasts
  --parallel N        traffic lanes at once, 1..8 (default 2)
  --skip LIST         comma-separated: ${featureNames.join(', ')}
  -h, --help          this text

exit codes: 0 passed, 1 failed, 2 bad arguments, 3 stopped by --seconds first`;

class UsageError extends Error {}

function parseNumber(name: string, text: string | undefined, fallback: number, min: number, max: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${text}'`);
  }
  return value;
}

function parseOptions(argv: string[]): Options | null {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        gib: { type: 'string' },
        seed: { type: 'string' },
        seconds: { type: 'string' },
        'max-stall-ms': { type: 'string' },
        'hang-seconds': { type: 'string' },
        'death-limit-ms': { type: 'string' },
        deaths: { type: 'string' },
        parallel: { type: 'string' },
        skip: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return null;
  const skip = new Set<FeatureName>();
  for (const item of (values.skip ?? '').split(',').filter((s) => s !== '')) {
    if (!(featureNames as readonly string[]).includes(item)) throw new UsageError(`--skip: unknown feature '${item}' (known: ${featureNames.join(', ')})`);
    skip.add(item as FeatureName);
  }
  const gib = parseNumber('gib', values.gib, 10, 0.001, 1024, false);
  return {
    gib,
    seed: parseNumber('seed', values.seed, (Math.random() * 2 ** 32) >>> 0, 0, 2 ** 32 - 1, true),
    seconds: parseNumber('seconds', values.seconds, 0, 0, 7 * 24 * 3600, false),
    maxStallMs: parseNumber('max-stall-ms', values['max-stall-ms'], 150, 1, 60_000, false),
    hangSeconds: parseNumber('hang-seconds', values['hang-seconds'], 30, 1, 3600, false),
    deathLimitMs: parseNumber('death-limit-ms', values['death-limit-ms'], 1000, 1, 60_000, false),
    deaths: parseNumber('deaths', values.deaths, 32, 0, 100_000, true),
    parallel: parseNumber('parallel', values.parallel, 2, 1, 8, true),
    skip,
  };
}

// ---------------------------------------------------------------- planning

function features(options: Options): Features {
  return {
    cancel: !options.skip.has('cancel'),
    abort: !options.skip.has('abort'),
    bigMemory: !options.skip.has('big-memory'),
    partial: !options.skip.has('partial'),
    sync: !options.skip.has('sync'),
  };
}

const directions: readonly Direction[] = ['main→worker', 'worker→main', 'worker→worker'];

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)]!;
}

function workerMode(rng: () => number, onWorker: boolean, sync: boolean): ApiMode {
  if (!onWorker || !sync) return 'async';
  return pick(rng, ['async', 'sync', 'mixed', 'mixed'] as const);
}

/**
 * Pause thresholds: the ring's default, random ones (some tiny, so that nearly every flush waits for
 * the reader), or off. Small budgets go with tiny pauses: every byte costs a wake-up there.
 */
function pausePlan(rng: () => number, capacity: number): { pause: number | undefined; resume: number | undefined; slow: boolean } {
  const roll = rng();
  if (roll < 0.3) return { pause: undefined, resume: undefined, slow: false };
  if (roll < 0.4) return { pause: 0, resume: 0, slow: false };
  if (roll < 0.5) {
    const pause = randomInt(rng, 1, 64);
    return { pause, resume: randomInt(rng, 0, pause), slow: true };
  }
  const pause = randomInt(rng, Math.max(1, capacity / 8), capacity);
  return { pause, resume: randomInt(rng, 0, pause), slow: false };
}

/** The smallest ring a growing lane may start with. */
const kSmallestRing = 16;

function planLanes(options: Options, rng: () => number): LaneSpec[] {
  const total = Math.ceil(options.gib * GiB);
  const lanes: LaneSpec[] = [];
  const f = features(options);
  const make = (direction: Direction, capacity: number, bytes: number, pause: ReturnType<typeof pausePlan>, minRingPositions = 0, startCapacity?: number): LaneSpec => ({
    id: lanes.length + 1,
    direction,
    capacity,
    startCapacity,
    pauseWriterThreshold: pause.pause,
    resumeWriterThreshold: pause.resume,
    bytes,
    minRingPositions,
    streamSeed: (rng() * 2 ** 32) >>> 0,
    writerSeed: (rng() * 2 ** 32) >>> 0,
    readerSeed: (rng() * 2 ** 32) >>> 0,
    writerMode: workerMode(rng, direction !== 'main→worker', f.sync),
    readerMode: workerMode(rng, direction !== 'worker→main', f.sync),
    features: f,
    stallLimitMs: options.maxStallMs,
  });
  let remaining = total;
  if (total >= kWrapLaneMinTotal) {
    lanes.push(make(pick(rng, directions), pick(rng, [MiB, 4 * MiB]), kWrapLaneBytes, { pause: undefined, resume: undefined, slow: false }, kWrapLaneBytes));
    remaining -= kWrapLaneBytes;
  }
  const share = Math.max(kMinLaneBytes, Math.ceil(total / kLaneShare));
  // Round-robin over direction x ring size, so every kind of lane comes early.
  for (let i = 0; remaining > 0; i++) {
    const direction = directions[i % directions.length]!;
    const small = Math.floor(i / directions.length) % 2 === 0;
    const capacity = small ? 2 ** randomInt(rng, 12, 16) : 2 ** randomInt(rng, 20, 22);
    const pause = pausePlan(rng, capacity);
    // Small rings hand over a few KiB per wake-up, so they get less to carry.
    let bytes = small ? capacity * randomInt(rng, 256, 2048) : randomInt(rng, 64, 512) * MiB;
    if (pause.slow) bytes = Math.ceil(bytes / 16);
    bytes = Math.min(bytes, share, remaining);
    if (remaining - bytes < kMinLaneBytes) bytes = remaining;
    // Every third round's lanes start small and grow to their size while they run.
    const growing = Math.floor(i / directions.length) % 3 === 2;
    lanes.push(make(direction, capacity, bytes, pause, 0, growing ? Math.max(kSmallestRing, capacity >> randomInt(rng, 4, 10)) : undefined));
    remaining -= bytes;
  }
  return lanes;
}

function planDeaths(rng: () => number): Omit<DeathPlan, 'id' | 'farSync' | 'victimSync' | 'capacity' | 'streamSeed' | 'victimSeed' | 'farSeed' | 'dieAfterMs'>[] {
  const kinds = [];
  for (const cause of ['terminate', 'throw', 'exit'] as const) {
    for (const move of ['handle()', 'watchWorker', 'ThreadScheduler'] as const) {
      // A scheduler's thread has no terminate() of its own to call.
      if (move === 'ThreadScheduler' && cause === 'terminate') continue;
      for (const victimSide of ['reader', 'writer'] as const) for (const far of ['main', 'worker'] as const) kinds.push({ cause, move, victimSide, far });
    }
  }
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  return kinds;
}

// ---------------------------------------------------------------- threads

function startPeer(data: PeerData): Worker {
  return new Worker(peerUrl, { workerData: data });
}

function errorFromInfo(info: ErrorInfo): Error {
  return Object.assign(new Error(`${info.name}: ${info.message}`), { code: info.code, ...(info.stack === undefined ? {} : { stack: info.stack }) });
}

/** Resolves when the worker exits (with its code). */
function exited(worker: Worker): Promise<number> {
  return new Promise((resolve) => worker.once('exit', resolve));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class TimeoutError extends Error {}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(`${what}: nothing within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A dump request answered by every thread whose event loop is free (a thread blocked in a sync wait cannot). */
async function dumpWorker(worker: Worker): Promise<string> {
  const answer = new Promise<string>((resolve) => {
    const onMessage = (message: FromPeer): void => {
      if (message.type !== 'dump') return;
      worker.off('message', onMessage);
      resolve(`thread ${message.thread}: ${JSON.stringify(message.pending)}`);
    };
    worker.on('message', onMessage);
  });
  try {
    worker.postMessage({ type: 'dump' } satisfies ToPeer);
    return await within(answer, kDumpAnswerMs, `thread ${worker.threadId}`);
  } catch (error) {
    return `thread ${worker.threadId}: no answer (${(error as Error).message}; blocked in a synchronous wait?)`;
  }
}

// ---------------------------------------------------------------- lanes

interface LaneRun {
  readonly spec: LaneSpec;
  readonly memory: LaneMemory;
  readonly pipe: SharedPipe;
  readonly workers: Worker[];
  readonly notes: SoakNote[];
  readonly failures: Error[];
  readonly external: { read: number; flush: number };
  started: number;
  elapsedMs: number;
  stats: RingStats | undefined;
  lastSignature: number;
  lastProgress: number;
}

/** Runs one side in a worker: its end is moved with watchWorker, so a worker that dies fails the far end. */
function workerSide(run: LaneRun, role: 'lane-writer' | 'lane-reader', end: SharedPipeReader | SharedPipeWriter): Promise<void> {
  const worker = startPeer({ role, spec: run.spec, sab: run.memory.sab });
  run.workers.push(worker);
  const [handle] = watchWorker(worker, end);
  worker.postMessage({ type: 'handle', handle } as ToPeer);
  const exit = exited(worker);
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    worker.on('message', (message: FromPeer) => {
      if (message.type === 'note') run.notes.push(message.note);
      else if (message.type === 'done') {
        settled = true;
        resolve();
      } else if (message.type === 'failed') {
        settled = true;
        reject(errorFromInfo(message.error));
      }
    });
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    void exit.then((code) => {
      if (!settled) reject(new Error(`lane ${run.spec.id}: the ${role} worker exited with code ${code} before reporting`));
    });
  }).finally(async () => {
    try {
      await within(exit, kThreadBoundMs, `lane ${run.spec.id}: the ${role} worker's exit`);
    } catch {
      await worker.terminate();
    }
  });
}

const running = new Set<LaneRun>();

async function runLane(spec: LaneSpec): Promise<LaneRun> {
  const pipe = new SharedPipe({
    ...(spec.startCapacity === undefined ? { capacity: spec.capacity } : { capacity: spec.startCapacity, maxCapacity: spec.capacity }),
    ...(spec.pauseWriterThreshold === undefined ? {} : { pauseWriterThreshold: spec.pauseWriterThreshold }),
    ...(spec.resumeWriterThreshold === undefined ? {} : { resumeWriterThreshold: spec.resumeWriterThreshold }),
  });
  const memory = LaneMemory.create();
  const run: LaneRun = {
    spec,
    memory,
    pipe,
    workers: [],
    notes: [],
    failures: [],
    external: { read: 0, flush: 0 },
    started: performance.now(),
    elapsedMs: 0,
    stats: undefined,
    lastSignature: -1,
    lastProgress: performance.now(),
  };
  running.add(run);
  const ctx = { spec, memory, canBlock: false, note: (note: SoakNote) => run.notes.push(note) };
  const sides =
    spec.direction === 'main→worker'
      ? [runLaneWriter(pipe.writer, ctx), workerSide(run, 'lane-reader', pipe.reader)]
      : spec.direction === 'worker→main'
        ? [workerSide(run, 'lane-writer', pipe.writer), runLaneReader(pipe.reader, ctx)]
        : [workerSide(run, 'lane-writer', pipe.writer), workerSide(run, 'lane-reader', pipe.reader)];
  for (const outcome of await Promise.allSettled(sides)) {
    if (outcome.status === 'rejected') run.failures.push(outcome.reason as Error);
  }
  run.elapsedMs = performance.now() - run.started;
  run.stats = pipe.reader.stats();
  running.delete(run);
  return run;
}

function progressSignature(run: LaneRun): number {
  const m = run.memory;
  return m.reader('bytes') + m.reader('reads') + m.reader('readSyncs') + m.reader('tryReads') + m.writer('bytes') + m.writer('flushes') + m.writer('flushSyncs') + m.writer('writes');
}

// ---------------------------------------------------------------- peer deaths

interface EpisodeResult {
  readonly plan: DeathPlan;
  /** detected: the far end failed with ERR_PIPE_PEER_EXITED (latency says how fast). */
  readonly outcome: 'detected' | 'not detected' | 'wrong error' | 'completed' | 'mismatch' | 'victim failed';
  readonly latencyMs: number | undefined;
  readonly detail: string;
}

/** The long-lived worker that holds far ends; one episode at a time. */
class Survivor {
  readonly worker = startPeer({ role: 'survivor' });
  readonly #waiting = new Map<number, { resolve(report: FarReport): void; reject(error: Error): void }>();
  #failure: Error | undefined;

  constructor() {
    this.worker.on('message', (message: FromPeer) => {
      if (message.type === 'far-report') this.#waiting.get(message.id)?.resolve(message.report);
    });
    const fail = (error: Error): void => {
      this.#failure ??= error;
      for (const waiting of this.#waiting.values()) waiting.reject(this.#failure);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`the survivor worker exited with code ${code}`)));
  }

  far(plan: DeathPlan, sab: SharedArrayBuffer, end: SharedPipeReader | SharedPipeWriter): Promise<FarReport> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const report = new Promise<FarReport>((resolve, reject) => this.#waiting.set(plan.id, { resolve, reject }));
    this.worker.postMessage({ type: 'far', plan, sab, handle: end.handle() } satisfies ToPeer);
    return report.finally(() => this.#waiting.delete(plan.id));
  }
}

async function waitReady(memory: EpisodeMemory, what: string): Promise<void> {
  const { array, index } = memory.readyWord;
  const deadline = performance.now() + kThreadBoundMs;
  while (!memory.ready) {
    const left = deadline - performance.now();
    if (left <= 0) throw new TimeoutError(`${what}: the victim did not start within ${kThreadBoundMs} ms`);
    const wait = Atomics.waitAsync(array, index, 0, left);
    if (wait.async) await wait.value;
  }
}

/** What the episode in progress is doing, for the watchdog and the hang dump. */
interface EpisodeState {
  what: string;
  since: number;
  pipe: SharedPipe | undefined;
}

async function runEpisode(plan: DeathPlan, survivor: Survivor, options: Options, episodeState: EpisodeState): Promise<EpisodeResult> {
  const what = `death episode ${plan.id} (${plan.cause}, moved by ${plan.move}, victim holds the ${plan.victimSide}, far end on ${plan.far === 'main' ? 'the main thread' : `a worker, ${plan.farSync ? 'blocking' : 'async'}`})`;
  const step = (label: string): void => {
    episodeState.what = `${what}: ${label}`;
    episodeState.since = performance.now();
  };
  const pipe = new SharedPipe({ capacity: plan.capacity });
  episodeState.pipe = pipe;
  const memory = EpisodeMemory.create();
  const victimEnd = plan.victimSide === 'reader' ? pipe.reader : pipe.writer;
  const farEnd = plan.victimSide === 'reader' ? pipe.writer : pipe.reader;
  step('starting the far end');
  const far = plan.far === 'main' ? runFar(farEnd, plan, memory, false) : survivor.far(plan, memory.sab, farEnd);
  step('starting the victim');
  let gone: Promise<unknown>;
  let terminate: (() => Promise<unknown>) | undefined;
  let scheduler: ThreadScheduler | undefined;
  let victimError = '';
  if (plan.move === 'ThreadScheduler') {
    scheduler = new ThreadScheduler(tasksUrl, { name: `soak-victim-${plan.id}` });
    gone = scheduler.run('victim', { end: victimEnd, plan, sab: memory.sab }).then(
      () => (victimError = 'the victim task returned'),
      () => {},
    );
  } else {
    const worker = plan.move === 'handle()'
      ? startPeer({ role: 'victim', plan, sab: memory.sab, handle: victimEnd.handle() })
      : startPeer({ role: 'victim', plan, sab: memory.sab });
    if (plan.move === 'watchWorker') worker.postMessage({ type: 'handle', handle: watchWorker(worker, victimEnd)[0] } as ToPeer);
    worker.on('error', () => {});
    worker.on('message', (message: FromPeer) => {
      if (message.type === 'failed') victimError = `the victim failed: ${message.error.name}: ${message.error.message}`;
    });
    gone = exited(worker).then((code) => {
      if (plan.cause === 'exit' && code !== kVictimExitCode) victimError ||= `the victim exited with code ${code}, not ${kVictimExitCode}`;
    });
    terminate = () => worker.terminate();
  }
  try {
    await waitReady(memory, what);
    if (plan.cause === 'terminate') {
      step('running until terminated');
      await sleep(plan.dieAfterMs);
      memory.deathTs = wallNow();
      step('terminating the victim');
      await terminate!();
    }
    step('waiting for the victim to die');
    await within(gone, kThreadBoundMs, `${what}: the victim's death`);
    if (victimError !== '' || memory.deathTs === 0) {
      memory.giveUp();
      cancelFar(farEnd);
      await within(far, kThreadBoundMs, `${what}: the far end after the victim failed`);
      return { plan, outcome: 'victim failed', latencyMs: undefined, detail: victimError || 'the victim died without stamping its death' };
    }
    step('waiting for the far end to fail');
    const left = memory.deathTs + options.deathLimitMs - wallNow();
    let report: FarReport;
    try {
      report = await within(far, Math.max(0, left), what);
    } catch (error) {
      if (!(error instanceof TimeoutError)) throw error;
      memory.giveUp();
      cancelFar(farEnd);
      step('waking the far end that saw nothing');
      report = await within(far, kThreadBoundMs, `${what}: the far end after giving up`);
    }
    if (memory.victimMismatch) return { plan, outcome: 'mismatch', latencyMs: undefined, detail: 'the victim received bytes that differ from the stream' };
    const latencyMs = report.detectTs - memory.deathTs;
    switch (report.outcome) {
      case 'failed':
        if (report.code !== 'ERR_PIPE_PEER_EXITED') return { plan, outcome: 'wrong error', latencyMs, detail: `${report.code ?? 'no code'}: ${report.message}` };
        if (latencyMs > options.deathLimitMs) return { plan, outcome: 'not detected', latencyMs, detail: `ERR_PIPE_PEER_EXITED after ${latencyMs.toFixed(1)} ms, over the ${options.deathLimitMs} ms limit` };
        return { plan, outcome: 'detected', latencyMs, detail: `${report.bytes} bytes before the death` };
      case 'gave-up':
        return { plan, outcome: 'not detected', latencyMs: undefined, detail: `the far end still waited ${options.deathLimitMs} ms after the death (${report.bytes} bytes crossed before it)` };
      case 'completed':
        return { plan, outcome: 'completed', latencyMs, detail: 'the far end saw a clean completion, not a failure' };
    }
    return { plan, outcome: 'mismatch', latencyMs: undefined, detail: report.message };
  } finally {
    step('cleaning up');
    await scheduler?.close();
  }
}

function cancelFar(end: SharedPipeReader | SharedPipeWriter): void {
  // Thread-safe on a moved end too: wakes a far end blocked in the survivor.
  if ('cancelPendingRead' in end) end.cancelPendingRead();
  else end.cancelPendingFlush();
}

// ---------------------------------------------------------------- reporting

function gibs(bytes: number): string {
  return (bytes / GiB).toFixed(bytes >= 10 * GiB ? 1 : 3);
}

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function sizeName(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function sumReader(runs: LaneRun[], name: ReaderCounter): number {
  return runs.reduce((sum, run) => sum + run.memory.reader(name), 0);
}

function sumWriter(runs: LaneRun[], name: WriterCounter): number {
  return runs.reduce((sum, run) => sum + run.memory.writer(name), 0);
}

function table(header: string[], rows: string[][]): string {
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

function laneResult(run: LaneRun): string {
  const unplaced = run.failures.some((error) => (error as { code?: unknown }).code === 'E_SOAK_MISMATCH');
  if (unplaced || run.memory.reader('mismatches') > 0) return 'MISMATCH';
  return run.failures.length === 0 ? 'ok' : 'FAILED';
}

/** Mismatch reports shown in full; the rest are counted by cause. */
const kMismatchesShown = 10;

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  let options: Options | null;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`soak: ${error.message}\n(npm run soak -- --help lists the options)`);
    return exitCodes.usage;
  }
  if (options === null) {
    console.log(usage);
    return exitCodes.passed;
  }
  const opts = options;
  const rng = seededRandom(opts.seed);
  const lanes = planLanes(opts, rng);
  const deathKinds = planDeaths(rng);
  const deathRng = seededRandom((rng() * 2 ** 32) >>> 0);
  const cancelRng = seededRandom((rng() * 2 ** 32) >>> 0);
  const given = process.argv.slice(2).filter((arg, i, all) => arg !== '--seed' && all[i - 1] !== '--seed' && !arg.startsWith('--seed='));
  const repeat = `npm run soak -- ${[...given, '--seed', String(opts.seed)].join(' ')}`;

  console.log('# threadpipe soak\n');
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown CPU'})`);
  console.log(`seed ${opts.seed}; repeat with: ${repeat}`);
  console.log(`${gibs(lanes.reduce((sum, lane) => sum + lane.bytes, 0))} GiB in ${lanes.length} lanes, ${opts.parallel} at once; at least ${opts.skip.has('deaths') ? 0 : opts.deaths} peer deaths`);
  console.log(`limits: wake-up stall ${opts.maxStallMs} ms, no progress ${opts.hangSeconds} s, death → ERR_PIPE_PEER_EXITED ${opts.deathLimitMs} ms (design: ${kDeathContractMs} ms)${opts.seconds > 0 ? `, traffic stops after ${opts.seconds} s` : ''}`);
  if (opts.skip.size > 0) console.log(`skipped: ${[...opts.skip].join(', ')}`);
  console.log('');

  const started = performance.now();
  // A read() on the main thread returns only when its event loop gets to it: this tells how late that was.
  const eventLoopDelay = monitorEventLoopDelay({ resolution: kLoopDelayResolutionMs });
  eventLoopDelay.enable();
  const finished: LaneRun[] = [];
  const episodes: EpisodeResult[] = [];
  const survivor = opts.skip.has('deaths') ? undefined : new Survivor();
  const episodeState: EpisodeState = { what: '', since: performance.now(), pipe: undefined };
  let trafficDone = false;
  let timeLimited = false;

  let hanging: Promise<never> | undefined;
  const hang = (what: string): Promise<never> => (hanging ??= dumpAndExit(what));
  const dumpAndExit = async (what: string): Promise<never> => {
    console.log(`\nHANG: ${what}\nrepeat with: ${repeat}\n`);
    for (const run of running) {
      console.log(`lane ${run.spec.id} ${JSON.stringify(run.spec)}`);
      console.log(`  writer: ${run.memory.operation('writer')}, reader: ${run.memory.operation('reader')}`);
      console.log(`  writer counters ${JSON.stringify(Object.fromEntries(writerCounters.map((n) => [n, run.memory.writer(n)])))}`);
      console.log(`  reader counters ${JSON.stringify(Object.fromEntries(readerCounters.map((n) => [n, run.memory.reader(n)])))}`);
      console.log(`  ring stats ${JSON.stringify(run.pipe.reader.stats())}`);
      for (const worker of run.workers) console.log(`  ${await dumpWorker(worker)}`);
    }
    if (episodeState.what !== '') console.log(`${episodeState.what}\n  ring stats ${JSON.stringify(episodeState.pipe?.reader.stats())}`);
    if (survivor !== undefined) console.log(`survivor ${await dumpWorker(survivor.worker)}`);
    console.log(`main thread pendingOperations(): ${JSON.stringify(pendingOperations())}`);
    process.exit(exitCodes.failed);
  };

  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const run of running) {
      const signature = progressSignature(run);
      if (signature !== run.lastSignature) {
        run.lastSignature = signature;
        run.lastProgress = now;
      } else if (now - run.lastProgress > opts.hangSeconds * 1000) {
        void hang(`lane ${run.spec.id} (${run.spec.direction}, ${sizeName(run.spec.capacity)} ring) made no progress for ${opts.hangSeconds} s`);
      }
    }
    if (episodeState.what !== '' && now - episodeState.since > opts.hangSeconds * 1000) {
      void hang(`${episodeState.what}: no progress for ${opts.hangSeconds} s`);
    }
  }, kWatchdogEveryMs);

  const progress = setInterval(() => {
    const done = finished.reduce((sum, run) => sum + run.memory.reader('bytes'), 0) + [...running].reduce((sum, run) => sum + run.memory.reader('bytes'), 0);
    const seconds = (performance.now() - started) / 1000;
    console.log(`[${seconds.toFixed(0)} s] ${gibs(done)} GiB checked (${(done / GiB / seconds).toFixed(2)} GiB/s), lanes ${finished.length}/${lanes.length} done, ${running.size} running, ${episodes.length} peer deaths`);
  }, kProgressEveryMs);

  let cancelTimer: NodeJS.Timeout | undefined;
  if (!opts.skip.has('cancel')) {
    // Cross-thread cancels: the main thread's objects for moved ends wake the worker that holds them.
    const cancelSomething = (): void => {
      const runs = [...running];
      if (runs.length > 0) {
        const run = pick(cancelRng, runs);
        if (cancelRng() < 0.5) {
          run.pipe.reader.cancelPendingRead();
          run.external.read++;
        } else {
          run.pipe.writer.cancelPendingFlush();
          run.external.flush++;
        }
      }
      cancelTimer = setTimeout(cancelSomething, randomInt(cancelRng, 1, 25));
    };
    cancelTimer = setTimeout(cancelSomething, 1);
  }

  let limitTimer: NodeJS.Timeout | undefined;
  if (opts.seconds > 0) {
    limitTimer = setTimeout(() => {
      timeLimited = true;
      for (const run of running) run.memory.stop();
    }, opts.seconds * 1000);
  }

  const traffic = (async () => {
    const queue = [...lanes];
    const slot = async (): Promise<void> => {
      for (let spec = queue.shift(); spec !== undefined && !timeLimited; spec = queue.shift()) finished.push(await runLane(spec));
    };
    await Promise.all(Array.from({ length: opts.parallel }, slot));
    trafficDone = true;
  })();

  const deaths = (async () => {
    if (survivor === undefined) return;
    for (let i = 0; (i < opts.deaths || !trafficDone) && !timeLimited; i++) {
      const kind = deathKinds[i % deathKinds.length]!;
      const plan: DeathPlan = {
        ...kind,
        id: i + 1,
        farSync: kind.far === 'worker' && !opts.skip.has('sync') && deathRng() < 0.5,
        victimSync: kind.cause === 'terminate' && !opts.skip.has('sync') && deathRng() < 0.5,
        capacity: 2 ** randomInt(deathRng, 12, 20),
        streamSeed: (deathRng() * 2 ** 32) >>> 0,
        victimSeed: (deathRng() * 2 ** 32) >>> 0,
        farSeed: (deathRng() * 2 ** 32) >>> 0,
        dieAfterMs: randomInt(deathRng, 0, 30),
      };
      try {
        episodes.push(await runEpisode(plan, survivor, opts, episodeState));
      } catch (error) {
        if (error instanceof TimeoutError) await hang(error.message);
        throw error;
      }
      episodeState.what = '';
      await sleep(randomInt(deathRng, 5, 50));
    }
  })();

  try {
    await Promise.all([traffic, deaths]);
  } finally {
    clearInterval(watchdog);
    clearInterval(progress);
    eventLoopDelay.disable();
    clearTimeout(cancelTimer);
    clearTimeout(limitTimer);
    await survivor?.worker.terminate();
  }
  const elapsed = (performance.now() - started) / 1000;

  // ---- report
  const runs = finished;
  const checked = sumReader(runs, 'bytes');
  const mismatchLanes = runs.filter((run) => laneResult(run) === 'MISMATCH');
  const mismatchCount = sumReader(runs, 'mismatches') + runs.filter((run) => run.failures.some((e) => (e as { code?: unknown }).code === 'E_SOAK_MISMATCH')).length;
  const failedLanes = runs.filter((run) => run.failures.length > 0);
  const notes = runs.flatMap((run) => run.notes);
  let longest = { ms: 0, where: '' };
  for (const run of runs) {
    const m = run.memory;
    if (m.reader('longestStallMs') <= longest.ms) continue;
    const thread = run.spec.direction === 'worker→main' ? 'the main thread' : 'a worker';
    longest = { ms: m.reader('longestStallMs'), where: `lane ${run.spec.id}, ${m.reader('longestStallInReadSync') > 0 ? 'readSync()' : 'read()'} on ${thread}` };
  }
  const loopDelay = `the main thread's event loop was late by up to ${ms(eventLoopDelay.max / 1e6)} ms`;
  const stallSamples = sumReader(runs, 'stallSamples');
  const past2to32 = runs.filter((run) => (run.stats?.bytesWritten ?? 0) > 2 ** 32);

  console.log('\n## lanes\n');
  console.log(
    table(
      ['lane', 'direction', 'ring', 'pause/resume', 'writer', 'reader', 'GiB', 's', 'GiB/s', 'ring positions', 'wraps', 'reads', 'slept', 'longest stall ms', 'longest flush ms', 'canceled r/f', 'aborted r/f', 'result'],
      runs.map((run) => {
        const m = run.memory;
        const s = run.stats!;
        return [
          String(run.spec.id),
          run.spec.direction,
          run.spec.startCapacity === undefined ? sizeName(run.spec.capacity) : `${sizeName(run.spec.startCapacity)} → ${sizeName(run.spec.capacity)} (${s.grows} grows)`,
          run.spec.pauseWriterThreshold === undefined ? 'default' : `${run.spec.pauseWriterThreshold}/${run.spec.resumeWriterThreshold}`,
          run.spec.writerMode,
          run.spec.readerMode,
          gibs(m.reader('bytes')),
          (run.elapsedMs / 1000).toFixed(1),
          (m.reader('bytes') / GiB / (run.elapsedMs / 1000)).toFixed(2),
          `${s.bytesWritten}${s.bytesWritten > 2 ** 32 ? ' (> 2^32)' : ''}`,
          String(s.wraps),
          String(m.reader('reads') + m.reader('readSyncs') + m.reader('tryReads')),
          String(m.reader('slept')),
          ms(m.reader('longestStallMs')),
          ms(m.writer('longestFlushMs')),
          `${m.reader('readCanceled')}/${m.writer('flushCanceled')}`,
          `${m.reader('readAborted')}/${m.writer('flushAborted')}`,
          laneResult(run),
        ];
      }),
    ),
  );

  const pair = (a: number, b: number): string => `${a} / ${b}`;
  const rescues = {
    reader: runs.reduce((sum, run) => sum + (run.stats?.readerRescues ?? 0), 0),
    writer: runs.reduce((sum, run) => sum + (run.stats?.writerRescues ?? 0), 0),
  };
  const events: [string, number | string][] = [
    ['bytes checked', checked],
    ['bytes checked again (re-presented after a partial consume)', sumReader(runs, 'rechecked')],
    ['read()', sumReader(runs, 'reads')],
    ['readSync()', sumReader(runs, 'readSyncs')],
    ['tryRead()', sumReader(runs, 'tryReads')],
    ['tryRead() with nothing new', sumReader(runs, 'tryReadEmpty')],
    ['reads that slept (waits)', sumReader(runs, 'slept')],
    ['reads over two segments (across the ring end)', sumReader(runs, 'multiSegment')],
    ['partial consumes, examining all (then waiting for more)', sumReader(runs, 'examineAllWaits')],
    ['partial examines', sumReader(runs, 'partialExamines')],
    ['mismatches (lost, duplicated or reordered bytes)', mismatchCount],
    ['mismatches no canceled or aborted writer operation explains', sumReader(runs, 'unexplainedMismatches')],
    ['canceled reads (isCanceled results)', sumReader(runs, 'readCanceled')],
    ['aborted reads (AbortError)', sumReader(runs, 'readAborted')],
    ['write()', sumWriter(runs, 'writes')],
    ['writeSync()', sumWriter(runs, 'writeSyncs')],
    ['getMemory()', sumWriter(runs, 'getMemory')],
    ['getMemory() above half the ring', sumWriter(runs, 'getMemoryAboveHalf')],
    ['getMemory() above the capacity', sumWriter(runs, 'getMemoryAboveCapacity')],
    ['getMemory() that threw', sumWriter(runs, 'memoryFailures')],
    ['advance() short of the hint', sumWriter(runs, 'partialAdvances')],
    ['flush()', sumWriter(runs, 'flushes')],
    ['flushSync()', sumWriter(runs, 'flushSyncs')],
    ['canceled flushes (isCanceled results)', sumWriter(runs, 'flushCanceled')],
    ['aborted flushes and writes (AbortError)', sumWriter(runs, 'flushAborted')],
    ['cancels from the operation\'s own thread, read/flush', pair(sumReader(runs, 'selfCancels'), sumWriter(runs, 'selfCancels'))],
    ['cancels from the main thread, read/flush', pair(runs.reduce((sum, run) => sum + run.external.read, 0), runs.reduce((sum, run) => sum + run.external.flush, 0))],
    ['aborts requested, read/flush', pair(sumReader(runs, 'selfAborts'), sumWriter(runs, 'selfAborts'))],
    ['writer pauses (ring stats)', runs.reduce((sum, run) => sum + (run.stats?.writerPauses ?? 0), 0)],
    ['writer waits (ring stats)', runs.reduce((sum, run) => sum + (run.stats?.writerWaits ?? 0), 0)],
    ['ring growths (growing lanes)', runs.reduce((sum, run) => sum + (run.stats?.grows ?? 0), 0)],
    ['wraps: skipped ring tails (ring stats)', runs.reduce((sum, run) => sum + (run.stats?.wraps ?? 0), 0)],
    ['waits a slice ended with their condition met and no wake-up sent (lost wake-ups), reader/writer', pair(rescues.reader, rescues.writer)],
    ['laps around the rings', runs.reduce((sum, run) => sum + Math.floor((run.stats?.bytesWritten ?? 0) / run.spec.capacity), 0)],
    ['lanes past 2^32 ring positions', past2to32.length],
    ['peer deaths', episodes.length],
  ];
  console.log('\n## events\n');
  for (const [name, value] of events) console.log(`- ${name}: ${value}`);
  const histogram = (['stallUnder1ms', 'stallUnder10ms', 'stallUnder50ms', 'stallUnder200ms', 'stallOver200ms'] as const).map((name) => `${name.replace('stall', '')}: ${sumReader(runs, name)}`);
  console.log(`- wake-ups measured (publish → sleeping reader's return): ${stallSamples}, mean ${ms(sumReader(runs, 'stallTotalMs') / Math.max(1, stallSamples))} ms; ${histogram.join(', ')}`);

  const deathFailures = episodes.filter((e) => e.outcome !== 'detected');
  if (episodes.length > 0) {
    console.log('\n## peer deaths (death → ERR_PIPE_PEER_EXITED on the far end)\n');
    const groups = new Map<string, EpisodeResult[]>();
    for (const e of episodes) {
      const key = `${e.plan.cause}|${e.plan.move}`;
      groups.set(key, [...(groups.get(key) ?? []), e]);
    }
    console.log(
      table(
        ['cause', 'moved by', 'episodes', 'detected', 'min ms', 'median ms', 'max ms', `over ${kDeathContractMs} ms`, 'failed'],
        [...groups.entries()].sort().map(([key, list]) => {
          const [cause, move] = key.split('|') as [DeathCause, MoveKind];
          const latencies = list.filter((e) => e.outcome === 'detected').map((e) => e.latencyMs!);
          return [
            cause,
            move,
            String(list.length),
            String(latencies.length),
            latencies.length ? ms(Math.min(...latencies)) : '-',
            latencies.length ? ms(median(latencies)) : '-',
            latencies.length ? ms(Math.max(...latencies)) : '-',
            String(latencies.filter((l) => l > kDeathContractMs).length),
            String(list.length - latencies.length),
          ];
        }),
      ),
    );
  }

  const failures: string[] = [];
  for (const run of failedLanes) {
    const messages = [...new Set(run.failures.map((error) => `${(error as { code?: unknown }).code ?? error.name}: ${error.message}`))];
    failures.push(`lane ${run.spec.id} (${run.spec.direction}, ${sizeName(run.spec.capacity)} ring, writer ${run.spec.writerMode}, reader ${run.spec.readerMode}): ${messages.join(' | ')}`);
  }
  const contractKinds = new Map<string, { count: number; note: SoakNote }>();
  for (const note of notes.filter((n) => n.kind === 'contract')) {
    const key = `${note.what.replace(/\d+/g, 'N')}|${note.code}`;
    const entry = contractKinds.get(key);
    if (entry) entry.count++;
    else contractKinds.set(key, { count: 1, note });
  }
  for (const { count, note } of contractKinds.values()) failures.push(`broken contract, ${count}x: ${note.what} (lane ${note.lane}, first): ${note.code ?? ''} ${note.message}`);
  const mismatchNotes = notes.filter((n) => n.kind === 'mismatch');
  if (mismatchCount > 0) {
    const causes = new Map<string, number>();
    for (const note of mismatchNotes) causes.set(note.code ?? '', (causes.get(note.code ?? '') ?? 0) + 1);
    const unexplained = sumReader(runs, 'unexplainedMismatches');
    failures.push(
      `${mismatchCount} mismatches (${sumReader(runs, 'lostBytes')} bytes lost, ${sumReader(runs, 'duplicatedBytes')} duplicated) in lanes ${mismatchLanes.map((run) => run.spec.id).join(', ')}; ` +
        `${unexplained} at an offset no canceled or aborted writer operation covers; causes of those shown (${mismatchNotes.length}): ${[...causes].map(([cause, n]) => `${n}x ${cause}`).join(', ')}`,
    );
    // Unexplained ones first: they are not the known loss of a cut-short write.
    const shown = [...mismatchNotes.filter((n) => n.code === kUnexplained), ...mismatchNotes.filter((n) => n.code !== kUnexplained)].slice(0, kMismatchesShown);
    for (const note of shown) failures.push(`  lane ${note.lane}: ${note.what}: ${note.code}; ${note.message}`);
  }
  // One line per way of moving and outcome, with the first episode in full: the kinds repeat.
  const deathGroups = new Map<string, EpisodeResult[]>();
  for (const e of deathFailures) deathGroups.set(`${e.plan.move}|${e.outcome}`, [...(deathGroups.get(`${e.plan.move}|${e.outcome}`) ?? []), e]);
  for (const list of deathGroups.values()) {
    const first = list[0]!;
    const causes = (['terminate', 'throw', 'exit'] as const).map((cause) => `${list.filter((e) => e.plan.cause === cause).length} ${cause}`).join(', ');
    const describe = (e: EpisodeResult): string => `${e.plan.cause}, victim ${e.plan.victimSide}, far end on ${e.plan.far}${e.plan.far === 'worker' ? (e.plan.farSync ? ' blocking' : ' async') : ''}`;
    failures.push(
      `peer deaths moved by ${first.plan.move}: ${list.length} ${first.outcome} (${causes}; episodes ${list.map((e) => e.plan.id).join(', ')}); first, episode ${first.plan.id} (${describe(first)}): ${first.detail}`,
    );
  }
  if (rescues.reader + rescues.writer > 0) {
    failures.push(`${rescues.reader + rescues.writer} waits were ended by a wait slice with their condition already met and no wake-up sent (reader ${rescues.reader}, writer ${rescues.writer}): the wait protocol lost wake-ups`);
  }
  if (longest.ms > opts.maxStallMs) {
    failures.push(`longest wake-up stall ${ms(longest.ms)} ms (${longest.where}) is over the ${opts.maxStallMs} ms limit; ${sumReader(runs, 'stallsOverLimit')} wake-ups over it; ${loopDelay}`);
  }

  console.log('\n## summary\n');
  console.log(`- moved and checked: ${gibs(checked)} GiB in ${elapsed.toFixed(1)} s: ${(checked / GiB / elapsed).toFixed(2)} GiB/s`);
  const firstMismatch = mismatchNotes[0];
  console.log(
    `- lost / duplicated / reordered: ${
      mismatchCount === 0
        ? 'none'
        : `${mismatchCount} mismatches, ${sumReader(runs, 'lostBytes')} bytes lost, ${sumReader(runs, 'duplicatedBytes')} duplicated${firstMismatch ? `; first: lane ${firstMismatch.lane}, ${firstMismatch.what}` : ''}`
    }`,
  );
  console.log(`- longest wake-up stall: ${ms(longest.ms)} ms${longest.where ? ` (${longest.where})` : ''}; limit ${opts.maxStallMs} ms; ${loopDelay}`);
  const latencies = episodes.filter((e) => e.outcome === 'detected').map((e) => e.latencyMs!);
  console.log(`- peer deaths: ${episodes.length}, detected ${latencies.length}${latencies.length ? `, latency median ${ms(median(latencies))} ms, max ${ms(Math.max(...latencies))} ms` : ''}; limit ${opts.deathLimitMs} ms`);
  if (past2to32.length === 0) console.log(`- no lane went past 2^32 ring positions (that takes --gib ${kWrapLaneMinTotal / GiB} or more)`);
  const incomplete = timeLimited && checked < Math.ceil(opts.gib * GiB);
  if (incomplete) console.log(`- stopped by --seconds ${opts.seconds} after ${gibs(checked)} of ${opts.gib} GiB`);
  if (failures.length > 0) {
    console.log(`\n## failures (${failures.length})\n`);
    for (const failure of failures) console.log(`- ${failure}`);
    console.log(`\nrepeat with: ${repeat}`);
  }
  const verdict = failures.length > 0 ? 'FAILED' : incomplete ? 'INCOMPLETE' : 'PASSED';
  console.log(`\n${verdict}`);
  console.log(
    `soak-result ${JSON.stringify({
      verdict,
      seed: opts.seed,
      bytes: checked,
      seconds: elapsed,
      mismatches: mismatchCount,
      unexplainedMismatches: sumReader(runs, 'unexplainedMismatches'),
      lostBytes: sumReader(runs, 'lostBytes'),
      duplicatedBytes: sumReader(runs, 'duplicatedBytes'),
      failures: failures.length,
      longestStallMs: longest.ms,
      lostWakeups: rescues.reader + rescues.writer,
      stallLimitMs: opts.maxStallMs,
      peerDeaths: episodes.length,
      peerDeathsDetected: latencies.length,
      lanesPast2to32: past2to32.length,
    })}`,
  );
  return failures.length > 0 ? exitCodes.failed : incomplete ? exitCodes.incomplete : exitCodes.passed;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(exitCodes.failed);
  },
);
