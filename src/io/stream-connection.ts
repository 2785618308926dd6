import type { Duplex } from 'node:stream';
import { InvalidArgumentTypeError } from '../errors/index.js';
import type { DuplexPipe } from '../pipe/duplex-pipe.js';
import type { PipeReader } from '../pipe/pipe-reader.js';
import type { PipeWriter } from '../pipe/pipe-writer.js';
import { createReader, type CreateReaderOptions } from './create-reader.js';
import { createWriter, type CreateWriterOptions } from './create-writer.js';

export interface StreamConnectionOptions {
  input?: Omit<CreateReaderOptions, 'leaveOpen'>;
  output?: Omit<CreateWriterOptions, 'leaveOpen'>;
}

/**
 * Any Node `Duplex` (a TLS socket, a child process's stdio pair, a socket) as a DuplexPipe. Completing
 * `output` ends the stream's writable side (half-close); once both sides completed, the stream is destroyed.
 */
export class StreamConnection implements DuplexPipe {
  readonly stream: Duplex;
  readonly input: PipeReader;
  readonly output: PipeWriter;

  static create(stream: Duplex, options: StreamConnectionOptions = {}): StreamConnection {
    if (typeof stream !== 'object' || stream === null || typeof stream.write !== 'function' || typeof stream.on !== 'function' || typeof stream.read !== 'function') {
      throw new InvalidArgumentTypeError('stream', stream, 'a Duplex stream');
    }
    return new StreamConnection(stream, options);
  }

  private constructor(stream: Duplex, options: StreamConnectionOptions) {
    this.stream = stream;
    let open = 2;
    const sideDone = (error: Error | undefined): void => {
      if (error !== undefined) stream.destroy(error);
      else if (--open === 0) stream.destroy();
    };
    const reader = createReader(stream, { ...options.input, leaveOpen: true });
    const writer = createWriter(stream, { ...options.output, leaveOpen: true });
    const complete = reader.complete.bind(reader);
    reader.complete = (error?: Error): void => {
      complete(error);
      sideDone(error);
    };
    const finish = writer.complete.bind(writer);
    writer.complete = (error?: Error): void => {
      finish(error);
      if (error === undefined && !stream.writableEnded && !stream.destroyed) stream.end();
      sideDone(error);
    };
    this.input = reader;
    this.output = writer;
  }
}
