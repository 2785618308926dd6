import { InvalidArgumentTypeError, InvalidArgumentValueError } from '../errors/index.js';
import { ReadOnlySequence } from './read-only-sequence.js';
import type { SequenceSegment } from './sequence-segment.js';
import { SequencePosition } from './sequence-position.js';

/**
 * A forward cursor over a `ReadOnlySequence`, as .NET's `SequenceReader<byte>`. Over a read's buffer
 * it lives as long as that buffer does: until the reader's next `advanceTo`.
 */
export class SequenceReader {
  readonly sequence: ReadOnlySequence;
  #segment: SequenceSegment | null;
  #index: number;
  #segmentEnd: number;
  #consumed = 0;

  constructor(sequence: ReadOnlySequence) {
    if (!(sequence instanceof ReadOnlySequence)) throw new InvalidArgumentTypeError('sequence', sequence, 'a ReadOnlySequence');
    this.sequence = sequence;
    this.#segment = sequence.startSegment;
    this.#index = sequence.startIndex;
    this.#segmentEnd = this.#endOf(this.#segment);
    this.#skipExhausted();
  }

  get length(): number {
    return this.sequence.length;
  }

  get consumed(): number {
    return this.#consumed;
  }

  get remaining(): number {
    return this.sequence.length - this.#consumed;
  }

  get end(): boolean {
    return this.remaining === 0;
  }

