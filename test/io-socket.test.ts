// SocketConnection over loopback TCP (group Q): an echo of several MB each way in-thread (shared: false)
// and with the server's handler on a ThreadScheduler (shared: true), line answers parsed on the worker,
// peer reset, half-close both ways, the zero-copy connect() client, byte counters and shutdownKind.
import { once } from 'node:events';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  PipeShutdownKind,
  readLines,
  SocketConnection,
  ThreadScheduler,
  type PipeReader,
  type PipeWriter,
  type SocketConnectionOptions,
} from '../dist/src/index.js';
import { nextImmediate, seededRandom, within, rejection, settleTurns, expectSameBytes, readAll } from './helpers.js';

const MB = 1 << 20;
const handlers = new URL('../dist/test/fixtures/io-socket-server.js', import.meta.url);

function randomData(seed: number, size: number): Uint8Array {
  const random = seededRandom(seed);
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (random() * 256) | 0;
  return data;
}

/** Writes `data` in random pieces (write or getMemory/advance/flush), then completes the writer unless `keepOpen`. */
async function produce(writer: PipeWriter, data: Uint8Array, seed: number, keepOpen = false): Promise<void> {
  const random = seededRandom(seed);
  for (let offset = 0; offset < data.length;) {
    const piece = Math.min(data.length - offset, 1 + Math.floor(random() * 30_000));
    if (random() < 0.5) {
      const result = await writer.write(data.subarray(offset, offset + piece));
      if (result.isCompleted) throw new Error('the send side completed early');
      offset += piece;
    } else {
      const memory = writer.getMemory(Math.min(piece, 2048));
      const count = Math.min(memory.length, piece);
      memory.set(data.subarray(offset, offset + count));
      writer.advance(count);
      await writer.flush();
      offset += count;
    }
  }
  if (!keepOpen) writer.complete();
}

interface TestServer {
  readonly port: number;
  /** The next accepted connection, wrapped with SocketConnection.create. */
  next(): Promise<SocketConnection>;
  close(): Promise<void>;
}

/** A loopback server on port 0 (default options: no allowHalfOpen; SocketConnection must enable it). */
async function listen(options: SocketConnectionOptions): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  const accepted: SocketConnection[] = [];
  const waiters: ((connection: SocketConnection) => void)[] = [];
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const connection = SocketConnection.create(socket, options);
    const waiter = waiters.shift();
    if (waiter !== undefined) waiter(connection);
    else accepted.push(connection);
  });
  server.listen(0, '127.0.0.1');
  await within(once(server, 'listening'));
  return {
    port: (server.address() as net.AddressInfo).port,
    next: () => (accepted.length > 0 ? Promise.resolve(accepted.shift()!) : new Promise((resolve) => waiters.push(resolve))),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await within(new Promise<void>((resolve) => server.close(() => resolve())), 5_000, 'server.close');
    },
  };
}

/** The in-thread echo handler. */
async function echoInThread(connection: SocketConnection): Promise<number> {
  let bytes = 0;
  for (;;) {
    const result = await connection.input.read();
    for (const segment of result.buffer) {
      await connection.output.write(segment);
      bytes += segment.length;
    }
    connection.input.advanceTo(result.buffer.end);
    if (result.isCompleted) break;
  }
  connection.input.complete();
  connection.output.complete();
  return bytes;
}

function connect(port: number, options?: SocketConnectionOptions): Promise<SocketConnection> {
  return within(SocketConnection.connect({ port, host: '127.0.0.1' }, options), 5_000, 'connect');
}

