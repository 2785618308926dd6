// pgzip (examples/pgzip) against the gzips a Node user has today, in the same run, on the same
// file of generated JSON log lines (seeded), level 6:
//   - pgzip with 2 pool threads given the file's path, as its CLI does; timed once its pool has
//     started (as pgzip() reports it) and end to end (starting the pool's threads included);
//   - zlib.createGzip, the stream a single-threaded program pipes a file (fs.createReadStream) through;
//   - zlib.gzipSync over the whole input in memory: what one core compresses, the ceiling of a
//     single thread and the yardstick of pgzip's parallel efficiency;
//   - pigz -p 2 when it is installed (the row is skipped, saying so, when it is not).
// After a round that is not counted (start-up), the variants take turns within each run (the order
// rotates from run to run) so drift in the machine's load hits them alike; figures are medians over
// runs, ratios medians of per-run ratios.
// Each writes its output to a file (gzipSync, the yardstick, keeps it in memory), timed until the
// file is closed; every output is decompressed and compared with the input, outside the timing.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { pgzip } from '../examples/pgzip/pgzip.js';
import { jsonLogLines } from '../examples/pgzip/workload.js';
import { threadCpuMs } from '../examples/shared/thread-cpu.js';
import { formatMBps, formatRatio, markdownTable, median, ratio, spread, type Suite, type SuiteOptions } from './report.js';

const kThreads = 2;
const kLevel = 6;
/** The input the figures are about; `--mb=N` picks another size. */
const kDefaultMB = 65;
const kSeed = 20240611;
const kTargetVsZlib = 1.8;
const kTargetVsPigz = 1.0;
/** A variant that takes longer than this is stuck, not slow. */
const kVariantTimeoutMs = 300_000;

type Key = 'pgzip' | 'pgzipTotal' | 'zlibStream' | 'zlibSync' | 'pigz';

const labels: Record<Key, string> = {
  pgzip: `pgzip, ${kThreads} pool threads (pool started)`,
  pgzipTotal: `pgzip, ${kThreads} pool threads, end to end (starting the pool included)`,
  zlibStream: 'zlib.createGzip (1 thread, file stream)',
  zlibSync: 'zlib.gzipSync (1 thread, whole input in memory: one core)',
  pigz: `pigz -p ${kThreads}`,
};

const log = (line = ''): void => console.log(line);

/** Ends a file stream and waits until its last byte is written and the file closed. */
function closed(file: WriteStream): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    file.once('error', reject);
    file.once('close', () => resolve());
    file.end();
  });
}

function expectInput(label: string, gz: Uint8Array, input: Uint8Array): number {
  const restored = gunzipSync(gz);
  if (restored.length !== input.length || Buffer.compare(restored, input) !== 0) {
    throw new Error(`${label}: the output does not decompress to the input (${restored.length} bytes back of ${input.length})`);
  }
  return gz.length;
}

