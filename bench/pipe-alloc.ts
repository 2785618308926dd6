// Allocation check for loops of pipe-vs-streams, run by that suite as
// `node --expose-gc dist/bench/pipe-alloc.js`; prints one JSON line (AllocationReport[]).
// Approximate by design: it reads process.memoryUsage() between slices of 1,000 messages.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { CaseRunner } from './report.js';

export interface AllocationReport {
  readonly name: string;
  /** sync: only synchronous pipe calls; async: awaits read() and the flush; reference: not a Pipe. */
  readonly ops: string;
  readonly iterations: number;
  /** V8 heap growth per message over the slices in which no GC ran. */
  readonly bytesPerMessage: number;
  readonly minorGcs: number;
  readonly majorGcs: number;
  /** heapUsed at the end minus at the start, whatever GCs did in between. */
  readonly heapDelta: number;
  /** heapUsed after gc() at the end minus after gc() at the start: what the loop kept. */
  readonly retainedAfterGc: number;
  readonly arrayBuffersAfterGc: number;
}

const ITERATIONS = 200_000;
const WARMUP = 20_000;
const SLICE = 1_000;

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  gc();
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function check(name: string, ops: string, create: () => CaseRunner): Promise<AllocationReport> {
  const runner = create();
  await runner.run(WARMUP);
  await tick();

  // What reading heapUsed itself costs between two slices, subtracted from each slice.
  let probe = 0;
  for (let i = 0; i < 64; i++) {
    const a = process.memoryUsage().heapUsed;
    await runner.run(0);
    const b = process.memoryUsage().heapUsed;
    if (b >= a) probe = i === 0 ? b - a : Math.min(probe, b - a);
  }

  let minorGcs = 0;
  let majorGcs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) minorGcs++;
      else majorGcs++;
    }
  });

  fullGc();
  const start = process.memoryUsage();
  observer.observe({ entryTypes: ['gc'] });
  let allocated = 0;
  let measured = 0;
  let previous = process.memoryUsage().heapUsed;
  const startSum = runner.checksum();
  for (let done = 0; done < ITERATIONS; done += SLICE) {
    await runner.run(SLICE);
    const used = process.memoryUsage().heapUsed;
    // A slice whose heap shrank saw a GC: its growth is unknown, skip it.
    if (used >= previous) {
      allocated += Math.max(0, used - previous - probe);
      measured += SLICE;
    }
    previous = used;
  }
  const end = process.memoryUsage();
  await tick();
  await tick();
  observer.disconnect();
  if (runner.checksum() - startSum !== ITERATIONS) throw new Error(`${name}: the consumer did not see every message`);
  fullGc();
  const after = process.memoryUsage();
  await runner.close();
  return {
    name,
    ops,
    iterations: ITERATIONS,
    bytesPerMessage: measured === 0 ? NaN : allocated / measured,
    minorGcs,
    majorGcs,
    heapDelta: end.heapUsed - start.heapUsed,
    retainedAfterGc: after.heapUsed - start.heapUsed,
    arrayBuffersAfterGc: after.arrayBuffers - start.arrayBuffers,
  };
}

async function main(): Promise<void> {
  const { allocationLoops } = await import('./pipe-vs-streams.js');
  const reports: AllocationReport[] = [];
  for (const loop of allocationLoops) reports.push(await check(loop.name, loop.ops, loop.create));
  process.stdout.write(`${JSON.stringify(reports)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
