// The ThreadScheduler module of the tcp-lines suite (variant b): counts the lines of a connection's
// input (a SharedPipeReader moved here; the socket stays on the main thread) with readLines.
import { readLines, type PipeReader } from 'threadpipe';
import { threadCpuMs, type Count } from './tcp-common.js';

/** This thread's CPU time in ms (both connections of a run share the thread: the suite samples it around a run). */
export function cpuMs(): number {
  return threadCpuMs();
}

export async function countLines(args: { input: PipeReader }): Promise<Count> {
  const { input } = args;
  let lines = 0;
  let bytes = 0;
  try {
    for await (const line of readLines(input)) {
      lines++;
      bytes += line.length;
    }
  } finally {
    input.complete();
  }
  return { lines, bytes };
}
