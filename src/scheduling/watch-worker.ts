import type { Worker } from 'node:worker_threads';
import { InvalidArgumentTypeError } from '../errors/index.js';
import { isMovable, moveAll, type Movable } from '../ring/movable.js';

/**
 * For a Worker you start yourself: moves each end (as `handle()` does; all or none) and returns the
 * handles to post to it, in order (an end given twice moves once); when the worker exits, every end
 * it still holds, or never took, is marked peer-exited, so the far ends fail with
 * ERR_PIPE_PEER_EXITED. Ends posted to a worker without this are watched too, once the worker
 * revives them; this adds the ends the worker never took.
 */
export function watchWorker(worker: Worker, ...ends: Movable[]): unknown[] {
  if (typeof worker !== 'object' || worker === null || typeof worker.once !== 'function') {
    throw new InvalidArgumentTypeError('worker', worker, 'a Worker');
  }
  ends.forEach((end, i) => {
    if (!isMovable(end)) throw new InvalidArgumentTypeError(`ends[${i}]`, end, 'a SharedPipeReader or SharedPipeWriter');
  });
  const threadId = worker.threadId;
  const moved = moveAll(new Map(ends.map((end, i) => [end, `ends[${i}]`])));
  worker.once('exit', () => {
    for (const end of moved.values()) end.markPeerExited(threadId);
  });
  return ends.map((end) => moved.get(end)!.handle);
}