function withTimeout<T>(label: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label} did not finish within ${kVariantTimeoutMs} ms`)), kVariantTimeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function hasPigz(): boolean {
  return spawnSync('pigz', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

/** pigz reading the file and writing to a file of its own: the time from spawn to exit. */
async function runPigz(inputPath: string, outputPath: string): Promise<number> {
  const out = openSync(outputPath, 'w');
  try {
    const started = performance.now();
    const child = spawn('pigz', ['-p', String(kThreads), `-${kLevel}`, '-c', inputPath], { stdio: ['ignore', out, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`pigz exited with ${code}: ${stderr.trim()}`);
    return (performance.now() - started) / 1000;
  } finally {
    closeSync(out);
  }
}

interface PgzipProfile {
  /** CPU ms of the main thread: starting the pool, reading, ordering, writing. */
  mainCpuMs: number;
  /** CPU ms of the whole process: the pool threads' compression, and the main thread. */
  processCpuMs: number;
  startupSeconds: number;
  members: number;
}

export const suite: Suite = {
  name: 'pgzip',
  description: `Parallel gzip of generated JSON log lines, level ${kLevel}: pgzip with ${kThreads} pool threads against zlib.createGzip, zlib.gzipSync and pigz -p ${kThreads}, in the same run; every output is gunzipped and compared with the input.`,
  async run(options: SuiteOptions): Promise<void> {
    const megabytes = options.inputMB ?? kDefaultMB;
    const runs = options.runs;
    const withPigz = hasPigz();
    log(`${megabytes} MB input, ${runs} run(s), ${availableParallelism()} CPUs, load average ${loadavg()[0]!.toFixed(2)} at the start.`);
    if (!withPigz) log(`pigz is not installed: the pigz -p ${kThreads} row is skipped (install the pigz package to measure it).`);
    const input = jsonLogLines(Math.round(megabytes * 1e6), kSeed);
    const dir = mkdtempSync(join(tmpdir(), 'threadpipe-bench-pgzip-'));
    const inputPath = join(dir, 'input.log');
    const outputOf = { pgzip: join(dir, 'pgzip.gz'), zlibStream: join(dir, 'zlib.gz'), pigz: join(dir, 'pigz.gz') };
    writeFileSync(inputPath, input);
    const seconds: Record<Key, number[]> = { pgzip: [], pgzipTotal: [], zlibStream: [], zlibSync: [], pigz: [] };
    const outputBytes: Partial<Record<Key, number>> = {};
    const profiles: PgzipProfile[] = [];

    const variants: Array<{ key: Key; measure: () => Promise<void> }> = [
      {
        key: 'pgzip',
        measure: async () => {
          const cpu = process.cpuUsage();
          const mainCpu = threadCpuMs();
          const started = performance.now();
          const file = createWriteStream(outputOf.pgzip);
          const result = await withTimeout('pgzip', pgzip(inputPath, file, { level: kLevel, threads: kThreads }));
          await closed(file);
          const total = (performance.now() - started) / 1000;
          const used = process.cpuUsage(cpu);
          profiles.push({ mainCpuMs: threadCpuMs() - mainCpu, processCpuMs: (used.user + used.system) / 1000, startupSeconds: result.startupSeconds, members: result.chunks });
          // Up to the output file closed, as for the others (pgzip's own figure stops at its last write).
          seconds.pgzip.push(total - result.startupSeconds);
          seconds.pgzipTotal.push(total);
          outputBytes.pgzip = outputBytes.pgzipTotal = expectInput('pgzip', readFileSync(outputOf.pgzip), input);
        },
      },
      {
        key: 'zlibStream',
        measure: async () => {
          const started = performance.now();
          await withTimeout('zlib.createGzip', pipeline(createReadStream(inputPath), createGzip({ level: kLevel }), createWriteStream(outputOf.zlibStream)));
          seconds.zlibStream.push((performance.now() - started) / 1000);
          outputBytes.zlibStream = expectInput('zlib.createGzip', readFileSync(outputOf.zlibStream), input);
        },
      },
      {
        key: 'zlibSync',
        measure: async () => {
          const started = performance.now();
          const gz = gzipSync(input, { level: kLevel });
          seconds.zlibSync.push((performance.now() - started) / 1000);
          outputBytes.zlibSync = expectInput('zlib.gzipSync', gz, input);
        },
      },
    ];
    if (withPigz) {
      variants.push({
        key: 'pigz',
        measure: async () => {
          seconds.pigz.push(await withTimeout('pigz', runPigz(inputPath, outputOf.pigz)));
          outputBytes.pigz = expectInput('pigz', readFileSync(outputOf.pigz), input);
        },
      });
    }

    try {
      // A round not counted: loading the pool's modules, the zlib code and the pigz binary the first
      // time is start-up, not compression.
      for (const variant of variants) await variant.measure();
      for (const key of Object.keys(seconds) as Key[]) seconds[key] = [];
      profiles.length = 0;
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        for (let i = 0; i < variants.length; i++) await variants[(i + run) % variants.length]!.measure();
        process.stderr.write(`  run ${run + 1}/${runs} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const keys: Key[] = ['pgzip', 'pgzipTotal', 'zlibStream', 'zlibSync', ...(withPigz ? (['pigz'] as const) : [])];
    const rate = (key: Key): number => input.length / median(seconds[key]);
    const pgzipOver = (key: Key, pgzipKey: Key = 'pgzip'): number => ratio(seconds[key], seconds[pgzipKey]);
    log();
    log(
      markdownTable(
        [`level ${kLevel}, ${megabytes} MB of JSON log lines`, 'MB/s', 'spread', 'seconds', 'output bytes', 'pgzip is'],
        keys.map((key) => [
          labels[key],
          formatMBps(rate(key)),
          `±${spread(seconds[key]).toFixed(0)}%`,
          median(seconds[key]).toFixed(3),
          String(outputBytes[key]),
          key === 'pgzip' || key === 'pgzipTotal' ? '' : formatRatio(pgzipOver(key)),
        ]),
        ['left', 'right', 'right', 'right', 'right', 'right'],
      ),
    );
    log();
    const vsZlib = pgzipOver('zlibStream');
    log(`pgzip / zlib.createGzip: ${formatRatio(vsZlib)} (target ≥ ${kTargetVsZlib.toFixed(1)}x: ${vsZlib >= kTargetVsZlib ? 'met' : 'not met'})`);
    if (withPigz) {
      const vsPigz = pgzipOver('pigz');
      log(`pgzip / pigz -p ${kThreads}: ${formatRatio(vsPigz)} (target ≥ ${kTargetVsPigz.toFixed(1)}x: ${vsPigz >= kTargetVsPigz ? 'met' : 'not met'}); end to end ${formatRatio(pgzipOver('pigz', 'pgzipTotal'))}`);
    }
    const profile = (pick: (p: PgzipProfile) => number): number => median(profiles.map(pick));
    const wallMs = median(seconds.pgzipTotal) * 1000;
    log(
      `pgzip, where the time goes (medians): ${profile((p) => p.members)} members; pool start-up ${(profile((p) => p.startupSeconds) * 1000).toFixed(0)} ms; ` +
        `main thread CPU ${profile((p) => p.mainCpuMs).toFixed(0)} ms (starting the pool, reading, ordering, writing); ` +
        `process CPU ${profile((p) => p.processCpuMs).toFixed(0)} ms over ${wallMs.toFixed(0)} ms end to end = ${(profile((p) => p.processCpuMs) / wallMs).toFixed(2)} cores busy; ` +
        `parallel efficiency ${formatRatio(pgzipOver('zlibSync'))} of one core (ideal ${kThreads}.00x).`,
    );
  },
};
