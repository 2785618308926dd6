// A loopback TCP line protocol: 2 clients each send a fixed number of 40-byte lines (1638 per
// write) as fast as the server takes them, then FIN; the server counts the lines of each connection
// (and the sum of their lengths, and the text of every 1024th line) and checks them. Seven servers,
// measured in the same run:
//   (a) SocketConnection (in-thread Pipe) + `for await` over readLines: one step per line;
//   (e) the same + forEachLine: a synchronous callback per line, one await per read;
//   (f) the same + readLineBatches: one step per read, an array of lines;
//   (b) SocketConnection { shared: true }: the socket stays on the main thread, the input (a
//       SharedPipeReader) is moved to a ThreadScheduler's worker where readLines counts;
//   (g) as (b), forEachLine on the worker;
//   (c) net.Socket + node:readline, counting 'line' events;
//   (d) net.Socket + a hand-written split on 'data' (indexOf('\n') loop, partial tail kept).
// The clients run in a child process (bench/workers/tcp-client.ts), so the load generator has its
// own event loop, heap, GC and V8 platform threads and never runs on the server's thread; on a
// 2-core machine it competes with the server for the cores, which the CPU columns show.
// A run's line count is calibrated so that it lasts about `max(700, --time)` ms; every figure is
// the median over the runs, ratios are medians of per-run ratios (runs are interleaved).
import { fork, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { availableParallelism } from 'node:os';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SocketConnection, ThreadScheduler } from 'threadpipe';
import { framingAllocation, type FramingAllocation } from './framing-alloc.js';
import { formatMBps, formatRate, formatRatio, markdownTable, median, ratio, spread, type Suite, type SuiteOptions } from './report.js';
import { LINE_BYTES, LINES_PER_WRITE, machineCpuMs, newCount, sample, SAMPLE_EVERY, SAMPLE_MASK, threadCpuMs, type ClientReply, type Count, type RunCommand } from './workers/tcp-common.js';
import { countLineBatches, countLines, countLinesEach } from './workers/tcp-count.js';

const CLIENTS = 2;
const CALIBRATION_LINES = 60_000;
/** A run that takes longer than this failed (a lost FIN, a stuck reader). */
const RUN_TIMEOUT_MS = 60_000;

type Key = 'a' | 'b' | 'c' | 'd' | 'e' | 'f' | 'g';

const labels: Record<Key, string> = {
  a: '(a) SocketConnection + for await readLines (in-thread)',
  e: '(e) SocketConnection + forEachLine (in-thread)',
  f: '(f) SocketConnection + readLineBatches (in-thread)',
  b: '(b) SocketConnection shared + for await readLines on a ThreadScheduler',
  g: '(g) SocketConnection shared + forEachLine on a ThreadScheduler',
  c: "(c) net.Socket + node:readline 'line'",
  d: "(d) net.Socket 'data' + hand-written indexOf split",
};

/** The order of the rows; the variants whose parsing runs on the scheduler's thread. */
const kKeys: readonly Key[] = ['a', 'e', 'f', 'b', 'g', 'c', 'd'];
const kOnScheduler: ReadonlySet<Key> = new Set(['b', 'g']);
/** The scheduler variants and the in-thread variant of the same framing form each is compared with. */
const kSchedulerPairs: readonly [Key, Key][] = [['b', 'a'], ['g', 'e']];

const log = (line: string): void => void process.stderr.write(`${line}\n`);

// ---- server side

/** Collects the counts of the connections of the current run. */
class Tally {
  #counts: Count[] = [];
  #expected = 0;
  #resolve: ((counts: Count[]) => void) | null = null;
  #reject: ((error: Error) => void) | null = null;

