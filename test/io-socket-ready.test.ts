// SocketConnection with `ready`: no read pending per connection. The receive pipe's writer marks the
// connection's slot in one ReadySet, and the connection sends what its send pipe holds when its slot
// is marked in the other. Here an echo handler takes readiness on the same thread; the RESP server's
// tests run the same over a worker with the real tools.
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PipeShutdownKind, ReadySet, SocketConnection, type ReadResult, type SharedPipeReader, type SharedPipeWriter } from '../dist/src/index.js';
import { expectSameBytes, randomData, randomChunks, within } from './helpers.js';

const ring = { capacity: 2048, maxCapacity: 1 << 20, pauseWriterThreshold: 64 * 1024 };

interface EchoServer {
  port: number;
  arrivals: ReadySet;
  replies: ReadySet;
  connections: SocketConnection[];
  /** Settles per connection when the echo handler saw the end of its input. */
  ended: Promise<void>[];
  close(): Promise<void>;
}

/** Echoes every byte back by readiness alone: tryRead the input when its slot is marked, write it to the output. */
function echo(input: SharedPipeReader, output: SharedPipeWriter, slot: number, arrivals: ReadySet, replies: ReadySet): Promise<void> {
  output.markOnPublish(replies, slot);
  return new Promise<void>((resolve, reject) => {
    let flushing = false;
    const step = (): void => {
      if (flushing) return;
      let result: ReadResult | null;
      try {
        result = input.tryRead();
      } catch (error) {
        arrivals.unlisten(slot);
        output.complete();
        return reject(error);
      }
      if (result === null) return;
      const copy = new Uint8Array(result.buffer.length);
      result.buffer.copyTo(copy);
      const completed = result.isCompleted;
      input.advanceTo(result.buffer.end);
      if (completed) {
        arrivals.unlisten(slot);
        input.complete();
      }
      flushing = true;
      output.write(copy).then(() => {
        flushing = false;
        if (completed) {
          output.complete();
          resolve();
        } else step();
      }, reject);
    };
    arrivals.listen(slot, step);
    step();
  });
}

async function startEcho(): Promise<EchoServer> {
  const arrivals = new ReadySet({ size: 64 });
  const replies = new ReadySet({ size: 64 });
  const connections: SocketConnection[] = [];
  const ended: Promise<void>[] = [];
  const server = net.createServer((socket) => {
    const slot = connections.length;
    const connection = SocketConnection.create(socket, { shared: true, receive: ring, send: ring, ready: { slot, input: arrivals, output: replies } });
    connections.push(connection);
    const done = echo(connection.input as SharedPipeReader, connection.output as SharedPipeWriter, slot, arrivals, replies);
    done.catch(() => {});
    ended.push(done);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    arrivals,
    replies,
    connections,
    ended,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Sends `data` in seeded random chunks, half-closes, and collects what comes back until the server's FIN. */
function roundTrip(port: number, data: Uint8Array, seed: number): Promise<Uint8Array> {
  return new Promise<Uint8Array>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(received)));
    socket.on('error', reject);
    socket.once('connect', async () => {
      for (const chunk of randomChunks(data, seed, 40_000)) {
        if (!socket.write(chunk)) await new Promise((drained) => socket.once('drain', drained));
      }
      socket.end();
    });
  });
}

describe('SocketConnection with ready (readiness instead of a read per connection)', () => {
  it('echoes 3 MB each way on 8 connections at once, every byte in order, and half-closes', async () => {
    const server = await startEcho();
    try {
      const data = Array.from({ length: 8 }, (_, i) => randomData(100 + i, 3 << 20));
      const echoed = await within(Promise.all(data.map((bytes, i) => roundTrip(server.port, bytes, 200 + i))), 60_000, 'the echoes');
      echoed.forEach((bytes, i) => expectSameBytes(bytes, data[i]!, `connection ${i}`));
      await within(Promise.all(server.ended), 10_000, 'every handler ending');
      await within(Promise.all(server.connections.map((c) => c.closed)), 10_000, 'every connection closing');
      for (const connection of server.connections) {
        expect(connection.bytesRead).toBe(3 << 20);
        expect(connection.bytesSent).toBe(3 << 20);
      }
      // A thousand marks, far fewer wake-ups: the reader of each set slept once per burst, not per connection.
      expect(server.arrivals.stats().wakeups).toBeLessThanOrEqual(server.arrivals.stats().waits);
    } finally {
      await server.close();
    }
  });

  it('a peer reset reaches the handler as an error and ends the connection', async () => {
    const server = await startEcho();
    try {
      const socket = net.connect(server.port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('hello');
      await within(
        (async () => {
          while (server.connections.length === 0 || server.connections[0]!.bytesRead < 5) await new Promise((r) => setImmediate(r));
        })(),
        5_000,
        'the bytes arriving',
      );
      socket.resetAndDestroy();
      await expect(within(server.ended[0]!, 5_000, 'the handler')).rejects.toMatchObject({ code: 'ECONNRESET' });
      await within(server.connections[0]!.closed, 5_000, 'the connection closing');
      expect(server.connections[0]!.shutdownKind).toBe(PipeShutdownKind.ReadSocketError);
    } finally {
      await server.close();
    }
  });

  it('refuses ready without shared, or with what is not a ReadySet, or a slot outside the sets', () => {
    const set = new ReadySet({ size: 4 });
    const socket = new net.Socket();
    try {
      expect(() => SocketConnection.create(socket, { ready: { slot: 0, input: set, output: set } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'ready' }));
      expect(() => SocketConnection.create(socket, { shared: true, ready: { slot: 0, input: {} as never, output: set } })).toThrow(expect.objectContaining({ argument: 'ready.input' }));
      expect(() => SocketConnection.create(socket, { shared: true, ready: { slot: 4, input: set, output: set } })).toThrow(expect.objectContaining({ argument: 'ready.slot' }));
    } finally {
      socket.destroy();
    }
  });
});
