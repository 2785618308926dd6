// Main-thread side of the ring suites: a worker wrapper with a message inbox, and the throughput
// driver that measures one transport configuration (a producer, a consumer, N runs).
import { MessageChannel, Worker } from 'node:worker_threads';
import type { TransferListItem } from 'node:worker_threads';
import { RingBuffer } from 'ringbuf.js';
import { SharedPipe, type RingStats, type SharedPipeWriter } from 'threadpipe';
import type { PeerData } from './ring-peer.js';
import {
  bytesPerMessage,
  createProducer,
  GcWatch,
  spurious,
  kRingCapacity,
  now,
  type GcReport,
  type Producer,
  type Transport,
  type TransportSpec,
} from './ring-common.js';

const peerUrl = new URL('./ring-peer.js', import.meta.url);
export const sinkUrl = new URL('./thread-stream-sink.js', import.meta.url).href;

type Message = Record<string, unknown>;

/** A worker running ring-peer.js, with an inbox: `next('done')` takes the next message that has `done`. */
export class Peer {
  readonly worker: Worker;
  #inbox: Message[] = [];
  #waiters: { key: string; resolve: (m: Message) => void; reject: (e: Error) => void }[] = [];
  #failure: Error | null = null;

  private constructor(data: PeerData, transferList: TransferListItem[]) {
    this.worker = new Worker(peerUrl, { workerData: data, transferList });
    this.worker.on('message', (message: Message) => {
      if (typeof message.error === 'string') return this.#fail(new Error(`worker: ${message.error}`));
      const index = this.#waiters.findIndex((w) => w.key in message);
      if (index >= 0) this.#waiters.splice(index, 1)[0]!.resolve(message);
      else this.#inbox.push(message);
    });
    this.worker.on('error', (error) => this.#fail(error));
    this.worker.on('exit', (code) => this.#fail(new Error(`worker exited (code ${code})`)));
  }

  static async start(data: PeerData, transferList: TransferListItem[] = []): Promise<Peer> {
    const peer = new Peer(data, transferList);
    await peer.next('ready');
    return peer;
  }

  post(message: Message): void {
    this.worker.postMessage(message);
  }

  next(key: string): Promise<Message> {
    const index = this.#inbox.findIndex((m) => key in m);
    if (index >= 0) return Promise.resolve(this.#inbox.splice(index, 1)[0]!);
    if (this.#failure !== null) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => this.#waiters.push({ key, resolve, reject }));
  }

  async terminate(): Promise<void> {
    this.#failure ??= new Error('terminated');
    await this.worker.terminate();
  }

  #fail(error: Error): void {
    if (this.#failure !== null) return;
    this.#failure = error;
    for (const w of this.#waiters.splice(0)) w.reject(error);
  }
}

export interface ThroughputConfig {
  /** Where the producer runs: the main thread, or a second worker. The consumer is always a worker. */
  from: 'main' | 'worker';
  transport: Transport;
  size: number;
  /** Records of `size` bytes per flush / message. */
  batch: number;
}

export interface ThroughputOptions {
  runs: number;
  /** Wanted length of one measured run, ms (the count is calibrated on a first, discarded run). */
  runMs: number;
  /** Messages of the calibration run. */
  firstCount: number;
  /** Extra window measured with GC statistics on both sides (after the timed runs). */
  gcCount?: number;
}

export interface ThroughputResult {
  config: ThroughputConfig;
  /** Records per second of each measured run (a record is `size` bytes). */
  recordsPerSec: number[];
  /** Bytes per second of each measured run. */
  bytesPerSec: number[];
  gc?: { messages: number; producer: GcReport; consumer: GcReport; ms: number; stats?: RingStats };
  /** Spurious ERR_FRAME_TOO_LARGE flush failures seen (and retried) by the producer. */
  spurious: number;
}

function isSharedPipe(t: Transport): boolean {
  return t.startsWith('sp-');
}

/** Measures one configuration: calibration run, one warm-up run, `runs` timed runs (+ the GC window). */
export async function measureThroughput(config: ThroughputConfig, options: ThroughputOptions): Promise<ThroughputResult> {
  const base: TransportSpec = { transport: config.transport, size: config.size, batch: config.batch };
  const producerSpec: TransportSpec = { ...base };
  const consumerSpec: TransportSpec = { ...base };
  const producerTransfer: TransferListItem[] = [];
  const consumerTransfer: TransferListItem[] = [];
  let localWriter: SharedPipeWriter | undefined;
  let pipe: SharedPipe | undefined;
  if (isSharedPipe(config.transport)) {
    pipe = new SharedPipe({ capacity: kRingCapacity });
    consumerSpec.handle = pipe.reader.handle();
    if (config.from === 'main') localWriter = pipe.writer;
    else producerSpec.handle = pipe.writer.handle();
  } else if (config.transport === 'pm-copy' || config.transport === 'pm-transfer') {
    const { port1, port2 } = new MessageChannel();
    producerSpec.port = port1;
    consumerSpec.port = port2;
    consumerTransfer.push(port2);
    if (config.from === 'worker') producerTransfer.push(port1);
  } else if (config.transport === 'ringbuf') {
    producerSpec.ringSab = consumerSpec.ringSab = RingBuffer.getStorageForCapacity(kRingCapacity, Uint8Array);
  } else {
    producerSpec.sinkUrl = sinkUrl;
  }

  const peers: Peer[] = [];
  let local: Producer | undefined;
  const spuriousBefore = spurious.count;
  let workerSpurious = 0;
  try {
    const consumer = config.transport === 'thread-stream' ? undefined : await Peer.start({ role: 'consumer', spec: consumerSpec }, consumerTransfer);
    if (consumer) peers.push(consumer);
    let producerPeer: Peer | undefined;
    if (config.from === 'main') {
      local = await createProducer(producerSpec, localWriter);
    } else {
      producerPeer = await Peer.start({ role: 'producer', spec: producerSpec }, producerTransfer);
      peers.push(producerPeer);
    }
    const produce = async (count: number): Promise<void> => {
      if (local) return local.produce(count);
      producerPeer!.post({ cmd: 'produce', count });
      workerSpurious = (await producerPeer!.next('produced')).spurious as number;
    };
    const perMessage = bytesPerMessage(config);
    const once = async (count: number): Promise<number> => {
      if (consumer) {
        consumer.post({ cmd: 'consume', bytes: count * perMessage });
        await consumer.next('armed');
      }
      const t0 = now();
      await Promise.all([produce(count), consumer?.next('done')]);
      return now() - t0;
    };

    // Calibration: a first run (cold), then a warm-up run at the size that first run suggests; the
    // measured runs use the size the warm-up suggests (the first run is often slowed by the JIT).
    const scale = (count: number, ms: number): number => Math.max(16, Math.round((count * options.runMs) / Math.max(ms, 1e-3)));
    const firstMs = await once(options.firstCount);
    const warmCount = scale(options.firstCount, firstMs);
    let count = scale(warmCount, await once(warmCount));
    const recordsPerSec: number[] = [];
    const bytesPerSec: number[] = [];
    for (let r = 0; r < options.runs; r++) {
      const ms = await once(count);
      recordsPerSec.push((count * config.batch * 1000) / ms);
      bytesPerSec.push((count * perMessage * 1000) / ms);
      count = scale(count, ms); // keep runs near runMs when the rate shifts (it can be bimodal)
    }
    const result: ThroughputResult = { config, recordsPerSec, bytesPerSec, spurious: 0 };

    if (options.gcCount !== undefined && consumer) {
      const before = pipe?.reader.stats();
      const watch = new GcWatch();
      consumer.post({ cmd: 'gc-start' });
      await consumer.next('ok');
      let producerGc: GcReport;
      let ms: number;
      if (local) {
        watch.start();
        ms = await once(options.gcCount);
        producerGc = await watch.stop();
      } else {
        throw new Error('GC windows are measured with the producer on the main thread');
      }
      consumer.post({ cmd: 'gc-stop' });
      const consumerGc = (await consumer.next('gc')).gc as GcReport;
      const after = pipe?.reader.stats();
      result.gc = { messages: options.gcCount, producer: producerGc, consumer: consumerGc, ms };
      if (before && after) result.gc.stats = diffStats(after, before);
    }

    result.spurious = spurious.count - spuriousBefore + workerSpurious;
    if (local) await local.close();
    else {
      producerPeer!.post({ cmd: 'close' });
      await producerPeer!.next('closed');
    }
    return result;
  } finally {
    for (const peer of peers) await peer.terminate();
  }
}

function diffStats(after: RingStats, before: RingStats): RingStats {
  const out: Record<string, number> = {};
  for (const key of Object.keys(after) as (keyof RingStats)[]) out[key] = after[key] - before[key];
  return out as unknown as RingStats;
}
