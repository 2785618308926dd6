// Round-trip latency main <-> worker: one byte each way over a SharedPipe duplex pair
// (createDuplexPair), against a MessagePort ping-pong and a raw Atomics.wait/notify ping-pong on an
// Int32Array. Each run times every round trip; a figure is the median over runs of the run's median
// round trip. Then what a short spin (tryRead() polled N times before the blocking / async read,
// on top of the pipe's own short spin) buys when both threads are busy with the ping-pong, and
// what it costs when a third thread competes for the 2 cores.
import { availableParallelism, loadavg } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { createDuplexPair, SharedPipe, type ReadResult, type SharedPipeReader } from 'threadpipe';
import { formatRatio, markdownTable, median, type Suite, type SuiteOptions } from './report.js';
import { fmtUs, now, percentile, target } from './workers/ring-common.js';
import { Peer } from './workers/ring-harness.js';
import type { EchoMode } from './workers/ring-peer.js';

export const name = 'ring-latency';
export const description =
  'SharedPipe round trip main<->worker (1 byte each way) against MessagePort and raw Atomics.wait/notify; the effect of spinning before sleeping.';

/** How the main thread waits for the pong. */
type MainMode = 'sync' | 'async';

interface LatencyCase {
  label: string;
  /** raw = Atomics ping-pong; port = MessagePort; sp = SharedPipe duplex pair. */
  kind: 'raw' | 'port' | 'sp';
  main: MainMode;
  worker: EchoMode;
  /** tryRead() / Atomics.load polls before waiting, on each side. */
  mainSpin: number;
  workerSpin: number;
  /** A third thread burning a core during the runs. */
  burn?: boolean;
}

interface LatencyResult {
  case: LatencyCase;
  /** Per run: median, p99 and mean round trip, ms. */
  p50: number[];
  p99: number[];
  mean: number[];
  mainSpinHits: number;
  workerSpinHits: number;
  rounds: number;
}

function log(line = ''): void {
  console.log(line);
}

function spinRead(reader: SharedPipeReader, spin: number): ReadResult | null {
  for (let i = 0; i < spin; i++) {
    const result = reader.tryRead();
    if (result !== null) return result;
  }
  return null;
}

async function measure(c: LatencyCase, runs: number, runMs: number): Promise<LatencyResult> {
  const peers: Peer[] = [];
  let burnFlag: Int32Array | undefined;
  try {
    if (c.burn) {
      const flag = new SharedArrayBuffer(4);
      burnFlag = new Int32Array(flag);
      peers.push(await Peer.start({ role: 'burn', flag }));
    }
    let mainSpinHits = 0;
    // One round trip function per kind; `i` grows across runs (the raw ping-pong needs fresh values).
    let roundTrip: (i: number) => Promise<void> | void;
    let stop: () => void;
    let peer: Peer;
    if (c.kind === 'raw') {
      const sab = new SharedArrayBuffer(8);
      const a = new Int32Array(sab);
      peer = await Peer.start({ role: 'echo', echo: { mode: 'atomics', spin: c.workerSpin, sab } });
      const spin = c.mainSpin;
      if (c.main === 'sync') {
        roundTrip = (i) => {
          Atomics.store(a, 0, i);
          Atomics.notify(a, 0);
          let value = Atomics.load(a, 1);
          if (value !== i && spin > 0) {
            for (let k = 0; k < spin && value !== i; k++) value = Atomics.load(a, 1);
            if (value === i) mainSpinHits++;
          }
          while (value !== i) {
            Atomics.wait(a, 1, value);
            value = Atomics.load(a, 1);
          }
        };
      } else {
        roundTrip = async (i) => {
          Atomics.store(a, 0, i);
          Atomics.notify(a, 0);
          let value = Atomics.load(a, 1);
          if (value !== i && spin > 0) {
            for (let k = 0; k < spin && value !== i; k++) value = Atomics.load(a, 1);
            if (value === i) mainSpinHits++;
          }
          while (value !== i) {
            const waited = Atomics.waitAsync(a, 1, value);
            if (waited.async) await waited.value;
            value = Atomics.load(a, 1);
          }
        };
      }
      stop = () => {
        Atomics.store(a, 0, -1);
        Atomics.notify(a, 0);
      };
    } else if (c.kind === 'port') {
      const { port1, port2 } = new MessageChannel();
      peer = await Peer.start({ role: 'echo', echo: { mode: 'port', spin: 0, port: port2 } }, [port2]);
      let resolve: (() => void) | null = null;
      port1.on('message', () => {
        const r = resolve;
        resolve = null;
        r?.();
      });
      roundTrip = (i) =>
        new Promise<void>((r) => {
          resolve = r;
          port1.postMessage(i);
        });
      stop = () => {
        port1.postMessage(-1);
        port1.close();
      };
    } else {
      const [mine, theirs] = createDuplexPair({ capacity: 4096 });
      const input = mine.input as SharedPipeReader;
      const output = mine.output as import('threadpipe').SharedPipeWriter;
      const inputHandle = (theirs.input as SharedPipeReader).handle();
      const outputHandle = (theirs.output as import('threadpipe').SharedPipeWriter).handle();
      peer = await Peer.start({ role: 'echo', echo: { mode: c.worker, spin: c.workerSpin, input: inputHandle, output: outputHandle } });
      const spin = c.mainSpin;
      if (c.main === 'sync') {
        roundTrip = (i) => {
          const memory = output.getMemory(1);
          memory[0] = i & 0xff;
          output.advance(1);
          output.flushSync();
          let result = spin > 0 ? spinRead(input, spin) : null;
          if (result !== null) mainSpinHits++;
          else result = input.readSync();
          input.advanceTo(result.buffer.end);
        };
      } else {
        roundTrip = async (i) => {
          const memory = output.getMemory(1);
          memory[0] = i & 0xff;
          output.advance(1);
          await output.flush();
          let result = spin > 0 ? spinRead(input, spin) : null;
          if (result !== null) mainSpinHits++;
          else result = await input.read();
          input.advanceTo(result.buffer.end);
        };
      }
      stop = () => {
        output.complete();
        void input.read().then(() => input.complete());
      };
    }
    peers.push(peer);

    let i = 0;
    const times = new Float64Array(200_000);
    const once = async (count: number): Promise<{ p50: number; p99: number; total: number }> => {
      const t0 = now();
      for (let k = 0; k < count; k++) {
        const t = now();
        await roundTrip(++i);
        times[k] = now() - t;
      }
      return { p50: percentile(times, count, 0.5), p99: percentile(times, count, 0.99), total: now() - t0 };
    };
    // Calibrate on a cold run, warm up, then `runs` measured runs of about runMs each.
    const first = await once(500);
    let count = Math.min(times.length, Math.max(200, Math.round((500 * runMs) / first.total)));
    const warm = await once(count);
    count = Math.min(times.length, Math.max(200, Math.round((count * runMs) / warm.total)));
    const p50: number[] = [];
    const p99: number[] = [];
    const mean: number[] = [];
    mainSpinHits = 0;
    const roundsBefore = i;
    for (let r = 0; r < runs; r++) {
      const m = await once(count);
      p50.push(m.p50);
      p99.push(m.p99);
      mean.push(m.total / count);
    }
    const rounds = i - roundsBefore;
    stop();
    const stopped = await peer.next('stopped');
    // The worker's spin hits cover the calibration runs too; report them as a share of all its rounds.
    const workerSpinHits = (stopped.spinHits as number) / Math.max(1, stopped.rounds as number);
    return { case: c, p50, p99, mean, mainSpinHits: mainSpinHits / rounds, workerSpinHits, rounds };
  } finally {
    if (burnFlag) Atomics.store(burnFlag, 0, 1);
    for (const p of peers) await p.terminate();
  }
}