  expect(connections: number): Promise<Count[]> {
    this.#counts = [];
    this.#expected = connections;
    return new Promise<Count[]>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  done(count: Count): void {
    this.#counts.push(count);
    if (this.#counts.length === this.#expected && this.#resolve !== null) {
      const resolve = this.#resolve;
      this.#resolve = this.#reject = null;
      resolve(this.#counts);
    }
  }

  fail(error: unknown): void {
    const reject = this.#reject;
    this.#resolve = this.#reject = null;
    if (reject !== null) reject(error instanceof Error ? error : new Error(String(error)));
    else log(`tcp-lines: connection failed outside a run: ${String(error)}`);
  }
}

interface Server {
  readonly key: Key;
  readonly port: number;
  readonly tally: Tally;
  /** CPU ms of the parser thread, for (b) and (g). */
  readonly workerCpuMs?: () => Promise<number>;
  close(): Promise<void>;
}

type Handler = (socket: net.Socket, tally: Tally) => void;

type Counter = (args: { input: SocketConnection['input'] }) => Promise<Count>;

/** (a), (e), (f) The in-thread Pipe: 'data' chunks copied into pipe memory, counted on this thread. */
function inThread(count: Counter): Handler {
  return (socket, tally) => {
    const connection = SocketConnection.create(socket);
    // The counter completes the input; completing the output sends our FIN: the client's socket closes.
    count({ input: connection.input }).then(
      (counted) => {
        connection.output.complete();
        tally.done(counted);
      },
      (error) => {
        connection.destroy();
        tally.fail(error);
      },
    );
  };
}

/** The receive ring of (b) and (g): 1 MiB, the SharedPipe default. */
const sharedReceive = { capacity: 1 << 20 };

/** (b), (g) The socket stays here; its input moves to the scheduler's thread, where `counter` counts. */
function onScheduler(scheduler: ThreadScheduler, counter: 'countLines' | 'countLinesEach'): Handler {
  return (socket, tally) => {
    const connection = SocketConnection.create(socket, { shared: true, receive: sharedReceive });
    scheduler.run<Count>(counter, { input: connection.input }).then(
      (count) => {
        connection.output.complete();
        tally.done(count);
      },
      (error) => {
        connection.destroy();
        tally.fail(error);
      },
    );
  };
}

/** (c) node:readline over the socket; 'close' follows the client's FIN. */
const withReadline: Handler = (socket, tally) => {
  const rl = readline.createInterface({ input: socket });
  const count = newCount();
  rl.on('line', (line: string) => {
    count.lines++;
    count.bytes += line.length;
    if ((count.lines & SAMPLE_MASK) === 0) sample(count, line);
  });
  rl.on('close', () => tally.done(count));
  socket.on('error', (error) => tally.fail(error));
};

/**
 * (d) The usual hand-written splitter: indexOf('\n') over each chunk, every line handed on as a
 * Buffer view (subarray, or a concat of the kept tail and the head of the next chunk), a '\r'
 * before the '\n' dropped as readLines and readline do.
 */
const handSplit: Handler = (socket, tally) => {
  const count = newCount();
  let tail: Buffer | null = null;
  const onLine = (line: Buffer): void => {
    count.lines++;
    count.bytes += line.length;
    if ((count.lines & SAMPLE_MASK) === 0) sample(count, line.toString('latin1'));
  };
  const emit = (chunk: Buffer, start: number, end: number): void => {
    onLine(chunk.subarray(start, end > start && chunk[end - 1] === 0x0d ? end - 1 : end));
  };
  socket.on('data', (chunk: Buffer) => {
    let start = 0;
    if (tail !== null) {
      const newline = chunk.indexOf(0x0a);
      if (newline < 0) {
        tail = Buffer.concat([tail, chunk]);
        return;
      }
      const joined = Buffer.concat([tail, chunk.subarray(0, newline)]);
      tail = null;
      emit(joined, 0, joined.length);
      start = newline + 1;
    }
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline < 0) break;
      emit(chunk, start, newline);
      start = newline + 1;
    }
    if (start < chunk.length) tail = chunk.subarray(start);
  });
  socket.on('end', () => {
    if (tail !== null) emit(tail, 0, tail.length);
    tail = null;
    tally.done(count);
  });
  socket.on('error', (error) => tally.fail(error));
};

async function startServer(key: Key, handler: Handler, extra: Partial<Server> = {}): Promise<Server> {
  const tally = new Tally();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handler(socket, tally);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    key,
    port,
    tally,
    ...extra,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

// ---- load generator

interface GeneratorReport {
  userMs: number;
  systemMs: number;
  wallMs: number;
}

class LoadGenerator {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(reply: GeneratorReport): void; reject(error: Error): void }>();
  readonly ready: Promise<void>;
  #nextId = 1;

  constructor() {
    const script = fileURLToPath(new URL('./workers/tcp-client.js', import.meta.url));
    this.#child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.ready = new Promise<void>((resolve, reject) => {
      this.#child.once('error', reject);
      this.#child.on('message', (message: ClientReply) => {
        if ('ready' in message) return resolve();
        const run = this.#pending.get(message.id);
        if (run === undefined) return;
        this.#pending.delete(message.id);
        if ('error' in message) run.reject(new Error(`load generator: ${message.error}`));
        else run.resolve(message);
      });
      this.#child.once('exit', (code) => {
        const error = new Error(`load generator exited (code ${code})`);
        reject(error);
        for (const run of this.#pending.values()) run.reject(error);
        this.#pending.clear();
      });
    });
  }

  run(port: number, linesPerClient: number): Promise<GeneratorReport> {
    const id = this.#nextId++;
    const command: RunCommand = { cmd: 'run', id, port, clients: CLIENTS, linesPerClient };
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#child.send(command);
    });
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || !this.#child.connected) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.send({ cmd: 'exit' });
    await exited;
  }
}