  get position(): SequencePosition {
    return new SequencePosition(this.#segment, this.#index);
  }

  /** What is left of the current segment. */
  get unreadSpan(): Uint8Array {
    return this.#segment === null ? new Uint8Array(0) : this.#segment.buffer.subarray(this.#index, this.#segmentEnd);
  }

  get unreadSequence(): ReadOnlySequence {
    return this.sequence.slice(this.position);
  }

  tryRead(): number | null {
    if (this.#index < this.#segmentEnd) {
      const value = this.#segment!.buffer[this.#index]!;
      this.#index++;
      this.#consumed++;
      if (this.#index === this.#segmentEnd) this.#skipExhausted();
      return value;
    }
    return null;
  }

  tryPeek(offset = 0): number | null {
    if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgumentValueError('offset', offset, 'must be a non-negative integer');
    if (offset >= this.remaining) return null;
    let segment = this.#segment;
    let index = this.#index + offset;
    let end = this.#segmentEnd;
    while (index >= end) {
      index -= end;
      segment = segment!.next;
      end = this.#endOf(segment);
    }
    return segment!.buffer[index]!;
  }

  advance(count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > this.remaining) {
      throw new InvalidArgumentValueError('count', count, `must be an integer from 0 to ${this.remaining}`);
    }
    this.#consumed += count;
    let left = count;
    while (left > 0) {
      const step = Math.min(left, this.#segmentEnd - this.#index);
      this.#index += step;
      left -= step;
      if (this.#index === this.#segmentEnd) this.#skipExhausted();
    }
  }

  /** Moves back `count` bytes (re-walking from the start). */
  rewind(count: number): void {
    if (!Number.isInteger(count) || count < 0 || count > this.#consumed) {
      throw new InvalidArgumentValueError('count', count, `must be an integer from 0 to ${this.#consumed}`);
    }
    const target = this.#consumed - count;
    this.#segment = this.sequence.startSegment;
    this.#index = this.sequence.startIndex;
    this.#segmentEnd = this.#endOf(this.#segment);
    this.#consumed = 0;
    this.#skipExhausted();
    this.advance(target);
  }

  /** True when the next bytes equal `value`; with `advancePast`, consumes them. */
  isNext(value: number | Uint8Array, advancePast = false): boolean {
    const bytes = typeof value === 'number' ? [value] : value;
    if (bytes.length > this.remaining) return false;
    for (let i = 0; i < bytes.length; i++) if (this.tryPeek(i) !== bytes[i]) return false;
    if (advancePast) this.advance(bytes.length);
    return true;
  }

  /** Skips every consecutive `value`; returns how many. */
  advancePast(value: number): number {
    let count = 0;
    while (this.#index < this.#segmentEnd && this.#segment!.buffer[this.#index] === value) {
      this.tryRead();
      count++;
    }
    return count;
  }

  /**
   * The bytes up to the first `delimiter` (a byte or a byte string, found across segments), or null
   * when it is absent; then the reader stands past the delimiter (or on it without `advancePastDelimiter`).
   */
  tryReadTo(delimiter: number | Uint8Array, advancePastDelimiter = true): ReadOnlySequence | null {
    const offset = this.#find(delimiter);
    if (offset === -1) return null;
    const start = this.position;
    this.advance(offset);
    const result = this.sequence.slice(start, this.position);
    if (advancePastDelimiter) this.advance(typeof delimiter === 'number' ? 1 : delimiter.length);
    return result;
  }

  /** Moves to the first `delimiter` (past it by default); false leaves the reader where it was. */
  tryAdvanceTo(delimiter: number | Uint8Array, advancePastDelimiter = true): boolean {
    return this.tryReadTo(delimiter, advancePastDelimiter) !== null;
  }

  tryReadExact(count: number): ReadOnlySequence | null {
    if (!Number.isInteger(count) || count < 0) throw new InvalidArgumentValueError('count', count, 'must be a non-negative integer');
    if (count > this.remaining) return null;
    const start = this.position;
    this.advance(count);
    return this.sequence.slice(start, this.position);
  }

  tryCopyTo(target: Uint8Array): boolean {
    if (target.length > this.remaining) return false;
    let segment = this.#segment;
    let index = this.#index;
    let end = this.#segmentEnd;
    let written = 0;
    while (written < target.length) {
      const step = Math.min(end - index, target.length - written);
      target.set(segment!.buffer.subarray(index, index + step), written);
      written += step;
      segment = segment!.next;
      index = 0;
      end = this.#endOf(segment);
    }
    return true;
  }

  tryReadUInt8(): number | null {
    return this.tryRead();
  }

  tryReadUInt16BE(): number | null {
    return this.#readInt(2, false);
  }

  tryReadUInt16LE(): number | null {
    return this.#readInt(2, true);
  }

  tryReadUInt32BE(): number | null {
    return this.#readInt(4, false);
  }

  tryReadUInt32LE(): number | null {
    return this.#readInt(4, true);
  }

  tryReadInt32BE(): number | null {
    const value = this.#readInt(4, false);
    return value === null ? null : value | 0;
  }

  tryReadInt32LE(): number | null {
    const value = this.#readInt(4, true);
    return value === null ? null : value | 0;
  }

  tryReadBigUInt64BE(): bigint | null {
    const high = this.#readInt(4, false);
    if (high === null) return null;
    const low = this.#readInt(4, false);
    if (low === null) {
      this.rewind(4);
      return null;
    }
    return (BigInt(high) << 32n) | BigInt(low);
  }

  tryReadBigUInt64LE(): bigint | null {
    const low = this.#readInt(4, true);
    if (low === null) return null;
    const high = this.#readInt(4, true);
    if (high === null) {
      this.rewind(4);
      return null;
    }
    return (BigInt(high) << 32n) | BigInt(low);
  }

  #readInt(size: number, littleEndian: boolean): number | null {
    if (this.remaining < size) return null;
    let value = 0;
    if (this.#segmentEnd - this.#index >= size) {
      const buffer = this.#segment!.buffer;
      const at = this.#index;
      for (let i = 0; i < size; i++) {
        const byte = buffer[at + (littleEndian ? size - 1 - i : i)]!;
        value = value * 256 + byte;
      }
      this.advance(size);
      return value;
    }
    const bytes = [0, 0, 0, 0];
    for (let i = 0; i < size; i++) bytes[i] = this.tryRead()!;
    for (let i = 0; i < size; i++) value = value * 256 + bytes[littleEndian ? size - 1 - i : i]!;
    return value;
  }

  /** Offset from the current position of the first match, or -1. */
  #find(delimiter: number | Uint8Array): number {
    if (typeof delimiter !== 'number' && !(delimiter instanceof Uint8Array)) {
      throw new InvalidArgumentTypeError('delimiter', delimiter, 'a byte or a Uint8Array');
    }
    const first = typeof delimiter === 'number' ? delimiter : delimiter[0];
    if (first === undefined) return 0;
    let segment = this.#segment;
    let index = this.#index;
    let end = this.#segmentEnd;
    let base = 0;
    while (segment !== null) {
      const origin = index;
      let at = index;
      while (at < end) {
        const found = segment.buffer.indexOf(first, at);
        if (found === -1 || found >= end) break;
        const offset = base + (found - origin);
        if (typeof delimiter === 'number' || this.#matchesAt(offset, delimiter)) return offset;
        at = found + 1;
      }
      if (segment === this.sequence.endSegment) break;
      base += end - origin;
      segment = segment.next;
      index = 0;
      end = this.#endOf(segment);
    }
    return -1;
  }

  #matchesAt(offset: number, bytes: Uint8Array): boolean {
    if (offset + bytes.length > this.remaining) return false;
    for (let i = 1; i < bytes.length; i++) if (this.tryPeek(offset + i) !== bytes[i]) return false;
    return true;
  }

  #endOf(segment: SequenceSegment | null): number {
    if (segment === null) return 0;
    return segment === this.sequence.endSegment ? this.sequence.endIndex : segment.length;
  }

  /** Steps over exhausted and empty segments, but never past the sequence's end segment. */
  #skipExhausted(): void {
    while (this.#segment !== null && this.#index === this.#segmentEnd && this.#segment !== this.sequence.endSegment) {
      const next: SequenceSegment | null = this.#segment.next;
      if (next === null) return;
      this.#segment = next;
      this.#index = 0;
      this.#segmentEnd = this.#endOf(next);
    }
  }
}
