// A pipelining RESP client for the tour's load: each connection sends `depth` commands (SET then GET
// of random keys), flushes once, and reads all the replies before the next round. It runs on its
// own thread (a ThreadScheduler), so the load does not share the server's event loop.
import { threadId } from 'node:worker_threads';
import { SequenceReader, SocketConnection, type ReadOnlySequence } from 'threadpipe';
import { threadCpuMs } from '../shared/thread-cpu.js';

export interface DriveOptions {
  port: number;
  host: string;
  seconds: number;
  connections: number;
  depth: number;
}

export interface DriveResult {
  requests: number;
  errors: number;
  seconds: number;
  threadId: number;
  cpuMs: number;
}

const CRLF = Uint8Array.of(0x0d, 0x0a);

function command(...parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`;
}

/** Counts complete replies at the start of `buffer`; returns how many and the bytes they took. */
function countReplies(buffer: ReadOnlySequence, wanted: number): { replies: number; errors: number; length: number } {
  const reader = new SequenceReader(buffer);
  let replies = 0;
  let errors = 0;
  let length = 0;
  while (replies < wanted) {
    const type = reader.tryRead();
    if (type === null) break;
    const line = reader.tryReadTo(CRLF);
    if (line === null) break;
    if (type === 0x24 /* '$' */) {
      const size = Number(line.toString('latin1'));
      if (size >= 0) {
        if (reader.remaining < size + 2) break;
        reader.advance(size + 2);
      }
    } else if (type === 0x2d /* '-' */) {
      errors++;
    }
    replies++;
    length = reader.consumed;
  }
  return { replies, errors, length };
}

async function driveConnection(options: DriveOptions, deadline: number, seed: number): Promise<{ requests: number; errors: number }> {
  const connection = await SocketConnection.connect({ port: options.port, host: options.host, noDelay: true });
  let requests = 0;
  let errors = 0;
  let key = seed;
  try {
    while (performance.now() < deadline) {
      let batch = '';
      for (let i = 0; i < options.depth; i += 2) {
        key = (key * 1103515245 + 12345) >>> 0;
        const name = `key:${key % 100000}`;
        batch += command('SET', name, `value-${key}`) + command('GET', name);
      }
      await connection.output.write(batch);
      let pending = options.depth;
      while (pending > 0) {
        const result = await connection.input.read();
        const counted = countReplies(result.buffer, pending);
        pending -= counted.replies;
        errors += counted.errors;
        connection.input.advanceTo(result.buffer.getPosition(counted.length), result.buffer.end);
        if (result.isCompleted && pending > 0) throw new Error('the server closed the connection');
      }
      requests += options.depth;
    }
  } finally {
    connection.output.complete();
    connection.input.complete();
    await connection.closed;
  }
  return { requests, errors };
}

export async function drive(options: DriveOptions): Promise<DriveResult> {
  const cpu = threadCpuMs();
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const results = await Promise.all(Array.from({ length: options.connections }, (_, i) => driveConnection(options, deadline, i + 1)));
  return {
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    errors: results.reduce((sum, r) => sum + r.errors, 0),
    seconds: (performance.now() - started) / 1000,
    threadId,
    cpuMs: threadCpuMs() - cpu,
  };
}

