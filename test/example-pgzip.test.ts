// The pgzip example (examples/pgzip): parallel gzip whose output must decompress byte-exact with
// zlib and with the system gunzip, through the library function and through the CLI.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compress as compressMember, memberRoom } from '../dist/examples/pgzip/compress.js';
import { pgzip, type PgzipResult } from '../dist/examples/pgzip/pgzip.js';
import { randomChunks, seededRandom, within } from './helpers.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const mainScript = join(root, 'dist/examples/pgzip/main.js');

const hasGunzip = spawnSync('gunzip', ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
if (!hasGunzip) console.warn('gunzip not installed (package gzip): skipping the system gunzip checks of pgzip output');

/** Seeded data mixing compressible parts (text, zero runs, a repeating pattern) with random parts. */
function generate(size: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.alloc(size);
  const words = ['pipe', 'reader', 'writer', 'segment', 'flush', 'advance', 'examined', 'consumed', 'thread', 'gzip', '\n'];
  let at = 0;
  let kind = 0;
  while (at < size) {
    const length = Math.min(size - at, 1 + Math.floor(random() * 96 * 1024));
    const end = at + length;
    switch (kind++ % 4) {
      case 0: // text
        while (at < end) {
          const word = words[Math.floor(random() * words.length)]!;
          at += out.write(`${word} `, at, Math.min(word.length + 1, end - at), 'latin1');
        }
        break;
      case 1: // random bytes
        for (; at < end; at++) out[at] = Math.floor(random() * 256);
        break;
      case 2: // zeros
        at = end;
        break;
      default: // a short repeating pattern
        for (let i = 0; at < end; at++, i++) out[at] = (i * 7) % 13;
        break;
    }
  }
  return out;
}

/** A Writable that keeps everything written to it; optionally acknowledges each write late. */
function collector(options: { slow?: boolean; highWaterMark?: number } = {}): { stream: Writable; bytes: () => Buffer; writes: () => number } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      if (options.slow) setImmediate(callback);
      else callback();
    },
  });
  return { stream, bytes: () => Buffer.concat(chunks), writes: () => chunks.length };
}

/** Feeds `data` as a stream of irregular pieces (not aligned to any chunk size). */
function pieces(data: Buffer, seed = 7, max = 100_000): Readable {
  return Readable.from(randomChunks(data, seed, max), { objectMode: false });
}

async function compress(data: Buffer, options: { level?: number; threads?: number; chunkSize?: number }, source: Readable | AsyncIterable<Uint8Array> = pieces(data)): Promise<{ output: Buffer; result: PgzipResult }> {
  const sink = collector();
  const result = await within(pgzip(source, sink.stream, options), 60_000, 'pgzip');
  return { output: sink.bytes(), result };
}

/** The system gunzip, input on stdin, output collected from stdout. */
function systemGunzip(gz: Buffer, timeout = 30_000): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('gunzip', ['-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeout} ms]`;
      child.kill('SIGKILL');
    }, timeout);
    child.on('error', (error) => (stderr += String(error)));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(gz);
  });
}

/** gunzipSync and (when installed) the system gunzip both give back exactly `expected`. */
async function expectDecompressesTo(gz: Buffer, expected: Buffer): Promise<void> {
  const viaZlib = gunzipSync(gz);
  expect(viaZlib.length).toBe(expected.length);
  expect(viaZlib.equals(expected)).toBe(true);
  if (hasGunzip) {
    const viaGunzip = await systemGunzip(gz);
    expect(viaGunzip.code, viaGunzip.stderr).toBe(0);
    expect(viaGunzip.stdout.length).toBe(expected.length);
    expect(viaGunzip.stdout.equals(expected)).toBe(true);
  }
}

/** What pgzip must write: one independent gzip member per chunk, in input order, as its compressor documents it. */
function expectedMembers(data: Buffer, chunkSize: number, level: number): Buffer {
  const member = (chunk: Buffer): Buffer => gzipSync(chunk, { level, chunkSize: memberRoom(chunk.length) });
  if (data.length === 0) return member(Buffer.alloc(0));
  const members: Buffer[] = [];
  for (let at = 0; at < data.length; at += chunkSize) members.push(member(data.subarray(at, at + chunkSize)));
  return Buffer.concat(members);
}

const MB = 1 << 20;
let data: Buffer;

