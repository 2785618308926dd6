import { Readable, Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import {
  createDuplexPair,
  createReader,
  createWriter,
  MemoryPool,
  Pipe,
  PipeScheduler,
  ReadOnlySequence,
  SequencePosition,
  SharedPipe,
  type FlushResult,
  type OperationOptions,
  type ReadResult,
  type WriteOptions,
} from '../../dist/src/index.js';
import { fromShape, toShape, type FarCommand, type FarRead, type FarReply } from '../../dist/test/fixtures/contract-wire.js';
import { ForwardingReader, settleTurns, TrackingPool } from '../helpers.js';

// The pipes the contract cases run over. Each factory opens a pipe and gives a reader and a writer
// with the PipeReader / PipeWriter surface; an end held by a worker thread is driven by commands
// (test/fixtures/contract-far-end.ts), so a case body reads the same for every implementation.
// Capabilities say which cases apply: a case names the ones it needs.

/** The options a case asks for; each implementation maps them onto its own. */
export interface Fixture {
  pauseWriterThreshold?: number;
  resumeWriterThreshold?: number;
  /** Ring bytes (SharedPipe only). Default: 128 KiB, or the pause threshold rounded up to a power of two. */
  capacity?: number;
  /** Pipe only. */
  minimumSegmentSize?: number;
  /** Pipe only: a pool that counts its blocks, exposed as `pipe.pool`. */
  trackingPool?: boolean;
}

/** F_RW: default thresholds (65536 / 32768). */
export const F_RW: Fixture = {};
/** F_PT: pause 65 / resume 6. */
export const F_PT: Fixture = { pauseWriterThreshold: 65, resumeWriterThreshold: 6 };
/** F_PT0 and F_LEN: pause 0 / resume 0, no backpressure. */
export const F_PT0: Fixture = { pauseWriterThreshold: 0, resumeWriterThreshold: 0 };
export const F_LEN = F_PT0;
/** F_BP: pause 64 / resume 32. */
export const F_BP: Fixture = { pauseWriterThreshold: 64, resumeWriterThreshold: 32 };

const kDefaultPause = 65536;
const kDefaultRingCapacity = 2 ** 17;
/** Event-loop turns after which whatever was due has happened (a wake-up is one task). */
const kSettleTurns = 8;
/** What getMemory of an end driven from another thread or of a test double hands out at least. */
const kScratchBlock = 4096;

export interface Capabilities {
  /** The reader is a PipeReader of this thread: its synchronous calls and outcomes are observable. */
  readonly localReader: boolean;
  readonly localWriter: boolean;
  /** The reader is a real end of the pipe under test (here or in a worker), not a test double. */
  readonly realReader: boolean;
  readonly realWriter: boolean;
  /** pauseWriterThreshold / resumeWriterThreshold govern the flush. */
  readonly backpressure: boolean;
  /** A release by the other end settles the waiting promise before the releasing call returns (inline schedulers). */
  readonly inlineResume: boolean;
  /** `length`, the flushed bytes not yet examined, is observable. */
  readonly length: boolean;
  /** The other end's completion error arrives as the same Error object. */
  readonly sameErrorObject: boolean;
  /** Pooled segments of at most 4096 bytes (`minimumSegmentSize` 4096). */
  readonly segments: boolean;
  /** readAtLeast of the pipe itself: counts unexamined bytes, examines nothing while it waits, settles synchronously when satisfied. */
  readonly nativeReadAtLeast: boolean;
  /** Both ends live on the test's thread. */
  readonly sameThread: boolean;
  /** A SharedPipe ring (`capacity` is its size). */
  readonly ring: boolean;
  /** `fixture.trackingPool` is honored. */
  readonly trackingPool: boolean;
}

export type Need = keyof Capabilities;

/** The reading end as cases use it: PipeReader's surface (tryRead only where the reader is local). */
export interface ContractReader {
  read(options?: OperationOptions): Promise<ReadResult>;
  readAtLeast(minimumSize: number, options?: OperationOptions): Promise<ReadResult>;
  tryRead(): ReadResult | null;
  advanceTo(consumed: SequencePosition, examined?: SequencePosition): void;
  cancelPendingRead(): void;
  complete(error?: Error): void;
}

export interface ContractWriter {
  getMemory(sizeHint?: number): Uint8Array;
  advance(bytes: number): void;
  flush(options?: OperationOptions): Promise<FlushResult>;
  write(data: Uint8Array | string, options?: WriteOptions): Promise<FlushResult>;
  cancelPendingFlush(): void;
  complete(error?: Error): void;
  readonly unflushedBytes: number;
}

export interface ContractPipe {
  readonly name: string;
  readonly caps: Capabilities;
  readonly reader: ContractReader;
  readonly writer: ContractWriter;
  /** Ring bytes, for ring implementations. */
  readonly capacity: number | undefined;
  /** Flushed bytes not yet examined, where observable (`caps.length`). */
  readonly length: number | undefined;
  readonly pool: TrackingPool | undefined;
  /** Every command given to an end in another thread (or to a test double) has taken effect. */
  barrier(): Promise<void>;
  /** Lets every due wake-up happen: event-loop turns here, and in the thread of the far end. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface Implementation {
  readonly name: string;
  readonly caps: Capabilities;
  open(fixture?: Fixture): Promise<ContractPipe>;
  /** Two crossed pipes, both sides on this thread (where `caps.sameThread`). */
  duplexPair?(fixture?: Fixture): [{ input: ContractReader; output: ContractWriter }, { input: ContractReader; output: ContractWriter }];
}

const opened = new Set<ContractPipe>();
let host: FarEndHost | undefined;

/** Closes every pipe opened since the last call; throws what an end in another thread failed with meanwhile. */
export async function closeOpened(): Promise<void> {
  const pipes = [...opened];
  opened.clear();
  const failures: unknown[] = [];
  for (const pipe of pipes) {
    try {
      await pipe.close();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}

export async function shutdown(): Promise<void> {
  await closeOpened();
  const current = host;
  host = undefined;
  await current?.terminate();
}

function track<T extends ContractPipe>(pipe: T): T {
  opened.add(pipe);
  return pipe;
}

/**
 * Marks every promise an end returns as handled: a case that ends with an operation still waiting
 * leaves it to be settled by close(), which must not surface as an unhandled rejection. The case
 * still sees the very same promise, and its own awaits and peeks are unchanged.
 */
function handled<T extends object>(end: T): T {
  return new Proxy(end, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) result.catch(() => {});
        return result;
      };
    },
  });
}

