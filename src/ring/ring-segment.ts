import type { SequenceSegment } from '../buffers/sequence-segment.js';

/**
 * One lap of the ring as a sequence segment: `buffer` is the whole data region, so positions index
 * the ring directly; `ringBase` is the ring position of index 0. A lap that ends in a skipped tail is
 * `cut`: its data ends at `length`, and the next data byte is at the start of the next lap.
 */
export class RingSegment implements SequenceSegment {
  readonly buffer: Uint8Array;
  readonly ringBase: number;
  readonly runningIndex: number;
  length = 0;
  cut = false;
  next: RingSegment | null = null;

  constructor(buffer: Uint8Array, ringBase: number, runningIndex: number) {
    this.buffer = buffer;
    this.ringBase = ringBase >>> 0;
    this.runningIndex = runningIndex;
  }
}
