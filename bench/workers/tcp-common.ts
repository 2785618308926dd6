// Shared by the tcp-lines suite, its load-generator child process and its ThreadScheduler module.
import { readFileSync } from 'node:fs';

/** Bytes per line, '\n' included. */
export const LINE_BYTES = 40;
/** Lines per client write: 1638 × 40 B = 65,520 B. */
export const LINES_PER_WRITE = 1638;

/** One write's worth of distinct 40-byte ASCII lines ("line 0000017 ....\n"). */
export function lineBlock(): Buffer {
  const block = Buffer.alloc(LINES_PER_WRITE * LINE_BYTES);
  for (let i = 0; i < LINES_PER_WRITE; i++) {
    const text = `line ${String(i).padStart(7, '0')} `;
    const line = text.padEnd(LINE_BYTES - 1, String.fromCharCode(97 + (i % 26))) + '\n';
    block.write(line, i * LINE_BYTES, 'latin1');
  }
  return block;
}

/** What the server counted on one connection. */
export interface Count {
  lines: number;
  /** Sum of line lengths, terminators excluded. */
  bytes: number;
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
