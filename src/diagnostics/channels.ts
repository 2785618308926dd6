import { channel } from 'node:diagnostics_channel';

/**
 * threadpipe's diagnostics_channel events, named `threadpipe:<object>:<event>`. Messages are plain
 * objects; publishing costs nothing while a channel has no subscriber.
 */
export const channels = {
  /** `{ scheduler, thread, exportName, id }` when a run is sent to a thread. */
  runStart: channel('threadpipe:scheduler:run-start'),
  /** `{ scheduler, thread, exportName, id, error? }` when it settles. */
  runEnd: channel('threadpipe:scheduler:run-end'),
  /** `{ pipe, unexamined }` when a writer pauses at its threshold (in-thread or shared). */
  pause: channel('threadpipe:pipe:pause'),
  /** `{ pipe, unexamined }` when a paused writer resumes. */
  resume: channel('threadpipe:pipe:resume'),
  /** `{ pipe, side, thread }` when a ring end is marked exited because its thread died. */
  peerExit: channel('threadpipe:ring:peer-exit'),
  /** `{ pipe, capacity }` when a ring's writer grew it (see `SharedPipeOptions.maxCapacity`). */
  grow: channel('threadpipe:ring:grow'),
} as const;

let nextPipeId = 1;

/** A short name for a pipe in events and the pending list: `Pipe#3`, `SharedPipe#7`. */
export function pipeName(kind: string): string {
  return `${kind}#${nextPipeId++}`;
}
