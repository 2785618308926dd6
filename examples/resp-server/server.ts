// The RESP server: sockets on the main thread through SocketConnection; RESP parsing and command
// execution either on the main thread (threads: 0) or on a ThreadScheduler's worker that owns the
// keyspace (threads: 1), fed through SharedPipe ends. With a worker, each connection has a slot in two
// ReadySets: the socket thread marks it in one when bytes arrive, the worker in the other when
// replies are ready, and each thread waits once for all its connections.
import * as net from 'node:net';
import { ReadySet, SocketConnection, ThreadScheduler, type ReadySetHandle } from 'threadpipe';
import { serve } from './handler.js';
import { kMaxRequestBytes } from './resp.js';

export interface ServerOptions {
  port?: number;
  host?: string;
  /** 0: everything on the main thread; 1: parsing and the keyspace on one worker thread. */
  threads?: 0 | 1;
}

export interface RunningServer {
  readonly port: number;
  readonly host: string;
  readonly scheduler: ThreadScheduler | null;
  close(): Promise<void>;
}

const handlerModule = new URL('./handler.js', import.meta.url);

/**
 * Rings start at one page each with their header, so idle connections cost little, and grow for what
 * arrives: up to a pause threshold of unexamined bytes without waiting, and up to the largest command
 * while the parser waits for the rest of one. Replies pass through the send ring, which grows likewise;
 * a reply larger than it is written in turns.
 */
const kStartRing = 2 * 1024;
/** Connections served at once with --threads 1 (Redis's maxclients default is 10,000). */
const kMaxConnections = 12_000;
/**
 * The worker's young generation, in MB. The default lets it grow to tens of MB under load (survivors of
 * a thousand connections' replies), which is most of the server's memory; this much keeps the rate.
 */
const kWorkerYoungMb = 8;
const kReceiveRing = { capacity: kStartRing, maxCapacity: kMaxRequestBytes, pauseWriterThreshold: 1024 * 1024 };
const kSendRing = { capacity: kStartRing, maxCapacity: 4 * 1024 * 1024, pauseWriterThreshold: 1024 * 1024 };

/** Connection slots in the two ready sets: arrivals (marked here, taken by the worker) and replies (the other way). */
class Slots {
  readonly arrivals: ReadySet;
  readonly replies: ReadySet;
  readonly #free: number[] = [];
  #next = 0;

  /** What each run on the worker is given: it revives the same two sets every time. */
  readonly arrivalsHandle: ReadySetHandle;
  readonly repliesHandle: ReadySetHandle;

  constructor(size: number) {
    this.arrivals = new ReadySet({ size });
    this.replies = new ReadySet({ size });
    this.arrivalsHandle = this.arrivals.handle();
    this.repliesHandle = this.replies.handle();
  }

  /** A free slot, or -1 when all are in use. */
  take(): number {
    const reused = this.#free.pop();
    if (reused !== undefined) return reused;
    return this.#next < this.arrivals.size ? this.#next++ : -1;
  }

  give(slot: number): void {
    this.#free.push(slot);
  }
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const threads = options.threads ?? 1;
  if (threads !== 0 && threads !== 1) throw new RangeError(`threads must be 0 or 1, got ${String(threads)}`);
  const host = options.host ?? '127.0.0.1';
  const scheduler = threads === 1 ? new ThreadScheduler(handlerModule, { name: 'resp-keyspace', resourceLimits: { maxYoungGenerationSizeMb: kWorkerYoungMb } }) : null;
  const slots = threads === 1 ? new Slots(kMaxConnections) : null;
  const open = new Set<SocketConnection>();
  const server = net.createServer({ noDelay: true }, (socket) => {
    socket.setNoDelay(true);
    let connection: SocketConnection;
    let served: Promise<void>;
    if (scheduler === null || slots === null) {
      connection = SocketConnection.create(socket, { receive: { pauseWriterThreshold: kMaxRequestBytes }, send: { pauseWriterThreshold: kMaxRequestBytes } });
      served = serve(connection);
    } else {
      const slot = slots.take();
      try {
        if (slot < 0) throw new Error('no free slot');
        connection = SocketConnection.create(socket, { shared: true, receive: kReceiveRing, send: kSendRing, ready: { slot, input: slots.arrivals, output: slots.replies } });
      } catch {
        // No rings for it (ERR_PIPE_RING_LIMIT) or no slot: this connection is refused, the server goes on.
        if (slot >= 0) slots.give(slot);
        socket.destroy();
        return;
      }
      served = scheduler.run('serveReady', { input: connection.input, output: connection.output, slot, ready: slots.arrivalsHandle, replies: slots.repliesHandle });
      // The slot is free again once both threads let go of it.
      void Promise.allSettled([served, connection.closed]).then(() => slots.give(slot));
    }
    open.add(connection);
    // A connection's failure (a reset peer, a protocol error) ends that connection only.
    served.catch(() => connection.destroy()).finally(() => open.delete(connection));
  });
  // Each connection holds two growable rings, and each growable SharedArrayBuffer takes memory mappings
  // of the process's limited number: past this many connections new ones are refused, as Redis's maxclients does.
  if (threads === 1) server.maxConnections = kMaxConnections;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 6379, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    host,
    scheduler,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const connection of open) connection.destroy();
      });
      await scheduler?.close();
    },
  };
}
