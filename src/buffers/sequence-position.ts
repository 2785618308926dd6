import type { SequenceSegment } from './sequence-segment.js';

/** A place in a sequence: a segment and an index in it. Opaque to users; compare with `equals`. */
export class SequencePosition {
  /** The default position (no segment); `advanceTo` treats it as "no change". */
  static readonly none = new SequencePosition(null, 0);

  /** @internal */
  readonly segment: SequenceSegment | null;
  /** @internal */
  readonly index: number;

  /** @internal */
  constructor(segment: SequenceSegment | null, index: number) {
    this.segment = segment;
    this.index = index;
  }

  equals(other: SequencePosition): boolean {
    return this.segment === other.segment && this.index === other.index;
  }

  /** @internal Offset from the start of the segment chain. */
  get absolute(): number {
    return this.segment === null ? 0 : this.segment.runningIndex + this.index;
  }
}
