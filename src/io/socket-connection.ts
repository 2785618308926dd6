import * as net from 'node:net';
import { InvalidArgumentTypeError, InvalidArgumentValueError, validateInteger } from '../errors/index.js';
import type { DuplexPipe } from '../pipe/duplex-pipe.js';
import { Pipe } from '../pipe/pipe.js';
import type { PipeOptions } from '../pipe/pipe-options.js';
import type { PipeReader } from '../pipe/pipe-reader.js';
import type { PipeWriter } from '../pipe/pipe-writer.js';
import { ReadySet } from '../ring/ready-set.js';
import { SharedPipe } from '../ring/shared-pipe.js';
import type { SharedPipeWriter } from '../ring/shared-pipe-writer.js';
import type { SharedPipeOptions } from '../ring/shared-ring.js';
import type { ReadOnlySequence } from '../buffers/read-only-sequence.js';
import { kTransfer, settledFlushResult, type FlushResult, type ReadResult } from '../pipe/results.js';

/** Why a connection shut down; the first cause wins (numbering as Pipelines.Sockets.Unofficial). */
export enum PipeShutdownKind {
  None = 0,
  ReadEndOfStream = 100,
  ReadDisposed = 101,
  ReadException = 103,
  ReadSocketError = 104,
  WriteEndOfStream = 200,
  WriteDisposed = 201,
  WriteException = 204,
  WriteSocketError = 205,
  InputReaderCompleted = 300,
  OutputReaderCompleted = 302,
  ProtocolExitClient = 400,
  ProtocolExitServer = 401,
}

export interface SocketConnectionOptions {
  /** Make `input` and `output` SharedPipe ends, movable to a ThreadScheduler: socket I/O stays here, parsing runs there. */
  shared?: boolean;
  /** Options of the receive pipe (a Pipe's, or a SharedPipe's with `shared`). */
  receive?: PipeOptions | SharedPipeOptions;
  /** Options of the send pipe. */
  send?: PipeOptions | SharedPipeOptions;
  /**
   * Readiness instead of a wait per connection, for many connections served on one other thread
   * (with `shared`). The receive pipe's writer marks `slot` in `input` each time it publishes: the
   * thread that reads `input` listens on that set and reads with `tryRead()`. This connection
   * listens on `slot` in `output`, which the writer of `output` marks where it lives
   * (`markOnPublish`): it sends what the send pipe holds, with no read pending in between. A
   * thousand idle connections then hold no wait at all, and a burst of them costs one wake-up.
   */
  ready?: ConnectionReadiness;
}

/** Where a connection's two pipes announce that they have something: see `SocketConnectionOptions.ready`. */
export interface ConnectionReadiness {
  /** The connection's slot, the same in both sets. */
  slot: number;
  /** The set the reader of `input` takes from. */
  input: ReadySet;
  /** The set this thread takes from, marked by the writer of `output`. */
  output: ReadySet;
}

/** The most the receive loop asks the pipe for per socket read. */
const kReceiveBlock = 16 * 1024;
/** The first read asks for this much: an idle connection holds no more; a busy one doubles it up to kReceiveBlock. */
const kFirstReceive = 2 * 1024;
/**
 * After both sides ended while the peer still sends, bytes are read and dropped until it has sent
 * nothing for this long (or ended): closing with unread bytes resets the connection, and a reset can
 * discard the last reply (an error before the close) before the peer reads it.
 */
const kLingerIdleMs = 100;
/** The longest a closing connection drops bytes for a peer that keeps sending. */
const kLingerMaxMs = 2_000;

interface Ends {
  input: PipeReader;
  output: PipeWriter;
  receiveWriter: PipeWriter;
  sendReader: PipeReader;
}

function makeEnds(options: SocketConnectionOptions): Ends {
  if (options.shared === true) {
    const receive = new SharedPipe(options.receive as SharedPipeOptions | undefined);
    const send = new SharedPipe(options.send as SharedPipeOptions | undefined);
    return { input: receive.reader, output: send.writer, receiveWriter: receive.writer, sendReader: send.reader };
  }
  const receive = new Pipe(options.receive as PipeOptions | undefined);
  const send = new Pipe(options.send as PipeOptions | undefined);
  return { input: receive.reader, output: send.writer, receiveWriter: receive.writer, sendReader: send.reader };
}

