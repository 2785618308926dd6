import type { Writable } from 'node:stream';
import { abortError, InvalidArgumentTypeError, validateInteger } from '../errors/index.js';
import { PipeWriter } from '../pipe/pipe-writer.js';
import { flushResult, type FlushResult } from '../pipe/results.js';

export interface CreateWriterOptions {
  /** Leave the destination open when the writer completes (default: end / close it). */
  leaveOpen?: boolean;
  /** The smallest block `getMemory` allocates. Default 4096. */
  minimumBufferSize?: number;
}

/** How the writer talks to its destination: write chunks, wait for room, end. */
interface Destination {
  /** Hands a chunk over (the destination owns it from now on); false when it wants the writer to wait. */
  write(chunk: Uint8Array): boolean;
  /** Resolves when the destination can take more; rejects with its error. */
  ready(signal: AbortSignal | undefined): Promise<void>;
  /** True once the destination can take nothing more (ended, destroyed, closed). */
  readonly closed: boolean;
  readonly error: Error | undefined;
  end(error: Error | undefined, leaveOpen: boolean): void;
}

/**
 * A PipeWriter over a Node `Writable` or a WHATWG `WritableStream`. `flush` hands what was written to
 * the destination and waits while it signals backpressure; a destination error becomes the flush's error.
 */
export function createWriter(destination: NodeJS.WritableStream | WritableStream<Uint8Array>, options: CreateWriterOptions = {}): PipeWriter {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentTypeError('options', options, 'an object');
  const leaveOpen = options.leaveOpen ?? false;
  if (typeof leaveOpen !== 'boolean') throw new InvalidArgumentTypeError('leaveOpen', leaveOpen, 'a boolean');
  const minimumBufferSize = validateInteger('minimumBufferSize', options.minimumBufferSize ?? 4096, 1);
  return new DestinationPipeWriter(openDestination(destination), leaveOpen, minimumBufferSize);
}

class DestinationPipeWriter extends PipeWriter {
  readonly #destination: Destination;
  readonly #leaveOpen: boolean;
  readonly #minimumBufferSize: number;
  /** Blocks handed to the destination are never reused: it may hold them until it has written them. */
  #block: Uint8Array | null = null;
  #flushedTo = 0;
  #advancedTo = 0;
  #chunks: Uint8Array[] = [];
  #unflushed = 0;
  #cancel: (() => void) | null = null;
  #cancelRequested = false;

  constructor(destination: Destination, leaveOpen: boolean, minimumBufferSize: number) {
    super();
    this.#destination = destination;
    this.#leaveOpen = leaveOpen;
    this.#minimumBufferSize = minimumBufferSize;
  }

  protected getMemoryCore(need: number): Uint8Array {
    const block = this.#block;
    if (block !== null && block.length - this.#advancedTo >= need) return block.subarray(this.#advancedTo);
    this.#retireBlock();
    this.#block = new Uint8Array(Math.max(this.#minimumBufferSize, need));
    return this.#block;
  }

  protected advanceCore(bytes: number): void {
    this.#advancedTo += bytes;
    this.#unflushed += bytes;
  }

  get unflushedBytes(): number {
    return this.#unflushed;
  }

  protected flushCore(signal: AbortSignal | undefined): FlushResult | Promise<FlushResult> {
    const destination = this.#destination;
    if (destination.error !== undefined) throw destination.error;
    if (destination.closed) {
      this.#drop();
      return flushResult(false, true);
    }
    const wantsMore = this.#handOver();
    if (this.#cancelRequested) {
      this.#cancelRequested = false;
      return flushResult(true, false);
    }
    return wantsMore ? flushResult(false, false) : this.#waitReady(signal);
  }

  /** A transferred buffer goes to the destination as it is, after the bytes advanced before it. */
  protected override writeTransferredCore(bytes: Uint8Array, signal: AbortSignal | undefined): FlushResult | Promise<FlushResult> {
    if (bytes.length > 0 && !this.#destination.closed && this.#destination.error === undefined) {
      this.#queueAdvanced();
      this.#chunks.push(bytes);
      this.#unflushed += bytes.length;
    }
    return this.flushCore(signal);
  }

  protected cancelPendingFlushCore(): void {
    const cancel = this.#cancel;
    if (cancel !== null) cancel();
    else this.#cancelRequested = true;
  }

  protected completeCore(error: Error | undefined): void {
    if (error === undefined && !this.#destination.closed && this.#destination.error === undefined) this.#handOver();
    else this.#drop();
    this.#destination.end(error, this.#leaveOpen);
  }

  #retireBlock(): void {
    const block = this.#block;
    if (block !== null && this.#advancedTo > this.#flushedTo) this.#chunks.push(block.subarray(this.#flushedTo, this.#advancedTo));
    this.#block = null;
    this.#flushedTo = this.#advancedTo = 0;
  }

  /** Queues the bytes advanced into the block since it was last handed over; the block's rest stays for getMemory. */
  #queueAdvanced(): void {
    const block = this.#block;
    if (block !== null && this.#advancedTo > this.#flushedTo) {
      this.#chunks.push(block.subarray(this.#flushedTo, this.#advancedTo));
      this.#flushedTo = this.#advancedTo;
    }
  }

  /** Gives every advanced byte to the destination; false when it asked to wait. */
  #handOver(): boolean {
    this.#queueAdvanced();
    let wantsMore = true;
    for (const chunk of this.#chunks) wantsMore = this.#destination.write(chunk);
    this.#chunks = [];
    this.#unflushed = 0;
    return wantsMore;
  }

  #drop(): void {
    this.#chunks = [];
    this.#flushedTo = this.#advancedTo;
    this.#unflushed = 0;
  }