function nextPowerOfTwo(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

function thresholds(fixture: Fixture): { pauseWriterThreshold: number; resumeWriterThreshold?: number } {
  const pause = fixture.pauseWriterThreshold ?? kDefaultPause;
  return fixture.resumeWriterThreshold === undefined ? { pauseWriterThreshold: pause } : { pauseWriterThreshold: pause, resumeWriterThreshold: fixture.resumeWriterThreshold };
}

function ringOptions(fixture: Fixture): { capacity: number; pauseWriterThreshold: number; resumeWriterThreshold?: number } {
  const t = thresholds(fixture);
  return { capacity: fixture.capacity ?? Math.max(kDefaultRingCapacity, nextPowerOfTwo(t.pauseWriterThreshold)), ...t };
}

/** The smallest ring there is: a growing ring starts there and grows to the capacity a case asks for. */
const kGrowingStart = 16;

/** A growing ring: it may reach the capacity the case asks for (its `capacity`), starting from the smallest. */
function growingRingOptions(fixture: Fixture): { capacity: number; maxCapacity: number; pauseWriterThreshold: number; resumeWriterThreshold?: number } {
  const fixed = ringOptions(fixture);
  return { ...fixed, capacity: kGrowingStart, maxCapacity: fixed.capacity };
}

function newPipe(fixture: Fixture): { pipe: Pipe; pool: MemoryPool } {
  const pool = fixture.trackingPool === true ? new TrackingPool() : new MemoryPool({ maxBufferSize: 4096 });
  const pipe = new Pipe({
    pool,
    readerScheduler: PipeScheduler.inline,
    writerScheduler: PipeScheduler.inline,
    ...thresholds(fixture),
    ...(fixture.minimumSegmentSize === undefined ? {} : { minimumSegmentSize: fixture.minimumSegmentSize }),
  });
  return { pipe, pool };
}

interface LocalExtras {
  capacity?: number;
  length?: () => number;
  pool?: TrackingPool;
  /** For test doubles whose effects take event-loop turns. */
  barrier?: () => Promise<void>;
}

/** A pipe whose two ends (or one end and a test double) are objects of this thread. */
class LocalPipe implements ContractPipe {
  readonly name: string;
  readonly caps: Capabilities;
  readonly reader: ContractReader;
  readonly writer: ContractWriter;
  readonly #extras: LocalExtras;

  constructor(name: string, caps: Capabilities, reader: ContractReader, writer: ContractWriter, extras: LocalExtras = {}) {
    this.name = name;
    this.caps = caps;
    this.reader = handled(reader);
    this.writer = handled(writer);
    this.#extras = extras;
  }

  get capacity(): number | undefined {
    return this.#extras.capacity;
  }

  get length(): number | undefined {
    return this.#extras.length?.();
  }

  get pool(): TrackingPool | undefined {
    return this.#extras.pool;
  }

  barrier(): Promise<void> {
    return this.#extras.barrier?.() ?? Promise.resolve();
  }

  async settle(): Promise<void> {
    await settleTurns(kSettleTurns);
  }

  async close(): Promise<void> {
    completeQuietly(this.reader);
    completeQuietly(this.writer);
    await settleTurns(1);
  }
}

function completeQuietly(end: { complete(error?: Error): void }): void {
  try {
    end.complete();
  } catch {
    // moved, or completed in a way complete() reports: the case is over either way
  }
}

const allOff: Capabilities = {
  localReader: false,
  localWriter: false,
  realReader: false,
  realWriter: false,
  backpressure: false,
  inlineResume: false,
  length: false,
  sameErrorObject: false,
  segments: false,
  nativeReadAtLeast: false,
  sameThread: false,
  ring: false,
  trackingPool: false,
};

/** Both ends real and in this thread, with pause/resume thresholds and the pipe's own readAtLeast. */
const bothEndsHere: Capabilities = {
  ...allOff,
  localReader: true,
  localWriter: true,
  realReader: true,
  realWriter: true,
  backpressure: true,
  nativeReadAtLeast: true,
  sameThread: true,
};

const pipeCaps: Capabilities = { ...bothEndsHere, inlineResume: true, length: true, sameErrorObject: true, segments: true, trackingPool: true };

/** Two pipes crossed into the two sides of a connection; both are closed with the case. */
function crossed(name: string, caps: Capabilities, forward: { reader: ContractReader; writer: ContractWriter }, backward: { reader: ContractReader; writer: ContractWriter }): ReturnType<NonNullable<Implementation['duplexPair']>> {
  for (const pipe of [forward, backward]) track(new LocalPipe(name, caps, pipe.reader, pipe.writer));
  return [
    { input: handled(backward.reader), output: handled(forward.writer) },
    { input: handled(forward.reader), output: handled(backward.writer) },
  ];
}

export const pipeImplementation: Implementation = {
  name: 'Pipe',
  caps: pipeCaps,
  async open(fixture = {}) {
    const { pipe, pool } = newPipe(fixture);
    return track(new LocalPipe(this.name, this.caps, pipe.reader, pipe.writer, {
      length: () => pipe.length,
      ...(pool instanceof TrackingPool ? { pool } : {}),
    }));
  },
  duplexPair(fixture = {}) {
    return crossed('Pipe (duplex)', pipeCaps, newPipe(fixture).pipe, newPipe(fixture).pipe);
  },
};

const sharedCaps: Capabilities = { ...bothEndsHere, ring: true };

/** Both ends of a ring on this thread; `options` says which ring, and `capacity` the size a case sees. */
function localRingImplementation(name: string, options: (fixture: Fixture) => { capacity: number; maxCapacity?: number }): Implementation {
  return {
    name,
    caps: sharedCaps,
    async open(fixture = {}) {
      const chosen = options(fixture);
      const pipe = new SharedPipe(chosen);
      return track(new LocalPipe(this.name, this.caps, pipe.reader, pipe.writer, { capacity: chosen.maxCapacity ?? chosen.capacity }));
    },
    duplexPair(fixture = {}) {
      // createDuplexPair crosses two rings; each side's input is the other side's output.
      const [a, b] = createDuplexPair(options(fixture));
      return crossed(`${name} (duplex)`, sharedCaps, { reader: b.input, writer: a.output }, { reader: a.input, writer: b.output });
    },
  };
}

export const sharedPipeImplementation = localRingImplementation('SharedPipe, both ends on one thread', ringOptions);
export const growingSharedPipeImplementation = localRingImplementation('SharedPipe growing from 16 bytes, both ends on one thread', growingRingOptions);

// ---- the far end in a worker

const farEndUrl = new URL('../../dist/test/fixtures/contract-far-end.js', import.meta.url);

type Command = FarCommand extends infer C ? (C extends { id: number } ? Omit<C, 'id'> : never) : never;

/** The worker that holds far ends: one per test file, shared by its cases, each end by its own id. */
class FarEndHost {
  readonly #worker: Worker;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #nextId = 1;
  #nextEnd = 1;
  #dead: Error | undefined;

  constructor() {
    this.#worker = new Worker(farEndUrl);
    this.#worker.on('message', (reply: FarReply) => {
      const waiter = this.#waiting.get(reply.id);
      if (waiter === undefined) return;
      this.#waiting.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(fromShape(reply.error));
    });
    const die = (error: Error): void => {
      this.#dead ??= error;
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`the far-end worker exited (code ${code})`)));
  }

  newEnd(): number {
    return this.#nextEnd++;
  }

  /** Posts a command; the promise settles with the far end's answer. `onId` learns the command's id first. */
  call(command: Command, onId?: (id: number) => void): Promise<unknown> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    onId?.(id);
    const answer = new Promise<unknown>((resolve, reject) => this.#waiting.set(id, { resolve, reject }));
    answer.catch(() => {});
    this.#worker.postMessage({ ...command, id } as FarCommand);
    return answer;
  }

  async terminate(): Promise<void> {
    this.#dead ??= new Error('the far-end worker was terminated');
    await this.#worker.terminate();
  }
}

