// One connection of the RESP server: every complete request of a read is parsed in place and
// executed at once, and the replies of the whole read go out in one write and one flush; the loop
// awaits only when the buffer holds no complete request. This module runs on whichever thread owns
// the keyspace: the main thread (--threads 0) or the ThreadScheduler's worker.
import { threadId } from 'node:worker_threads';
import type { DuplexPipe, ReadOnlySequence } from 'threadpipe';
import { After, execute, type Session, stats } from './commands.js';
import { Keyspace } from './keyspace.js';
import { Args, kMaxRequestBytes, measureRequest, parseRequest, ProtocolError, ReplyBuffer } from './resp.js';
import { threadCpuMs } from '../shared/thread-cpu.js';

const keyspace = new Keyspace();

/** A gathered request up to this size keeps its buffer for the next one; a larger one lets it go. */
const kKeptGather = 64 * 1024;

/** What one connection reuses from read to read. */
class Connection {
  readonly args = new Args();
  readonly reply = new ReplyBuffer();
  readonly session: Session = { name: null };
  /** Set by a command after which the connection closes (QUIT), or by a protocol error. */
  closing = false;
  #gather: Uint8Array | null = null;

  /** Runs every complete request in `bytes` (a contiguous block) from its start; returns the bytes they took. */
  runBlock(bytes: Uint8Array, last: boolean): number {
    let at = 0;
    while (!this.closing) {
      const next = parseRequest(bytes, at, last, this.args);
      if (next < 0) break;
      at = next;
      this.#run();
    }
    return at;
  }

  /**
   * The one request at the start of `rest` that runs across blocks of memory (a pipe's segments, a
   * ring's wrap): gathered into one contiguous buffer and run from there. Returns its length, or -1
   * when it has not fully arrived.
   */
  runGathered(rest: ReadOnlySequence): number {
    const length = measureRequest(rest);
    if (length < 0) return length;
    let gather = this.#gather;
    if (gather === null || gather.length < length) gather = new Uint8Array(length);
    const bytes = gather.subarray(0, length);
    rest.slice(0, length).copyTo(bytes);
    this.#gather = gather.length <= kKeptGather ? gather : null;
    const next = parseRequest(bytes, 0, true, this.args);
    // measureRequest and parseRequest read the same rules: a request one measured whole the other parses whole.
    if (next !== length) throw new Error(`a request measured at ${length} bytes parsed as ${next}`);
    this.#run();
    this.args.release();
    return length;
  }

  #run(): void {
    // An empty line or array is no command.
    if (this.args.length === 0) return;
    stats.commands++;
    if (execute(this.args, keyspace, this.reply, this.session) === After.Close) this.closing = true;
  }
}

export async function serve(connection: DuplexPipe): Promise<void> {
  const { input, output } = connection;
  const state = new Connection();
  const reply = state.reply;
  stats.connections++;
  try {
    for (;;) {
      const result = await input.read();
      const buffer = result.buffer;
      let consumed = 0;
      try {
        // Block by block: nearly always the whole buffer is one block, parsed in place. A request
        // split between two blocks is the one that is gathered.
        let rest = buffer;
        for (;;) {
          const block = rest.first;
          const last = rest.isSingleSegment;
          const used = state.runBlock(block, last);
          consumed += used;
          if (state.closing || last) break;
          rest = rest.slice(used);
          if (used === block.length) continue;
          const gathered = state.runGathered(rest);
          if (gathered < 0) break;
          consumed += gathered;
          if (state.closing) break;
          rest = rest.slice(gathered);
        }
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        reply.error(`ERR Protocol error: ${error.message}`);
        state.closing = true;
      }
      // Memory stays bounded: a request that is still incomplete at the limit is refused, not buffered on.
      if (!state.closing && buffer.length - consumed >= kMaxRequestBytes) {
        reply.error(`ERR Protocol error: request larger than ${kMaxRequestBytes >> 20} MiB`);
        state.closing = true;
      }
      // Everything was examined: the next read waits for more bytes.
      input.advanceTo(consumed === buffer.length ? buffer.end : buffer.getPosition(consumed), buffer.end);
      if (reply.length > 0) {
        const flushed = await output.write(reply.view());
        reply.clear();
        if (flushed.isCompleted) break;
      }
      if (state.closing || result.isCompleted || result.isCanceled) break;
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
