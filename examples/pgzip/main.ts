// Parallel gzip of a file or stdin. Usage:
//   node dist/examples/pgzip/main.js [input] [-o output] [--level 6] [--threads N] [--chunk 1048576] [--compare [--runs N]]
// Without input it reads stdin; without -o it writes stdout. --compare also times single-threaded
// zlib.createGzip and, when installed, pigz on the same input, and prints the ratios (to stderr);
// with --runs N all three run N times, interleaved, and the figures are medians.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pgzip } from './pgzip.js';

const args = process.argv.slice(2);
function take(name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const [, value] = args.splice(index, 2);
  if (value === undefined) throw new Error(`${name} needs a value`);
  return value;
}
const compare = args.includes('--compare');
if (compare) args.splice(args.indexOf('--compare'), 1);
const output = take('-o');
const level = Number(take('--level') ?? 6);
const threads = Number(take('--threads') ?? availableParallelism());
const chunkSize = Number(take('--chunk') ?? 1 << 20);
const runs = Number(take('--runs') ?? 1);
if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`--runs must be a positive integer, got ${runs}`);
const input = args[0];
if (compare && input === undefined) throw new Error('--compare needs an input file (it reads it several times)');

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });
const mbps = (bytes: number, seconds: number): string => (bytes / 1e6 / seconds).toFixed(1);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const destination = output !== undefined ? createWriteStream(output) : process.stdout;
const first = await pgzip(input !== undefined ? createReadStream(input) : process.stdin, destination, { level, threads, chunkSize });
if (output !== undefined) await new Promise<void>((resolve, reject) => destination.end(() => resolve()).once('error', reject));

if (!compare) {
  console.error(`pgzip: ${first.bytesIn} bytes → ${first.bytesOut} bytes in ${first.chunks} members, ${first.threads} threads, level ${level}: ${first.seconds.toFixed(2)} s, ${mbps(first.bytesIn, first.seconds)} MB/s`);
} else {
  const size = statSync(input!).size;
  const hasPigz = spawnSync('pigz', ['--version'], { stdio: 'ignore' }).status === 0;
  const data = hasPigz ? readFileSync(input!) : undefined;
  const times: { pgzip: number[]; zlib: number[]; pigz: number[] } = { pgzip: [], zlib: [], pigz: [] };
  for (let run = 0; run < runs; run++) {
    // The first pgzip run wrote the output; later ones compress the same file into a sink.
    times.pgzip.push(run === 0 ? first.seconds : (await pgzip(createReadStream(input!), discard(), { level, threads, chunkSize })).seconds);
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
