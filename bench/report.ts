// Shared helpers for the benchmark suites: the suite contract, a multi-run tinybench driver that
// reports the median of several runs, and markdown table / number / ratio formatting.
import { Bench } from 'tinybench';

/** What `run.ts` passes to every suite. */
export interface SuiteOptions {
  /** Independent runs; every reported figure is the median over them. */
  readonly runs: number;
  /** Measured time budget per task and run, in ms. */
  readonly timeMs: number;
  /** Warm-up budget per task and run, in ms. */
  readonly warmupMs: number;
  /** Size of a generated input in MB, for the suites that compress one (`--mb=N`); each has its default. */
  readonly inputMB?: number;
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  run(options: SuiteOptions): Promise<void>;
}

// ---- measuring

/** A live benchmark subject: does `ops` operations, each one complete when the promise settles. */
export interface CaseRunner {
  run(ops: number): Promise<void>;
  /** A running checksum of what the consumer saw; each op must add exactly `recordsPerOp`. */
  checksum(): number;
  close(): void | Promise<void>;
}

export interface Case {
  /** Unique name, also the tinybench task name. */
  readonly name: string;
  /** Payload bytes moved by one op. */
  readonly bytesPerOp: number;
  /** Messages (records) delivered by one op. */
  readonly recordsPerOp: number;
  /** Ops per tinybench iteration, so each timed sample is well above the timer resolution. */
  readonly opsPerIteration: number;
  create(): CaseRunner;
}

export interface Measured {
  readonly case: Case;
  /** ops/s of each run. */
  readonly opsPerSec: readonly number[];
}

const now = (): number => performance.now();

/**
 * Runs every case `runs` times, each run a fresh tinybench `Bench` holding all cases (so runs are
 * interleaved across cases and slow drift hits them alike). A sample is one iteration of
 * `opsPerIteration` ops; its duration is reported per op through `overriddenDuration`, so a run's
 * throughput is ops / time. Before timing, each case is checked: the consumer must see every op.
 */
export async function measure(cases: readonly Case[], options: SuiteOptions, log: (line: string) => void = () => {}): Promise<Measured[]> {
  const runners = new Map<string, CaseRunner>();
  for (const c of cases) {
    const runner = c.create();
    await verify(c, runner);
    runners.set(c.name, runner);
  }
  const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  try {
    for (let run = 0; run < options.runs; run++) {
      const started = now();
      const bench = new Bench({
        name: `run ${run + 1}`,
        time: options.timeMs,
        warmupTime: options.warmupMs,
        iterations: 16,
        warmupIterations: 8,
        throws: true,
      });
      for (const c of cases) {
        const runner = runners.get(c.name)!;
        const ops = c.opsPerIteration;
        bench.add(
          c.name,
          async () => {
            const t0 = now();
            await runner.run(ops);
            // Work a step deferred with process.nextTick (stream write callbacks, 'readable'
            // emission) belongs to this sample: let it run before the clock stops.
            await nextTick();
            const elapsed = now() - t0;
            return { overriddenDuration: elapsed / ops, overriddenIterationCost: elapsed };
          },
          { async: true },
        );
      }
      await bench.run();
      for (const task of bench.tasks) {
        const result = task.result;
        if (result.state !== 'completed') throw new Error(`task ${task.name} ended ${result.state}`);
        // Mean per-op latency over the run: total ops / total time.
        results.get(task.name)!.push(1000 / result.latency.mean);
      }
      log(`  run ${run + 1}/${options.runs} done in ${((now() - started) / 1000).toFixed(1)} s`);
    }
  } finally {
    for (const runner of runners.values()) await runner.close();
  }
  return cases.map((c) => ({ case: c, opsPerSec: results.get(c.name)! }));
}

async function verify(c: Case, runner: CaseRunner): Promise<void> {
  for (const ops of [1, 3, 50]) {
    const before = runner.checksum();
    await runner.run(ops);
    await nextTick();
    const seen = runner.checksum() - before;
    if (seen !== ops * c.recordsPerOp) {
      throw new Error(`${c.name}: the consumer saw ${seen} records for ${ops} ops, expected ${ops * c.recordsPerOp}`);
    }
  }
}

function nextTick(): Promise<void> {
  return new Promise((resolve) => process.nextTick(resolve));
}

// ---- statistics

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Half the min–max range as a percentage of the median: a rough run-to-run spread. */
export function spread(values: readonly number[]): number {
  const m = median(values);
  return m === 0 ? 0 : ((Math.max(...values) - Math.min(...values)) / 2 / m) * 100;
}

/** Median of the per-run ratios a[i] / b[i] (runs are paired: run i of both came from the same Bench). */
export function ratio(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  const ratios: number[] = [];
  for (let i = 0; i < n; i++) ratios.push(a[i]! / b[i]!);
  return median(ratios);
}

// ---- formatting

/** 1234567 → "1.23 M", 12345 → "12.3 k". */
export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e9) return `${(value / 1e9).toFixed(2)} G`;
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

export function formatMBps(bytesPerSec: number): string {
  const mb = bytesPerSec / 1e6;
  return mb >= 100 ? mb.toFixed(0) : mb >= 10 ? mb.toFixed(1) : mb.toFixed(2);
}

export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return '–';
  return `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}x`;
}

export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (abs >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(1)} KiB`;
  return `${bytes.toFixed(0)} B`;
}

export type Align = 'left' | 'right';

/** A GitHub-flavoured markdown table; numbers are expected already formatted. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const pad = (text: string, i: number): string => (align[i] === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => pad(c, i)).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(headers), rule, ...rows.map((r) => line(headers.map((_, i) => r[i] ?? '')))].join('\n');
}
