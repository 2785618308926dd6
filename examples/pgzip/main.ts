// Parallel gzip of a file or stdin. Usage:
//   node dist/examples/pgzip/main.js [input] [-o output] [--level 6] [--threads N] [--chunk 1048576] [--compare]
// Without input it reads stdin; without -o it writes stdout. --compare also times single-threaded
// zlib.createGzip and, when installed, pigz on the same input, and prints the ratios (to stderr).
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
const input = args[0];
if (compare && input === undefined) throw new Error('--compare needs an input file (it reads it several times)');

const destination = output !== undefined ? createWriteStream(output) : process.stdout;
const result = await pgzip(input !== undefined ? createReadStream(input) : process.stdin, destination, { level, threads, chunkSize });
if (output !== undefined) await new Promise<void>((resolve, reject) => destination.end(() => resolve()).once('error', reject));
const mbps = (bytes: number, seconds: number): string => (bytes / 1e6 / seconds).toFixed(1);
console.error(`pgzip: ${result.bytesIn} bytes → ${result.bytesOut} bytes in ${result.chunks} members, ${result.threads} threads, level ${level}: ${result.seconds.toFixed(2)} s, ${mbps(result.bytesIn, result.seconds)} MB/s`);

if (compare) {
  const size = statSync(input!).size;
  const discard = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });
  let started = performance.now();
  await pipeline(createReadStream(input!), createGzip({ level }), discard());
  const zlibSeconds = (performance.now() - started) / 1000;
  console.error(`zlib.createGzip (1 thread): ${zlibSeconds.toFixed(2)} s, ${mbps(size, zlibSeconds)} MB/s — pgzip is ${(zlibSeconds / result.seconds).toFixed(2)}x`);
  const pigz = spawnSync('pigz', ['--version'], { stdio: 'ignore' });
  if (pigz.status === 0) {
    const data = readFileSync(input!);
    started = performance.now();
    const run = spawnSync('pigz', ['-p', String(threads), `-${level}`, '-c'], { input: data, maxBuffer: 1 << 30 });
    const pigzSeconds = (performance.now() - started) / 1000;
    if (run.status === 0) console.error(`pigz -p ${threads}: ${pigzSeconds.toFixed(2)} s, ${mbps(size, pigzSeconds)} MB/s — pgzip is ${(pigzSeconds / result.seconds).toFixed(2)}x`);
  } else {
    console.error('pigz is not installed: no comparison with it');
  }
}
