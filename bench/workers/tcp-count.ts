// The line counters of the tcp-lines suite, one per framing form. The suite calls them on the main
// thread for the in-thread variants and runs them by name on its ThreadScheduler for the variants
// whose input (a SharedPipeReader) was moved here while the socket stays on the main thread. Each
// completes its input when done, as the run would.
import { forEachLine, readLineBatches, readLines, type PipeReader } from 'threadpipe';
import { newCount, sample, SAMPLE_MASK, threadCpuMs, type Count } from './tcp-common.js';

/** This thread's CPU time in ms (both connections of a run share the thread: the suite samples it around a run). */
export function cpuMs(): number {
  return threadCpuMs();
}

async function counting(input: PipeReader, count: (into: Count) => Promise<void>): Promise<Count> {
  const into = newCount();
  try {
    await count(into);
  } finally {
    input.complete();
  }
  return into;
}

/** `for await (const line of readLines(input))`: one step per line. */
export function countLines(args: { input: PipeReader }): Promise<Count> {
  return counting(args.input, async (count) => {
    for await (const line of readLines(args.input)) {
      count.lines++;
      count.bytes += line.length;
      if ((count.lines & SAMPLE_MASK) === 0) sample(count, line.toString('latin1'));
    }
  });
}

/** `forEachLine(input, callback)`: a synchronous callback per line, one await per read. */
export function countLinesEach(args: { input: PipeReader }): Promise<Count> {
  return counting(args.input, (count) =>
    forEachLine(args.input, (line) => {
      count.lines++;
      count.bytes += line.length;
      if ((count.lines & SAMPLE_MASK) === 0) sample(count, line.toString('latin1'));
    }),
  );
}

/** `for await (const batch of readLineBatches(input))`: one step per read. */
export function countLineBatches(args: { input: PipeReader }): Promise<Count> {
  return counting(args.input, async (count) => {
    for await (const batch of readLineBatches(args.input)) {
      for (let i = 0; i < batch.length; i++) {
        const line = batch[i]!;
        count.lines++;
        count.bytes += line.length;
        if ((count.lines & SAMPLE_MASK) === 0) sample(count, line.toString('latin1'));
      }
    }
  });
}