function farHost(): FarEndHost {
  host ??= new FarEndHost();
  return host;
}

const encoder = new TextEncoder();

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

/** Commands to one far end; a command whose answer nobody awaits reports its failure at the next barrier. */
class FarChannel {
  readonly host = farHost();
  readonly end = this.host.newEnd();
  readonly strays: Error[] = [];

  call(command: Command, signal?: AbortSignal): Promise<unknown> {
    let mode: 'live' | 'aborted' | undefined;
    if (signal !== undefined) mode = signal.aborted ? 'aborted' : 'live';
    let onAbort: (() => void) | undefined;
    const answer = this.host.call({ ...command, ...(mode === undefined ? {} : { signal: mode }) } as Command, (id) => {
      if (mode === 'live') {
        onAbort = () => void this.host.call({ op: 'abort', end: this.end, target: id });
        signal!.addEventListener('abort', onAbort, { once: true });
      }
    });
    if (onAbort !== undefined) {
      const listener = onAbort;
      answer.finally(() => signal!.removeEventListener('abort', listener)).catch(() => {});
    }
    return answer;
  }

  #detached = false;

  /** A command the case does not wait for (as a synchronous call of a local end would not be). */
  post(command: Command): void {
    this.host.call(command).catch((error: Error) => {
      if (!this.#detached) this.strays.push(error);
    });
  }

  /** Lets the far end go; what a case still sends afterwards (a loop outliving a failed case) is ignored. */
  async detach(): Promise<void> {
    const stray = this.strays.shift();
    this.#detached = true;
    await this.host.call({ op: 'detach', end: this.end }).catch(() => {});
    if (stray !== undefined) throw stray;
  }

  async barrier(): Promise<void> {
    await this.host.call({ op: 'settle', turns: 0 });
    const stray = this.strays.shift();
    if (stray !== undefined) throw stray;
  }
}

function toReadResult(read: FarRead): ReadResult {
  const bytes = Uint8Array.from(read.bytes);
  return { buffer: bytes.length === 0 ? ReadOnlySequence.empty : ReadOnlySequence.from(bytes), isCanceled: read.isCanceled, isCompleted: read.isCompleted };
}

/** The writer of a SharedPipe, held by the worker: bytes advanced here are sent there with the command. */
class FarWriter implements ContractWriter {
  readonly #channel: FarChannel;
  #scratch: Uint8Array | null = null;
  #unflushed = 0;

