import { InvalidArgumentTypeError, InvalidArgumentValueError } from '../errors/index.js';
import { ChunkSegment, type SequenceSegment } from './sequence-segment.js';
import { SequencePosition } from './sequence-position.js';

// ignoreBOM keeps a leading U+FEFF, as Buffer#toString does for a single segment.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * A read-only view over a chain of segments, from a start position to an end position (exclusive).
 * Nothing here copies bytes except `copyTo`, `toUint8Array` and `toString`.
 */
export class ReadOnlySequence implements Iterable<Uint8Array> {
  static readonly empty = new ReadOnlySequence(null, 0, null, 0);

  /** A sequence over the given chunks, in order, without copying them. */
  static from(...chunks: Uint8Array[]): ReadOnlySequence {
    if (chunks.length === 0) return ReadOnlySequence.empty;
    for (let i = 0; i < chunks.length; i++) {
      if (!(chunks[i] instanceof Uint8Array)) throw new InvalidArgumentTypeError(`chunks[${i}]`, chunks[i], 'a Uint8Array');
    }
    const first = new ChunkSegment(chunks[0]!);
    let last = first;
    for (let i = 1; i < chunks.length; i++) last = last.append(chunks[i]!);
    return new ReadOnlySequence(first, 0, last, last.length);
  }

  /** @internal */
  readonly startSegment: SequenceSegment | null;
  /** @internal */
  readonly startIndex: number;
  /** @internal */
  readonly endSegment: SequenceSegment | null;
  /** @internal */
  readonly endIndex: number;
  readonly length: number;
  #start: SequencePosition | undefined;
  #end: SequencePosition | undefined;
  #first: Uint8Array | undefined;

  /** @internal Pipes build sequences straight over their segments. */
  constructor(startSegment: SequenceSegment | null, startIndex: number, endSegment: SequenceSegment | null, endIndex: number) {
    this.startSegment = startSegment;
    this.startIndex = startIndex;
    this.endSegment = endSegment;
    this.endIndex = endIndex;
    this.length = startSegment === null || endSegment === null
      ? 0
      : endSegment.runningIndex + endIndex - (startSegment.runningIndex + startIndex);
  }

  get isEmpty(): boolean {
    return this.length === 0;
  }

  get isSingleSegment(): boolean {
    return this.startSegment === this.endSegment;
  }

