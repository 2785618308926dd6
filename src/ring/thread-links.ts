import * as threads from 'node:worker_threads';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';

/*
 * Thread liveness, for ends that live in other threads. A port's 'close' fires in the thread holding
 * its partner when the thread holding the port dies, however it dies (exit, uncaught error,
 * terminate(), out of memory), and grandchild threads included, since a thread's children die with
 * it. So every thread that holds a shared pipe end has one link: a port whose partner is with the
 * monitor, a small thread that does nothing else and so always has a live event loop, even while
 * the thread that created the worker is blocked in Atomics.wait. The holder tells the monitor over
 * its link which ring ends it holds; when the link closes, the monitor fails each of them that the
 * dead thread still held, through the ring's shared memory.
 *
 * How a thread gets its link:
 * - a thread threadpipe starts (a scheduler's) gets one at birth, in its workerData or its task;
 * - a thread you start yourself asks for one the first time it holds an end: with
 *   postMessageToThread, which Node relays through the main thread's event loop once, since a port
 *   cannot travel inside a handle posted without a transferList. Until that relay has run, the
 *   holder's own process 'exit' listener still covers exit and uncaught errors (see end-monitor).
 * The main thread needs no link: its death ends the process.
 */

/** Environment data key: the thread id of the process's monitor, known to threads started after it. */
const kMonitorKey = 'threadpipe:monitor';
/** Marks a link request that arrives through postMessageToThread. */
const kLinkRequest = 'threadpipe.link';

/** What a holder sends over its link. */
export type LinkMessage =
  /** `thread` holds `side` of the ring in `buffer`: fail it if the link closes while it still does. */
  | { type: 'watch'; buffer: SharedArrayBuffer; side: 'reader' | 'writer'; thread: number }
  /** Adopt this port as the link of a thread the sender starts. */
  | { type: 'link'; port: MessagePort }
  /** This link is a spare (the thread had one already): its close means nothing. */
  | { type: 'release' };

/** A link request through postMessageToThread. */
export interface LinkRequest {
  readonly kind: typeof kLinkRequest;
  readonly port: MessagePort;
}

export function isLinkRequest(value: unknown): value is LinkRequest {
  return typeof value === 'object' && value !== null && (value as LinkRequest).kind === kLinkRequest;
}

const kMonitorEntry = new URL('./thread-monitor.js', import.meta.url);

type PostToThread = (threadId: number, value: unknown, transferList: readonly MessagePort[]) => Promise<void>;
/** Not in every Node 20 release. */
const postMessageToThread = (threads as { postMessageToThread?: PostToThread }).postMessageToThread;

/** A monitor this thread started (its child: it lives as long as this thread). */
let ownMonitor: Worker | undefined;
/** A monitor in another thread, learned from the environment or from a handle. */
let remoteMonitor: number | undefined;
/** This thread's link; undefined until it needs one. */
let link: MessagePort | undefined;
let relink: (() => void) | undefined;

function startMonitor(): Worker {
  const monitor = new Worker(kMonitorEntry, { name: 'threadpipe monitor' });
  // The monitor never keeps the process alive; it lives as long as the thread that started it.
  monitor.unref();
  monitor.on('exit', () => {
    if (ownMonitor === monitor) ownMonitor = undefined;
  });
  ownMonitor = monitor;
  // Threads started from now on (and their children) can ask it for links.
  threads.setEnvironmentData(kMonitorKey, monitor.threadId);
  return monitor;
}

function knownMonitor(): number | undefined {
  if (ownMonitor !== undefined) return ownMonitor.threadId;
  if (remoteMonitor !== undefined) return remoteMonitor;
  const id = threads.getEnvironmentData(kMonitorKey);
  return typeof id === 'number' ? id : undefined;
}

/**
 * The monitor thread id to put in a handle, so that the thread reviving it knows whom to ask for a
 * link. The main thread starts the process's monitor on first use; a worker that knows of none
 * starts its own, which watches the threads it starts for as long as it lives.
 */
export function monitorForHandles(): number {
  return knownMonitor() ?? startMonitor().threadId;
}

/** Remembers a monitor named by a handle this thread revived, unless it knows one already. */
export function noteMonitor(id: unknown): void {
  if (typeof id === 'number' && id !== threads.threadId && knownMonitor() === undefined) remoteMonitor = id;
}

/** Hands a port to the monitor: directly when this thread started it, else over this thread's link. */
function toMonitor(port: MessagePort): void {
  if (ownMonitor === undefined && (threads.isMainThread || knownMonitor() === undefined)) startMonitor();
  if (ownMonitor !== undefined) ownMonitor.postMessage({ type: 'link', port } satisfies LinkMessage, [port]);
  else ownLink().postMessage({ type: 'link', port } satisfies LinkMessage, [port]);
}

/** This thread's link, made on first use. */
function ownLink(): MessagePort {
  if (link !== undefined) return link;
  const { port1, port2 } = new MessageChannel();
  // The link is kept referenced here for the thread's lifetime: a collected port would close, and
  // the monitor would take that for a death. It never keeps the thread alive.
  port1.unref();
  link = port1;
  const monitor = knownMonitor();
  if (ownMonitor !== undefined || monitor === undefined || postMessageToThread === undefined) {
    (ownMonitor ?? startMonitor()).postMessage({ type: 'link', port: port2 } satisfies LinkMessage, [port2]);
  } else {
    postMessageToThread(monitor, { kind: kLinkRequest, port: port2 } satisfies LinkRequest, [port2]).catch(() => {
      // That monitor is gone (it belonged to a thread that ended): use one of our own, and tell it
      // again about every end this thread holds.
      if (link !== port1) return;
      port1.close();
      link = undefined;
      remoteMonitor = undefined;
      startMonitor();
      relink?.();
    });
  }
  return link;
}

/** A link for a thread about to be started: transfer `port` to it (in its workerData or its task). */
export interface ThreadLink {
  readonly port: MessagePort;
  /** The monitor holding the partner, for the handles the new thread makes. */
  readonly monitor: number | undefined;
}

/** A link for a thread about to be started: its partner goes to the monitor. The new thread adopts it with `adoptLink`. */
export function newThreadLink(): ThreadLink {
  const { port1, port2 } = new MessageChannel();
  toMonitor(port1);
  return { port: port2, monitor: knownMonitor() };
}

/** Makes a port from `newThreadLink` this thread's link; a thread that has one already releases the spare. */
export function adoptLink(port: unknown, monitor: unknown): void {
  if (!(port instanceof threads.MessagePort)) return;
  noteMonitor(monitor);
  if (link === undefined) {
    port.unref();
    link = port;
    return;
  }
  port.postMessage({ type: 'release' } satisfies LinkMessage);
  port.close();
}

/** True once this thread has a link (adopted, or made for its own ends). */
export function hasLink(): boolean {
  return link !== undefined;
}

/** Tells the monitor, over this thread's link, about an end this thread holds. */
export function watchOverLink(message: Extract<LinkMessage, { type: 'watch' }>): void {
  ownLink().postMessage(message);
}

/** Called when the link had to be remade, to send every watch again. */
export function onRelink(callback: () => void): void {
  relink = callback;
}
