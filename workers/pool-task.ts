// The task a PoolScheduler hands to piscina: runs one export with its pipe ends revived on the pool
// thread. Aborts arrive on a port, so an aborted task is canceled cooperatively and its thread lives on.
import type { MessagePort } from 'node:worker_threads';
import { threadId } from 'node:worker_threads';
import { serializeError, type ErrorRecord } from '../src/errors/serialization.js';
import { runTask } from './task-runner.js';

export interface PoolTask {
  module: string;
  exportName: string;
  args: unknown;
  port: MessagePort;
}

export type PoolOutcome = { ok: true; value: unknown } | { ok: false; error: ErrorRecord };

export default async function poolTask(task: PoolTask): Promise<PoolOutcome> {
  const controller = new AbortController();
  task.port.on('message', (message: unknown) => {
    if (message === 'abort') controller.abort();
  });
  task.port.postMessage({ threadId });
  try {
    return { ok: true, value: await runTask(task.module, task.exportName, task.args, controller.signal) };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  } finally {
    task.port.close();
  }
}
