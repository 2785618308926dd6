// The entry of a ThreadScheduler's dedicated worker: runs each requested export on this one thread.
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../errors/serialization.js';
import { adoptLink } from '../ring/thread-links.js';
import type { HostMessage, SchedulerMessage } from '../scheduling/host-messages.js';
import { sendFailure } from './run-control.js';
import { kResultList, runTask } from './task-runner.js';

const port = parentPort!;
const { module: moduleUrl, link, monitor } = workerData as { module: string; link?: unknown; monitor?: unknown };
const running = new Map<number, AbortController>();

// The monitor's end of this thread's link fails the ends this thread holds if it dies.
adoptLink(link, monitor);

function reply(message: HostMessage): void {
  port.postMessage(message);
}

port.on('message', (message: SchedulerMessage) => {
  if (message.type === 'abort') {
    running.get(message.id)?.abort();
    // This thread's event loop got the abort: the run is canceled cooperatively, no need to force it.
    reply({ type: 'abort-seen', id: message.id });
    return;
  }
  const controller = new AbortController();
  running.set(message.id, controller);
  runTask(moduleUrl, message.exportName, message.args, controller.signal).then(
    ({ value, transferList }) => {
      try {
        port.postMessage({ type: 'done', id: message.id, value } satisfies HostMessage, transferList);
      } catch (error) {
        reply({ type: 'fail', id: message.id, error: serializeError(sendFailure(error, transferList, kResultList)) });
      }
    },
    (error: unknown) => reply({ type: 'fail', id: message.id, error: serializeError(error) }),
  ).finally(() => running.delete(message.id));
});
