import type { Readable } from 'node:stream';
import { InvalidArgumentTypeError } from '../errors/index.js';

/** What a source reports to the reader on top of it. */
export interface ChunkSink {
  chunk(chunk: Uint8Array): void;
  end(): void;
  fail(error: Error): void;
}

/** A source of byte chunks that can be paused: Node Readable, WHATWG ReadableStream or async iterable. */
export interface ChunkSource {
  resume(): void;
  pause(): void;
  /** Stops delivery; destroys / cancels the source unless `leaveOpen`. */
  close(error: Error | undefined, leaveOpen: boolean): void;
}

const encoder = new TextEncoder();

function toChunk(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return encoder.encode(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw new InvalidArgumentTypeError('chunk', value, 'a Uint8Array, an ArrayBuffer view or a string');
}

function isNodeReadable(value: unknown): value is Readable {
  return typeof value === 'object' && value !== null && typeof (value as Readable).on === 'function' &&
    typeof (value as Readable).pause === 'function' && typeof (value as Readable).resume === 'function' &&
    typeof (value as Readable).read === 'function';
}

function isWebReadable(value: unknown): value is ReadableStream<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as ReadableStream).getReader === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function';
}

export function openSource(source: unknown, sink: ChunkSink): ChunkSource {
  if (isNodeReadable(source)) return new NodeReadableSource(source, sink);
  if (isWebReadable(source)) return new PumpSource(webIterator(source), sink);
  if (isAsyncIterable(source)) return new PumpSource(source[Symbol.asyncIterator](), sink);
  throw new InvalidArgumentTypeError('source', source, 'a Readable, a ReadableStream or an AsyncIterable of Uint8Array');
}

/** A Node Readable in flowing mode: every 'data' chunk is delivered as it is, paused on demand. */
class NodeReadableSource implements ChunkSource {
  readonly #stream: Readable;
  readonly #onData: (chunk: unknown) => void;
  readonly #onEnd: () => void;
  readonly #onError: (error: Error) => void;
  readonly #onClose: () => void;

  constructor(stream: Readable, sink: ChunkSink) {
    this.#stream = stream;
    let ended = false;
    this.#onData = (chunk) => {
      try {
        sink.chunk(toChunk(chunk));
      } catch (error) {
        sink.fail(error as Error);
      }
    };
    this.#onEnd = () => {
      ended = true;
      sink.end();
    };
    this.#onError = (error) => sink.fail(error);
    this.#onClose = () => {
      if (!ended) sink.fail(Object.assign(new Error('The source stream closed before it ended.'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    stream.on('data', this.#onData);
    stream.on('end', this.#onEnd);
    stream.on('error', this.#onError);
    stream.on('close', this.#onClose);
  }

  resume(): void {
    this.#stream.resume();
  }

  pause(): void {
    this.#stream.pause();
  }

  close(error: Error | undefined, leaveOpen: boolean): void {
    const stream = this.#stream;
    stream.off('data', this.#onData);
    stream.off('end', this.#onEnd);
    stream.off('error', this.#onError);
    stream.off('close', this.#onClose);
    if (leaveOpen) stream.pause();
    else stream.destroy(error);
  }
}

interface PullIterator {
  next(): Promise<IteratorResult<unknown>>;
  return?(value?: unknown): Promise<IteratorResult<unknown>>;
  release?(leaveOpen: boolean, error?: Error): void;
}

function webIterator(stream: ReadableStream<unknown>): PullIterator {
  const reader = stream.getReader();
  return {
    next: () => reader.read() as Promise<IteratorResult<unknown>>,
    release(leaveOpen, error) {
      if (leaveOpen) reader.releaseLock();
      else reader.cancel(error).catch(() => {});
    },
  };
}

/** A pull source driven by a loop that stops while paused. */
class PumpSource implements ChunkSource {
  readonly #iterator: PullIterator;
  readonly #sink: ChunkSink;
  #paused = true;
  #running = false;
  #closed = false;

  constructor(iterator: AsyncIterator<unknown> | PullIterator, sink: ChunkSink) {
    this.#iterator = iterator as PullIterator;
    this.#sink = sink;
  }

  resume(): void {
    this.#paused = false;
    if (!this.#running) void this.#pump();
  }

  pause(): void {
    this.#paused = true;
  }

  close(error: Error | undefined, leaveOpen: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    const iterator = this.#iterator;
    if (iterator.release !== undefined) iterator.release(leaveOpen, error);
    else if (!leaveOpen) iterator.return?.().catch(() => {});
  }

  async #pump(): Promise<void> {
    this.#running = true;
    try {
      while (!this.#paused && !this.#closed) {
        const step = await this.#iterator.next();
        if (this.#closed) return;
        if (step.done) {
          this.#closed = true;
          this.#sink.end();
          return;
        }
        this.#sink.chunk(toChunk(step.value));
      }
    } catch (error) {
      if (!this.#closed) {
        this.#closed = true;
        this.#sink.fail(error instanceof Error ? error : new Error(String(error)));
      }
    } finally {
      this.#running = false;
    }
  }
}
