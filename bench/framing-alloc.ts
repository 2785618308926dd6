// What each framing form allocates per item, over an in-thread Pipe: run by the tcp-lines suite
// (`framingAllocation()` starts `node --expose-gc --min-semi-space-size=128 --max-semi-space-size=128
// dist/bench/framing-alloc.js`), which prints one JSON line (FramingAllocation[]). The young generation is made large enough (128 MiB) that a measured stretch
// of items runs without a GC, so the growth of heapUsed over it is what it allocated; a stretch that
// saw a GC anyway is reported as such instead of a figure. The same bytes read with read() and
// advanceTo() and no parsing give the pipe's own share, which each form's row leaves out.
import { execFile } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { forEachFrame, forEachLine, Pipe, readFrameBatches, readFrames, readLineBatches, readLines, type PipeReader } from 'threadpipe';
import { LINE_BYTES, lineBlock, LINES_PER_WRITE } from './workers/tcp-common.js';

export interface FramingAllocation {
  readonly name: string;
  readonly items: number;
  /** heapUsed growth per item over the measured stretch, the plain read loop's share taken out; null (NaN) when a GC ran. */
  readonly bytesPerItem: number | null;
  /** The plain read loop's own growth per item (the pipe's writes and reads of the same bytes). */
  readonly pipeBytesPerItem: number;
  readonly gcs: number;
}

/** A young generation large enough for a measured stretch (MEASURED_WRITES × 1638 items, a few hundred bytes each at most). */
const kNodeFlags = ['--expose-gc', '--min-semi-space-size=128', '--max-semi-space-size=128'];

/** Runs this script in a child node with the flags it needs and returns its report. */
export async function framingAllocation(): Promise<FramingAllocation[]> {
  const { stdout } = await promisify(execFile)(process.execPath, [...kNodeFlags, fileURLToPath(import.meta.url)]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as FramingAllocation[];
}

const WARMUP_WRITES = 100;
const MEASURED_WRITES = 100;
/** A u16be frame per line: a 2-byte prefix and a 38-byte payload, so frames and lines move the same bytes. */
const FRAME_PAYLOAD = LINE_BYTES - 2;

type Consumer = (reader: PipeReader) => Promise<number>;

const lineForms: Record<string, Consumer> = {
  'read() + advanceTo, no parsing': async (reader) => {
    let bytes = 0;
    for (;;) {
      const result = await reader.read();
      bytes += result.buffer.length;
      reader.advanceTo(result.buffer.end);
      if (result.isCompleted) return bytes / LINE_BYTES;
    }
  },
  forEachLine: async (reader) => {
    let lines = 0;
    await forEachLine(reader, () => void lines++);
    return lines;
  },
  readLineBatches: async (reader) => {
    let lines = 0;
    for await (const batch of readLineBatches(reader)) lines += batch.length;
    return lines;
  },
  'for await readLines': async (reader) => {
    let lines = 0;
    for await (const line of readLines(reader)) lines += line.length > 0 ? 1 : 0;
    return lines;
  },
};

const frameOptions = { prefix: 'u16be', maxFrameSize: FRAME_PAYLOAD } as const;

const frameForms: Record<string, Consumer> = {
  forEachFrame: async (reader) => {
    let frames = 0;
    await forEachFrame(reader, () => void frames++, frameOptions);
    return frames;
  },
  readFrameBatches: async (reader) => {
    let frames = 0;
    for await (const batch of readFrameBatches(reader, frameOptions)) frames += batch.length;
    return frames;
  },
  'for await readFrames': async (reader) => {
    let frames = 0;
    for await (const frame of readFrames(reader, frameOptions)) frames += frame.length === FRAME_PAYLOAD ? 1 : 0;
    return frames;
  },
};

/** One write's worth of u16be frames, as many as a line block has lines, of the same bytes per item. */
function frameBlock(): Uint8Array {
  const block = new Uint8Array(LINES_PER_WRITE * LINE_BYTES);
  for (let i = 0; i < LINES_PER_WRITE; i++) {
    const at = i * LINE_BYTES;
    block[at] = FRAME_PAYLOAD >>> 8;
    block[at + 1] = FRAME_PAYLOAD & 0xff;
    block.fill(0x61 + (i % 26), at + 2, at + LINE_BYTES);
  }
  return block;
}

/** Writes `writes` blocks through a Pipe while `consume` reads them; checks it saw every item. */
async function pass(block: Uint8Array, consume: Consumer, writes: number): Promise<void> {
  const pipe = new Pipe();
  const producer = (async () => {
    for (let i = 0; i < writes; i++) await pipe.writer.write(block);
    pipe.writer.complete();
  })();
  const items = await consume(pipe.reader);
  await producer;
  pipe.reader.complete();
  if (items !== writes * LINES_PER_WRITE) throw new Error(`framing-alloc: saw ${items} items, expected ${writes * LINES_PER_WRITE}`);
}

function fullGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  gc();
  gc();
}

/** How long the GC entries of a stretch may take to arrive (they are delivered some turns after the GC). */
const GC_ENTRY_WAIT_MS = 5_000;

/** The GCs that started between `t0` and `t1`, once a marker GC after `t1` shows every earlier entry arrived. */
async function gcsBetween(starts: number[], t0: number, t1: number): Promise<number> {
  const marker = performance.now();
  fullGc();
  const deadline = performance.now() + GC_ENTRY_WAIT_MS;
  while (!starts.some((start) => start >= marker)) {
    if (performance.now() > deadline) throw new Error('framing-alloc: the GC entries did not arrive');
    await new Promise((resolve) => setImmediate(resolve));
  }
  return starts.filter((start) => start >= t0 && start <= t1).length;
}

async function measure(block: Uint8Array, consume: Consumer): Promise<{ perItem: number; gcs: number }> {
  await pass(block, consume, WARMUP_WRITES);
  const starts: number[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) starts.push(entry.startTime);
  });
  observer.observe({ entryTypes: ['gc'] });
  fullGc();
  const t0 = performance.now();
  const before = process.memoryUsage().heapUsed;
  await pass(block, consume, MEASURED_WRITES);
  const after = process.memoryUsage().heapUsed;
  const t1 = performance.now();
  try {
    return { perItem: (after - before) / (MEASURED_WRITES * LINES_PER_WRITE), gcs: await gcsBetween(starts, t0, t1) };
  } finally {
    observer.disconnect();
  }
}

async function main(): Promise<void> {
  const reports: FramingAllocation[] = [];
  const blocks: [Uint8Array, Record<string, Consumer>][] = [
    [lineBlock(), lineForms],
    [frameBlock(), frameForms],
  ];
  const plain = lineForms['read() + advanceTo, no parsing']!;
  for (const [block, forms] of blocks) {
    const base = await measure(block, plain);
    for (const [name, consume] of Object.entries(forms)) {
      if (consume === plain) continue;
      const { perItem, gcs } = await measure(block, consume);
      reports.push({
        name,
        items: MEASURED_WRITES * LINES_PER_WRITE,
        bytesPerItem: gcs > 0 || base.gcs > 0 ? NaN : perItem - base.perItem,
        pipeBytesPerItem: base.perItem,
        gcs: gcs + base.gcs,
      });
    }
  }
  process.stdout.write(`${JSON.stringify(reports)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
