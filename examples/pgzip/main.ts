// Parallel gzip of a file or stdin. Usage:
//   node dist/examples/pgzip/main.js [input] [-o|--output FILE] [--level 6] [--threads N] [--chunk 1048576] [--compare [--runs N]]
// Without input it reads stdin; without -o it writes stdout. --compare also times single-threaded
// zlib.createGzip and, when installed, pigz on the same input, and prints the ratios (to stderr);
// with --runs N all three run N times, interleaved, and the figures are medians. --help lists the options.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { CommandLine } from '../shared/args.js';
import { kDefaultChunkSize, pgzip } from './pgzip.js';

const kMaxLevel = 9;
const kMaxThreads = 256;
const kMinChunk = 1024;
const kMaxChunk = 1 << 30;
const command = CommandLine.parse({
  usage: 'node dist/examples/pgzip/main.js [input]',
  summary: 'Parallel gzip of a file (or stdin) on a PoolScheduler; writes a multi-member gzip stream to -o or stdout.',
  options: {
    output: { type: 'string', short: 'o', value: 'FILE', description: 'write here instead of stdout' },
    level: { type: 'string', value: '0-9', description: 'compression level (default 6)' },
    threads: { type: 'string', value: 'N', description: `compressing threads (default ${availableParallelism()})` },
    chunk: { type: 'string', value: 'BYTES', description: 'bytes per gzip member, 1024 to 2^30 (default 1048576)' },
    compare: { type: 'boolean', description: 'also time zlib.createGzip and, when installed, pigz (needs an input file)' },
    runs: { type: 'string', value: 'N', description: 'with --compare: runs of each, figures are medians (default 1)' },
  },
  maxPositionals: 1,
});
const compare = command.flag('compare');
const output = command.string('output');
const level = command.number('level', 6, { integer: true, min: 0, max: kMaxLevel });
const threads = command.number('threads', availableParallelism(), { integer: true, min: 1, max: kMaxThreads });
const chunkSize = command.number('chunk', kDefaultChunkSize, { integer: true, min: kMinChunk, max: kMaxChunk });
const runs = command.number('runs', 1, { integer: true, min: 1 });
const input = command.positionals[0];
if (compare && input === undefined) command.fail('--compare needs an input file (it reads it several times)');

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });
const mbps = (bytes: number, seconds: number): string => (bytes / 1e6 / seconds).toFixed(1);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** A failure of the files, not of the arguments: one line naming it, exit 1. */
function die(message: string): never {
  console.error(`pgzip: ${message}`);
  process.exit(1);
}

const reason = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? (error as Error).message;

// The input is checked before the output is created, so a bad input leaves no empty output behind.
if (input !== undefined) {
  let isFile = false;
  try {
    isFile = statSync(input).isFile();
  } catch (error) {
    die(`cannot read '${input}': ${reason(error)}`);
  }
  if (!isFile) die(`cannot read '${input}': not a file`);
}
let destination: Writable = process.stdout;
if (output !== undefined) {
  const file = createWriteStream(output);
  try {
    await once(file, 'open');
  } catch (error) {
    die(`cannot write '${output}': ${reason(error)}`);
  }
  destination = file;
}
let first: Awaited<ReturnType<typeof pgzip>>;
try {
  first = await pgzip(input ?? process.stdin, destination, { level, threads, chunkSize });
  if (output !== undefined) await new Promise<void>((resolve, reject) => destination.end(() => resolve()).once('error', reject));
} catch (error) {
  // A half-written output is no gzip file: remove it rather than leave it looking like one.
  if (output !== undefined) rmSync(output, { force: true });
  die(`${input ?? 'stdin'}: ${(error as Error).message}`);
}

if (!compare) {
  console.error(`pgzip: ${first.bytesIn} bytes → ${first.bytesOut} bytes in ${first.chunks} members, ${first.threads} threads, level ${level}: ${first.seconds.toFixed(2)} s, ${mbps(first.bytesIn, first.seconds)} MB/s`);
} else {
  const size = statSync(input!).size;
  const hasPigz = spawnSync('pigz', ['--version'], { stdio: 'ignore' }).status === 0;
  const data = hasPigz ? readFileSync(input!) : undefined;
  const times: { pgzip: number[]; zlib: number[]; pigz: number[] } = { pgzip: [], zlib: [], pigz: [] };
  for (let run = 0; run < runs; run++) {
    // The first pgzip run wrote the output; later ones compress the same file into a sink.
    times.pgzip.push(run === 0 ? first.seconds : (await pgzip(input!, discard(), { level, threads, chunkSize })).seconds);
    const started = performance.now();
    await pipeline(createReadStream(input!), createGzip({ level }), discard());
    times.zlib.push((performance.now() - started) / 1000);
    if (data !== undefined) {
      const pigzStarted = performance.now();
      const ran = spawnSync('pigz', ['-p', String(threads), `-${level}`, '-c'], { input: data, maxBuffer: 1 << 30 });
      if (ran.status === 0) times.pigz.push((performance.now() - pigzStarted) / 1000);
    }
  }
  const of = runs > 1 ? `, median of ${runs} runs` : '';
  const pgzipSeconds = median(times.pgzip);
  const ratio = (other: number[]): string => median(other.map((seconds, i) => seconds / times.pgzip[i]!)).toFixed(2);
  console.error(`pgzip: ${first.bytesIn} bytes → ${first.bytesOut} bytes in ${first.chunks} members, ${first.threads} threads, level ${level}: ${pgzipSeconds.toFixed(2)} s, ${mbps(size, pgzipSeconds)} MB/s${of}`);
  console.error(`zlib.createGzip (1 thread): ${median(times.zlib).toFixed(2)} s, ${mbps(size, median(times.zlib))} MB/s — pgzip is ${ratio(times.zlib)}x`);
  if (!hasPigz) console.error('pigz is not installed: no comparison with it');
  else if (times.pigz.length === runs) console.error(`pigz -p ${threads}: ${median(times.pigz).toFixed(2)} s, ${mbps(size, median(times.pigz))} MB/s — pgzip is ${ratio(times.pigz)}x`);
  else console.error('pigz failed: no comparison with it');
}