beforeAll(() => {
  data = generate(3 * MB + 12_345, 20240601);
});

describe('Z1 pgzip output decompresses byte-exact', () => {
  const matrix: Array<[number, number]> = [];
  for (const chunkSize of [1024, 65536, MB]) for (const threads of [1, 2]) matrix.push([chunkSize, threads]);

  it.each(matrix)('Z1a chunkSize %i, threads %i: ~3 MB of mixed data round-trips through zlib and gunzip', async (chunkSize, threads) => {
    const { output, result } = await compress(data, { chunkSize, threads, level: 6 });
    await expectDecompressesTo(output, data);
    expect(result.bytesIn).toBe(data.length);
    expect(result.bytesOut).toBe(output.length);
    expect(result.chunks).toBe(Math.ceil(data.length / chunkSize));
    expect(result.threads).toBe(threads);
    // One gzip member per chunk, in input order.
    expect(output.equals(expectedMembers(data, chunkSize, 6))).toBe(true);
    // The mix is compressible overall, but not to nothing.
    expect(output.length).toBeLessThan(data.length);
  }, 60_000);

  it.each([
    ['empty input', 0],
    ['a 1-byte input', 1],
  ] as const)('Z1b %s gives a valid gzip stream of the same bytes', async (_label, size) => {
    const input = Buffer.alloc(size, 0x41);
    for (const threads of [1, 2]) {
      const { output, result } = await compress(input, { threads, chunkSize: 1024 }, Readable.from(size === 0 ? [] : [input]));
      expect(output.length).toBeGreaterThan(0);
      expect(output.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      await expectDecompressesTo(output, input);
      expect(result.bytesIn).toBe(size);
      expect(result.bytesOut).toBe(output.length);
    }
  });

  it('Z1c input sizes at chunk boundaries (exact multiple, one more, one less)', async () => {
    const chunkSize = 4096;
    for (const size of [chunkSize, chunkSize - 1, chunkSize + 1, 5 * chunkSize, 5 * chunkSize + 1]) {
      const input = data.subarray(100_000, 100_000 + size);
      const { output, result } = await compress(Buffer.from(input), { threads: 2, chunkSize }, pieces(Buffer.from(input), size, 3000));
      await expectDecompressesTo(output, Buffer.from(input));
      expect(result.chunks).toBe(Math.ceil(size / chunkSize));
    }
  });

  it('Z1d levels 0, 1 and 9 all round-trip; level 0 stores, level 9 is no larger than level 1', async () => {
    const input = data.subarray(0, MB);
    const sizes: Record<number, number> = {};
    for (const level of [0, 1, 9]) {
      const { output } = await compress(Buffer.from(input), { level, threads: 2, chunkSize: 65536 });
      await expectDecompressesTo(output, Buffer.from(input));
      expect(output.equals(expectedMembers(Buffer.from(input), 65536, level))).toBe(true);
      sizes[level] = output.length;
    }
    expect(sizes[0]!).toBeGreaterThan(input.length);
    expect(sizes[9]!).toBeLessThanOrEqual(sizes[1]!);
  });

  it('Z1e an async-iterable source of odd-sized Uint8Arrays, and a slow destination (backpressure)', async () => {
    const input = data.subarray(0, 2 * MB);
    async function* source(): AsyncGenerator<Uint8Array> {
      for (let at = 0; at < input.length; at += 77_777) {
        yield new Uint8Array(input.subarray(at, at + 77_777));
        if ((at / 77_777) % 3 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const sink = collector({ slow: true, highWaterMark: 1024 });
    const result = await within(pgzip(source(), sink.stream, { threads: 2, chunkSize: 65536 }), 60_000, 'pgzip');
    const output = sink.bytes();
    await expectDecompressesTo(output, Buffer.from(input));
    expect(result.bytesOut).toBe(output.length);
    expect(output.equals(expectedMembers(Buffer.from(input), 65536, 6))).toBe(true);
  }, 60_000);

  it('Z1f the destination is left open (leaveOpen): pgzip does not end it', async () => {
    const sink = collector();
    await within(pgzip(Readable.from([Buffer.from('hello')]), sink.stream, { threads: 1, chunkSize: 1024 }), 30_000, 'pgzip');
    expect(sink.stream.writableEnded).toBe(false);
    sink.stream.end();
    expect(gunzipSync(sink.bytes()).toString()).toBe('hello');
  });
});

describe('Z4 chunks move, they are not copied twice', () => {
  it('Z4a compress() moves back its member, a view of zlib\'s own output buffer at offset 0, and the chunk\'s buffer for reuse', () => {
    for (const size of [0, 1, 5000, MB]) {
      const chunk = new Uint8Array(data.subarray(0, size));
      const moved = compressMember({ chunk, level: 6 });
      const { member } = moved.value;
      expect(member.byteOffset).toBe(0);
      expect(member.buffer.byteLength).toBe(memberRoom(size));
      expect(moved.value.chunk).toBe(chunk.buffer);
      expect(moved.transferList).toEqual([member.buffer, chunk.buffer]);
      expect(gunzipSync(member).equals(Buffer.from(chunk))).toBe(true);
    }
  });

  it('Z4b the source\'s own buffers are never moved away: each chunk is copied once, and the copy moves', async () => {
    // Pieces of exactly one chunk (a chunk is then one whole piece, the case a shortcut would move
    // as it is) and pieces of odd sizes (a chunk spans several).
    const chunkSize = 131072;
    const input = data.subarray(0, 4 * chunkSize + 600_000);
    const sizes = [chunkSize, chunkSize, chunkSize, chunkSize, 50_000, 250_000, 300_000];
    const given: Uint8Array[] = [];
    for (let at = 0, i = 0; at < input.length; at += sizes[i++]!) given.push(new Uint8Array(input.subarray(at, at + sizes[i]!)));
    const sink = collector();
    const source = (async function* (): AsyncGenerator<Uint8Array> {
      yield* given;
    })();
    await within(pgzip(source, sink.stream, { threads: 2, chunkSize }), 30_000, 'pgzip');
    await expectDecompressesTo(sink.bytes(), Buffer.from(input));
    expect(given.map((piece) => piece.length)).toEqual(sizes);
    expect(Buffer.concat(given).equals(input)).toBe(true);
  });
});

describe('Z5 a file path as the source: read straight into the chunk buffers', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgzip-file-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('Z5a files of 0, 1, one chunk less one, one chunk, one chunk more one and several chunks give the same members as a stream does', async () => {
    const chunkSize = 4096;
    for (const size of [0, 1, chunkSize - 1, chunkSize, chunkSize + 1, 7 * chunkSize, 7 * chunkSize + 123]) {
      const input = Buffer.from(data.subarray(200_000, 200_000 + size));
      const path = join(dir, `input-${size}.bin`);
      writeFileSync(path, input);
      const sink = collector();
      const result = await within(pgzip(path, sink.stream, { threads: 2, chunkSize }), 30_000, 'pgzip');
      const output = sink.bytes();
      await expectDecompressesTo(output, input);
      expect(output.equals(expectedMembers(input, chunkSize, 6)), `size ${size}`).toBe(true);
      expect(result.chunks).toBe(Math.ceil(size / chunkSize));
      expect(result.bytesIn).toBe(size);
    }
  });

  it('Z5b a missing file rejects with ENOENT and writes nothing', async () => {
    const sink = collector();
    await expect(within(pgzip(join(dir, 'absent.bin'), sink.stream, { threads: 1 }), 30_000, 'pgzip')).rejects.toMatchObject({ code: 'ENOENT' });
    expect(sink.writes()).toBe(0);
  });
});

describe('Z2 pgzip argument checks and failures', () => {
  it.each([
    ['level 10', { level: 10 }],
    ['level -1', { level: -1 }],
    ['level 1.5', { level: 1.5 }],
    ['threads 0', { threads: 0 }],
    ['threads 1.5', { threads: 1.5 }],
    ['chunkSize 1023', { chunkSize: 1023 }],
    ['chunkSize NaN', { chunkSize: Number.NaN }],
  ] as const)('Z2a %s is a RangeError before anything is read or written', async (_label, options) => {
    const sink = collector();
    await expect(pgzip(Readable.from([Buffer.from('x')]), sink.stream, options)).rejects.toThrow(RangeError);
    expect(sink.writes()).toBe(0);
  });

  it('Z2b a source that fails midway rejects pgzip with that error (no hang)', async () => {
    const failure = new Error('source broke');
    async function* source(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array(200_000);
      throw failure;
    }
    const sink = collector();
    await expect(within(pgzip(source(), sink.stream, { threads: 2, chunkSize: 65536 }), 30_000, 'pgzip')).rejects.toBe(failure);
  });
});

describe('Z3 the pgzip CLI end to end', () => {
  let dir: string;
  let inputPath: string;
  let input: Buffer;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pgzip-test-'));
    input = generate(2 * MB + 777, 99);
    inputPath = join(dir, 'input.bin');
    writeFileSync(inputPath, input);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function cli(args: string[], timeout = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(process.execPath, [mainScript, ...args], { cwd: root, timeout, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
      });
    });
  }

  it('Z3a input file -o output: the file gunzips to the input; the summary goes to stderr, nothing to stdout', async () => {
    const outputPath = join(dir, 'out-a.gz');
    const r = await cli([inputPath, '-o', outputPath, '--threads', '2', '--chunk', '65536', '--level', '6']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^pgzip: ${input.length} bytes → \\d+ bytes in ${Math.ceil(input.length / 65536)} members, 2 threads, level 6`, 'm'));
    const gz = readFileSync(outputPath);
    await expectDecompressesTo(gz, input);
    if (hasGunzip) {
      // gunzip on the file itself, as a user would.
      const r2 = spawnSync('gunzip', ['-c', outputPath], { timeout: 30_000, maxBuffer: 64 << 20 });
      expect(r2.status).toBe(0);
      expect(Buffer.compare(r2.stdout, input)).toBe(0);
    }
  }, 90_000);

  it('Z3b stdin to stdout by default', async () => {
    const result = await new Promise<{ code: number | null; stdout: Buffer; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [mainScript, '--threads', '2', '--chunk', '131072'], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      const timer = setTimeout(() => {
        stderr += '\n[killed after 60 s]';
        child.kill('SIGKILL');
      }, 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout: Buffer.concat(out), stderr });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`^pgzip: ${input.length} bytes`, 'm'));
    await expectDecompressesTo(result.stdout, input);
  }, 90_000);

  it('Z3c --compare also prints the zlib.createGzip line (and the pigz line or its absence) to stderr', async () => {
    const outputPath = join(dir, 'out-c.gz');
    const r = await cli([inputPath, '-o', outputPath, '--threads', '2', '--compare']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^pgzip: \d+ bytes/m);
    expect(r.stderr).toMatch(/^zlib\.createGzip \(1 thread\): [\d.]+ s, [\d.]+ MB\/s — pgzip is [\d.]+x$/m);
    expect(r.stderr).toMatch(/^(pigz -p 2: [\d.]+ s|pigz is not installed)/m);
    await expectDecompressesTo(readFileSync(outputPath), input);
  }, 120_000);

  it('Z3d an empty input file gives a valid empty gzip file', async () => {
    const emptyPath = join(dir, 'empty.bin');
    const outputPath = join(dir, 'empty.gz');
    writeFileSync(emptyPath, Buffer.alloc(0));
    const r = await cli([emptyPath, '-o', outputPath, '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    await expectDecompressesTo(readFileSync(outputPath), Buffer.alloc(0));
  });

  it('Z3f a missing input, a directory as input, an unwritable output: one line naming the file, exit 1, no output left behind', async () => {
    const outputPath = join(dir, 'never.gz');
    const missing = await cli([join(dir, 'no-such-file'), '-o', outputPath]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^pgzip: cannot read '.*no-such-file': ENOENT$/);
    expect(existsSync(outputPath)).toBe(false);
    const directory = await cli([dir, '-o', outputPath]);
    expect(directory.code).toBe(1);
    expect(directory.stderr.trim()).toMatch(/^pgzip: cannot read '.*': not a file$/);
    expect(existsSync(outputPath)).toBe(false);
    const inputPath = join(dir, 'small.bin');
    writeFileSync(inputPath, Buffer.alloc(1000, 7));
    const unwritable = await cli([inputPath, '-o', join(dir, 'no-such-dir', 'out.gz')]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr.trim()).toMatch(/^pgzip: cannot write '.*out\.gz': ENOENT$/);
  });

  it('Z3e --compare without an input file fails with a non-zero exit', async () => {
    const r = await cli(['--compare'], 30_000);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--compare needs an input file/);
  });
});
