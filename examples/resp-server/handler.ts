// One connection of the RESP server: every complete request of a read is parsed in place and
// executed at once, and the replies of the whole read go out in one write and one flush. This module
// runs on whichever thread owns the keyspace: the main thread (--threads 0, `serve`: a loop that
// awaits each read) or the ThreadScheduler's worker (--threads 1, `serveReady`: no read pending, the
// socket thread marks the connection when bytes arrive).
import { threadId } from 'node:worker_threads';
import { ReadySet, type DuplexPipe, type PipeReader, type ReadOnlySequence, type ReadResult, type ReadySetHandle, type SharedPipeReader, type SharedPipeWriter } from 'threadpipe';
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

  /**
   * Runs every complete request of a read, block by block (nearly always the whole buffer is one
   * block, parsed in place; a request split between two blocks is gathered), puts their replies in
   * `reply` and advances `input` past them, examining everything.
   */
  take(input: PipeReader, result: ReadResult): void {
    const buffer = result.buffer;
    let consumed = 0;
    try {
      let rest = buffer;
      for (;;) {
        const block = rest.first;
        const last = rest.isSingleSegment;
        const used = this.runBlock(block, last);
        consumed += used;
        if (this.closing || last) break;
        rest = rest.slice(used);
        if (used === block.length) continue;
        const gathered = this.runGathered(rest);
        if (gathered < 0) break;
        consumed += gathered;
        if (this.closing) break;
        rest = rest.slice(gathered);
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.reply.error(`ERR Protocol error: ${error.message}`);
      this.closing = true;
    }
    // Memory stays bounded: a request that is still incomplete at the limit is refused, not buffered on.
    if (!this.closing && buffer.length - consumed >= kMaxRequestBytes) {
      this.reply.error(`ERR Protocol error: request larger than ${kMaxRequestBytes >> 20} MiB`);
      this.closing = true;
    }
    // Everything was examined: the next read waits for more bytes.
    input.advanceTo(consumed === buffer.length ? buffer.end : buffer.getPosition(consumed), buffer.end);
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
      state.take(input, result);
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

/** A connection served by readiness (`SocketConnection`'s `ready`): the socket thread marks `slot` when bytes arrive. */
export interface ReadyConnection {
  input: SharedPipeReader;
  output: SharedPipeWriter;
  slot: number;
  /** The set this thread takes from; the socket thread marks it. */
  ready: ReadySetHandle;
  /** The set the socket thread takes from; this connection's replies mark it. */
  replies: ReadySetHandle;
}

/**
 * The same loop driven by readiness: each mark runs what arrived with `tryRead()`, so an idle
 * connection holds no read and a thousand busy ones share one wake-up of this thread. Settles when
 * the connection ends; a failure other than a protocol error rejects it.
 */
export function serveReady(connection: ReadyConnection): Promise<void> {
  const { input, output, slot } = connection;
  const arrivals = ReadySet.from(connection.ready);
  output.markOnPublish(ReadySet.from(connection.replies), slot);
  const state = new Connection();
  const reply = state.reply;
  stats.connections++;
  return new Promise<void>((resolve, reject) => {
    /** A reply's flush waits (the client does not read): arrivals wait for it. */
    let flushing = false;
    let ended = false;
    const end = (error?: unknown): void => {
      if (ended) return;
      ended = true;
      stats.connections--;
      arrivals.unlisten(slot);
      input.complete();
      output.complete();
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error(String(error)));
    };
    const step = (): void => {
      if (flushing || ended) return;
      try {
        const result = input.tryRead();
        if (result === null) return;
        state.take(input, result);
        const last = state.closing || result.isCompleted || result.isCanceled;
        if (reply.length === 0) {
          if (last) end();
          return;
        }
        const flushed = output.write(reply.view());
        reply.clear();
        flushing = true;
        flushed.then((flush) => {
          flushing = false;
          if (last || flush.isCompleted) end();
          // Bytes that arrived while the flush was out had their mark taken already: look again.
          else step();
        }, end);
      } catch (error) {
        end(error);
      }
    };
    arrivals.listen(slot, step);
    // Bytes that arrived before the listener had their mark taken by nobody.
    step();
  });
}

/** What this thread did so far: for the tour's table. */
export function report(): { threadId: number; commands: number; connections: number; cpuMs: number } {
  return { threadId, commands: stats.commands, connections: stats.connections, cpuMs: threadCpuMs() };
}

export function flush(): void {
  keyspace.clear();
}