  constructor(channel: FarChannel) {
    this.#channel = channel;
  }

  getMemory(sizeHint = 0): Uint8Array {
    this.#scratch = new Uint8Array(Math.max(sizeHint, kScratchBlock));
    return this.#scratch;
  }

  advance(bytes: number): void {
    if (bytes === 0) return;
    const scratch = this.#scratch;
    if (scratch === null || bytes > scratch.length) throw new RangeError(`advance(${bytes}) past the memory handed out`);
    this.#channel.post({ op: 'put', end: this.#channel.end, bytes: scratch.slice(0, bytes) });
    this.#scratch = scratch.subarray(bytes);
    this.#unflushed += bytes;
  }

  flush(options?: OperationOptions): Promise<FlushResult> {
    this.#unflushed = 0;
    return this.#channel.call({ op: 'flush', end: this.#channel.end }, options?.signal) as Promise<FlushResult>;
  }

  write(data: Uint8Array | string, options?: WriteOptions): Promise<FlushResult> {
    this.#unflushed = 0;
    // The far end gets a copy either way (a message copies); with transfer it hands that copy over.
    const transfer = options?.transfer === true ? { transfer: true } : {};
    return this.#channel.call({ op: 'write', end: this.#channel.end, bytes: Uint8Array.from(bytesOf(data)), ...transfer }, options?.signal) as Promise<FlushResult>;
  }

