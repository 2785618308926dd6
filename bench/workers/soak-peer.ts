// The soak's worker threads (bench/soak.ts). One script, three roles (workerData.role):
//   lane-writer / lane-reader — one side of a traffic lane; its end arrives as a 'handle' message;
//   victim — holds one end of a death episode's pipe and dies (its end comes in workerData when it
//            was moved by handle() alone, else as a 'handle' message after watchWorker);
//   survivor — long-lived: takes the far end of one death episode after another and reports what
//              it saw when the victim died.
// Every role answers 'dump' with this thread's pendingOperations() (unless it is blocked in a sync wait).
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { pendingOperations, SharedPipe, type SharedPipeHandle, type SharedPipeReader, type SharedPipeWriter } from 'threadpipe';
import { describeError, type ErrorInfo } from '../../test/fixtures/ring-harness.js';
import { EpisodeMemory, runFar, runVictim, type DeathPlan, type FarReport } from './soak-death.js';
import { LaneMemory, runLaneReader, runLaneWriter, type LaneSpec, type SoakNote } from './soak-lane.js';

export type { ErrorInfo };

export type PeerData =
  | { role: 'lane-writer' | 'lane-reader'; spec: LaneSpec; sab: SharedArrayBuffer }
  | { role: 'victim'; plan: DeathPlan; sab: SharedArrayBuffer; handle?: SharedPipeHandle }
  | { role: 'survivor' };

export type ToPeer =
  | { type: 'handle'; handle: SharedPipeHandle }
  | { type: 'far'; plan: DeathPlan; sab: SharedArrayBuffer; handle: SharedPipeHandle }
  | { type: 'dump' };

export type FromPeer =
  | { type: 'note'; note: SoakNote }
  | { type: 'done' }
  | { type: 'failed'; error: ErrorInfo }
  | { type: 'far-report'; id: number; report: FarReport }
  | { type: 'dump'; thread: number; pending: ReturnType<typeof pendingOperations> };

function revive(handle: SharedPipeHandle): SharedPipeReader | SharedPipeWriter {
  return handle.side === 'reader' ? SharedPipe.reader(handle) : SharedPipe.writer(handle);
}

const port = parentPort!;
const data = workerData as PeerData;
const post = (message: FromPeer): void => port.postMessage(message);

/** Resolves with the first 'handle' message; 'dump' requests are answered meanwhile and after. */
function nextHandle(): Promise<SharedPipeHandle> {
  return new Promise((resolve) => {
    port.on('message', (message: ToPeer) => {
      if (message.type === 'handle') resolve(message.handle);
    });
  });
}

port.on('message', (message: ToPeer) => {
  if (message.type === 'dump') post({ type: 'dump', thread: threadId, pending: pendingOperations() });
});

async function main(): Promise<void> {
  switch (data.role) {
    case 'lane-writer':
    case 'lane-reader': {
      const memory = new LaneMemory(data.sab);
      const ctx = { spec: data.spec, memory, canBlock: true, note: (note: SoakNote) => post({ type: 'note', note }) };
      const end = revive(await nextHandle());
      try {
        if (data.role === 'lane-writer') await runLaneWriter(end as SharedPipeWriter, ctx);
        else await runLaneReader(end as SharedPipeReader, ctx);
        post({ type: 'done' });
      } finally {
        // Nothing is left to wait for: let the thread end once the last message is out.
        port.unref();
      }
      return;
    }
    case 'victim': {
      const end = revive(data.handle ?? (await nextHandle()));
      await runVictim(end, data.plan, new EpisodeMemory(data.sab));
      return;
    }
    case 'survivor': {
      // One far end at a time: the main thread sends the next only after this one reported.
      port.on('message', (message: ToPeer) => {
        if (message.type !== 'far') return;
        const end = revive(message.handle);
        void runFar(end, message.plan, new EpisodeMemory(message.sab), true).then((report) => post({ type: 'far-report', id: message.plan.id, report }));
      });
      return;
    }
  }
}

main().catch((error: unknown) => post({ type: 'failed', error: describeError(error) }));
