// The pool tasks of pgzip: one chunk in, one complete gzip member out; and the warm-up rendezvous.
import { gzipSync } from 'node:zlib';
import { move, type Moved } from 'threadpipe';

/** Bytes zlib's worst case adds to a member (stored blocks, header, trailer), with room to spare. */
const kMemberOverhead = 1024;

/**
 * zlib's output buffer for a chunk of `length` bytes: big enough for the whole member, so zlib hands
 * back a view of it rather than joining pieces (a copy); at least Node's pool size, so it is never a
 * slice of the shared pool, which could not move. Levels 1–9 give the same bytes whatever the
 * buffer; level 0 cuts its stored blocks where the buffer ends, so the member is the one
 * `gzipSync(chunk, { level, chunkSize: memberRoom(chunk.length) })` gives.
 */
export function memberRoom(length: number): number {
  return Math.max(Buffer.poolSize, length + (length >>> 8) + kMemberOverhead);
}

/** A compressed chunk: its member, and the chunk's buffer, handed back to be filled again. */
export interface Compressed {
  member: Uint8Array;
  chunk: ArrayBuffer;
}

/**
 * One chunk to one gzip member. The member's buffer and the chunk's go back to the caller moved:
 * the member travels without a copy, and the chunk's memory is reused for a later chunk.
 */
export function compress(args: { chunk: Uint8Array<ArrayBuffer>; level: number }): Moved<Compressed> {
  const { chunk, level } = args;
  const member = gzipSync(chunk, { level, chunkSize: memberRoom(chunk.length) });
  return move({ member, chunk: chunk.buffer }, [member.buffer, chunk.buffer]);
}

/**
 * Holds its thread until `parties` calls run at once. A pool thread runs one task at a time, so
 * `parties` of these in parallel start every thread before the clock starts; otherwise the first
 * chunks would wait for a thread still loading.
 */
export function rendezvous(args: { arrived: Int32Array; parties: number; timeoutMs: number }): void {
  const { arrived, parties } = args;
  let seen = Atomics.add(arrived, 0, 1) + 1;
  if (seen >= parties) {
    Atomics.notify(arrived, 0);
    return;
  }
  const deadline = performance.now() + args.timeoutMs;
  while (seen < parties) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`only ${seen} of ${parties} pool threads started within ${args.timeoutMs} ms`);
    Atomics.wait(arrived, 0, seen, left);
    seen = Atomics.load(arrived, 0);
  }
}