  cancelPendingFlush(): void {
    this.#channel.post({ op: 'cancelPendingFlush', end: this.#channel.end });
  }

  complete(error?: Error): void {
    this.#channel.post({ op: 'complete', end: this.#channel.end, ...(error === undefined ? {} : { error: toShape(error) }) });
  }

  get unflushedBytes(): number {
    return this.#unflushed;
  }
}

/** The reader of a SharedPipe, held by the worker: results come back as copies, advanceTo goes as offsets. */
class FarReader implements ContractReader {
  readonly #channel: FarChannel;
  #last: ReadResult | undefined;

  constructor(channel: FarChannel) {
    this.#channel = channel;
  }

  read(options?: OperationOptions): Promise<ReadResult> {
    return this.#remember(this.#channel.call({ op: 'read', end: this.#channel.end }, options?.signal));
  }

  readAtLeast(minimumSize: number, options?: OperationOptions): Promise<ReadResult> {
    return this.#remember(this.#channel.call({ op: 'read', end: this.#channel.end, minimumSize }, options?.signal));
  }

  tryRead(): ReadResult | null {
    throw new Error('tryRead() answers synchronously: a reader held by another thread cannot be asked (cases using it need localReader)');
  }

  advanceTo(consumed: SequencePosition, examined?: SequencePosition): void {
    const offset = (position: SequencePosition): number => (position.equals(SequencePosition.none) ? -1 : this.#last!.buffer.getOffset(position));
    this.#channel.post({ op: 'advanceTo', end: this.#channel.end, consumed: offset(consumed), examined: examined === undefined ? null : offset(examined) });
  }

  cancelPendingRead(): void {
    this.#channel.post({ op: 'cancelPendingRead', end: this.#channel.end });
  }

  complete(error?: Error): void {
    this.#channel.post({ op: 'complete', end: this.#channel.end, ...(error === undefined ? {} : { error: toShape(error) }) });
  }

  async #remember(answer: Promise<unknown>): Promise<ReadResult> {
    const result = toReadResult((await answer) as FarRead);
    this.#last = result;
    return result;
  }
}

/** A SharedPipe with one end here and the other in the far-end worker. */
class SplitPipe implements ContractPipe {
  readonly name: string;
  readonly caps: Capabilities;
  readonly reader: ContractReader;
  readonly writer: ContractWriter;
  readonly capacity: number;
  readonly length = undefined;
  readonly pool = undefined;
  readonly #channel: FarChannel;
  readonly #local: ContractReader | ContractWriter;