export async function run(options: Partial<SuiteOptions> = {}): Promise<void> {
  const runs = options.runs ?? 5;
  const runMs = options.timeMs ?? 250;
  log(
    `${availableParallelism()} CPUs, load average ${loadavg()[0]!.toFixed(2)} at start; one byte each way; a figure is the median over ${runs} runs (~${runMs} ms each, after calibration and warm-up) ` +
      `of each run's median (or p99) round trip. The SharedPipe pair has 4 KiB rings; each side replies with getMemory(1)/advance(1) and flush() (async) or flushSync() (sync).\n`,
  );

  const base: LatencyCase[] = [
    { label: 'raw Atomics.wait/notify (main sync wait)', kind: 'raw', main: 'sync', worker: 'atomics', mainSpin: 0, workerSpin: 0 },
    { label: 'raw Atomics (main Atomics.waitAsync)', kind: 'raw', main: 'async', worker: 'atomics', mainSpin: 0, workerSpin: 0 },
    { label: 'MessagePort ping-pong', kind: 'port', main: 'async', worker: 'port', mainSpin: 0, workerSpin: 0 },
    { label: 'SharedPipe: main read() ↔ worker readSync()', kind: 'sp', main: 'async', worker: 'sp-sync', mainSpin: 0, workerSpin: 0 },
    { label: 'SharedPipe: main read() ↔ worker read()', kind: 'sp', main: 'async', worker: 'sp-async', mainSpin: 0, workerSpin: 0 },
    { label: 'SharedPipe: main readSync() ↔ worker readSync()', kind: 'sp', main: 'sync', worker: 'sp-sync', mainSpin: 0, workerSpin: 0 },
  ];
  const results: LatencyResult[] = [];
  for (const c of base) results.push(await measure(c, runs, runMs));
  const rawSync = median(results[0]!.p50);
  const rawAsync = median(results[1]!.p50);
  const rows = results.map((r) => {
    const m = median(r.p50);
    const same = r.case.main === 'sync' ? rawSync : rawAsync;
    return [
      r.case.label,
      fmtUs(m),
      fmtUs(median(r.p99)),
      fmtUs(median(r.mean)),
      formatRatio(m / rawSync),
      formatRatio(m / same),
      r.case.kind === 'sp' ? `≤ 1.1x raw: ${target(m / rawSync, undefined, 1.1)} (sync) / ${target(m / same, undefined, 1.1)} (same main wait)` : '',
    ];
  });
  log(`### Round trip main ↔ worker (µs)\n`);
  log(markdownTable(['ping-pong', 'median µs', 'p99 µs', 'mean µs', 'vs raw sync', 'vs raw, same main wait', 'target'], rows, ['left', 'right', 'right', 'right', 'right', 'right', 'left']));
  log();

  // ---- spinning before sleeping
  const spins = [100, 1000, 10000];
  const spinCases: LatencyCase[] = [
    { label: 'raw Atomics, sync both', kind: 'raw', main: 'sync', worker: 'atomics', mainSpin: 0, workerSpin: 0 },
    ...spins.map((n): LatencyCase => ({ label: 'raw Atomics, sync both', kind: 'raw', main: 'sync', worker: 'atomics', mainSpin: n, workerSpin: n })),
    { label: 'SP main read() ↔ worker readSync()', kind: 'sp', main: 'async', worker: 'sp-sync', mainSpin: 0, workerSpin: 0 },
    ...spins.map((n): LatencyCase => ({ label: 'SP main read() ↔ worker readSync()', kind: 'sp', main: 'async', worker: 'sp-sync', mainSpin: 0, workerSpin: n })),
    ...spins.map((n): LatencyCase => ({ label: 'SP main read() ↔ worker readSync()', kind: 'sp', main: 'async', worker: 'sp-sync', mainSpin: n, workerSpin: n })),
    { label: 'SP main readSync() ↔ worker readSync()', kind: 'sp', main: 'sync', worker: 'sp-sync', mainSpin: 0, workerSpin: 0 },
    ...spins.map((n): LatencyCase => ({ label: 'SP main readSync() ↔ worker readSync()', kind: 'sp', main: 'sync', worker: 'sp-sync', mainSpin: n, workerSpin: n })),
    { label: 'SP main read() ↔ worker readSync(), + a busy 3rd thread', kind: 'sp', main: 'async', worker: 'sp-sync', mainSpin: 0, workerSpin: 0, burn: true },
    { label: 'SP main read() ↔ worker readSync(), + a busy 3rd thread', kind: 'sp', main: 'async', worker: 'sp-sync', mainSpin: 1000, workerSpin: 1000, burn: true },
  ];
  // Reuse the base measurements for the no-spin rows measured above.
  const reuse = (c: LatencyCase): LatencyResult | undefined =>
    results.find((r) => r.case.kind === c.kind && r.case.main === c.main && r.case.worker === c.worker && c.mainSpin === 0 && c.workerSpin === 0 && !c.burn);
  const spinResults: LatencyResult[] = [];
  for (const c of spinCases) spinResults.push(reuse(c) ?? (await measure(c, runs, runMs)));
  // Cost of one tryRead() poll that finds nothing, to turn spin counts into time.
  const pollNs = measurePoll();
  const spinRows = spinResults.map((r, index) => {
    const c = spinCases[index]!;
    const baseline = spinResults.find((b, j) => spinCases[j]!.label === c.label && spinCases[j]!.mainSpin === 0 && spinCases[j]!.workerSpin === 0)!;
    const m = median(r.p50);
    const polls = c.mainSpin === 0 && c.workerSpin === 0 ? '–' : c.mainSpin === 0 ? `worker ${c.workerSpin}` : `both ${c.mainSpin}`;
    const budget = c.kind === 'sp' && (c.mainSpin > 0 || c.workerSpin > 0) ? `≈ ${((Math.max(c.mainSpin, c.workerSpin) * pollNs) / 1000).toFixed(1)} µs` : '';
    const hits = c.mainSpin === 0 && c.workerSpin === 0 ? '' : `${(r.mainSpinHits * 100).toFixed(0)}% / ${(r.workerSpinHits * 100).toFixed(0)}%`;
    return [c.label, polls, budget, fmtUs(m), fmtUs(median(r.p99)), fmtUs(median(r.mean)), formatRatio(m / median(baseline.p50)), formatRatio(median(r.mean) / median(baseline.mean)), hits];
  });
  log(`### Spinning before sleeping (polls of tryRead(), or Atomics.load for raw, before the blocking / async wait)\n`);
  log(
    markdownTable(
      ['ping-pong', 'spin polls', 'spin budget', 'median µs', 'p99 µs', 'mean µs', 'median vs no spin', 'mean vs no spin', 'caught by spin main / worker'],
      spinRows,
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  log();
  log(`One empty tryRead() poll ≈ ${pollNs.toFixed(0)} ns on this machine.\n`);
}

/** ns per tryRead() that finds nothing (an empty pipe on this thread). */
function measurePoll(): number {
  const pipe = new SharedPipe({ capacity: 4096 });
  const reader = pipe.reader;
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t = now();
    for (let i = 0; i < 200_000; i++) reader.tryRead();
    best = Math.min(best, ((now() - t) * 1e6) / 200_000);
  }
  pipe.writer.complete();
  pipe.reader.complete();
  return best;
}

export const suite: Suite = { name, description, run };
