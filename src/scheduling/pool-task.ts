// The task a PoolScheduler hands to piscina: runs one export with its pipe ends revived on the pool
// thread. Aborts arrive on a port, so an aborted task is canceled cooperatively and its thread lives on.
import type { MessagePort } from 'node:worker_threads';
import { threadId, type TransferListItem } from 'node:worker_threads';
import { move as piscinaMove } from 'piscina';
import { serializeError } from '../errors/serialization.js';
import type { PoolOutcome, PoolTask, TaskControl, TaskReport } from '../scheduling/host-messages.js';
import { adoptLink, hasLink } from '../ring/thread-links.js';
import { sendFailure } from './run-control.js';
import { kResultList, runTask } from './task-runner.js';
import { move } from './transfer.js';

export type { PoolOutcome, PoolTask };

export default async function poolTask(task: PoolTask): Promise<PoolOutcome> {
  // The first task a pool thread runs gives it its link; later ones bring a spare that is released.
  adoptLink(task.link, task.monitor);
  const port = task.port as MessagePort;
  const controller = new AbortController();
  port.on('message', (message: TaskControl) => {
    if (message !== 'abort') return;
    controller.abort();
    port.postMessage({ type: 'abort-seen' } satisfies TaskReport);
  });
  port.postMessage({ type: 'started', threadId, linked: hasLink() } satisfies TaskReport);
  let transferList: TransferListItem[] = [];
  try {
    const result = await runTask(task.module, task.exportName, task.args, controller.signal);
    const outcome: PoolOutcome = { ok: true, value: result.value };
    if (result.transferList.length === 0) return outcome;
    transferList = result.transferList;
    // piscina posts the result once this function has returned, where a failure would kill the
    // thread: moved here first (moving copies nothing), a list that cannot go fails this run instead.
    const sent = structuredClone({ outcome, transferList }, { transfer: transferList });
    // piscina sends a result with a transfer list when its own move() marked it; ours has the shape it takes.
    return piscinaMove(move(sent.outcome, sent.transferList) as never) as unknown as PoolOutcome;
  } catch (error) {
    return { ok: false, error: serializeError(sendFailure(error, transferList, kResultList)) };
  } finally {
    port.close();
  }
}
