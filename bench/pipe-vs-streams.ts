// The in-thread Pipe against node:stream, one message per op: produced, delivered, and consumed to
// the point where the consumer has seen its bytes (it adds the message's first byte, which is 1, to
// a checksum; `measure` checks the checksum grows by one per message). Nothing else is in flight:
// the producer does not start message n+1 before the consumer saw message n.
import { spawn } from 'node:child_process';
import { PassThrough, Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Pipe, type FlushResult, type PipeWriter } from 'threadpipe';
import type { AllocationReport } from './pipe-alloc.js';
import {
  type Case,
  type CaseRunner,
  formatBytes,
  formatMBps,
  formatRate,
  formatRatio,
  markdownTable,
  measure,
  median,
  type Measured,
  ratio,
  spread,
  type Suite,
  type SuiteOptions,
} from './report.js';

const SMALL = 128;
const LARGE = 64 * 1024;
const BATCH = 64;

/** A message whose first byte is 1 and the rest 0, so summing record-start bytes counts records. */
function message(size: number): Buffer {
  const m = Buffer.alloc(size);
  m[0] = 1;
  return m;
}

// ---- Pipe

type Produce = (writer: PipeWriter, msg: Uint8Array) => Promise<FlushResult>;

/** The brief's loop: write (copy + flush), read, look at the first byte, advance past everything. */
const viaWrite: Produce = (writer, msg) => writer.write(msg);

/** The same with the producer filling pipe memory: getMemory + copy + advance + flush. */
const viaGetMemory: Produce = (writer, msg) => {
  writer.getMemory(msg.length).set(msg);
  writer.advance(msg.length);
  return writer.flush();
};

function pipeLoop(size: number, produce: Produce, pauseWriterThreshold?: number): CaseRunner {
  const pipe = new Pipe(pauseWriterThreshold === undefined ? undefined : { pauseWriterThreshold });
  const { reader, writer } = pipe;
  const msg = message(size);
  let sum = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        // The flush is awaited after the read: at 64 KiB it reaches the default pause threshold
        // (65536) and only the reader's advanceTo releases it. At 128 B it is already settled, so this
        // is the same as awaiting the flush first.
        const flushed = produce(writer, msg);
        const result = await reader.read();
        sum += result.buffer.first[0]!;
        reader.advanceTo(result.buffer.end);
        await flushed;
      }
    },
    checksum: () => sum,
    close() {
      writer.complete();
      reader.complete();
    },
  };
}

/**
 * The synchronous counterpart of `PassThrough write + read()`: write, then tryRead(). The flush
 * promise is not awaited: at 128 B it is already settled, at 64 KiB (writer paused at the
 * threshold) advanceTo settles it before the next write.
 */
function pipeTryRead(size: number): CaseRunner {
  const pipe = new Pipe();
  const { reader, writer } = pipe;
  const msg = message(size);
  let sum = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        void writer.write(msg);
        const result = reader.tryRead();
        if (result === null) throw new Error('tryRead() found nothing after a flush');
        sum += result.buffer.first[0]!;
        reader.advanceTo(result.buffer.end);
      }
    },
    checksum: () => sum,
    close() {
      writer.complete();
      reader.complete();
    },
  };
}

/** 64 records of 128 B per flush; the consumer looks at the first byte of every record. */
function pipeBatch(): CaseRunner {
  const pipe = new Pipe();
  const { reader, writer } = pipe;
  const rec = message(SMALL);
  let sum = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        for (let r = 0; r < BATCH; r++) {
          const memory = writer.getMemory(SMALL);
          memory.set(rec);
          writer.advance(SMALL);
        }
        const flushed = writer.flush();
        const result = await reader.read();
        // Segments are 4096 B, a multiple of the record size, so no record straddles two.
        for (const chunk of result.buffer) for (let o = 0; o < chunk.length; o += SMALL) sum += chunk[o]!;
        reader.advanceTo(result.buffer.end);
        await flushed;
      }
    },
    checksum: () => sum,
    close() {
      writer.complete();
      reader.complete();
    },
  };
}