  constructor(name: string, caps: Capabilities, channel: FarChannel, capacity: number, reader: ContractReader, writer: ContractWriter, local: 'reader' | 'writer') {
    this.name = name;
    this.caps = caps;
    this.#channel = channel;
    this.capacity = capacity;
    this.reader = handled(reader);
    this.writer = handled(writer);
    this.#local = local === 'reader' ? this.reader : this.writer;
  }

  barrier(): Promise<void> {
    return this.#channel.barrier();
  }

  async settle(): Promise<void> {
    await settleTurns(kSettleTurns);
    await this.#channel.host.call({ op: 'settle', turns: kSettleTurns });
    await settleTurns(kSettleTurns);
    const stray = this.#channel.strays.shift();
    if (stray !== undefined) throw stray;
  }

  async close(): Promise<void> {
    completeQuietly(this.#local);
    await this.#channel.detach();
  }
}

function splitImplementation(far: 'reader' | 'writer', growing = false): Implementation {
  const local = far === 'reader' ? 'writer' : 'reader';
  return {
    name: growing ? `SharedPipe growing from 16 bytes, ${far} on a worker` : `SharedPipe, ${far} on a worker`,
    caps: {
      ...allOff,
      localReader: local === 'reader',
      localWriter: local === 'writer',
      realReader: true,
      realWriter: true,
      backpressure: true,
      nativeReadAtLeast: true,
      ring: true,
    },
    async open(fixture = {}) {
      const options = growing ? growingRingOptions(fixture) : ringOptions(fixture);
      const pipe = new SharedPipe(options);
      const channel = new FarChannel();
      await channel.host.call({ op: 'attach', end: channel.end, handle: far === 'reader' ? pipe.reader.handle() : pipe.writer.handle() });
      const reader = far === 'reader' ? new FarReader(channel) : pipe.reader;
      const writer = far === 'writer' ? new FarWriter(channel) : pipe.writer;
      return track(new SplitPipe(this.name, this.caps, channel, 'maxCapacity' in options ? options.maxCapacity : options.capacity, reader, writer, local));
    },
  };
}

export const writerOnWorkerImplementation = splitImplementation('writer');
export const readerOnWorkerImplementation = splitImplementation('reader');
export const growingReaderOnWorkerImplementation = splitImplementation('reader', true);

// ---- createReader / createWriter, with a test double on the stream side

/** Drives the Readable a createReader reader reads: a flush pushes the advanced bytes as one chunk. */
class SourceDriver implements ContractWriter {
  readonly source = new Readable({ read() {} });
  #scratch: Uint8Array | null = null;
  #pending: Uint8Array[] = [];
  #unflushed = 0;
  #cancel = false;
  #completed = false;

  getMemory(sizeHint = 0): Uint8Array {
    this.#scratch = new Uint8Array(Math.max(sizeHint, kScratchBlock));
    return this.#scratch;
  }

  advance(bytes: number): void {
    if (bytes === 0) return;
    this.#pending.push(this.#scratch!.slice(0, bytes));
    this.#scratch = this.#scratch!.subarray(bytes);
    this.#unflushed += bytes;
  }

  async flush(): Promise<FlushResult> {
    this.#push();
    // The reader takes the chunk in the source's 'data' event, a turn or two later.
    await settleTurns(2);
    const canceled = this.#cancel;
    this.#cancel = false;
    return { isCanceled: canceled, isCompleted: this.source.destroyed };
  }

  write(data: Uint8Array | string): Promise<FlushResult> {
    const bytes = bytesOf(data);
    if (bytes.length > 0) this.#pending.push(Uint8Array.from(bytes));
    return this.flush();
  }

  cancelPendingFlush(): void {
    this.#cancel = true;
  }

