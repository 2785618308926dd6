import { isMainThread, threadId } from 'node:worker_threads';
import { noteMonitor, onRelink, watchOverLink } from './thread-links.js';
import type { RingSide, SharedRing } from './shared-ring.js';

/*
 * The ring ends this thread holds, watched so that the far end fails with ERR_PIPE_PEER_EXITED if
 * the thread dies holding one: its process 'exit' listener marks them at once on exit() and on an
 * uncaught error (which emit 'exit'; no far thread's event loop is involved), and the monitor marks
 * them when the thread's link closes, which also covers terminate() and running out of memory.
 */

interface Held {
  readonly ring: SharedRing;
  readonly side: RingSide;
}

/** The list is pruned of ends no longer held here when it grows past this (then twice its size). */
const kPruneAtLeast = 64;

let held: Held[] = [];
let pruneAt = kPruneAtLeast;
let hooked = false;

function heldHere(entry: Held): boolean {
  return entry.ring.holder(entry.side) === threadId && !entry.ring.isCompleted(entry.side);
}

function markHeld(code: number): void {
  for (const entry of held) {
    if (heldHere(entry)) entry.ring.markExited(entry.side, `The thread holding the ${entry.side} end (thread ${threadId}) exited with code ${code} without completing it.`);
  }
}

function watchAgain(): void {
  held = held.filter(heldHere);
  for (const entry of held) watchOverLink({ type: 'watch', buffer: entry.ring.buffer, side: entry.side, thread: threadId });
}

/**
 * Watches an end this thread now holds (revived here, or kept when its other end moved away).
 * `monitor` is the monitor a handle named, for a thread that has no link yet. The main thread
 * watches nothing: its death ends the process.
 */
export function watchHeldEnd(ring: SharedRing, side: RingSide, monitor?: unknown): void {
  if (isMainThread) return;
  noteMonitor(monitor);
  if (!hooked) {
    hooked = true;
    process.once('exit', markHeld);
    onRelink(watchAgain);
  }
  if (held.length >= pruneAt) {
    held = held.filter(heldHere);
    pruneAt = Math.max(kPruneAtLeast, 2 * held.length);
  }
  held.push({ ring, side });
  watchOverLink({ type: 'watch', buffer: ring.buffer, side, thread: threadId });
}
