import type { PipeReader } from './pipe-reader.js';
import type { PipeWriter } from './pipe-writer.js';

/** Both directions of a connection: bytes come in on `input` and go out on `output`. */
export interface DuplexPipe {
  readonly input: PipeReader;
  readonly output: PipeWriter;
}