// ---- node:stream

/** Resolves the producer's wait once the consumer has seen `target` records. */
class Delivery {
  seen = 0;
  sum = 0;
  #target = 0;
  #wake: (() => void) | null = null;

  consume(chunk: Uint8Array): void {
    this.sum += chunk[0]!;
    this.seen++;
    if (this.#wake !== null && this.seen >= this.#target) {
      const wake = this.#wake;
      this.#wake = null;
      wake();
    }
  }

  /** Settled at once when the records were delivered synchronously (streams often do). */
  until(target: number): Promise<void> | undefined {
    if (this.seen >= target) return undefined;
    this.#target = target;
    return new Promise((resolve) => (this.#wake = resolve));
  }
}

function copyOf(source: Buffer): Buffer {
  const copy = Buffer.allocUnsafe(source.length);
  source.copy(copy);
  return copy;
}

/** PassThrough in paused mode: write, then read() the chunk back synchronously. */
function passThroughRead(size: number): CaseRunner {
  const pt = new PassThrough();
  const msg = message(size);
  let sum = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        pt.write(msg);
        const chunk = pt.read() as Buffer | null;
        if (chunk === null || chunk.length !== size) throw new Error(`PassThrough read() returned ${chunk === null ? 'null' : chunk.length + ' bytes'}`);
        sum += chunk[0]!;
      }
    },
    checksum: () => sum,
    close: () => void pt.destroy(),
  };
}

/** PassThrough in flowing mode: a 'data' listener consumes; the producer waits only if delivery is deferred. */
function passThroughData(size: number, recordsPerOp = 1, freshBuffer = false): CaseRunner {
  const pt = new PassThrough();
  const delivery = new Delivery();
  pt.on('data', (chunk: Buffer) => delivery.consume(chunk));
  const msg = message(size);
  let target = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        // freshBuffer: a producer that may not reuse its buffer once written (the consumer may keep
        // the chunk) allocates and fills a new one per message, as the Pipe fills pipe memory.
        for (let r = 0; r < recordsPerOp; r++) pt.write(freshBuffer ? copyOf(msg) : msg);
        target += recordsPerOp;
        const wait = delivery.until(target);
        if (wait !== undefined) await wait;
      }
    },
    checksum: () => delivery.sum,
    close: () => void pt.destroy(),
  };
}

/** PassThrough read with `for await` (its async iterator): the same pull-with-a-promise shape as Pipe.read(). */
function passThroughAsyncIterator(size: number): CaseRunner {
  const pt = new PassThrough();
  const iterator = pt[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const msg = message(size);
  let sum = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        pt.write(msg);
        const { value, done } = await iterator.next();
        if (done || value.length !== size) throw new Error('PassThrough iterator did not yield the message');
        sum += value[0]!;
      }
    },
    checksum: () => sum,
    async close() {
      await iterator.return?.();
      pt.destroy();
    },
  };
}

/** A Readable (pushed to by the producer) piped into a Writable whose _write consumes. */
function readableToWritable(size: number, recordsPerOp = 1): CaseRunner {
  const delivery = new Delivery();
  const source = new Readable({ read() {} });
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      delivery.consume(chunk);
      callback();
    },
  });
  source.pipe(sink);
  const msg = message(size);
  let target = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        for (let r = 0; r < recordsPerOp; r++) source.push(msg);
        target += recordsPerOp;
        const wait = delivery.until(target);
        if (wait !== undefined) await wait;
      }
    },
    checksum: () => delivery.sum,
    close() {
      source.unpipe(sink);
      source.destroy();
      sink.destroy();
    },
  };
}

