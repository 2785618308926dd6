// SharedPipe throughput against the other ways to move bytes between threads in Node:
//   1. main->worker and worker->worker, 64 KiB writes and 128 B messages with one flush each, for
//      SharedPipe (write(), or getMemory/advance/flush; the worker reads with read() or readSync()),
//      postMessage with copy (<= 64 in flight, acked), postMessage with transfer, thread-stream and
//      ringbuf.js;
//   2. batching: 64 records of 128 B (getMemory(128)/advance(128) each) per flush, main->worker;
//   4. allocation: 2M messages of 128 B main->worker with GC statistics on both threads.
// Every figure is the median of >= 5 runs; a run's message count is calibrated so that it lasts about
// `runMs`. Ratios compare medians measured in this same invocation. Targets are printed, not asserted.
import { availableParallelism, cpus, loadavg } from 'node:os';
import {
  fmtGBps,
  GcWatch,
  kAckEvery,
  kRingCapacity,
  kWindow,
  payload,
  target,
  type Transport,
} from './workers/ring-common.js';
import { measureThroughput, type ThroughputResult } from './workers/ring-harness.js';
import { formatBytes, formatRate, formatRatio, markdownTable, median, spread, type Suite, type SuiteOptions } from './report.js';

export const name = 'ring-throughput';
export const description =
  'SharedPipe (cross-thread ring) throughput main->worker and worker->worker against postMessage (copy / transfer), thread-stream and ringbuf.js; batching; allocation.';

const KiB = 1024;

const labels: Record<Transport, string> = {
  'sp-write': 'SharedPipe write() → read()',
  'sp-memory': 'SharedPipe getMemory/advance/flush → read()',
  'sp-sync': 'SharedPipe getMemory/advance/flush → readSync()',
  'sp-batch': 'SharedPipe 64 × getMemory(128)/advance(128), 1 flush → read()',
  'sp-batch-sync': 'SharedPipe 64 × getMemory(128)/advance(128), 1 flush → readSync()',
  'sp-cork': 'SharedPipe cork(), 64 × await write(128), uncork() → read()',
  'sp-blocking': 'SharedPipe getMemory/advance/flushSync() → readSync() (no await)',
  'pm-copy': 'postMessage copy (≤ 64 in flight, acked)',
  'pm-transfer': 'postMessage transfer (fresh ArrayBuffer each)',
  'thread-stream': 'thread-stream (write + drain, flush at end)',
  ringbuf: 'ringbuf.js push/pop (both sides poll)',
};

const transports: Transport[] = ['sp-write', 'sp-memory', 'sp-sync', 'pm-copy', 'pm-transfer', 'thread-stream', 'ringbuf'];

function log(line = ''): void {
  console.log(line);
}

