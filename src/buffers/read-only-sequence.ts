import { InvalidArgumentTypeError, InvalidArgumentValueError } from '../errors/index.js';
import { ChunkSegment, type SequenceSegment } from './sequence-segment.js';
import { SequencePosition } from './sequence-position.js';

// ignoreBOM keeps a leading U+FEFF, as Buffer#toString does for a single segment.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** The start and end of the last two reads: enough for a reader that alternates between two segments. */
const kRememberedPositions = 4;

type Rewritable = { -readonly [K in 'startSegment' | 'startIndex' | 'endSegment' | 'endIndex' | 'length']: ReadOnlySequence[K] };

let createReusable: () => ReadOnlySequence;
let reuse: (sequence: ReadOnlySequence, startSegment: SequenceSegment | null, startIndex: number, endSegment: SequenceSegment | null, endIndex: number) => ReadOnlySequence;

/**
 * A read-only view over a chain of segments, from a start position to an end position (exclusive).
 * Nothing here copies bytes except `copyTo`, `toUint8Array` and `toString`. The buffer of a read may
 * be its reader's own sequence, rewritten by the next read: a slice is a sequence of its own, and
 * positions are values that outlive it.
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
  /** Where `#first` was cut from, so a reused sequence keeps it while its range starts the same. */
  #firstSource: Uint8Array | null = null;
  #firstFrom = 0;
  #firstTo = 0;
  /** Only on a reader's reused sequence: positions it handed out lately, handed out again when they match. */
  #recent: SequencePosition[] | null = null;
  #recentNext = 0;

  static {
    createReusable = () => {
      const sequence = new ReadOnlySequence(null, 0, null, 0);
      sequence.#recent = [];
      return sequence;
    };
    reuse = (sequence, startSegment, startIndex, endSegment, endIndex) => sequence.#reuse(startSegment, startIndex, endSegment, endIndex);
  }

  /** @internal Pipes build sequences straight over their segments. */
  constructor(startSegment: SequenceSegment | null, startIndex: number, endSegment: SequenceSegment | null, endIndex: number) {
    this.startSegment = startSegment;
    this.startIndex = startIndex;
    this.endSegment = endSegment;
    this.endIndex = endIndex;
    this.length = spanLength(startSegment, startIndex, endSegment, endIndex);
  }

  #reuse(startSegment: SequenceSegment | null, startIndex: number, endSegment: SequenceSegment | null, endIndex: number): ReadOnlySequence {
    const self = this as Rewritable;
    self.startSegment = startSegment;
    self.startIndex = startIndex;
    self.endSegment = endSegment;
    self.endIndex = endIndex;
    self.length = spanLength(startSegment, startIndex, endSegment, endIndex);
    this.#start = this.#end = undefined;
    if (this.#first !== undefined && (startSegment === null || startSegment.buffer !== this.#firstSource || startIndex !== this.#firstFrom || (startSegment === endSegment ? endIndex : startSegment.length) !== this.#firstTo)) {
      this.#first = undefined;
    }
    return this;
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
    const source = segment.buffer;
    this.#firstSource = source;
    this.#firstFrom = this.startIndex;
    this.#firstTo = end;
    return (this.#first = wholeOrView(source, this.startIndex, end));
  }

  get start(): SequencePosition {
    return (this.#start ??= this.#position(this.startSegment, this.startIndex));
  }

  get end(): SequencePosition {
    return (this.#end ??= this.#position(this.endSegment, this.endIndex));
  }

  #position(segment: SequenceSegment | null, index: number): SequencePosition {
    const recent = this.#recent;
    if (recent === null) return new SequencePosition(segment, index);
    for (let i = 0; i < recent.length; i++) {
      const position = recent[i]!;
      if (position.segment === segment && position.index === index) return position;
    }
    const position = new SequencePosition(segment, index);
    if (recent.length < kRememberedPositions) {
      recent.push(position);
    } else {
      recent[this.#recentNext] = position;
      this.#recentNext = (this.#recentNext + 1) % kRememberedPositions;
    }
    return position;
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
    if (this.#recent === null && from.segment === this.startSegment && from.index === this.startIndex && to.segment === this.endSegment && to.index === this.endIndex) return this;
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
      yield wholeOrView(segment.buffer, index, last ? this.endIndex : segment.length);
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

function spanLength(startSegment: SequenceSegment | null, startIndex: number, endSegment: SequenceSegment | null, endIndex: number): number {
  return startSegment === null || endSegment === null ? 0 : endSegment.runningIndex + endIndex - (startSegment.runningIndex + startIndex);
}

/**
 * `buffer[from, to)`: the buffer itself when that is all of it (no view to allocate, and a buffer
 * handed to a pipe comes back as it went in), else a view.
 */
export function wholeOrView(buffer: Uint8Array, from: number, to: number): Uint8Array {
  return from === 0 && to === buffer.length ? buffer : buffer.subarray(from, to);
}

/**
 * The one sequence a reader hands out for every read, rewritten by `reuseSequence` (see
 * `ReadResultSlot`). It never returns itself from `slice`, so a slice stays what it was. Not part of
 * the package's API: only this module's importers can rewrite a sequence.
 */
export function reusableSequence(): ReadOnlySequence {
  return createReusable();
}

/**
 * Points a reusable sequence at a new range. Positions are values, never changed in place: one it
 * handed out before is handed out again only when it names the same place, and a position a caller
 * kept from an earlier read still names the place it named then. Its `first` view stays while the
 * range starts the same.
 */
export function reuseSequence(sequence: ReadOnlySequence, startSegment: SequenceSegment | null, startIndex: number, endSegment: SequenceSegment | null, endIndex: number): ReadOnlySequence {
  return reuse(sequence, startSegment, startIndex, endSegment, endIndex);
}