/** Collects unhandled rejections and uncaught exceptions while `body` runs (and a few turns after). */
async function noStrayErrors(body: () => Promise<void>): Promise<void> {
  const stray: unknown[] = [];
  const onStray = (reason: unknown): void => {
    stray.push(reason);
  };
  process.on('unhandledRejection', onStray);
  process.on('uncaughtException', onStray);
  try {
    await body();
    await settleTurns(10);
  } finally {
    process.off('unhandledRejection', onStray);
    process.off('uncaughtException', onStray);
  }
  expect(stray.map((error) => `${(error as Error).name}: ${(error as Error).message}`)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------------

describe('Q1 PipeShutdownKind values and first-wins recording', () => {
  it('Q1a the enum values match Pipelines.Sockets.Unofficial', () => {
    expect(PipeShutdownKind.None).toBe(0);
    expect(PipeShutdownKind.ReadEndOfStream).toBe(100);
    expect(PipeShutdownKind.ReadDisposed).toBe(101);
    expect(PipeShutdownKind.ReadException).toBe(103);
    expect(PipeShutdownKind.ReadSocketError).toBe(104);
    expect(PipeShutdownKind.WriteEndOfStream).toBe(200);
    expect(PipeShutdownKind.WriteDisposed).toBe(201);
    expect(PipeShutdownKind.WriteException).toBe(204);
    expect(PipeShutdownKind.WriteSocketError).toBe(205);
    expect(PipeShutdownKind.InputReaderCompleted).toBe(300);
    expect(PipeShutdownKind.OutputReaderCompleted).toBe(302);
    expect(PipeShutdownKind.ProtocolExitClient).toBe(400);
    expect(PipeShutdownKind.ProtocolExitServer).toBe(401);
  });

  it('Q1b trySetProtocolShutdown accepts only the protocol kinds, once; the first cause wins over later ones', async () => {
    const server = await listen({});
    try {
      const client = await connect(server.port);
      const accepted = await within(server.next());
      expect(client.shutdownKind).toBe(PipeShutdownKind.None);
      expect(client.trySetProtocolShutdown(PipeShutdownKind.InputReaderCompleted as never)).toBe(false);
      expect(client.shutdownKind).toBe(PipeShutdownKind.None);
      expect(client.trySetProtocolShutdown(PipeShutdownKind.ProtocolExitClient)).toBe(true);
      expect(client.shutdownKind).toBe(PipeShutdownKind.ProtocolExitClient);
      expect(client.trySetProtocolShutdown(PipeShutdownKind.ProtocolExitServer)).toBe(false);
      // Closing normally afterwards does not overwrite the first cause.
      client.output.complete();
      const ended = await within(readAll(accepted.input));
      expect(ended.length).toBe(0);
      accepted.input.complete();
      accepted.output.complete();
      expect((await within(readAll(client.input))).length).toBe(0);
      client.input.complete();
      await within(Promise.all([client.closed, accepted.closed]));
      expect(client.shutdownKind).toBe(PipeShutdownKind.ProtocolExitClient);
      expect(accepted.shutdownKind).toBe(PipeShutdownKind.ReadEndOfStream);
    } finally {
      await server.close();
    }
  });

  it('Q1c create() and connect() reject bad arguments with ERR_INVALID_ARG_VALUE', async () => {
    expect(() => SocketConnection.create({} as net.Socket)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    const socket = new net.Socket();
    expect(() => SocketConnection.create(socket, { shared: 'yes' } as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
    socket.destroy();
    expect(() => SocketConnection.connect({ port: 1 }, 42 as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});

describe('Q5 loopback echo through SocketConnection', () => {
  it('Q5a in-thread (shared: false): 4 MB each way, every byte verified; counters and shutdown kinds', async () => {
    const server = await listen({ shared: false });
    try {
      const data = randomData(1, 4 * MB);
      const client = await connect(server.port);
      const accepted = await within(server.next());
      const [echoed, , received] = await within(Promise.all([echoInThread(accepted), produce(client.output, data, 2), readAll(client.input)]), 20_000);
      expect(echoed).toBe(data.length);
      expectSameBytes(received, data, 'echo');
      client.input.complete();
      await within(Promise.all([client.closed, accepted.closed]));
      expect(client.bytesSent).toBe(data.length);
      expect(client.bytesRead).toBe(data.length);
      expect(accepted.bytesRead).toBe(data.length);
      expect(accepted.bytesSent).toBe(data.length);
      // The client finished sending first; the server first saw the client's FIN.
      expect(client.shutdownKind).toBe(PipeShutdownKind.WriteEndOfStream);
      expect(accepted.shutdownKind).toBe(PipeShutdownKind.ReadEndOfStream);
      expect(client.socket.destroyed).toBe(true);
      expect(accepted.socket.destroyed).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('Q5b shared: the server handler echoes on a ThreadScheduler: 4 MB each way, every byte verified', async () => {
    const server = await listen({ shared: true });
    const scheduler = new ThreadScheduler(handlers, { name: 'io-echo' });
    const controller = new AbortController();
    try {
      const data = randomData(3, 4 * MB);
      const client = await connect(server.port);
      const accepted = await within(server.next());
      const run = scheduler.run<{ bytes: number; threadId: number }>('echo', { input: accepted.input, output: accepted.output }, { signal: controller.signal });
      const [result, , received] = await within(Promise.all([run, produce(client.output, data, 4), readAll(client.input)]), 20_000);
      expect(result.bytes).toBe(data.length);
      expect(result.threadId).toBe(scheduler.threadId);
      expectSameBytes(received, data, 'echo via worker');
      client.input.complete();
      await within(Promise.all([client.closed, accepted.closed]));
      expect(accepted.bytesRead).toBe(data.length);
      expect(accepted.bytesSent).toBe(data.length);
      expect(client.bytesRead).toBe(data.length);
      expect(accepted.shutdownKind).toBe(PipeShutdownKind.ReadEndOfStream);
    } finally {
      controller.abort();
      await server.close();
      await within(scheduler.close(), 5_000, 'scheduler.close');
    }
  });

  it('Q5c connect() with shared: true and 64 KiB rings (zero-copy reads into the ring): 4 MB each way, no stray errors', async () => {
    await noStrayErrors(async () => {
      const server = await listen({ shared: true });
      const scheduler = new ThreadScheduler(handlers, { name: 'io-echo-2' });
      const controller = new AbortController();
      try {
        const data = randomData(5, 4 * MB);
        const client = await connect(server.port, { shared: true, receive: { capacity: 64 * 1024 }, send: { capacity: 64 * 1024 } });
        const accepted = await within(server.next());
        const run = scheduler.run<{ bytes: number }>('echo', { input: accepted.input, output: accepted.output }, { signal: controller.signal });
        const [result, , received] = await within(Promise.all([run, produce(client.output, data, 6), readAll(client.input)]), 20_000);
        expect(result.bytes).toBe(data.length);
        expectSameBytes(received, data, 'echo, shared client');
        client.input.complete();
        await within(Promise.all([client.closed, accepted.closed]));
        expect(client.bytesSent).toBe(data.length);
        expect(client.bytesRead).toBe(data.length);
      } finally {
        controller.abort();
        await server.close();
        await within(scheduler.close(), 5_000, 'scheduler.close');
      }
    });
  });

  for (const capacity of [16 * 1024, 64 * 1024]) {
    it(`Q5i create() with shared: true and ${capacity / 1024} KiB rings, a slow consumer: every byte arrives, no ReadException`, async () => {
      await noStrayErrors(async () => {
        const server = await listen({ shared: true, receive: { capacity }, send: { capacity } });
        try {
          const data = randomData(10 + capacity, 2 * MB);
          const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
          socket.on('error', () => {});
          await within(once(socket, 'connect'));
          const accepted = await within(server.next());
          socket.end(data);
          // A slow consumer on this thread (shared ends work in the thread that holds them): it yields a
          // turn of the event loop after every read, so the ring fills and the socket must wait for room.
          const consuming = (async () => {
            const parts: Uint8Array[] = [];
            for (;;) {
              const result = await accepted.input.read();
              parts.push(result.buffer.toUint8Array());
              accepted.input.advanceTo(result.buffer.end);
              if (result.isCompleted) return Buffer.concat(parts);
              await nextImmediate();
            }
          })();
          const received = await within(consuming, 20_000).catch((error: Error & { code?: unknown }) => {
            throw new Error(`the receive side failed (${String(error.code)}: ${error.message}); shutdownKind ${accepted.shutdownKind}`);
          });
          expectSameBytes(received, data, 'slow consumer');
          expect(accepted.shutdownKind).toBe(PipeShutdownKind.ReadEndOfStream);
          accepted.input.complete();
          accepted.output.complete();
          await within(accepted.closed);
          socket.destroy();
        } finally {
          await server.close();
        }
      });
    });
  }

  it('Q5d shared: lines parsed with readLines on the worker, each answered; every answer verified', async () => {
    const server = await listen({ shared: true });
    const scheduler = new ThreadScheduler(handlers, { name: 'io-lines' });
    const controller = new AbortController();
    try {
      const random = seededRandom(7);
      const expected: string[] = [];
      const parts: string[] = [];
      let size = 0;
      while (size < 3 * MB) {
        const length = Math.floor(random() * 200);
        let line = '';
        let sum = 0;
        for (let i = 0; i < length; i++) {
          const code = 0x20 + Math.floor(random() * 95);
          line += String.fromCharCode(code);
          sum = (sum + code) & 0xffff;
        }
        const terminator = random() < 0.5 ? '\n' : '\r\n';
        parts.push(line + terminator);
        expected.push(`${length} ${sum}`);
        size += line.length + terminator.length;
      }
      const request = Buffer.from(parts.join(''), 'latin1');
      const client = await connect(server.port);
      const accepted = await within(server.next());
      const run = scheduler.run<{ lines: number; threadId: number }>('lines', { input: accepted.input, output: accepted.output }, { signal: controller.signal });
      const answers: string[] = [];
      const reading = (async () => {
        for await (const line of readLines(client.input)) answers.push(line.toString());
        client.input.complete();
      })();
      const [result] = await within(Promise.all([run, produce(client.output, request, 8), reading]), 20_000);
      expect(result.lines).toBe(expected.length);
      expect(result.threadId).toBe(scheduler.threadId);
      expect(answers.length).toBe(expected.length);
      expect(answers).toEqual(expected);
      await within(Promise.all([client.closed, accepted.closed]));
      expect(accepted.bytesRead).toBe(request.length);
      expect(client.bytesSent).toBe(request.length);
    } finally {
      controller.abort();
      await server.close();
      await within(scheduler.close(), 5_000, 'scheduler.close');
    }
  });

  it('Q5e a plain net.Socket client against an in-thread SocketConnection server: 2 MB echoed exactly', async () => {
    const server = await listen({});
    try {
      const data = randomData(9, 2 * MB);
      const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
      await within(once(socket, 'connect'));
      const accepted = await within(server.next());
      const echoing = echoInThread(accepted);
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const ended = once(socket, 'end');
      socket.end(data);
      await within(Promise.all([echoing, ended]), 20_000);
      expectSameBytes(Buffer.concat(received), data, 'plain client echo');
      socket.destroy();
      await within(accepted.closed);
      expect(accepted.bytesRead).toBe(data.length);
      expect(accepted.bytesSent).toBe(data.length);
    } finally {
      await server.close();
    }
  });
});

describe('Q3 peer reset', () => {
  it('Q3a in-thread: the client resets mid-stream → the server input read rejects (ECONNRESET), ReadSocketError, closed settles', async () => {
    await noStrayErrors(async () => {
      const server = await listen({});
      try {
        const socket = net.connect({ port: server.port, host: '127.0.0.1' });
        socket.on('error', () => {});
        await within(once(socket, 'connect'));
        const accepted = await within(server.next());
        let received = 0;
        let gotSome!: () => void;
        const some = new Promise<void>((resolve) => (gotSome = resolve));
        const reading = (async (): Promise<{ completed?: boolean; error?: Error & { code?: unknown } }> => {
          try {
            for (;;) {
              const result = await accepted.input.read();
              received += result.buffer.length;
              accepted.input.advanceTo(result.buffer.end);
              if (received >= 64 * 1024) gotSome();
              if (result.isCompleted) return { completed: true };
            }
          } catch (error) {
            return { error: error as Error & { code?: unknown } };
          }
        })();
        socket.write(new Uint8Array(MB));
        await within(some);
        socket.resetAndDestroy();
        const outcome = await within(reading);
        expect(outcome.completed).toBeUndefined();
        expect(outcome.error?.code).toBe('ECONNRESET');
        expect(accepted.shutdownKind).toBe(PipeShutdownKind.ReadSocketError);
        await within(accepted.closed);
        // The send side completed with the same error: writing now rejects with it.
        const error = await rejection(within(accepted.output.write(new Uint8Array(10))));
        expect(error.code).toBe('ECONNRESET');
        expect(accepted.socket.destroyed).toBe(true);
      } finally {
        await server.close();
      }
    });
  });

  it('Q3b shared: the client resets mid-stream → the worker\'s read rejects with ECONNRESET (name, code cross threads)', async () => {
    await noStrayErrors(async () => {
      const server = await listen({ shared: true });
      const scheduler = new ThreadScheduler(handlers, { name: 'io-reset' });
      const controller = new AbortController();
      try {
        const socket = net.connect({ port: server.port, host: '127.0.0.1' });
        socket.on('error', () => {});
        await within(once(socket, 'connect'));
        const accepted = await within(server.next());
        const run = scheduler.run<{ bytes: number; completed: boolean; error?: { name: string; code?: unknown } }>(
          'readUntilError',
          { input: accepted.input, output: accepted.output },
          { signal: controller.signal },
        );
        const chunk = new Uint8Array(64 * 1024);
        await within(new Promise<void>((resolve) => socket.write(chunk, () => resolve())));
        // Wait until the server side received something, then reset.
        await within((async () => {
          while (accepted.bytesRead === 0) await nextImmediate();
        })());
        socket.resetAndDestroy();
        const result = await within(run, 10_000);
        expect(result.completed).toBe(false);
        expect(result.error?.code).toBe('ECONNRESET');
        expect(accepted.shutdownKind).toBe(PipeShutdownKind.ReadSocketError);
        await within(accepted.closed);
      } finally {
        controller.abort();
        await server.close();
        await within(scheduler.close(), 5_000, 'scheduler.close');
      }
    });
  });

  it('Q6 destroy(error) closes at once: both pipes complete with the error, closed settles', async () => {
    await noStrayErrors(async () => {
      const server = await listen({});
      try {
        const client = await connect(server.port);
        const accepted = await within(server.next());
        const pending = client.input.read();
        const failure = new Error('shutting down');
        client.destroy(failure);
        expect(await rejection(within(pending))).toBe(failure);
        await within(client.closed);
        expect(await rejection(within(client.output.write(new Uint8Array(1))))).toBe(failure);
        expect(client.shutdownKind).toBe(PipeShutdownKind.ReadSocketError);
        // The server sees the connection end (FIN or reset) and closes too.
        await within(readAll(accepted.input).catch(() => undefined));
        accepted.input.complete();
        accepted.output.complete();
        await within(accepted.closed);
      } finally {
        await server.close();
      }
    });
  });
});

describe('Q5 half-close', () => {
  it('Q5f the client completes its output: the server reads to isCompleted, then still replies in full', async () => {
    const server = await listen({});
    try {
      const request = randomData(11, MB);
      const client = await connect(server.port);
      const accepted = await within(server.next());
      const serving = (async () => {
        const got = await readAll(accepted.input);
        accepted.input.complete();
        // Input is complete; output still works.
        const reply = Buffer.from(got).reverse();
        const flushed = await accepted.output.write(reply);
        expect(flushed.isCompleted).toBe(false);
        accepted.output.complete();
        return got;
      })();
      const [got, , reply] = await within(Promise.all([serving, produce(client.output, request, 12), readAll(client.input)]), 20_000);
      expectSameBytes(got, request, 'request');
      expectSameBytes(reply, Buffer.from(request).reverse(), 'reply after the client half-closed');
      client.input.complete();
      await within(Promise.all([client.closed, accepted.closed]));
      expect(client.shutdownKind).toBe(PipeShutdownKind.WriteEndOfStream);
      expect(accepted.shutdownKind).toBe(PipeShutdownKind.ReadEndOfStream);
      expect(client.bytesSent).toBe(request.length);
      expect(client.bytesRead).toBe(request.length);
    } finally {
      await server.close();
    }
  });

  it('Q5g the server completes its output first: the client reads to isCompleted, then still sends in full', async () => {
    const server = await listen({});
    try {
      const greeting = randomData(13, MB);
      const answer = randomData(14, MB);
      const client = await connect(server.port);
      const accepted = await within(server.next());
      const serverSending = produce(accepted.output, greeting, 15);
      const clientSide = (async () => {
        const got = await readAll(client.input);
        client.input.complete();
        await produce(client.output, answer, 16);
        return got;
      })();
      const [, got, answered] = await within(Promise.all([serverSending, clientSide, readAll(accepted.input)]), 20_000);
      expectSameBytes(got, greeting, 'greeting');
      expectSameBytes(answered, answer, 'answer after the server half-closed');
      accepted.input.complete();
      await within(Promise.all([client.closed, accepted.closed]));
      expect(accepted.shutdownKind).toBe(PipeShutdownKind.WriteEndOfStream);
      expect(client.shutdownKind).toBe(PipeShutdownKind.ReadEndOfStream);
      expect(accepted.bytesSent).toBe(greeting.length);
      expect(accepted.bytesRead).toBe(answer.length);
    } finally {
      await server.close();
    }
  });

  it('Q5h shared: the worker reads the request to its end, then replies; the client reads the reply fully', async () => {
    const server = await listen({ shared: true });
    const scheduler = new ThreadScheduler(handlers, { name: 'io-half-close' });
    const controller = new AbortController();
    try {
      const request = randomData(17, 2 * MB);
      const client = await connect(server.port);
      const accepted = await within(server.next());
      const run = scheduler.run<{ bytes: number }>('reverseAfterEnd', { input: accepted.input, output: accepted.output }, { signal: controller.signal });
      const [result, , reply] = await within(Promise.all([run, produce(client.output, request, 18), readAll(client.input)]), 20_000);
      expect(result.bytes).toBe(request.length);
      expectSameBytes(reply, Buffer.from(request).reverse(), 'reply from the worker');
      client.input.complete();
      await within(Promise.all([client.closed, accepted.closed]));
      expect(accepted.shutdownKind).toBe(PipeShutdownKind.ReadEndOfStream);
    } finally {
      controller.abort();
      await server.close();
      await within(scheduler.close(), 5_000, 'scheduler.close');
    }
  });

  it('Q3d a connect() client completing its input while the server still sends: InputReaderCompleted, no stray errors', async () => {
    await noStrayErrors(async () => {
      const server = await listen({});
      try {
        const client = await connect(server.port);
        const accepted = await within(server.next());
        await within(accepted.output.write(new Uint8Array(1000)));
        const result = await within(client.input.read());
        expect(result.buffer.length).toBeGreaterThan(0);
        client.input.advanceTo(result.buffer.end);
        client.input.complete();
        // More data arrives at the client: its receive loop finds the reader completed.
        await within(accepted.output.write(new Uint8Array(1000)));
        await within((async () => {
          while (client.shutdownKind === PipeShutdownKind.None) await nextImmediate();
        })());
        expect(client.shutdownKind).toBe(PipeShutdownKind.InputReaderCompleted);
        accepted.output.complete();
        client.output.complete();
        await within(readAll(accepted.input));
        accepted.input.complete();
        await within(Promise.all([client.closed, accepted.closed]));
      } finally {
        await server.close();
      }
    });
  });

  it('Q3c the application completing input while the peer still sends records InputReaderCompleted', async () => {
    const server = await listen({});
    try {
      const client = await connect(server.port);
      const accepted = await within(server.next());
      const first = await within(client.output.write(new Uint8Array(1000)));
      expect(first.isCompleted).toBe(false);
      const result = await within(accepted.input.read());
      accepted.input.advanceTo(result.buffer.end);
      accepted.input.complete();
      // More data arrives: the receive loop's flush reports the reader completed.
      await within(client.output.write(new Uint8Array(1000)));
      await within((async () => {
        while (accepted.shutdownKind === PipeShutdownKind.None) await nextImmediate();
      })());
      expect(accepted.shutdownKind).toBe(PipeShutdownKind.InputReaderCompleted);
      accepted.output.complete();
      client.output.complete();
      await within(readAll(client.input));
      client.input.complete();
      await within(Promise.all([client.closed, accepted.closed]));
    } finally {
      await server.close();
    }
  });
});
