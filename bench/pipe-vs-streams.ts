// The in-thread Pipe against node:stream, one message per op: produced, delivered, and consumed to
// the point where the consumer has seen its bytes (it checks the message's length and adds its first
// byte, which is 1, to a checksum; `measure` checks the checksum grows by one per message). Nothing
// else is in flight: the producer does not start message n+1 before the consumer saw message n.
import { spawn } from 'node:child_process';
import { PassThrough, Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Pipe, type FlushResult, type PipeOptions, type PipeWriter, type ReadResult } from 'threadpipe';
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
/** The Pipe's default pause threshold: a 64 KiB message reaches it, so each such flush waits for the reader. */
const kDefaultPause = 65536;

/** A message whose first byte is 1 and the rest 0, so summing record-start bytes counts records. */
function message(size: number): Buffer {
  const m = Buffer.alloc(size);
  m[0] = 1;
  return m;
}

/** The consumer's check of one message: its length, then its first byte (1) counted. */
function seen(chunk: Uint8Array, size: number): number {
  if (chunk.length !== size) throw new Error(`the consumer got ${chunk.length} bytes, expected ${size}`);
  return chunk[0]!;
}

/** The same for a read result: one message, in one segment. */
function seenResult(result: ReadResult, size: number): number {
  if (result.buffer.length !== size) throw new Error(`the reader got ${result.buffer.length} bytes, expected ${size}`);
  return result.buffer.first[0]!;
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

/**
 * The zero-copy handoff: the pipe links the producer's buffer as a segment. The producer hands the
 * same buffer over again only once the consumer advanced past it (the pipe has let go of it then),
 * as a stream producer reuses a chunk once it was delivered.
 */
const viaTransfer: Produce = (writer, msg) => writer.write(msg, kTransfer);
/** One options object for every handoff, as a loop that cares about allocation would keep it. */
const kTransfer = { transfer: true } as const;

function pipeLoop(size: number, produce: Produce, options?: PipeOptions): CaseRunner {
  const pipe = new Pipe(options);
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
        sum += seenResult(result, size);
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
 * The synchronous counterpart of `PassThrough write + read()`: write, then tryRead(). A flush that
 * cannot wait (below the pause threshold, or with pauseWriterThreshold 0) is not awaited; one that
 * paused the writer is awaited after the advanceTo that released it.
 */
function pipeTryRead(size: number, produce: Produce, options?: PipeOptions): CaseRunner {
  const pipe = new Pipe(options);
  const { reader, writer } = pipe;
  const msg = message(size);
  const pause = options?.pauseWriterThreshold ?? kDefaultPause;
  const mayWait = pause > 0 && size >= pause;
  let sum = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        const flushed = produce(writer, msg);
        const result = reader.tryRead();
        if (result === null) throw new Error('tryRead() found nothing after a flush');
        sum += seenResult(result, size);
        reader.advanceTo(result.buffer.end);
        if (mayWait) await flushed;
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
 * 64 records of 128 B per flush; the consumer looks at the first byte of every record. `whole`: the
 * producer asks for the batch's memory once and advances once (no view per record); otherwise
 * getMemory + advance per record.
 */
function pipeBatch(sync: boolean, whole = false): CaseRunner {
  const pipe = new Pipe();
  const { reader, writer } = pipe;
  const rec = message(SMALL);
  let sum = 0;
  const consume = (result: ReadResult): void => {
    if (result.buffer.length !== SMALL * BATCH) throw new Error(`the reader got ${result.buffer.length} bytes, expected ${SMALL * BATCH}`);
    // Segments are 4096 B, a multiple of the record size, so no record straddles two.
    for (const chunk of result.buffer) for (let o = 0; o < chunk.length; o += SMALL) sum += chunk[o]!;
    reader.advanceTo(result.buffer.end);
  };
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        if (whole) {
          const memory = writer.getMemory(SMALL * BATCH);
          for (let r = 0; r < BATCH; r++) memory.set(rec, r * SMALL);
          writer.advance(SMALL * BATCH);
        } else {
          for (let r = 0; r < BATCH; r++) {
            writer.getMemory(SMALL).set(rec);
            writer.advance(SMALL);
          }
        }
        // 8 KiB per flush, below the pause threshold: the flush never waits.
        const flushed = writer.flush();
        if (sync) {
          consume(reader.tryRead()!);
        } else {
          consume(await reader.read());
          await flushed;
        }
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
  readonly #size: number;
  #target = 0;
  #wake: (() => void) | null = null;

  constructor(size: number) {
    this.#size = size;
  }

  consume(chunk: Uint8Array): void {
    this.sum += seen(chunk, this.#size);
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
        if (chunk === null) throw new Error('PassThrough read() returned null');
        sum += seen(chunk, size);
      }
    },
    checksum: () => sum,
    close: () => void pt.destroy(),
  };
}

/** PassThrough in flowing mode: a 'data' listener consumes; the producer waits only if delivery is deferred. */
function passThroughData(size: number, recordsPerOp = 1, freshBuffer = false): CaseRunner {
  const pt = new PassThrough();
  const delivery = new Delivery(size);
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
        if (done) throw new Error('PassThrough iterator ended');
        sum += seen(value, size);
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
  const delivery = new Delivery(size);
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

/** A loop of the allocation check (bench/pipe-alloc.ts, run with --expose-gc) and the kind of operations it makes. */
export interface AllocationLoop {
  readonly name: string;
  readonly ops: 'sync' | 'async' | 'reference';
  readonly create: () => CaseRunner;
}

/**
 * What a loop that awaits `read()` and the flush costs with no pipe at all: two awaits of settled
 * promises per message (`fresh`: the first a new promise each time, the one promise a read may cost).
 * The bound of the Pipe loops that await; a Pipe read that finds data hands out its reader's one
 * settled promise, a flush that does not wait one of four shared ones.
 */
function awaitFloor(fresh: boolean): CaseRunner {
  const value = { first: 1 };
  const settledValue = Promise.resolve(value);
  const settled = Promise.resolve({ isCanceled: false, isCompleted: false });
  let sum = 0;
  return {
    async run(ops) {
      for (let i = 0; i < ops; i++) {
        const flushed = settled;
        sum += (await (fresh ? Promise.resolve(value) : settledValue)).first;
        await flushed;
      }
    },
    checksum: () => sum,
    close() {},
  };
}

/** A batch loop counted per record: over all calls, `run(n)` delivers n records, in whole batches as they fall due. */
function perRecord(batch: CaseRunner): CaseRunner {
  let requested = 0;
  let batches = 0;
  return {
    run(records) {
      requested += records;
      const due = Math.ceil(requested / BATCH) - batches;
      batches += due;
      return batch.run(due);
    },
    checksum: () => batch.checksum(),
    close: () => batch.close(),
  };
}

export const allocationLoops: readonly AllocationLoop[] = [
  { name: 'Pipe write() + tryRead() + advanceTo, 128 B', ops: 'sync', create: () => pipeTryRead(SMALL, viaWrite) },
  { name: 'Pipe getMemory/advance/flush + tryRead() + advanceTo, 128 B', ops: 'sync', create: () => pipeTryRead(SMALL, viaGetMemory) },
  { name: 'Pipe write(64 KiB, { transfer: true }) + tryRead() + advanceTo, pause 0', ops: 'sync', create: () => pipeTryRead(LARGE, viaTransfer, { pauseWriterThreshold: 0 }) },
  { name: 'Pipe getMemory/advance ×64 + flush + tryRead() + iterate + advanceTo, per record', ops: 'sync', create: () => perRecord(pipeBatch(true)) },
  { name: 'Pipe getMemory(64×128 B) once, 1 advance, flush, tryRead(), iterate, per record', ops: 'sync', create: () => perRecord(pipeBatch(true, true)) },
  { name: 'Pipe write() + await read() + advanceTo + await flush, 128 B', ops: 'async', create: () => pipeLoop(SMALL, viaWrite) },
  { name: 'Pipe getMemory/advance/flush + await read(), 128 B', ops: 'async', create: () => pipeLoop(SMALL, viaGetMemory) },
  { name: 'floor: two awaits of settled promises, no pipe', ops: 'reference', create: () => awaitFloor(false) },
  { name: 'floor: the same, the first promise new each time', ops: 'reference', create: () => awaitFloor(true) },
  { name: "PassThrough write + 'data', 128 B", ops: 'reference', create: () => passThroughData(SMALL) },
  { name: 'PassThrough write + for await, 128 B', ops: 'reference', create: () => passThroughAsyncIterator(SMALL) },
];

// ---- cases

type Kind = 'pipe' | 'stream' | 'floor';
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
  pipeWrite: 'Pipe write() + read()',
  pipeGetMemory: 'Pipe getMemory/advance/flush + read()',
  pipeTryRead: 'Pipe write() + tryRead() (sync)',
  pipeNoPause: 'Pipe write() + read(), pauseWriterThreshold 0',
  pipeTransfer: 'Pipe write({ transfer }) + read()',
  pipeTransferNoPause: 'Pipe write({ transfer }) + read(), pauseWriterThreshold 0',
  pipeTransferTryRead: 'Pipe write({ transfer }) + tryRead(), pauseWriterThreshold 0 (sync)',
  pipeBatch: 'Pipe getMemory/advance ×64, 1 flush, read()',
  pipeBatchTryRead: 'Pipe getMemory/advance ×64, 1 flush, tryRead() (sync)',
  pipeBatchWhole: 'Pipe getMemory(64×128 B) once, 1 advance, 1 flush, read()',
  floor: 'floor: two awaits of settled promises, no pipe',
  ptRead: 'PassThrough write + read()',
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
    entry('pipe', L.pipeTryRead, small, 1, 256, () => pipeTryRead(small, viaWrite)),
    entry('floor', L.floor, small, 1, 256, () => awaitFloor(false)),
    entry('stream', L.ptRead, small, 1, 256, () => passThroughRead(small)),
    entry('stream', L.ptData, small, 1, 256, () => passThroughData(small)),
    entry('stream', L.ptIter, small, 1, 256, () => passThroughAsyncIterator(small)),
    entry('stream', L.rw, small, 1, 256, () => readableToWritable(small)),

    entry('pipe', L.pipeWrite, large, 1, 16, () => pipeLoop(large, viaWrite)),
    entry('pipe', L.pipeNoPause, large, 1, 16, () => pipeLoop(large, viaWrite, { pauseWriterThreshold: 0 })),
    entry('pipe', L.pipeTransfer, large, 1, 64, () => pipeLoop(large, viaTransfer)),
    entry('pipe', L.pipeTransferNoPause, large, 1, 256, () => pipeLoop(large, viaTransfer, { pauseWriterThreshold: 0 })),
    entry('pipe', L.pipeTransferTryRead, large, 1, 256, () => pipeTryRead(large, viaTransfer, { pauseWriterThreshold: 0 })),
    entry('stream', L.ptRead, large, 1, 16, () => passThroughRead(large)),
    entry('stream', L.ptData, large, 1, 256, () => passThroughData(large)),
    entry('stream', L.ptDataFresh, large, 1, 16, () => passThroughData(large, 1, true)),
    entry('stream', L.ptIter, large, 1, 16, () => passThroughAsyncIterator(large)),
    entry('stream', L.rw, large, 1, 16, () => readableToWritable(large)),

    entry('pipe', L.pipeBatch, small, BATCH, 16, () => pipeBatch(false)),
    entry('pipe', L.pipeBatchTryRead, small, BATCH, 16, () => pipeBatch(true)),
    entry('pipe', L.pipeBatchWhole, small, BATCH, 16, () => pipeBatch(false, true)),
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
    [L.pipeTransfer, '64 KiB'],
    [L.pipeTransferNoPause, '64 KiB'],
    [L.pipeTransferTryRead, '64 KiB'],
  ] as const) {
    const pipe = recordsPerSec(find(results, label, size));
    rows.push([label, size, ...streamBaselines.map((b) => formatRatio(ratio(pipe, recordsPerSec(find(results, b, size)))))]);
  }
  const batchSize = `${BATCH}×128 B`;
  for (const label of [L.pipeBatch, L.pipeBatchTryRead, L.pipeBatchWhole]) {
    const batch = recordsPerSec(find(results, label, batchSize));
    rows.push([
      label,
      batchSize,
      '–',
      formatRatio(ratio(batch, recordsPerSec(find(results, L.ptDataBatch, batchSize)))),
      '–',
      formatRatio(ratio(batch, recordsPerSec(find(results, L.rwBatch, batchSize)))),
    ]);
  }
  return markdownTable(
    ['Pipe variant', 'message', '/ PT read()', "/ PT 'data'", '/ PT for await', '/ Readable→Writable'],
    rows,
    ['left', 'left', 'right', 'right', 'right', 'right'],
  );
}