// ---- measuring

interface Sample {
  linesPerSec: number;
  ms: number;
  /** CPU as a fraction of one core over the run. */
  mainCpu: number;
  processCpu: number;
  workerCpu: number;
  clientCpu: number;
  /** The load generator's kernel share of its CPU time. */
  clientSystemShare: number;
  /** CPU used on the machine by everything else (other processes), NaN where /proc/stat is missing. */
  otherCpu: number;
}

function timeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

async function once(server: Server, generator: LoadGenerator, linesPerClient: number): Promise<Sample> {
  const counted = server.tally.expect(CLIENTS);
  const worker0 = server.workerCpuMs ? await server.workerCpuMs() : 0;
  const main0 = threadCpuMs();
  const process0 = process.cpuUsage();
  const machine0 = machineCpuMs();
  const t0 = performance.now();
  const client = generator.run(server.port, linesPerClient);
  const counts = await timeout(counted, RUN_TIMEOUT_MS, `${labels[server.key]} run`);
  const ms = performance.now() - t0;
  const main = threadCpuMs() - main0;
  const used = process.cpuUsage(process0);
  const machine1 = machineCpuMs();
  const worker = server.workerCpuMs ? (await server.workerCpuMs()) - worker0 : 0;
  const report = await timeout(client, RUN_TIMEOUT_MS, 'the load generator');
  for (const count of counts) {
    const sampled = Math.floor(linesPerClient / SAMPLE_EVERY);
    if (count.lines !== linesPerClient || count.bytes !== linesPerClient * (LINE_BYTES - 1) || count.sampled !== sampled || count.mismatched !== 0) {
      throw new Error(
        `${labels[server.key]}: counted ${count.lines} lines / ${count.bytes} B / ${count.mismatched} of ${count.sampled} sampled lines wrong on a connection, ` +
          `expected ${linesPerClient} / ${linesPerClient * (LINE_BYTES - 1)} / 0 of ${sampled}`,
      );
    }
  }
  const processCpu = (used.user + used.system) / 1000 / ms;
  const clientCpu = (report.userMs + report.systemMs) / report.wallMs;
  return {
    linesPerSec: (CLIENTS * linesPerClient * 1000) / ms,
    ms,
    mainCpu: main / ms,
    processCpu,
    workerCpu: worker / ms,
    clientCpu,
    otherCpu: machine0 === null || machine1 === null ? NaN : Math.max(0, (machine1.busy - machine0.busy) / ms - processCpu - clientCpu),
    clientSystemShare: report.systemMs / Math.max(1e-9, report.userMs + report.systemMs),
  };
}

// ---- report

const pct = (fraction: number): string => `${(fraction * 100).toFixed(0)}%`;