/** The 128 B loops the allocation check (bench/pipe-alloc.ts, run with --expose-gc) measures. */
export const allocationLoops: ReadonlyArray<{ readonly name: string; readonly create: () => CaseRunner }> = [
  { name: 'Pipe write()', create: () => pipeLoop(SMALL, viaWrite) },
  { name: 'Pipe getMemory/advance/flush', create: () => pipeLoop(SMALL, viaGetMemory) },
  { name: "PassThrough write + 'data' (reference)", create: () => passThroughData(SMALL) },
  { name: 'PassThrough write + for await (reference)', create: () => passThroughAsyncIterator(SMALL) },
];

// ---- cases

type Kind = 'pipe' | 'stream';
interface Entry extends Case {
  readonly kind: Kind;
  readonly label: string;
  readonly size: string;
}

function entry(kind: Kind, label: string, size: number, recordsPerOp: number, opsPerIteration: number, create: () => CaseRunner): Entry {
  const sizeLabel = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
  const name = `${label} @ ${recordsPerOp > 1 ? `${recordsPerOp}×${sizeLabel}` : sizeLabel}`;
  return { kind, label, size: recordsPerOp > 1 ? `${recordsPerOp}×${sizeLabel}` : sizeLabel, name, bytesPerOp: size * recordsPerOp, recordsPerOp, opsPerIteration, create };
}

const L = {
  pipeWrite: 'Pipe write()',
  pipeGetMemory: 'Pipe getMemory/advance/flush',
  pipeNoPause: 'Pipe write(), pauseWriterThreshold 0',
  pipeTryRead: 'Pipe write + tryRead() (sync)',
  pipeBatch: 'Pipe getMemory/advance ×64, 1 flush',
  ptRead: "PassThrough write + read()",
  ptData: "PassThrough write + 'data'",
  ptIter: 'PassThrough write + for await',
  ptDataFresh: "PassThrough write + 'data', new Buffer per message",
  rw: 'Readable.push → pipe() → Writable',
  ptDataBatch: "PassThrough 64 writes + 'data'",
  rwBatch: 'Readable 64 pushes → pipe() → Writable',
} as const;

function cases(): Entry[] {
  const small = SMALL;
  const large = LARGE;
  return [
    entry('pipe', L.pipeWrite, small, 1, 256, () => pipeLoop(small, viaWrite)),
    entry('pipe', L.pipeGetMemory, small, 1, 256, () => pipeLoop(small, viaGetMemory)),
    entry('pipe', L.pipeTryRead, small, 1, 256, () => pipeTryRead(small)),
    entry('stream', L.ptRead, small, 1, 256, () => passThroughRead(small)),
    entry('stream', L.ptData, small, 1, 256, () => passThroughData(small)),
    entry('stream', L.ptIter, small, 1, 256, () => passThroughAsyncIterator(small)),
    entry('stream', L.rw, small, 1, 256, () => readableToWritable(small)),

    entry('pipe', L.pipeWrite, large, 1, 16, () => pipeLoop(large, viaWrite)),
    entry('pipe', L.pipeNoPause, large, 1, 16, () => pipeLoop(large, viaWrite, 0)),
    entry('pipe', L.pipeGetMemory, large, 1, 16, () => pipeLoop(large, viaGetMemory)),
    entry('pipe', L.pipeTryRead, large, 1, 16, () => pipeTryRead(large)),
    entry('stream', L.ptRead, large, 1, 16, () => passThroughRead(large)),
    entry('stream', L.ptData, large, 1, 16, () => passThroughData(large)),
    entry('stream', L.ptDataFresh, large, 1, 16, () => passThroughData(large, 1, true)),
    entry('stream', L.ptIter, large, 1, 16, () => passThroughAsyncIterator(large)),
    entry('stream', L.rw, large, 1, 16, () => readableToWritable(large)),

    entry('pipe', L.pipeBatch, small, BATCH, 16, () => pipeBatch()),
    entry('stream', L.ptDataBatch, small, BATCH, 16, () => passThroughData(small, BATCH)),
    entry('stream', L.rwBatch, small, BATCH, 16, () => readableToWritable(small, BATCH)),
  ];
}

