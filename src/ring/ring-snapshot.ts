import type { RingEndSnapshot, RingSnapshot } from '../diagnostics/pending-operations.js';
import * as L from './layout.js';
import type { RingSide, SharedRing } from './shared-ring.js';

function endSnapshot(ring: SharedRing, side: RingSide, state: number, waitingFor: string | null): RingEndSnapshot {
  const completed = (state & (side === 'reader' ? L.READER_COMPLETED : L.WRITER_COMPLETED)) !== 0;
  const faulted = (state & (side === 'reader' ? L.READER_FAULTED : L.WRITER_FAULTED)) !== 0;
  return {
    thread: ring.holder(side),
    state: faulted ? 'faulted' : completed ? 'completed' : 'open',
    exited: (state & (side === 'reader' ? L.READER_EXITED : L.WRITER_EXITED)) !== 0,
    waitingFor,
  };
}

/** Reads a ring's shared state: every word is loaded atomically, but not all at one instant. */
export function ringSnapshot(ring: SharedRing): RingSnapshot {
  const h = ring.header;
  const state = Atomics.load(h, L.STATE);
  const read = Atomics.load(h, L.READ_POS) >>> 0;
  const examinedPos = Atomics.load(h, L.EXAMINED_POS) >>> 0;
  const write = Atomics.load(h, L.WRITE_POS) >>> 0;
  const stats = ring.stats();
  const unexamined = ring.dataBetween(examinedPos, write);
  const pause = ring.pauseWriterThreshold;
  const paused = pause > 0 && unexamined >= pause;
  const minimum = Atomics.load(h, L.READ_MINIMUM);
  const readerWaits = Atomics.load(h, L.READER_BLOCKED) !== 0
    ? (minimum > 0 ? `at least ${minimum} unexamined bytes` : 'data')
    : null;
  const need = Atomics.load(h, L.WRITER_NEED);
  const writerWaits = Atomics.load(h, L.WRITER_WAITING) !== 0
    ? (need > 0 ? `room for ${need} bytes` : paused ? `the reader to examine below ${ring.resumeWriterThreshold} bytes` : 'room in the ring')
    : null;
  return {
    pipe: ring.name,
    capacity: ring.capacity,
    maxCapacity: ring.maxCapacity,
    written: stats.bytesWritten,
    consumed: stats.bytesConsumed,
    examined: stats.bytesConsumed + ((examinedPos - read) >>> 0),
    unconsumed: ring.dataBetween(read, write),
    unexamined,
    pauseWriterThreshold: pause,
    resumeWriterThreshold: ring.resumeWriterThreshold,
    paused,
    reader: endSnapshot(ring, 'reader', state, readerWaits),
    writer: endSnapshot(ring, 'writer', state, writerWaits),
  };
}