function validateOptions(options: unknown): SocketConnectionOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
  const shared = (options as SocketConnectionOptions).shared;
  if (shared !== undefined && typeof shared !== 'boolean') throw new InvalidArgumentTypeError('shared', shared, 'a boolean');
  const ready = (options as SocketConnectionOptions).ready;
  if (ready !== undefined) {
    if (typeof ready !== 'object' || ready === null) throw new InvalidArgumentTypeError('ready', ready, 'an object');
    if (shared !== true) throw new InvalidArgumentValueError('ready', ready, 'needs shared: true (readiness is for pipes read on another thread)');
    if (!(ready.input instanceof ReadySet)) throw new InvalidArgumentTypeError('ready.input', ready.input, 'a ReadySet');
    if (!(ready.output instanceof ReadySet)) throw new InvalidArgumentTypeError('ready.output', ready.output, 'a ReadySet');
    validateInteger('ready.slot', ready.slot, 0, Math.min(ready.input.size, ready.output.size) - 1);
  }
  return options as SocketConnectionOptions;
}

/**
 * A `net.Socket` as a pair of pipes: a receive loop fills `input`, a send loop drains `output` with
 * gathered writes. Half-close works both ways (completing `output` sends FIN; the peer's FIN completes
 * `input`); a reset or error completes both pipes with the error and records its kind.
 */
export class SocketConnection implements DuplexPipe {
  readonly socket: net.Socket;
  readonly input: PipeReader;
  readonly output: PipeWriter;
  /** Settles once both loops ended and the socket closed; never rejects. */
  readonly closed: Promise<void>;
  #shutdownKind = PipeShutdownKind.None;
  #error: Error | undefined;
  #bytesRead = 0;
  #bytesSent = 0;
  readonly #receiveWriter: PipeWriter;
  readonly #sendReader: PipeReader;

  /** Wraps a connected (or connecting) socket; its 'data' chunks are copied once into pipe memory. */
  static create(socket: net.Socket, options?: SocketConnectionOptions): SocketConnection {
    if (!(socket instanceof net.Socket)) throw new InvalidArgumentTypeError('socket', socket, 'a net.Socket');
    return new SocketConnection(socket, validateOptions(options), false);
  }