/** The targets of the suite: a Pipe row against a stream row, and the ratio it should reach. */
const goals: ReadonlyArray<{ readonly pipe: string; readonly stream: string; readonly size: string; readonly goal: number }> = [
  { pipe: L.pipeWrite, stream: L.ptRead, size: '128 B', goal: 1 },
  { pipe: L.pipeWrite, stream: L.ptIter, size: '128 B', goal: 2 },
  { pipe: L.pipeBatch, stream: L.ptDataBatch, size: `${BATCH}×128 B`, goal: 1 },
  { pipe: L.pipeTransfer, stream: L.ptData, size: '64 KiB', goal: 1 },
];

function targets(results: readonly Measured[]): string[] {
  const lines: string[] = [];
  const rate = (label: string, size: string): number[] => recordsPerSec(find(results, label, size));
  for (const { pipe, stream, size, goal } of goals) {
    const r = ratio(rate(pipe, size), rate(stream, size));
    lines.push(`- ${pipe} / ${stream} at ${size}: ${formatRatio(r)} (target >= ${goal}x) — **${r >= goal ? 'MET' : 'SHORT'}**`);
  }
  lines.push(
    `  - like for like at 128 B: synchronous pull (${L.pipeTryRead} / ${L.ptRead}) ${formatRatio(ratio(rate(L.pipeTryRead, '128 B'), rate(L.ptRead, '128 B')))}; ` +
      `promise pull (${L.pipeWrite} / ${L.ptIter}) ${formatRatio(ratio(rate(L.pipeWrite, '128 B'), rate(L.ptIter, '128 B')))}`,
  );
  const floor = rate(L.floor, '128 B');
  lines.push(
    `  - what two awaits per message cost with no pipe at all (${L.floor}): ${formatRate(median(floor))} messages/s, ${formatRatio(ratio(floor, rate(L.ptRead, '128 B')))} ${L.ptRead}; ` +
      `${L.pipeWrite} runs at ${formatRatio(ratio(rate(L.pipeWrite, '128 B'), floor))} of that bound, ${L.pipeTransferNoPause} at 64 KiB at ${formatRatio(ratio(rate(L.pipeTransferNoPause, '64 KiB'), floor))}`,
  );
  lines.push(
    `  - 64 KiB handed over without pausing: ${L.pipeTransferNoPause} ${formatRatio(ratio(rate(L.pipeTransferNoPause, '64 KiB'), rate(L.ptData, '64 KiB')))}, ` +
      `${L.pipeTransferTryRead} ${formatRatio(ratio(rate(L.pipeTransferTryRead, '64 KiB'), rate(L.ptData, '64 KiB')))} of ${L.ptData}`,
  );
  lines.push(
    `  - 64 KiB copied: ${L.pipeWrite} ${formatRatio(ratio(rate(L.pipeWrite, '64 KiB'), rate(L.ptData, '64 KiB')))} of ${L.ptData}; against a stream producer that must allocate and fill a new Buffer per message (${L.ptDataFresh}) ` +
      `${formatRatio(ratio(rate(L.pipeWrite, '64 KiB'), rate(L.ptDataFresh, '64 KiB')))}`,
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
    r.ops,
    r.iterations.toLocaleString('en-US'),
    `≈${r.bytesPerMessage.toFixed(0)} B`,
    `${r.minorGcs} / ${r.majorGcs}`,
    formatBytes(r.heapDelta),
    formatBytes(r.retainedAfterGc),
    formatBytes(r.arrayBuffersAfterGc),
  ]);
  return markdownTable(
    ['loop', 'ops', 'messages', 'allocated/msg', 'GCs minor / major', 'heapUsed delta', 'heap retained after gc()', 'arrayBuffers retained'],
    rows,
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

export const suite: Suite = {
  name: 'pipe-vs-streams',
  description:
    'In-thread Pipe (default options, inline schedulers) vs node:stream, one message in flight: each op produces a message, delivers it and ' +
    'lets the consumer check its length and read its first byte. Streams pass the caller\'s Buffer through by reference; the Pipe copies it ' +
    'into pipe memory, except with write(data, { transfer: true }), which links the caller\'s buffer as a segment. ' +
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
        'promise-based pulls (two awaits per message for the Pipe: the read and the flush). MB/s at 64 KiB reflects pass-by-reference ' +
        '(streams, Pipe write({ transfer })), not copying. A 64 KiB flush reaches the default pause threshold (64 KiB), so with default ' +
        'options each one waits until the reader examined it; PassThrough signals the same (write() returns false above its 16 KiB ' +
        'highWaterMark) and its producer does not wait.',
    );
    console.log(`\n### Ratios (messages/s, median of per-run ratios)\n`);
    console.log(ratioTable(results));
    console.log(`\n### Targets (reported, not asserted)\n`);
    for (const line of targets(results)) console.log(line);
    log('pipe-vs-streams: allocation check (child process, --expose-gc)');
    const allocation = await runAllocationCheck();
    console.log(`\n### Allocation: 200,000 messages after warm-up (node --expose-gc child)\n`);
    console.log(allocationTable(allocation));
    console.log(
      '\nallocated/msg: sum of heapUsed growth over 1,000-message slices in which no GC ran (V8 heap only; pool blocks ' +
        'are reused). sync: every pipe call synchronous (the target is 0 B); async: awaits read() and the flush, to be compared with ' +
        'the floor rows, what those two awaits cost with no pipe at all (the target: at most one new promise more). heapUsed delta: ' +
        'end minus start of the 200,000, GCs included. Retained: after gc() at the end, vs. before.',
    );
  },
};
