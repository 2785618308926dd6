import { readFileSync } from 'node:fs';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';
import { RingLimitError } from '../errors/index.js';

/*
 * How many growing rings this process may hold. A growable SharedArrayBuffer reserves its maximum as
 * address space, which takes two memory mappings; a process has vm.max_map_count of them, and the
 * reservation that finds none left aborts the process, past any catch. So growing rings are counted,
 * process-wide, and one past the budget fails with ERR_PIPE_RING_LIMIT instead.
 */

const kMappingsPerRing = 2;
/** Mappings left for everything else: the heaps and code of every thread, stacks, fixed-size buffers. */
const kOtherMappings = 10_000;
const kCounterKey = 'threadpipe:growing-rings';
const kMapCountFile = '/proc/sys/vm/max_map_count';

let counter: Int32Array | undefined;
let budget: number | undefined;

// The count is shared with the threads started from here on (environment data is copied to a new
// worker, and a SharedArrayBuffer in it stays shared); a thread started before makes its own.
function sharedCounter(): Int32Array {
  if (counter !== undefined) return counter;
  const inherited = getEnvironmentData(kCounterKey);
  counter = inherited instanceof SharedArrayBuffer ? new Int32Array(inherited) : new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  if (!(inherited instanceof SharedArrayBuffer)) setEnvironmentData(kCounterKey, counter.buffer as SharedArrayBuffer);
  return counter;
}

function ringBudget(): number {
  if (budget !== undefined) return budget;
  let mappings = Infinity;
  try {
    mappings = Number(readFileSync(kMapCountFile, 'utf8').trim());
  } catch {
    // No such limit to read (not Linux): nothing to count against.
  }
  budget = Number.isFinite(mappings) && mappings > 0 ? Math.max(0, Math.floor((mappings - kOtherMappings) / kMappingsPerRing)) : Infinity;
  return budget;
}

// A ring leaves the count when this thread's buffer object is collected: the thread that made it
// drops it last or nearly so (its ends hold it while they are used here or anywhere).
const released = new FinalizationRegistry<Int32Array>((count) => {
  Atomics.sub(count, 0, 1);
});

/** Makes a growable buffer, or fails with ERR_PIPE_RING_LIMIT when the process holds as many as it may. */
export function newGrowableBuffer(byteLength: number, maxByteLength: number): SharedArrayBuffer {
  const count = sharedCounter();
  const limit = ringBudget();
  if (Atomics.add(count, 0, 1) >= limit) {
    Atomics.sub(count, 0, 1);
    throw new RingLimitError(limit);
  }
  const buffer = new SharedArrayBuffer(byteLength, { maxByteLength });
  released.register(buffer, count);
  return buffer;
}