  /**
   * Connects a new socket whose reads land straight in pipe memory (`onread`): no intermediate
   * Buffer per read. Resolves once connected.
   */
  static connect(connectOptions: net.NetConnectOpts, options?: SocketConnectionOptions): Promise<SocketConnection> {
    const settings = validateOptions(options);
    const ends = makeEnds(settings);
    let connection: SocketConnection | undefined;
    const socket = net.connect({
      ...connectOptions,
      allowHalfOpen: true,
      onread: {
        // Node asks for the first buffer inside net.connect, before the connection exists: that read
        // lands in a scratch block and is copied like any read that found no room in the pipe.
        buffer: () => (connection === undefined ? new Uint8Array(kReceiveBlock) : connection.#receiveBuffer()),
        callback: (bytes: number, buffer: Uint8Array) => connection!.#received(bytes, buffer),
      },
    } as net.NetConnectOpts);
    connection = new SocketConnection(socket, settings, true, ends);
    return new Promise<SocketConnection>((resolve, reject) => {
      const onError = (error: Error): void => {
        socket.off('connect', onConnect);
        reject(error);
      };
      const onConnect = (): void => {
        socket.off('error', onError);
        resolve(connection!);
      };
      socket.once('connect', onConnect);
      socket.once('error', onError);
    });
  }

  private constructor(socket: net.Socket, options: SocketConnectionOptions, zeroCopy: boolean, ends = makeEnds(options)) {
    this.socket = socket;
    this.input = ends.input;
    this.output = ends.output;
    this.#receiveWriter = ends.receiveWriter;
    this.#sendReader = ends.sendReader;
    // A ring takes reads of up to half of what it can be (more would mostly land in owned blocks); a
    // growing ring that starts small grows for them.
    const ring = ends.receiveWriter as { capacity?: unknown; maxCapacity?: unknown };
    if (typeof ring.capacity === 'number' && typeof ring.maxCapacity === 'number') {
      this.#receiveHint = Math.min(kFirstReceive, ring.capacity / 2);
      this.#largestHint = Math.min(kReceiveBlock, ring.maxCapacity / 2);
    }
    // Half-close in both directions: the peer's FIN must not end our sending side.
    socket.allowHalfOpen = true;
    let receiving: Promise<void>;
    if (zeroCopy) {
      receiving = new Promise<void>((resolve) => {
        this.#receiveDone = resolve;
      });
    } else {
      receiving = this.#receiveFromEvents();
    }
    socket.on('end', () => this.#endReceive(PipeShutdownKind.ReadEndOfStream, undefined));
    socket.on('error', (error: Error) => this.#fail(error));
    socket.on('close', () => {
      this.#endReceive(PipeShutdownKind.ReadDisposed, this.#error);
      this.#endSend(this.#error);
    });
    const ready = options.ready;
    if (ready !== undefined) (ends.receiveWriter as SharedPipeWriter).markOnPublish(ready.input, ready.slot);
    const sending = ready !== undefined ? this.#sendOnReady(ready.output, ready.slot) : this.#sendLoop();
    const socketClosed = new Promise<void>((resolve) => {
      if (socket.destroyed) resolve();
      else socket.once('close', () => resolve());
    });
    this.closed = Promise.all([receiving, sending]).then(async () => {
      if (!socket.destroyed && !socket.readableEnded && socket.writableEnded && this.#error === undefined) await this.#linger();
      if (!socket.destroyed) socket.destroy();
      await socketClosed;
    });
  }

  #lingering = false;
  /** While lingering: called for each chunk dropped, so that the idle wait starts again. */
  #onLingerChunk: (() => void) | null = null;

  /** Reads and drops what the peer still sends, until it pauses, ends or the longest linger passed. */
  #linger(): Promise<void> {
    const socket = this.socket;
    this.#lingering = true;
    return new Promise<void>((resolve) => {
      let idle: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(idle);
        clearTimeout(longest);
        this.#onLingerChunk = null;
        socket.off('end', done);
        socket.off('close', done);
        resolve();
      };
      const restart = (): void => {
        clearTimeout(idle);
        idle = setTimeout(done, kLingerIdleMs);
      };
      const longest = setTimeout(done, kLingerMaxMs);
      this.#onLingerChunk = restart;
      socket.once('end', done);
      socket.once('close', done);
      restart();
      socket.resume();
    });
  }

  get shutdownKind(): PipeShutdownKind {
    return this.#shutdownKind;
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** Records an application-level reason to close (only the protocol kinds); false if a cause was set already. */
  trySetProtocolShutdown(kind: PipeShutdownKind.ProtocolExitClient | PipeShutdownKind.ProtocolExitServer): boolean {
    if (kind !== PipeShutdownKind.ProtocolExitClient && kind !== PipeShutdownKind.ProtocolExitServer) return false;
    return this.#record(kind);
  }

  /** Closes the socket at once; both pipes complete. */
  destroy(error?: Error): void {
    if (error !== undefined) this.#fail(error);
    this.socket.destroy();
  }

  #receiveDone: (() => void) | null = null;
  #receiveEnded = false;
  #flushing: Promise<void> | null = null;

  #record(kind: PipeShutdownKind): boolean {
    if (this.#shutdownKind !== PipeShutdownKind.None) return false;
    this.#shutdownKind = kind;
    return true;
  }

  #receiveHint = kFirstReceive;
  /**
   * A ring that starts small is asked for small reads until one fills what it got: then for twice as
   * much, up to this. So an idle connection keeps a small ring, and a busy one grows its ring.
   */
  #largestHint = kReceiveBlock;
  /** The memory handed to the socket for its next read, or null when it reads into the scratch block. */
  #memory: Uint8Array | null = null;
  #scratch: Uint8Array | null = null;
  /** Received bytes waiting for room in the receive pipe (while a write to it waits). */
  #queue: Uint8Array[] = [];
  #draining = false;

  /** onread's buffer(): pipe memory when there is room now, else a scratch block copied later. */
  #receiveBuffer(): Uint8Array {
    if (!this.#receiveEnded && !this.#draining) {
      try {
        return (this.#memory = this.#receiveWriter.getMemory(this.#receiveHint));
      } catch {
        // The receive pipe refused memory (it completed): this read lands in the scratch block instead.
      }
    }
    this.#memory = null;
    return (this.#scratch ??= new Uint8Array(kReceiveBlock));
  }

  /** onread's callback: true to keep reading, false pauses the socket. */
  #received(bytes: number, buffer: Uint8Array): boolean {
    if (this.#memory !== buffer) {
      this.#memory = null;
      this.#receiveChunk(buffer.slice(0, bytes));
      return this.#lingering || (!this.#draining && !this.#receiveEnded);
    }
    this.#memory = null;
    this.#bytesRead += bytes;
    if (bytes === buffer.length && this.#receiveHint < this.#largestHint) this.#receiveHint *= 2;
    if (this.#receiveEnded) return this.#lingering;
    this.#receiveWriter.advance(bytes);
    let flush: Promise<FlushResult>;
    try {
      flush = this.#receiveWriter.flush();
    } catch (error) {
      this.#endReceive(PipeShutdownKind.ReadException, error as Error);
      return false;
    }
    return this.#settle(flush);
  }

  /**
   * A chunk of received bytes that did not land in pipe memory (the 'data' path, or a scratch read).
   * It is ours (a 'data' chunk belongs to its consumer; a scratch read is copied out of the block), so
   * it is handed to the receive pipe rather than copied again.
   */
  #receiveChunk(chunk: Uint8Array): void {
    this.#bytesRead += chunk.length;
    if (this.#receiveEnded) {
      this.#onLingerChunk?.();
      return;
    }
    if (this.#draining) {
      this.#queue.push(chunk);
      return;
    }
    let flush: Promise<FlushResult>;
    try {
      flush = this.#receiveWriter.write(chunk, kTransfer);
    } catch (error) {
      this.#endReceive(PipeShutdownKind.ReadException, error as Error);
      return;
    }
    if (!this.#settle(flush) && !this.#receiveEnded && !this.socket.destroyed) this.socket.pause();
  }

  /** True when the flush completed at once; otherwise reading waits until it and the queue drain. */
  #settle(flush: Promise<FlushResult>): boolean {
    const done = settledFlushResult(flush);
    if (done !== null) return this.#afterFlush(done);
    this.#draining = true;
    this.#flushing = this.#drain(flush);
    return false;
  }

  async #drain(pending: Promise<FlushResult>): Promise<void> {
    try {
      let result = await pending;
      while (this.#afterFlush(result)) {
        const next = this.#queue.shift();
        if (next === undefined) break;
        result = await this.#receiveWriter.write(next, kTransfer);
      }
    } catch (error) {
      this.#endReceive(PipeShutdownKind.ReadException, error as Error);
    } finally {
      this.#draining = false;
      this.#flushing = null;
      if (!this.#receiveEnded && !this.socket.destroyed) this.socket.resume();
    }
  }

  #afterFlush(result: FlushResult): boolean {
    if (result.isCompleted) {
      this.#endReceive(PipeShutdownKind.InputReaderCompleted, undefined);
      return false;
    }
    return !this.#receiveEnded;
  }

  #receiveFromEvents(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#receiveDone = resolve;
      this.socket.on('data', (chunk: Buffer) => this.#receiveChunk(chunk));
    });
  }

  #endReceive(kind: PipeShutdownKind, error: Error | undefined): void {
    if (this.#receiveEnded) return;
    this.#receiveEnded = true;
    this.#record(error !== undefined && kind === PipeShutdownKind.ReadDisposed ? PipeShutdownKind.ReadSocketError : kind);
    const finish = (): void => {
      try {
        this.#receiveWriter.complete(error);
      } catch {
        // Completed already.
      }
      this.#receiveDone?.();
    };
    // Let a flush in progress land first, so no received byte is lost behind the completion.
    if (this.#flushing !== null) void this.#flushing.then(finish, finish);
    else finish();
  }

  #sendEnded = false;
  #sendError: Error | undefined;

  /** The send side's pump in readiness mode (it holds no read to cancel). */
  #pumpSend: (() => void) | null = null;

  #endSend(error: Error | undefined): void {
    if (this.#sendEnded) return;
    this.#sendEnded = true;
    this.#sendError = error;
    if (this.#pumpSend !== null) this.#pumpSend();
    else this.#sendReader.cancelPendingRead();
  }

  /**
   * The send loop driven by readiness: each mark of `slot` (and the end of the send side) takes what
   * the send pipe holds with `tryRead()` and writes it; while a write is in progress, marks wait for it.
   */
  #sendOnReady(set: ReadySet, slot: number): Promise<void> {
    const reader = this.#sendReader;
    const socket = this.socket;
    return new Promise<void>((resolve) => {
      let writing = false;
      let finished = false;
      const finish = (error: Error | undefined): void => {
        if (finished) return;
        finished = true;
        if (error !== undefined) this.#record(PipeShutdownKind.WriteSocketError);
        set.unlisten(slot);
        this.#pumpSend = null;
        try {
          reader.complete(error);
        } catch {
          // Completed already.
        }
        resolve();
      };
      const pump = (): void => {
        if (writing || finished) return;
        if (this.#sendEnded) return finish(this.#sendError);
        let result: ReadResult | null;
        try {
          result = reader.tryRead();
        } catch (failure) {
          return finish(failure as Error);
        }
        if (result === null) return;
        const buffer = result.buffer;
        const completed = result.isCompleted;
        if (buffer.length === 0) {
          reader.advanceTo(buffer.end);
          if (completed) {
            this.#endOfStream();
            finish(undefined);
          }
          return;
        }
        // The socket holds the chunks until they are written: advance past them only after that.
        writing = true;
        const length = buffer.length;
        const afterWrite = (error?: Error | null): void => {
          writing = false;
          reader.advanceTo(buffer.end);
          if (error) return finish(error);
          this.#bytesSent += length;
          if (completed) {
            this.#endOfStream();
            return finish(undefined);
          }
          // Bytes published while this write was out had their mark taken already: look again.
          pump();
        };
        writeSequence(socket, buffer, afterWrite);
      };
      this.#pumpSend = pump;
      set.listen(slot, pump);
      // What was published before the listener had its mark taken by nobody.
      pump();
    });
  }

  /** The send pipe completed and everything it held is written: FIN. */
  #endOfStream(): void {
    this.#record(PipeShutdownKind.WriteEndOfStream);
    if (!this.socket.destroyed) this.socket.end();
  }

  async #sendLoop(): Promise<void> {
    const reader = this.#sendReader;
    const socket = this.socket;
    let error: Error | undefined;
    try {
      for (;;) {
        const result = await reader.read();
        const buffer = result.buffer;
        if (this.#sendEnded || result.isCanceled) {
          reader.advanceTo(buffer.start);
          error = this.#sendError;
          break;
        }
        if (buffer.length > 0) {
          // The socket holds the chunks until they are written: advance past them only after that.
          try {
            await new Promise<void>((resolve, reject) => writeSequence(socket, buffer, (failure) => (failure ? reject(failure) : resolve())));
          } finally {
            reader.advanceTo(buffer.end);
          }
          this.#bytesSent += buffer.length;
        } else {
          reader.advanceTo(buffer.end);
        }
        if (result.isCompleted) {
          this.#endOfStream();
          break;
        }
      }
    } catch (failure) {
      error = failure as Error;
      this.#record(PipeShutdownKind.WriteSocketError);
    }
    if (error !== undefined) this.#record(PipeShutdownKind.WriteSocketError);
    try {
      reader.complete(error);
    } catch {
      // Completed already.
    }
  }

  #fail(error: Error): void {
    this.#error ??= error;
    this.#endReceive(PipeShutdownKind.ReadSocketError, error);
    this.#endSend(error);
  }
}

/**
 * Writes a sequence's chunks as one gathered write (corked when there are several); `onWritten` runs
 * once, when the last is written or the write failed: the chunks are the pipe's memory until then.
 */
function writeSequence(socket: net.Socket, buffer: ReadOnlySequence, onWritten: (error?: Error | null) => void): void {
  if (buffer.isSingleSegment) {
    socket.write(buffer.first, onWritten);
    return;
  }
  socket.cork();
  let last: Uint8Array | null = null;
  for (const chunk of buffer) {
    if (last !== null) socket.write(last);
    last = chunk;
  }
  socket.write(last!, onWritten);
  socket.uncork();
}