  complete(error?: Error): void {
    if (this.#completed) return;
    this.#completed = true;
    if (error !== undefined) {
      this.source.destroy(error);
      return;
    }
    this.#push();
    this.source.push(null);
  }

  get unflushedBytes(): number {
    return this.#unflushed;
  }

  #push(): void {
    if (this.#pending.length === 0 || this.source.destroyed) return;
    this.source.push(Buffer.concat(this.#pending));
    this.#pending = [];
    this.#unflushed = 0;
  }
}

export const createReaderImplementation: Implementation = {
  name: 'createReader(Readable)',
  caps: { ...allOff, localReader: true, realReader: true, sameErrorObject: true },
  async open() {
    const driver = new SourceDriver();
    return track(new LocalPipe(this.name, this.caps, createReader(driver.source), driver, { barrier: () => settleTurns(2) }));
  },
};

/** Reads what a createWriter writer hands its Writable; examined and consumed as a pipe reader would. */
class SinkReader implements ContractReader {
  readonly sink: Writable;
  /** Unconsumed bytes received. */
  #data: Uint8Array = new Uint8Array(0);
  /** How many of them were examined. */
  #examined = 0;
  #ended = false;
  #error: Error | undefined;
  #cancel = false;
  #completed = false;
  #last: ReadOnlySequence | undefined;
  #wake: (() => void) | null = null;

  constructor() {
    this.sink = new Writable({
      write: (chunk: Uint8Array, _encoding, callback) => {
        this.#data = Buffer.concat([this.#data, chunk]);
        this.#signal();
        callback();
      },
    });
    this.sink.on('finish', () => {
      this.#ended = true;
      this.#signal();
    });
    // A writer completed with an error destroys the stream with it: reads then reject with that error.
    this.sink.on('error', (error: Error) => {
      this.#error ??= error;
      this.#signal();
    });
  }

  read(): Promise<ReadResult> {
    return this.readAtLeast(0);
  }

  tryRead(): ReadResult | null {
    return this.#tryResult(0);
  }

  async readAtLeast(minimumSize: number): Promise<ReadResult> {
    for (;;) {
      const result = this.#tryResult(minimumSize);
      if (result !== null) return result;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  advanceTo(consumed: SequencePosition, examined: SequencePosition = consumed): void {
    const last = this.#last!;
    const c = consumed.equals(SequencePosition.none) ? 0 : last.getOffset(consumed);
    const e = examined.equals(SequencePosition.none) ? c : last.getOffset(examined);
    this.#data = this.#data.subarray(c);
    this.#examined = Math.max(0, e - c);
  }

  cancelPendingRead(): void {
    this.#cancel = true;
    this.#signal();
  }

  complete(error?: Error): void {
    if (this.#completed) return;
    this.#completed = true;
    this.sink.destroy(error);
  }

  #tryResult(minimumSize: number): ReadResult | null {
    if (this.#error !== undefined && !this.#completed) throw this.#error;
    const canceled = this.#cancel;
    if (!canceled && !this.#ended && (this.#data.length <= this.#examined || this.#data.length < minimumSize)) return null;
    this.#cancel = false;
    this.#last = this.#data.length === 0 ? ReadOnlySequence.empty : ReadOnlySequence.from(Uint8Array.from(this.#data));
    return { buffer: this.#last, isCanceled: canceled, isCompleted: this.#ended };
  }

  #signal(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

export const createWriterImplementation: Implementation = {
  name: 'createWriter(Writable)',
  caps: { ...allOff, localWriter: true, realWriter: true, sameErrorObject: true },
  async open() {
    const reader = new SinkReader();
    return track(new LocalPipe(this.name, this.caps, reader, createWriter(reader.sink), { barrier: () => settleTurns(2) }));
  },
};

export const forwardingPipeImplementation: Implementation = {
  name: 'Pipe, read through the PipeReader base class',
  caps: { ...pipeCaps, nativeReadAtLeast: false },
  async open(fixture = {}) {
    const { pipe } = newPipe(fixture);
    return track(new LocalPipe(this.name, this.caps, new ForwardingReader(pipe.reader), pipe.writer, { length: () => pipe.length }));
  },
};

/** Every implementation of the reader/writer contract. */
export const implementations: readonly Implementation[] = [
  pipeImplementation,
  sharedPipeImplementation,
  writerOnWorkerImplementation,
  readerOnWorkerImplementation,
  growingSharedPipeImplementation,
  growingReaderOnWorkerImplementation,
  createReaderImplementation,
  createWriterImplementation,
];
