// Shared by the tcp-lines suite, its load-generator child process and its ThreadScheduler module.
import { readFileSync } from 'node:fs';

/** Bytes per line, '\n' included. */
export const LINE_BYTES = 40;
/** Lines per client write: 1638 × 40 B = 65,520 B. */
export const LINES_PER_WRITE = 1638;

/** The text of line `index` of a write (terminator excluded): "line 0000017 " padded with one letter to 39 bytes. */
function lineText(index: number): string {
  return `line ${String(index).padStart(7, '0')} `.padEnd(LINE_BYTES - 1, String.fromCharCode(97 + (index % 26)));
}

/** One write's worth of distinct 40-byte ASCII lines ("line 0000017 ....\n"). */
export function lineBlock(): Buffer {
  const block = Buffer.alloc(LINES_PER_WRITE * LINE_BYTES);
  for (let i = 0; i < LINES_PER_WRITE; i++) block.write(`${lineText(i)}\n`, i * LINE_BYTES, 'latin1');
  return block;
}

/**
 * Every consumer decodes every SAMPLE_EVERY-th line it counts and compares it with the line the
 * client sent there (`(lines & SAMPLE_MASK) === 0` after counting it): a line cut in the wrong
 * place, lost or repeated shifts the lines after it, so the samples catch it at a cost per line
 * that is the same for every variant and too small to move the figures.
 */
export const SAMPLE_EVERY = 1024;
export const SAMPLE_MASK = SAMPLE_EVERY - 1;

/** What the server counted on one connection. */
export interface Count {
  lines: number;
  /** Sum of line lengths, terminators excluded. */
  bytes: number;
  /** Lines decoded and compared with what was sent. */
  sampled: number;
  /** Sampled lines that differed from what was sent. */
  mismatched: number;
}

/** A connection's count, for the consumer to fill in. */
export function newCount(): Count {
  return { lines: 0, bytes: 0, sampled: 0, mismatched: 0 };
}

/** Compares line number `lines - 1` (the one just counted) of a connection with what the client sent. */
export function sample(count: Count, text: string): void {
  count.sampled++;
  if (text !== lineText((count.lines - 1) % LINES_PER_WRITE)) count.mismatched++;
}

export { threadCpuMs } from '../../examples/shared/thread-cpu.js';

/** Machine-wide busy and total CPU time in ms, summed over all cores (Linux /proc/stat; null elsewhere). */
export function machineCpuMs(): { busy: number; total: number } | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = fields[3]! + fields[4]!;
    return { busy: (total - idle) * 10, total: total * 10 };
  } catch {
    return null;
  }
}

// ---- IPC between the suite and the load generator

export interface RunCommand {
  cmd: 'run';
  id: number;
  port: number;
  clients: number;
  linesPerClient: number;
}

export type ClientReply =
  | { id: number; done: true; userMs: number; systemMs: number; wallMs: number }
  | { id: number; error: string }
  | { ready: true };
