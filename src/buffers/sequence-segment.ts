/**
 * A link in a chain of memory. `runningIndex` is the offset of the segment's first byte from the
 * start of its chain; `length` is how many bytes of `buffer` hold data. Pipes mutate these as they
 * write; a sequence only ever looks at the range it was created over.
 */
export interface SequenceSegment {
  readonly buffer: Uint8Array;
  readonly length: number;
  readonly next: SequenceSegment | null;
  readonly runningIndex: number;
}

/** A segment over caller-owned memory, used by `ReadOnlySequence.from`. */
export class ChunkSegment implements SequenceSegment {
  readonly buffer: Uint8Array;
  readonly length: number;
  next: ChunkSegment | null = null;
  runningIndex = 0;

  constructor(buffer: Uint8Array) {
    this.buffer = buffer;
    this.length = buffer.length;
  }

  append(buffer: Uint8Array): ChunkSegment {
    const segment = new ChunkSegment(buffer);
    segment.runningIndex = this.runningIndex + this.length;
    this.next = segment;
    return segment;
  }
}
