// The parsing stage of the lab, shared by every way it runs: JSON lines in, a count and a sum out.
// Exported functions are what the schedulers run on their threads.
import { threadId } from 'node:worker_threads';
import { ReadOnlySequence, type PipeReader } from 'threadpipe';
import { threadCpuMs } from '../shared/thread-cpu.js';

export interface Tally {
  lines: number;
  sum: number;
  bytes: number;
}

export interface StageReport extends Tally {
  threadId: number;
  cpuMs: number;
}

export function emptyTally(): Tally {
  return { lines: 0, sum: 0, bytes: 0 };
}

/** Parses every whole line of `buffer` into `tally`; returns how many bytes that consumed. */
export function parseLines(buffer: ReadOnlySequence, tally: Tally): number {
  let consumed = 0;
  let rest = buffer;
  for (;;) {
    const newline = rest.indexOf(0x0a);
    if (newline < 0) return consumed;
    const record = JSON.parse(rest.slice(0, newline).toString()) as { score: number };
    tally.lines++;
    tally.sum += record.score;
    rest = rest.slice(newline + 1);
    consumed += newline + 1;
  }
}

/** Reads a pipe to its end, parsing as lines arrive. */
export async function parsePipe(reader: PipeReader, tally: Tally): Promise<void> {
  for (;;) {
    const result = await reader.read();
    const consumed = parseLines(result.buffer, tally);
    tally.bytes += consumed;
    reader.advanceTo(result.buffer.getPosition(consumed), result.buffer.end);
    if (result.isCompleted) break;
  }
  reader.complete();
}

// ---- run on scheduler threads

export async function parseFromPipe(args: { input: PipeReader }): Promise<StageReport> {
  const cpu = threadCpuMs();
  const tally = emptyTally();
  await parsePipe(args.input, tally);
  return { ...tally, threadId, cpuMs: threadCpuMs() - cpu };
}

export function parseChunk(args: { chunk: Uint8Array }): StageReport {
  const cpu = threadCpuMs();
  const tally = emptyTally();
  tally.bytes = parseLines(ReadOnlySequence.from(args.chunk), tally);
  return { ...tally, threadId, cpuMs: threadCpuMs() - cpu };
}

export function cpuTime(): { threadId: number; cpuMs: number } {
  return { threadId, cpuMs: threadCpuMs() };
}
