import type { Worker } from 'node:worker_threads';
import { InvalidArgumentTypeError } from '../errors/index.js';
import { isMovable, kMove, type MovedEnd, type Movable } from './movable.js';

/**
 * For a Worker you start yourself: moves each end (as `handle()` does) and returns the handles to
 * post to it; when the worker exits, every end it still holds is marked peer-exited, so the far ends
 * fail with ERR_PIPE_PEER_EXITED instead of waiting forever.
 */
export function watchWorker(worker: Worker, ...ends: Movable[]): unknown[] {
  if (typeof worker !== 'object' || worker === null || typeof worker.once !== 'function') {
    throw new InvalidArgumentTypeError('worker', worker, 'a Worker');
  }
  ends.forEach((end, i) => {
    if (!isMovable(end)) throw new InvalidArgumentTypeError(`ends[${i}]`, end, 'a SharedPipeReader or SharedPipeWriter');
  });
  const threadId = worker.threadId;
  const moved: MovedEnd[] = ends.map((end) => end[kMove]());
  worker.once('exit', () => {
    for (const end of moved) end.markPeerExited(threadId);
  });
  return moved.map((end) => end.handle);
}
