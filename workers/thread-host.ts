// The entry of a ThreadScheduler's dedicated worker: runs each requested export on this one thread.
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../src/errors/serialization.js';
import { runTask } from './task-runner.js';

interface RunMessage {
  type: 'run';
  id: number;
  exportName: string;
  args: unknown;
}

interface AbortMessage {
  type: 'abort';
  id: number;
}

const port = parentPort!;
const moduleUrl = (workerData as { module: string }).module;
const running = new Map<number, AbortController>();

port.on('message', (message: RunMessage | AbortMessage) => {
  if (message.type === 'abort') {
    running.get(message.id)?.abort();
    return;
  }
  const controller = new AbortController();
  running.set(message.id, controller);
  runTask(moduleUrl, message.exportName, message.args, controller.signal).then(
    (value) => {
      try {
        port.postMessage({ type: 'done', id: message.id, value });
      } catch (error) {
        port.postMessage({ type: 'fail', id: message.id, error: serializeError(error) });
      }
    },
    (error: unknown) => port.postMessage({ type: 'fail', id: message.id, error: serializeError(error) }),
  ).finally(() => running.delete(message.id));
});
