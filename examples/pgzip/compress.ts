// The pool tasks of pgzip: one chunk in, one complete gzip member out; and the warm-up rendezvous.
import { gzipSync } from 'node:zlib';

export function compress(args: { chunk: Uint8Array; level: number }): Uint8Array {
  return gzipSync(args.chunk, { level: args.level });
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