  async #waitReady(signal: AbortSignal | undefined): Promise<FlushResult> {
    const canceled = new Promise<'canceled'>((resolve) => {
      this.#cancel = () => resolve('canceled');
    });
    try {
      const outcome = await Promise.race([this.#destination.ready(signal).then(() => 'ready' as const), canceled]);
      if (outcome === 'canceled') return flushResult(true, false);
      return flushResult(false, this.#destination.closed);
    } finally {
      this.#cancel = null;
    }
  }
}

function isNodeWritable(value: unknown): value is Writable {
  return typeof value === 'object' && value !== null && typeof (value as Writable).write === 'function' && typeof (value as Writable).on === 'function';
}

function isWebWritable(value: unknown): value is WritableStream<Uint8Array> {
  return typeof value === 'object' && value !== null && typeof (value as WritableStream).getWriter === 'function';
}

function openDestination(destination: unknown): Destination {
  if (isNodeWritable(destination)) return new NodeWritableDestination(destination);
  if (isWebWritable(destination)) return new WebWritableDestination(destination);
  throw new InvalidArgumentTypeError('destination', destination, 'a Writable or a WritableStream');
}

class NodeWritableDestination implements Destination {
  readonly #stream: Writable;
  #error: Error | undefined;

  constructor(stream: Writable) {
    this.#stream = stream;
    stream.on('error', (error: Error) => {
      this.#error ??= error;
    });
  }

  get error(): Error | undefined {
    return this.#error ?? (this.#stream.errored ?? undefined);
  }

  get closed(): boolean {
    return this.#stream.destroyed || this.#stream.writableEnded;
  }

  write(chunk: Uint8Array): boolean {
    return this.#stream.write(chunk);
  }

  ready(signal: AbortSignal | undefined): Promise<void> {
    const stream = this.#stream;
    if (!stream.writableNeedDrain || this.closed) return this.error ? Promise.reject(this.error) : Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        stream.off('drain', onDrain);
        stream.off('error', onError);
        stream.off('close', onClose);
        signal?.removeEventListener('abort', onAbort);
      };
      const onDrain = (): void => {
        cleanup();
        resolve();
      };
      const onError = (error: Error): void => {
        cleanup();
        reject(error);
      };
      const onClose = (): void => {
        cleanup();
        if (this.error) reject(this.error);
        else resolve();
      };
      const onAbort = (): void => {
        cleanup();
        reject(abortError(signal!));
      };
      stream.on('drain', onDrain);
      stream.on('error', onError);
      stream.on('close', onClose);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  end(error: Error | undefined, leaveOpen: boolean): void {
    if (leaveOpen || this.#stream.destroyed) return;
    if (error !== undefined) this.#stream.destroy(error);
    else this.#stream.end();
  }
}

class WebWritableDestination implements Destination {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #error: Error | undefined;
  #closed = false;

  constructor(stream: WritableStream<Uint8Array>) {
    this.#writer = stream.getWriter();
    this.#writer.closed.then(
      () => {
        this.#closed = true;
      },
      (error: unknown) => {
        this.#closed = true;
        this.#error ??= error instanceof Error ? error : new Error(String(error));
      },
    );
  }

  get error(): Error | undefined {
    return this.#error;
  }

  get closed(): boolean {
    return this.#closed;
  }

  write(chunk: Uint8Array): boolean {
    this.#writer.write(chunk).catch((error: unknown) => {
      this.#error ??= error instanceof Error ? error : new Error(String(error));
    });
    return (this.#writer.desiredSize ?? 0) > 0;
  }

  ready(signal: AbortSignal | undefined): Promise<void> {
    const ready = this.#writer.ready.catch((error: unknown) => {
      throw this.#error ?? error;
    });
    if (signal === undefined) return ready;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortError(signal));
      signal.addEventListener('abort', onAbort, { once: true });
      ready.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  end(error: Error | undefined, leaveOpen: boolean): void {
    const writer = this.#writer;
    if (leaveOpen) {
      writer.releaseLock();
      return;
    }
    const closing = error !== undefined ? writer.abort(error) : writer.close();
    closing.catch(() => {});
  }
}
