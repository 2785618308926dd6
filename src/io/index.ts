export { createReader, type CreateReaderOptions } from './create-reader.js';
export { createWriter, type CreateWriterOptions } from './create-writer.js';
export { toReadable, toReadableStream, toWritable, toWritableStream } from './to-streams.js';
export { StreamConnection, type StreamConnectionOptions } from './stream-connection.js';
export { PipeShutdownKind, SocketConnection, type ConnectionReadiness, type SocketConnectionOptions } from './socket-connection.js';
export { duplex, type DuplexTransport } from './duplex.js';
