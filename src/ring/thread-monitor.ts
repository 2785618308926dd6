// The monitor thread: holds the far port of every thread's link and, when a link closes (its thread
// died), fails each ring end that thread still held. It runs nothing else, so its event loop is live
// even while every other thread is blocked in Atomics.wait. See thread-links.ts.
import { parentPort, type MessagePort } from 'node:worker_threads';
import { SharedRing, type RingSide } from '../ring/shared-ring.js';
import { isLinkRequest, type LinkMessage } from './thread-links.js';

interface Watched {
  readonly ring: SharedRing;
  readonly side: RingSide;
  readonly thread: number;
}

/** Watch lists are pruned of ends their thread no longer holds when they grow past this (then twice their size). */
const kPruneAtLeast = 64;

function stillHeld(entry: Watched): boolean {
  return entry.ring.holder(entry.side) === entry.thread && !entry.ring.isCompleted(entry.side);
}

function adopt(port: MessagePort): void {
  let watched: Watched[] = [];
  let pruneAt = kPruneAtLeast;
  let released = false;
  port.on('message', (message: LinkMessage) => {
    try {
      if (message.type === 'watch') {
        watched.push({ ring: new SharedRing(message.buffer), side: message.side, thread: message.thread });
        if (watched.length > pruneAt) {
          watched = watched.filter(stillHeld);
          pruneAt = Math.max(kPruneAtLeast, 2 * watched.length);
        }
      } else if (message.type === 'link') {
        adopt(message.port);
      } else if (message.type === 'release') {
        released = true;
      }
    } catch {
      // A malformed message must not take the monitor down with every other thread's watch.
    }
  });
  port.on('close', () => {
    if (!released) {
      for (const entry of watched) {
        if (stillHeld(entry)) entry.ring.markExited(entry.side, `The thread holding the ${entry.side} end (thread ${entry.thread}) died without completing it.`);
      }
    }
    watched = [];
  });
}

parentPort!.on('message', (message: LinkMessage) => {
  if (message.type === 'link') adopt(message.port);
});

process.on('workerMessage', (value: unknown) => {
  if (isLinkRequest(value)) adopt(value.port);
});