// ---- report

function find(results: readonly Measured[], label: string, size: string): Measured {
  const found = results.find((r) => (r.case as Entry).label === label && (r.case as Entry).size === size);
  if (found === undefined) throw new Error(`no result for ${label} @ ${size}`);
  return found;
}

/** Messages (records) per second of each run. */
const recordsPerSec = (m: Measured): number[] => m.opsPerSec.map((ops) => ops * m.case.recordsPerOp);

function resultsTable(results: readonly Measured[]): string {
  const rows = results.map((m) => {
    const e = m.case as Entry;
    const ops = median(m.opsPerSec);
    return [e.label, e.size, formatRate(ops * e.recordsPerOp), formatMBps(ops * e.bytesPerOp), `±${spread(m.opsPerSec).toFixed(1)}%`];
  });
  return markdownTable(['case', 'message', 'messages/s', 'MB/s', 'run spread'], rows, ['left', 'left', 'right', 'right', 'right']);
}

const streamBaselines = [L.ptRead, L.ptData, L.ptIter, L.rw] as const;

function ratioTable(results: readonly Measured[]): string {
  const rows: string[][] = [];
  for (const [label, size] of [
    [L.pipeWrite, '128 B'],
    [L.pipeGetMemory, '128 B'],
    [L.pipeTryRead, '128 B'],
    [L.pipeWrite, '64 KiB'],
    [L.pipeNoPause, '64 KiB'],
    [L.pipeGetMemory, '64 KiB'],
    [L.pipeTryRead, '64 KiB'],
  ] as const) {
    const pipe = recordsPerSec(find(results, label, size));
    rows.push([label, size, ...streamBaselines.map((b) => formatRatio(ratio(pipe, recordsPerSec(find(results, b, size)))))]);
  }
  const batch = recordsPerSec(find(results, L.pipeBatch, `${BATCH}×128 B`));
  rows.push([
    L.pipeBatch,
    `${BATCH}×128 B`,
    '–',
    formatRatio(ratio(batch, recordsPerSec(find(results, L.ptDataBatch, `${BATCH}×128 B`)))),
    '–',
    formatRatio(ratio(batch, recordsPerSec(find(results, L.rwBatch, `${BATCH}×128 B`)))),
  ]);
  return markdownTable(
    ['Pipe variant', 'message', '/ PT read()', "/ PT 'data'", '/ PT for await', '/ Readable→Writable'],
    rows,
    ['left', 'left', 'right', 'right', 'right', 'right'],
  );
}

function targets(results: readonly Measured[]): string[] {
  const lines: string[] = [];
  const rate = (label: string, size: string): number[] => recordsPerSec(find(results, label, size));
  const check = (size: string, goal: number): void => {
    const pipe = rate(L.pipeWrite, size);
    const vs = [L.ptRead, L.ptData, L.ptIter].map((b) => ({ b, r: ratio(pipe, rate(b, size)) }));
    const met = vs.filter((v) => v.r >= goal);
    const verdict = met.length === vs.length ? 'PASS' : met.length > 0 ? `SHORT (met against ${met.map((v) => v.b).join(', ')} only)` : 'SHORT';
    lines.push(`- Pipe write()+read() >= ${goal}x PassThrough messages/s at ${size}: ${vs.map((v) => `${formatRatio(v.r)} vs ${v.b}`).join('; ')} — **${verdict}**`);
    const asyncPair = ratio(pipe, rate(L.ptIter, size));
    const syncPair = ratio(rate(L.pipeTryRead, size), rate(L.ptRead, size));
    lines.push(`  - like for like at ${size}: promise pull (Pipe read() / for await) ${formatRatio(asyncPair)}, synchronous pull (Pipe tryRead() / PassThrough read()) ${formatRatio(syncPair)}`);
  };
  check('128 B', 1.5);
  check('64 KiB', 1);
  lines.push(
    `  - if the stream producer must allocate and fill a new 64 KiB Buffer per message (${L.ptDataFresh}): ` +
      `Pipe write()+read() ${formatRatio(ratio(rate(L.pipeWrite, '64 KiB'), rate(L.ptDataFresh, '64 KiB')))}, ` +
      `Pipe getMemory/advance/flush ${formatRatio(ratio(rate(L.pipeGetMemory, '64 KiB'), rate(L.ptDataFresh, '64 KiB')))}`,
  );
  const batch = median(rate(L.pipeBatch, `${BATCH}×128 B`));
  const single = median(rate(L.pipeWrite, '128 B'));
  lines.push(`- Batching 64 records per flush: ${formatRate(batch)} records/s, ${formatRatio(batch / single)} the single-message Pipe write() rate.`);
  return lines;
}

