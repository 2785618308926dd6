// One connection of the RESP server: parse every complete request of a read, execute them in order,
// answer the whole batch with one write. This module runs on whichever thread owns the keyspace:
// the main thread (--threads 0) or the ThreadScheduler's worker.
import { threadId } from 'node:worker_threads';
import type { DuplexPipe } from 'threadpipe';
import { After, execute, type Session, stats } from './commands.js';
import { Keyspace } from './keyspace.js';
import { parseCommand, parseContiguous, ProtocolError, ReplyBuffer } from './resp.js';
import { threadCpuMs } from '../shared/thread-cpu.js';

const keyspace = new Keyspace();

export async function serve(connection: DuplexPipe): Promise<void> {
  const { input, output } = connection;
  const reply = new ReplyBuffer();
  const session: Session = { name: null };
  stats.connections++;
  try {
    for (;;) {
      const result = await input.read();
      let rest = result.buffer;
      let close = false;
      try {
        // Whole commands at the front of the first block are parsed in place, by offset: no
        // sub-sequence per command. What is left (split over blocks, incomplete, unusual) takes the
        // general path.
        const block = rest.first;
        let at = 0;
        while (!close) {
          const parsed = parseContiguous(block, at);
          if (parsed === undefined) break;
          at += parsed.length;
          // An empty inline line is no command.
          if (parsed.command.length === 0) continue;
          stats.commands++;
          close = execute(parsed.command, keyspace, reply, session) === After.Close;
        }
        if (at > 0) rest = rest.slice(at);
        while (!close) {
          const parsed = parseCommand(rest);
          if (parsed === null) break;
          rest = rest.slice(parsed.length);
          if (parsed.command.length === 0) continue;
          stats.commands++;
          close = execute(parsed.command, keyspace, reply, session) === After.Close;
        }
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        reply.error(`ERR Protocol error: ${error.message}`);
        close = true;
      }
      input.advanceTo(rest.start, result.buffer.end);
      if (reply.length > 0) {
        const flushed = await output.write(reply.view());
        reply.clear();
        if (flushed.isCompleted) close = true;
      }
      if (close || result.isCompleted || result.isCanceled) break;
    }
  } finally {
    stats.connections--;
    input.complete();
    output.complete();
  }
}

/** What this thread did so far: for the tour's table. */
export function report(): { threadId: number; commands: number; connections: number; cpuMs: number } {
  return { threadId, commands: stats.commands, connections: stats.connections, cpuMs: threadCpuMs() };
}

export function flush(): void {
  keyspace.clear();
}