function resultsTable(keys: readonly Key[], samples: Map<Key, Sample[]>, sizes: Map<Key, number>): string {
  const rows = keys.map((key) => {
    const s = samples.get(key)!;
    const rates = s.map((x) => x.linesPerSec);
    const rate = median(rates);
    return [
      labels[key],
      formatRate(rate),
      formatMBps(rate * LINE_BYTES),
      `±${spread(rates).toFixed(1)}%`,
      `${formatRate(CLIENTS * sizes.get(key)!)} / ${median(s.map((x) => x.ms)).toFixed(0)} ms`,
      pct(median(s.map((x) => x.mainCpu))),
      kOnScheduler.has(key) ? pct(median(s.map((x) => x.workerCpu))) : '–',
      pct(median(s.map((x) => x.processCpu))),
      formatRate(median(s.map((x) => x.linesPerSec / x.processCpu))),
      `${pct(median(s.map((x) => x.clientCpu)))} (${pct(median(s.map((x) => x.clientSystemShare)))} kernel)`,
      pct(median(s.map((x) => x.processCpu + x.clientCpu))),
      pct(median(s.map((x) => x.otherCpu))),
    ];
  });
  return markdownTable(
    ['server', 'lines/s', 'MB/s', 'run spread', 'lines / run time', 'main thread', 'parser thread', 'server process', 'lines per server CPU-second', 'load generator', 'both processes', 'other processes'],
    rows,
    ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}

function ratioTable(samples: Map<Key, Sample[]>): string {
  const rates = (key: Key): number[] => samples.get(key)!.map((x) => x.linesPerSec);
  const rows = kKeys
    .filter((key) => key !== 'c' && key !== 'd')
    .map((key) => [labels[key], formatRatio(ratio(rates(key), rates('c'))), formatRatio(ratio(rates(key), rates('d'))), '']);
  for (const [moved, inThread] of kSchedulerPairs) {
    rows.push([`(${moved}) / (${inThread}): the same parsing moved off the socket thread`, '', '', formatRatio(ratio(rates(moved), rates(inThread)))]);
  }
  return markdownTable(['lines/s ratio', '/ (c) readline', "/ (d) hand-written 'data' split", '/ in-thread'], rows, ['left', 'right', 'right', 'right']);
}

function allocationTable(reports: readonly FramingAllocation[]): string {
  const rows = reports.map((r) => [
    r.name,
    r.items.toLocaleString('en-US'),
    r.bytesPerItem === null || Number.isNaN(r.bytesPerItem) ? `a GC ran (${r.gcs})` : `≈${r.bytesPerItem.toFixed(0)} B`,
    `≈${r.pipeBytesPerItem.toFixed(1)} B`,
  ]);
  return markdownTable(['form (in-thread Pipe, 40 B items)', 'items', 'framing allocates / item', 'the pipe itself / item'], rows, ['left', 'right', 'right', 'right']);
}

/** How the load generator competes with the server for the cores, from the measured CPU figures. */
function competition(keys: readonly Key[], samples: Map<Key, Sample[]>, cores: number): string {
  const m = (key: Key, f: (x: Sample) => number): number => median(samples.get(key)!.map(f));
  const lines = keys.map((key) => {
    const scheduled = kOnScheduler.has(key);
    const busiest = scheduled ? Math.max(m(key, (x) => x.workerCpu), m(key, (x) => x.mainCpu)) : m(key, (x) => x.mainCpu);
    const thread = scheduled && m(key, (x) => x.workerCpu) >= m(key, (x) => x.mainCpu) ? 'parser thread' : 'main thread';
    const total = m(key, (x) => x.processCpu + x.clientCpu);
    const bound = busiest >= 0.9 ? `server-bound (its ${thread} at ${pct(busiest)} of a core)` : `not bound by one server thread (busiest, the ${thread}, at ${pct(busiest)})`;
    const other = m(key, (x) => x.otherCpu);
    const outside = Number.isNaN(other) ? '' : `; other processes on the machine ${pct(other)}`;
    return `- ${key}: ${bound}; load generator ${pct(m(key, (x) => x.clientCpu))} of a core; both processes ${pct(total)} of ${cores * 100}%${outside}.`;
  });
  return [
    `The load generator is one child process, one event loop holding both client sockets: it shares no thread, heap, GC or ` +
      `libuv loop with the server, only the ${cores} cores. It writes one prebuilt 64 KiB buffer over and over, so its cost is ` +
      'the send() syscalls plus a little JavaScript per 64 KiB (kernel share in the table); the server pays the recv() copies and all the parsing. Whenever ' +
      `both processes together stay below ${cores * 100}%, the generator and the server each had a core and the figure is the ` +
      "server's; variants (b) and (g) have three busy threads (socket, parser, generator) and are the ones where they can collide. A busiest " +
      'server thread well below 100% with CPU left idle means the server waited (for the generator or the kernel); with ' +
      '"other processes" high, the machine was shared and the figures are low and spread out.',
    ...lines,
  ].join('\n');
}

export const suite: Suite = {
  name: 'tcp-lines',
  description:
    `Loopback TCP line protocol: ${CLIENTS} clients (plain net.Sockets in one child process) each send a fixed number of ${LINE_BYTES}-byte lines, ` +
    `${LINES_PER_WRITE} per write (${LINES_PER_WRITE * LINE_BYTES} B), as fast as the server takes them, then FIN. The server counts the lines ` +
    `of each connection and the sum of their lengths, decodes every ${SAMPLE_EVERY}th line and compares it with the line sent there, and checks all three. ` +
    'Every variant hands each line on as a value (a ReadOnlySequence, a ' +
    "string, a Buffer view) whose length the counter reads. A run's time is from the command to the load generator until the server " +
    'counted the last line of both connections (connection setup included, < 1 ms).',
  async run(options: SuiteOptions) {
    const runMs = Math.max(700, options.timeMs);
    const runs = options.runs;
    const keys = kKeys;
    const scheduler = new ThreadScheduler(new URL('./workers/tcp-count.js', import.meta.url), { name: 'tcp-lines-parser' });
    const generator = new LoadGenerator();
    const servers = new Map<Key, Server>();
    try {
      await generator.ready;
      const workerCpuMs = (): Promise<number> => scheduler.run<number>('cpuMs');
      servers.set('a', await startServer('a', inThread(countLines)));
      servers.set('e', await startServer('e', inThread(countLinesEach)));
      servers.set('f', await startServer('f', inThread(countLineBatches)));
      servers.set('b', await startServer('b', onScheduler(scheduler, 'countLines'), { workerCpuMs }));
      servers.set('g', await startServer('g', onScheduler(scheduler, 'countLinesEach'), { workerCpuMs }));
      servers.set('c', await startServer('c', withReadline));
      servers.set('d', await startServer('d', handSplit));

      // Calibration (unrecorded, also the warm-up): a cold small run, a warm small run that gives a first
      // estimate, then a run of that size (hot paths optimized by then) that gives the size of the runs.
      const sizes = new Map<Key, number>();
      const perClient = (rate: number): number => Math.max(CALIBRATION_LINES, Math.round((rate * runMs) / 1000 / CLIENTS));
      for (const key of keys) {
        const server = servers.get(key)!;
        await once(server, generator, CALIBRATION_LINES);
        let size = perClient((await once(server, generator, CALIBRATION_LINES)).linesPerSec);
        if (options.warmupMs > 0) size = perClient((await once(server, generator, size)).linesPerSec);
        sizes.set(key, size);
        log(`tcp-lines: ${key}: ${size} lines per client per run`);
      }

      const samples = new Map<Key, Sample[]>(keys.map((k) => [k, []]));
      for (let run = 0; run < runs; run++) {
        const started = performance.now();
        // Rotate the order, so drift and the previous variant's leftovers (GC, socket teardown) hit all alike.
        const times: string[] = [];
        for (let i = 0; i < keys.length; i++) {
          const key = keys[(i + run) % keys.length]!;
          const sample = await once(servers.get(key)!, generator, sizes.get(key)!);
          samples.get(key)!.push(sample);
          times.push(`${key} ${sample.ms.toFixed(0)} ms`);
        }
        log(`  run ${run + 1}/${runs} done in ${((performance.now() - started) / 1000).toFixed(1)} s (${times.join(', ')})`);
      }

      console.log(resultsTable(keys, samples, sizes));
      console.log(
        `\nMedian of ${runs} runs (after three unrecorded calibration runs each), each sized to ~${runMs} ms. CPU columns: % of one core over the ` +
          'run, medians (thread figures from /proc/thread-self, 10 ms ticks). "server process" counts every thread of the server ' +
          "(main, the scheduler's worker, libuv and V8 helpers); \"lines per server CPU-second\" is lines/s over that share, what a line costs the server whatever else ran; \"both processes\" adds the load generator; \"other processes\" is the rest of the machine's busy time (/proc/stat). (b) and (g) use the default 1 MiB receive ring.",
      );
      console.log(`\n### Ratios (lines/s, median of per-run ratios)\n`);
      console.log(ratioTable(samples));
      console.log(`\n### Load generator vs server\n`);
      console.log(competition(keys, samples, availableParallelism()));
      console.log(`\n### Allocation per item\n`);
      const allocation = await framingAllocation();
      console.log(allocationTable(allocation));
      console.log(
        `\nheapUsed growth over ${allocation[0]!.items.toLocaleString('en-US')} items in a child node whose young generation holds them all (no GC ran, else the row says so), ` +
          'less what reading the same bytes with read() and advanceTo() allocates. A line or frame is one ReadOnlySequence; ' +
          'the for await forms add the promise and result of each step.',
      );
    } finally {
      for (const server of servers.values()) await server.close();
      await generator.close();
      await scheduler.close();
    }
  },
};
