// The pool task of pgzip: one chunk in, one complete gzip member out.
import { gzipSync } from 'node:zlib';

export function compress(args: { chunk: Uint8Array; level: number }): Uint8Array {
  return gzipSync(args.chunk, { level: args.level });
}