export async function run(options: Partial<SuiteOptions> = {}): Promise<void> {
  const runs = options.runs ?? 5;
  const runMs = options.timeMs ?? 250;
  log(
    `node ${process.version}, ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? '?'}), load average ${loadavg()[0]!.toFixed(2)} at start; ring capacity 1 MiB (SharedPipe default; ringbuf.js the same); ` +
      `median of ${runs} runs of ~${runMs} ms each, after a calibration run and a warm-up run. Consumers count bytes and must see exactly what was sent.\n`,
  );

  // ---- 1. throughput
  const results = new Map<string, ThroughputResult>();
  const key = (from: string, transport: Transport, size: number, batch = 1): string => `${from}/${transport}/${size}/${batch}`;
  for (const size of [64 * KiB, 128]) {
    for (const from of ['main', 'worker'] as const) {
      for (const transport of transports) {
        const firstCount = transport === 'ringbuf' && size >= KiB ? 50 : size >= KiB ? 500 : 20000;
        const result = await measureThroughput({ from, transport, size, batch: 1 }, { runs, runMs, firstCount });
        results.set(key(from, transport, size), result);
      }
    }
  }

  // The floor for a non-shared buffer crossing threads: one copy into shared memory, as fast as set() goes.
  const copyLimit = setCopyLimit(runs, runMs);
  for (const size of [64 * KiB, 128]) {
    const big = size >= KiB;
    const unit = big ? 'GiB/s' : 'msg/s';
    const fig = (r: ThroughputResult | undefined): string =>
      r === undefined ? '–' : big ? fmtGBps(median(r.bytesPerSec)) : `${formatRate(median(r.recordsPerSec))}`;
    const rate = (r: ThroughputResult | undefined): number => (r === undefined ? NaN : median(r.recordsPerSec));
    const rows: string[][] = [];
    for (const transport of transports) {
      const m = results.get(key('main', transport, size));
      const w = results.get(key('worker', transport, size));
      const mCopy = results.get(key('main', 'pm-copy', size));
      const wCopy = results.get(key('worker', 'pm-copy', size));
      let goal = '';
      if (transport.startsWith('sp-')) {
        goal = big
          ? `≥ 2.5x copy: ${target(rate(m) / rate(mCopy), 2.5)}`
          : `≥ 1.2x ringbuf.js: ${target(rate(m) / rate(results.get(key('main', 'ringbuf', size))), 1.2)}`;
      }
      rows.push([
        labels[transport],
        fig(m),
        formatRatio(rate(m) / rate(mCopy)),
        goal,
        fig(w),
        formatRatio(rate(w) / rate(wCopy)),
        `±${Math.max(spread(m?.recordsPerSec ?? [0]), spread(w?.recordsPerSec ?? [0])).toFixed(0)}%`,
      ]);
    }
    log(`### ${big ? '64 KiB writes' : '128 B messages, one flush each'} (${unit})\n`);
    log(
      markdownTable(
        ['transport', `main→worker`, 'vs copy', 'target (main→worker)', `worker→worker`, 'vs copy', 'spread'],
        rows,
        ['left', 'right', 'right', 'left', 'right', 'right', 'right'],
      ),
    );
    log();
    // SharedPipe's best variant against every alternative, same size, same direction.
    const alt: Transport[] = ['pm-copy', 'pm-transfer', 'thread-stream', 'ringbuf'];
    const sumRows: string[][] = [];
    for (const from of ['main', 'worker'] as const) {
      const sp = (['sp-write', 'sp-memory', 'sp-sync'] as Transport[])
        .map((t) => results.get(key(from, t, size))!)
        .sort((a, b) => median(b.recordsPerSec) - median(a.recordsPerSec))[0]!;
      sumRows.push([
        `${from}→worker`,
        labels[sp.config.transport].replace('SharedPipe ', ''),
        ...alt.map((t) => formatRatio(median(sp.recordsPerSec) / rate(results.get(key(from, t, size))))),
      ]);
    }
    log(markdownTable(['direction', 'best SharedPipe variant', 'vs pm copy', 'vs pm transfer', 'vs thread-stream', 'vs ringbuf.js'], sumRows, ['left', 'left', 'right', 'right', 'right', 'right']));
    log();
    if (big) {
      const limitRows = (['main', 'worker'] as const).map((from) => {
        const best = (['sp-write', 'sp-memory', 'sp-sync'] as Transport[])
          .map((t) => results.get(key(from, t, size))!)
          .sort((a, b) => median(b.bytesPerSec) - median(a.bytesPerSec))[0]!;
        return [`${from}→worker, ${labels[best.config.transport].replace('SharedPipe ', '')}`, fmtGBps(median(best.bytesPerSec)), fmtGBps(median(copyLimit)), (median(best.bytesPerSec) / median(copyLimit)).toFixed(2), `≥ 0.85: ${target(median(best.bytesPerSec) / median(copyLimit), 0.85)}`];
      });
      log(`SharedArrayBuffer \`set()\` copy limit: one thread copying 64 KiB from a Uint8Array into a SharedArrayBuffer, back to back (a ring byte is copied once, by the writer; the reader reads views).\n`);
      log(markdownTable(['SharedPipe 64 KiB', 'GiB/s', 'set() limit GiB/s', 'of the limit', 'target'], limitRows, ['left', 'right', 'right', 'right', 'left']));
      log();
    }
  }

  log(
    `Notes: postMessage acks are cumulative, every ${kAckEvery} messages, ≤ ${kWindow} in flight; "transfer" allocates and fills a fresh ArrayBuffer per message. ` +
      `thread-stream's write() only queues the Buffer; its worker gets the data in batches (a copy into its SharedArrayBuffer per setImmediate turn, ` +
      `decoded to strings), so "one flush each" does not apply to it. ringbuf.js has no wake-up: both sides poll, and pop() copies element by element in JS ` +
      `(its fast path needs offset 0). SharedPipe readers take everything available per read and advanceTo(buffer.end).\n`,
  );

  // ---- 2. batching
  const batchRows: string[][] = [];
  const batched: ThroughputResult[] = [];
  for (const transport of ['sp-batch', 'sp-batch-sync', 'sp-cork'] as Transport[]) {
    batched.push(await measureThroughput({ from: 'main', transport, size: 128, batch: 64 }, { runs, runMs, firstCount: 5000 }));
  }
  // Reference: the same records packed 64 to an 8 KiB postMessage.
  const packed = await measureThroughput({ from: 'main', transport: 'pm-copy', size: 8 * KiB, batch: 1 }, { runs, runMs, firstCount: 5000 });
  const packedRecords = packed.recordsPerSec.map((v) => v * 64);
  for (const r of batched) {
    batchRows.push([labels[r.config.transport], formatRate(median(r.recordsPerSec)), `≥ 1.5x packed postMessage: ${target(median(r.recordsPerSec) / median(packedRecords), 1.5)}`, formatRatio(median(r.recordsPerSec) / median(packedRecords)), `±${spread(r.recordsPerSec).toFixed(0)}%`]);
  }
  const single = results.get(key('main', 'sp-memory', 128))!;
  batchRows.push([`(ref.) ${labels['sp-memory']}, 1 record per flush`, formatRate(median(single.recordsPerSec)), '', formatRatio(median(single.recordsPerSec) / median(packedRecords)), `±${spread(single.recordsPerSec).toFixed(0)}%`]);
  batchRows.push(['(ref.) postMessage copy, 64 records packed in one 8 KiB message', formatRate(median(packedRecords)), '', '1.00x', `±${spread(packedRecords).toFixed(0)}%`]);
  log(`### Batching: 128 B records, main→worker (records/s)\n`);
  log(markdownTable(['producer → consumer', 'records/s', 'target', 'vs packed postMessage', 'spread'], batchRows, ['left', 'right', 'left', 'right', 'right']));
  log();

  // ---- 3. allocation
  const gcCount = 2_000_000;
  const gcRows: string[][] = [];
  for (const transport of ['sp-memory', 'sp-sync', 'sp-blocking', 'sp-write', 'pm-copy'] as Transport[]) {
    const count = transport === 'pm-copy' ? 200_000 : gcCount;
    const r = await measureThroughput(
      { from: 'main', transport, size: 128, batch: 1 },
      { runs: 1, runMs: 100, firstCount: 20000, gcCount: count },
    );
    const gc = r.gc!;
    const reads = gc.stats ? `${gc.stats.reads} (${(gc.stats.reads / count).toFixed(3)}/msg)` : '–';
    for (const [side, report] of [
      ['main (producer)', gc.producer],
      ['worker (consumer)', gc.consumer],
    ] as const) {
      gcRows.push([
        side === 'main (producer)' ? labels[transport] : '',
        side === 'main (producer)' ? `${(count / 1e6).toFixed(1)} M in ${(gc.ms / 1000).toFixed(2)} s` : '',
        side,
        `${report.minor}`,
        `${report.major}`,
        report.gcMs.toFixed(1),
        formatBytes(report.allocated),
        (report.allocated / count).toFixed(1),
        formatBytes(report.heapGrowth),
        side === 'worker (consumer)' ? reads : '',
      ]);
    }
  }
  log(`### Allocation: 128 B messages main→worker, one flush each (GC entries and v8.GCProfiler in each thread)\n`);
  log(
    markdownTable(
      ['transport', 'messages', 'thread', 'minor GCs', 'major GCs', 'GC ms', 'allocated', 'B/msg', 'heap growth', 'ring reads'],
      gcRows,
      ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
  );
  log();
  const awaitBytes = await awaitFloor();
  log(
    `Allocated = bytes the JS heap grew by between GCs, summed (v8.GCProfiler); heap growth = heap used after a full GC at the end minus at the start. ` +
      `For scale: one \`await\` of an already-settled promise in a loop allocates ≈ ${awaitBytes.toFixed(0)} B on this node. ` +
      `Ring reads = read()/readSync() results the consumer got (each allocates its result objects).\n`,
  );
  const spuriousTotal = [...results.values(), ...batched].reduce((sum, r) => sum + r.spurious, 0);
  log(
    `Spurious ERR_FRAME_TOO_LARGE (flush waiting for room, reader consuming everything) caught and retried by the producers during the throughput runs: ${spuriousTotal}.\n`,
  );
}

/** Bytes per second one thread copies with set() from a 64 KiB Uint8Array into a 1 MiB SharedArrayBuffer, per run. */
function setCopyLimit(runs: number, runMs: number): number[] {
  const source = payload(64 * KiB);
  const target = new Uint8Array(new SharedArrayBuffer(kRingCapacity));
  const slots = kRingCapacity / source.length;
  const perRun: number[] = [];
  for (let r = 0; r <= runs; r++) {
    let copied = 0;
    const started = performance.now();
    let elapsed = 0;
    while (elapsed < runMs) {
      for (let i = 0; i < 64; i++) target.set(source, (i % slots) * source.length);
      copied += 64 * source.length;
      elapsed = performance.now() - started;
    }
    // The first run warms up.
    if (r > 0) perRun.push(copied / (elapsed / 1000));
  }
  if (target[0] !== source[0]) throw new Error('set() copy limit: the copy did not land');
  return perRun;
}

/** Bytes allocated per `await` of a settled promise: the floor of any async producer / consumer loop. */
async function awaitFloor(): Promise<number> {
  const settled = Promise.resolve(0);
  const loop = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await settled;
  };
  await loop(100_000);
  const watch = new GcWatch();
  watch.start();
  await loop(1_000_000);
  const report = await watch.stop();
  return report.allocated / 1_000_000;
}

export const suite: Suite = { name, description, run };