// ---- allocation check (child process with --expose-gc)

function runAllocationCheck(): Promise<AllocationReport[]> {
  const script = fileURLToPath(new URL('./pipe-alloc.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => (out += text));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`allocation check exited with code ${code}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop()!) as AllocationReport[]);
      } catch (error) {
        reject(error);
      }
    });
  });
}

function allocationTable(reports: readonly AllocationReport[]): string {
  const rows = reports.map((r) => [
    r.name,
    r.iterations.toLocaleString('en-US'),
    `≈${r.bytesPerMessage.toFixed(0)} B`,
    `${r.minorGcs} / ${r.majorGcs}`,
    formatBytes(r.heapDelta),
    formatBytes(r.retainedAfterGc),
    formatBytes(r.arrayBuffersAfterGc),
  ]);
  return markdownTable(
    ['loop (128 B)', 'messages', 'allocated/msg', 'GCs minor / major', 'heapUsed delta', 'heap retained after gc()', 'arrayBuffers retained'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

export const suite: Suite = {
  name: 'pipe-vs-streams',
  description:
    'In-thread Pipe (default options, inline schedulers) vs node:stream, one message in flight: each op produces a message, delivers it and ' +
    'lets the consumer read its first byte. Streams pass the caller\'s Buffer through by reference; the Pipe copies it into pipe memory. ' +
    `Batching: ${BATCH} records of 128 B per op; messages/s counts records.`,
  async run(options: SuiteOptions) {
    const log = (line: string): void => void process.stderr.write(`${line}\n`);
    const all = cases();
    log(`pipe-vs-streams: ${all.length} tasks × ${options.runs} runs`);
    const results = await measure(all, options, log);
    console.log(resultsTable(results));
    console.log(
      "\nPassThrough 'data' and Readable→Writable deliver inside write()/push() (a synchronous call chain, the producer " +
        'never awaits); PassThrough read() and Pipe tryRead() are synchronous pulls; Pipe read() and for await are ' +
        'promise-based pulls (two awaits per message for the Pipe). MB/s of the streams at 64 KiB reflects pass-by-reference, not copying.',
    );
    console.log(`\n### Ratios (messages/s, median of per-run ratios)\n`);
    console.log(ratioTable(results));
    console.log(`\n### Targets (reported, not asserted)\n`);
    for (const line of targets(results)) console.log(line);
    log('pipe-vs-streams: allocation check (child process, --expose-gc)');
    const allocation = await runAllocationCheck();
    console.log(`\n### Allocation: 200,000 messages of 128 B after warm-up (node --expose-gc child)\n`);
    console.log(allocationTable(allocation));
    console.log(
      '\nallocated/msg: sum of heapUsed growth over 1,000-message slices in which no GC ran (V8 heap only; pool blocks ' +
        'are reused). heapUsed delta: end minus start of the 200,000, GCs included. Retained: after gc() at the end, vs. before.',
    );
  },
};