  /** The first segment's bytes within this sequence (empty when the sequence is). */
  get first(): Uint8Array {
    if (this.#first !== undefined) return this.#first;
    const segment = this.startSegment;
    if (segment === null) return emptyBytes;
    const end = segment === this.endSegment ? this.endIndex : segment.length;
    return (this.#first = segment.buffer.subarray(this.startIndex, end));
  }

  get start(): SequencePosition {
    return (this.#start ??= new SequencePosition(this.startSegment, this.startIndex));
  }

  get end(): SequencePosition {
    return (this.#end ??= new SequencePosition(this.endSegment, this.endIndex));
  }

  /** A sub-sequence from `start` to `end` (exclusive); numbers are offsets from this sequence's start. */
  slice(start: number | SequencePosition, end?: number | SequencePosition): ReadOnlySequence {
    const from = typeof start === 'number' ? this.#seek(this.startSegment, this.startIndex, start, 'start') : this.#check(start, 'start');
    let to: SequencePosition;
    if (end === undefined) {
      to = this.end;
    } else if (typeof end === 'number') {
      if (typeof start === 'number') {
        if (!Number.isInteger(end) || end < start) throw new InvalidArgumentValueError('end', end, `must be an integer >= start (${start}) and <= length (${this.length})`);
        to = this.#seek(from.segment, from.index, end - start, 'end');
      } else {
        to = this.#seek(this.startSegment, this.startIndex, end, 'end');
      }
    } else {
      to = this.#check(end, 'end');
    }
    if (to.absolute < from.absolute) throw new InvalidArgumentValueError('end', end, 'must not be before start');
    if (from.segment === this.startSegment && from.index === this.startIndex && to.segment === this.endSegment && to.index === this.endIndex) return this;
    return new ReadOnlySequence(from.segment, from.index, to.segment, to.index);
  }

  /** The position `offset` bytes after `origin` (default: the start). At a segment boundary it prefers the next segment. */
  getPosition(offset: number, origin?: SequencePosition): SequencePosition {
    if (origin === undefined) return this.#seek(this.startSegment, this.startIndex, offset, 'offset');
    const from = this.#check(origin, 'origin');
    return this.#seek(from.segment, from.index, offset, 'offset');
  }

  /** The offset of `position` from this sequence's start. */
  getOffset(position: SequencePosition): number {
    if (position.segment === null) return 0;
    return this.#check(position, 'position').absolute - this.start.absolute;
  }

  /** The position of the first `byte`, or null. */
  positionOf(byte: number): SequencePosition | null {
    let segment = this.startSegment;
    let index = this.startIndex;
    while (segment !== null) {
      const last = segment === this.endSegment;
      const end = last ? this.endIndex : segment.length;
      const found = segment.buffer.indexOf(byte, index);
      if (found !== -1 && found < end) return new SequencePosition(segment, found);
      if (last) break;
      segment = segment.next;
      index = 0;
    }
    return null;
  }

  /** The offset of the first `byte`, or -1. */
  indexOf(byte: number): number {
    const position = this.positionOf(byte);
    return position === null ? -1 : position.absolute - this.start.absolute;
  }

  copyTo(target: Uint8Array): void {
    if (!(target instanceof Uint8Array)) throw new InvalidArgumentTypeError('target', target, 'a Uint8Array');
    if (target.length < this.length) {
      throw new InvalidArgumentValueError('target', target, `must hold at least ${this.length} bytes (it holds ${target.length})`);
    }
    let offset = 0;
    for (const chunk of this) {
      target.set(chunk, offset);
      offset += chunk.length;
    }
  }

  toUint8Array(): Uint8Array {
    const copy = new Uint8Array(this.length);
    this.copyTo(copy);
    return copy;
  }

  /** Decodes the bytes; UTF-8 characters split across segments decode correctly. */
  toString(encoding: BufferEncoding = 'utf8'): string {
    if (this.isSingleSegment) {
      const first = this.first;
      return Buffer.from(first.buffer, first.byteOffset, first.length).toString(encoding);
    }
    if (encoding === 'utf8' || encoding === 'utf-8') {
      let text = '';
      for (const chunk of this) text += decoder.decode(chunk, { stream: true });
      return text + decoder.decode();
    }
    return Buffer.from(this.toUint8Array().buffer).toString(encoding);
  }

  *[Symbol.iterator](): Iterator<Uint8Array> {
    let segment = this.startSegment;
    let index = this.startIndex;
    while (segment !== null) {
      const last = segment === this.endSegment;
      yield segment.buffer.subarray(index, last ? this.endIndex : segment.length);
      if (last) return;
      segment = segment.next;
      index = 0;
    }
  }

  #seek(segment: SequenceSegment | null, index: number, offset: number, name: string): SequencePosition {
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgumentValueError(name, offset, 'must be a non-negative integer');
    if (segment === null) {
      if (offset !== 0) throw new InvalidArgumentValueError(name, offset, 'is past the end of the sequence (length 0)');
      return this.start;
    }
    let remaining = offset;
    for (;;) {
      const last = segment === this.endSegment;
      const available = (last ? this.endIndex : segment.length) - index;
      if (remaining < available || (remaining === available && last)) {
        return index + remaining === this.startIndex && segment === this.startSegment ? this.start : new SequencePosition(segment, index + remaining);
      }
      const next: SequenceSegment | null = segment.next;
      if (last || next === null) throw new InvalidArgumentValueError(name, offset, `is past the end of the sequence (length ${this.length})`);
      remaining -= available;
      segment = next;
      index = 0;
    }
  }

  /** Validates that a position lies within this sequence. */
  #check(position: SequencePosition, name: string): SequencePosition {
    if (!(position instanceof SequencePosition)) throw new InvalidArgumentTypeError(name, position, 'a SequencePosition or a number');
    let segment = this.startSegment;
    while (segment !== null) {
      if (segment === position.segment) {
        const low = segment === this.startSegment ? this.startIndex : 0;
        const high = segment === this.endSegment ? this.endIndex : segment.length;
        if (position.index >= low && position.index <= high) return position;
        break;
      }
      if (segment === this.endSegment) break;
      segment = segment.next;
    }
    if (position.segment === null && this.startSegment === null) return position;
    throw new InvalidArgumentValueError(name, position, 'is not a position within this sequence');
  }
}

const emptyBytes = new Uint8Array(0);
