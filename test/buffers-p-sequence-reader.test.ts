import { describe, expect, it } from 'vitest';
import { ReadOnlySequence, SequencePosition, SequenceReader } from '../dist/src/index.js';
import { ascii, bytes } from './helpers.js';

// ---- local helpers -------------------------------------------------------------------------------

function chainOf(sequence: ReadOnlySequence): any[] {
  const segments: any[] = [];
  for (let s = (sequence.start as any).segment; s !== null && s !== undefined; s = s.next) segments.push(s);
  return segments;
}

/** .NET's `new ReadOnlySequence(s1, i1, s2, i2)` (internal constructor). */
function over(startSegment: unknown, startIndex: number, endSegment: unknown, endIndex: number): ReadOnlySequence {
  return new (ReadOnlySequence as any)(startSegment, startIndex, endSegment, endIndex);
}

function expectArgumentError(fn: () => unknown, argument?: string): void {
  let error: any;
  try {
    fn();
  } catch (caught) {
    error = caught;
  }
  expect(error, 'expected a RangeError').toBeInstanceOf(RangeError);
  expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
  if (argument !== undefined) expect(error.argument).toBe(argument);
}

/** Every way to cut `data` into two chunks, plus one byte per chunk with empty chunks around each. */
function segmentations(data: Uint8Array): Array<[string, ReadOnlySequence]> {
  const result: Array<[string, ReadOnlySequence]> = [['single segment', ReadOnlySequence.from(data.slice())]];
  for (let cut = 0; cut <= data.length; cut++) {
    result.push([`cut at ${cut}`, ReadOnlySequence.from(data.slice(0, cut), data.slice(cut))]);
  }
  const perByte: Uint8Array[] = [new Uint8Array(0)];
  for (const b of data) perByte.push(bytes(b), new Uint8Array(0));
  result.push(['one byte per segment', ReadOnlySequence.from(...perByte)]);
  return result;
}

const sampleChunks = () => [bytes(0), bytes(1, 2), new Uint8Array(0), bytes(3, 4, 5, 6)];

// ---- P9 -----------------------------------------------------------------------------------------

describe('P SequenceReader delimiter search', () => {
  describe.each([true, false])('P9a tryReadTo(byte) over [0],[1,2],[],[3,4,5,6] (advancePastDelimiter %s)', (advancePast) => {
    it.each([0, 1, 2, 3, 4, 5])('P9a reads to %i, then to 6', (i) => {
      const sequence = ReadOnlySequence.from(...sampleChunks());
      expect(sequence.length).toBe(7);
      const reader = new SequenceReader(sequence);

      const first = reader.tryReadTo(i, advancePast);
      expect(first).not.toBeNull();
      expect([...first!.toUint8Array()]).toEqual(Array.from({ length: i }, (_, k) => k));
      expect(reader.consumed).toBe(i + (advancePast ? 1 : 0));
      expect(reader.position.equals(SequencePosition.none)).toBe(false);
      expect((reader.position as any).segment).not.toBeNull();
      expect(reader.tryPeek()).toBe(advancePast ? i + 1 : i);

      const second = reader.tryReadTo(6, advancePast);
      expect(second).not.toBeNull();
      const from = advancePast ? i + 1 : i;
      expect([...second!.toUint8Array()]).toEqual(Array.from({ length: 6 - from }, (_, k) => from + k));
      expect(reader.consumed).toBe(advancePast ? 7 : 6);
      expect(reader.position.equals(SequencePosition.none)).toBe(false);

      // Without advancing past it, the reader still stands on the delimiter and finds it again.
      const third = reader.tryReadTo(6, advancePast);
      if (advancePast) {
        expect(third).toBeNull();
        expect(reader.end).toBe(true);
      } else {
        expect(third).not.toBeNull();
        expect(third!.length).toBe(0);
        expect(reader.consumed).toBe(6);
      }
    });
  });

  describe.each([true, false])('P9b tryReadTo(two-byte delimiter) across segments (advancePastDelimiter %s)', (advancePast) => {
    it('P9b finds [i, i+1] in [0,0],[1,1,2,2],[],[3,3,4,4,5,5,6,6]', () => {
      const sequence = ReadOnlySequence.from(bytes(0, 0), bytes(1, 1, 2, 2), new Uint8Array(0), bytes(3, 3, 4, 4, 5, 5, 6, 6));
      expect(sequence.length).toBe(14);
      for (let i = 0; i < 6; i++) {
        const expected: number[] = [];
        for (let j = 0; j < i * 2; j++) expected.push(j >> 1);
        expected.push(i);
        const reader = new SequenceReader(sequence);
        const result = reader.tryReadTo(bytes(i, i + 1), advancePast);
        expect(result).not.toBeNull();
        expect([...result!.toUint8Array()]).toEqual(expected);
        expect(reader.consumed).toBe(expected.length + (advancePast ? 2 : 0));
      }
    });

    it.each(segmentations(ascii('/*b * b*/')))('P9b finds "*/" in "/*b * b*/" (%s)', (_label, sequence) => {
      const reader = new SequenceReader(sequence);
      const result = reader.tryReadTo(ascii('*/'), advancePast);
      expect(result).not.toBeNull();
      expect(result!.toString()).toBe('/*b * b');
      expect(reader.consumed).toBe(advancePast ? 9 : 7);
      expect(reader.end).toBe(advancePast);
    });
  });

  describe.each([true, false])('P9c not found (advancePastDelimiter %s)', (advancePast) => {
    it('P9c after advancing past the only 255, tryReadTo(255) is null', () => {
      const reader = new SequenceReader(ReadOnlySequence.from(bytes(1), bytes(2, 3, 255)));
      reader.advance(4);
      const before = reader.position;
      expect(reader.tryReadTo(255, advancePast)).toBeNull();
      expect(reader.consumed).toBe(4);
      expect(reader.position.equals(before)).toBe(true);
    });

    it('P9c an absent byte or byte string leaves the position unchanged', () => {
      const sequence = ReadOnlySequence.from(ascii('ab'), new Uint8Array(0), ascii('c\r'), ascii('de\r'));
      const reader = new SequenceReader(sequence);
      reader.advance(1);
      const before = reader.position;
      expect(reader.tryReadTo(0x7a, advancePast)).toBeNull();
      expect(reader.tryReadTo(ascii('\r\n'), advancePast)).toBeNull();
      expect(reader.tryReadTo(ascii('cd'), advancePast)).toBeNull();
      expect(reader.tryAdvanceTo(0x7a, advancePast)).toBe(false);
      expect(reader.consumed).toBe(1);
      expect(reader.position.equals(before)).toBe(true);
      expect(reader.tryRead()).toBe('b'.charCodeAt(0));
    });

    it('P9c a delimiter prefix at the very end is not a match', () => {
      for (const [, sequence] of segmentations(ascii('ab\r'))) {
        const reader = new SequenceReader(sequence);
        expect(reader.tryReadTo(ascii('\r\n'), advancePast)).toBeNull();
        expect(reader.consumed).toBe(0);
      }
    });
  });

  it('P9d a delimiter whose tail lies past the sequence end segment is not found', () => {
    const chain = chainOf(ReadOnlySequence.from(ascii('Hello\r'), ascii('\nWorld')));
    const onlyFirst = over(chain[0], 0, chain[0], 6); // spans only the first segment
    expect(onlyFirst.toString()).toBe('Hello\r');
    const reader = new SequenceReader(onlyFirst);
    expect(reader.tryReadTo(ascii('\r\n'))).toBeNull();
    expect(reader.tryReadTo(0x0a)).toBeNull();
    expect(reader.tryReadTo(ascii('\r\n'), false)).toBeNull();
    expect(reader.consumed).toBe(0);

    // The same range ending at (s2, 0) instead: still nothing of s2 is inside.
    const toNext = ReadOnlySequence.from(ascii('Hello\r'), ascii('\nWorld')).slice(0, 6);
    const reader2 = new SequenceReader(toNext);
    expect(reader2.tryReadTo(ascii('\r\n'))).toBeNull();
    expect(reader2.tryReadTo(0x0a)).toBeNull();
    expect(reader2.tryReadTo(0x57)).toBeNull(); // 'W'
    expect(reader2.consumed).toBe(0);
  });

  it('P9e tryReadExact(2) twice, then null when fewer remain, then 1 succeeds', () => {
    const reader = new SequenceReader(ReadOnlySequence.from(bytes(0), bytes(1, 2), new Uint8Array(0), bytes(3, 4)));
    expect([...reader.tryReadExact(2)!.toUint8Array()]).toEqual([0, 1]);
    expect([...reader.tryReadExact(2)!.toUint8Array()]).toEqual([2, 3]);
    expect(reader.tryReadExact(2)).toBeNull();
    expect(reader.consumed).toBe(4);
    expect([...reader.tryReadExact(1)!.toUint8Array()]).toEqual([4]);
    expect(reader.end).toBe(true);
    expect(reader.tryReadExact(1)).toBeNull();
    expect(reader.tryReadExact(0)!.length).toBe(0);
  });

  it('P9f single-byte delimiters (as byte strings) from a running and a fresh reader', () => {
    const sequence = ReadOnlySequence.from(bytes(1), bytes(2, 3, 4, 5, 6));
    const running = new SequenceReader(sequence);
    const runningByte = new SequenceReader(sequence);
    for (let i = 1; i < 6; i++) {
      const fresh = new SequenceReader(sequence);
      expect(running.tryReadTo(bytes(i))).not.toBeNull();
      expect(fresh.tryReadTo(bytes(i))).not.toBeNull();
      expect(runningByte.tryReadTo(i)).not.toBeNull();
      expect(running.tryPeek()).toBe(i + 1);
      expect(fresh.tryPeek()).toBe(i + 1);
      expect(runningByte.tryPeek()).toBe(i + 1);
    }
  });

  it('P9g tryReadTo returns views over the original segments', () => {
    const a = ascii('key=');
    const b = ascii('value;rest');
    const reader = new SequenceReader(ReadOnlySequence.from(a, b));
    const key = reader.tryReadTo('='.charCodeAt(0))!;
    expect(key.toString()).toBe('key');
    const value = reader.tryReadTo(';'.charCodeAt(0))!;
    expect(value.toString()).toBe('value');
    expect([...value][0]!.buffer).toBe(b.buffer);
    expect(reader.unreadSequence.toString()).toBe('rest');
  });
});

// ---- other SequenceReader behavior -----------------------------------------------------------------

describe('SequenceReader cursor', () => {
  it('tryRead walks every byte across (empty) segments, then returns null', () => {
    const sequence = ReadOnlySequence.from(...sampleChunks());
    const reader = new SequenceReader(sequence);
    expect(reader.length).toBe(7);
    const seen: number[] = [];
    for (let i = 0; i < 7; i++) {
      expect(reader.consumed).toBe(i);
      expect(reader.remaining).toBe(7 - i);
      expect(reader.end).toBe(false);
      seen.push(reader.tryRead()!);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(reader.tryRead()).toBeNull();
    expect(reader.end).toBe(true);
    expect(reader.consumed).toBe(7);
    expect(reader.remaining).toBe(0);
    expect(reader.position.equals(sequence.end)).toBe(true);
  });

  it('a reader over an empty sequence is at its end', () => {
    for (const sequence of [ReadOnlySequence.empty, ReadOnlySequence.from(new Uint8Array(0), new Uint8Array(0))]) {
      const reader = new SequenceReader(sequence);
      expect(reader.end).toBe(true);
      expect(reader.tryRead()).toBeNull();
      expect(reader.tryPeek()).toBeNull();
      expect(reader.tryReadTo(0)).toBeNull();
      expect(reader.unreadSpan.length).toBe(0);
    }
  });

  it('rejects a non-sequence with a TypeError', () => {
    let error: any;
    try {
      new SequenceReader(bytes(1) as any);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('starts at the start of a slice and stops at its end', () => {
    const sequence = ReadOnlySequence.from(bytes(0, 1, 2), bytes(3, 4, 5), bytes(6, 7, 8)).slice(2, 7);
    const reader = new SequenceReader(sequence);
    const seen: number[] = [];
    for (let b = reader.tryRead(); b !== null; b = reader.tryRead()) seen.push(b);
    expect(seen).toEqual([2, 3, 4, 5, 6]);
    expect(reader.position.equals(sequence.end)).toBe(true);
  });

  it('tryPeek looks ahead across segments without moving', () => {
    const reader = new SequenceReader(ReadOnlySequence.from(...sampleChunks()));
    expect(reader.tryPeek()).toBe(0);
    for (let offset = 0; offset < 7; offset++) expect(reader.tryPeek(offset)).toBe(offset);
    expect(reader.tryPeek(7)).toBeNull();
    expect(reader.consumed).toBe(0);
    reader.advance(2);
    expect(reader.tryPeek()).toBe(2);
    expect(reader.tryPeek(1)).toBe(3);
    expect(reader.tryPeek(4)).toBe(6);
    expect(reader.tryPeek(5)).toBeNull();
    expect(reader.consumed).toBe(2);
    expectArgumentError(() => reader.tryPeek(-1), 'offset');
  });

  it('advance moves across segments; beyond remaining throws RangeError and does not move', () => {
    const reader = new SequenceReader(ReadOnlySequence.from(...sampleChunks()));
    reader.advance(0);
    expect(reader.consumed).toBe(0);
    reader.advance(3);
    expect(reader.consumed).toBe(3);
    expect(reader.tryPeek()).toBe(3);
    expectArgumentError(() => reader.advance(5), 'count');
    expectArgumentError(() => reader.advance(-1), 'count');
    expectArgumentError(() => reader.advance(1.5), 'count');
    expect(reader.consumed).toBe(3);
    reader.advance(4);
    expect(reader.end).toBe(true);
  });

  it('rewind moves back across segments; more than consumed throws RangeError', () => {
    const reader = new SequenceReader(ReadOnlySequence.from(...sampleChunks()));
    reader.advance(6);
    reader.rewind(4);
    expect(reader.consumed).toBe(2);
    expect(reader.tryRead()).toBe(2);
    reader.rewind(3);
    expect(reader.consumed).toBe(0);
    expect(reader.tryRead()).toBe(0);
    expectArgumentError(() => reader.rewind(2), 'count');
    expect(reader.consumed).toBe(1);
    reader.rewind(0);
    expect(reader.consumed).toBe(1);
    reader.advance(6);
    reader.rewind(7);
    expect(reader.position.equals(new SequenceReader(reader.sequence).position)).toBe(true);
  });

  it('isNext compares a byte or bytes across segments, advancing only when asked', () => {
    const reader = new SequenceReader(ReadOnlySequence.from(ascii('GE'), new Uint8Array(0), ascii('T /')));
    expect(reader.isNext('G'.charCodeAt(0))).toBe(true);
    expect(reader.isNext('E'.charCodeAt(0))).toBe(false);
    expect(reader.isNext(ascii('GET '))).toBe(true);
    expect(reader.isNext(ascii('GET!'))).toBe(false);
    expect(reader.isNext(ascii('GET /x'))).toBe(false);
    expect(reader.consumed).toBe(0);
    expect(reader.isNext(ascii('POST'), true)).toBe(false);
    expect(reader.consumed).toBe(0);
    expect(reader.isNext(ascii('GET'), true)).toBe(true);
    expect(reader.consumed).toBe(3);
    expect(reader.isNext(' '.charCodeAt(0), true)).toBe(true);
    expect(reader.consumed).toBe(4);
    expect(reader.isNext(ascii('/'))).toBe(true);
    expect(reader.isNext(new Uint8Array(0))).toBe(true);
  });

  it('advancePast skips a run of one byte across segments and returns its length', () => {
    const reader = new SequenceReader(ReadOnlySequence.from(ascii('  '), new Uint8Array(0), ascii(' '), ascii('  x ')));
    expect(reader.advancePast(0x20)).toBe(5);
    expect(reader.consumed).toBe(5);
    expect(reader.tryPeek()).toBe('x'.charCodeAt(0));
    expect(reader.advancePast(0x20)).toBe(0);
    reader.advance(1);
    expect(reader.advancePast(0x20)).toBe(1);
    expect(reader.end).toBe(true);
    expect(reader.advancePast(0x20)).toBe(0);
  });

  it('tryAdvanceTo moves past (or onto) the delimiter', () => {
    const reader = new SequenceReader(ReadOnlySequence.from(ascii('ab'), ascii('c;d'), ascii(';e')));
    expect(reader.tryAdvanceTo(';'.charCodeAt(0))).toBe(true);
    expect(reader.consumed).toBe(4);
    expect(reader.tryAdvanceTo(';'.charCodeAt(0), false)).toBe(true);
    expect(reader.consumed).toBe(5);
    expect(reader.tryPeek()).toBe(';'.charCodeAt(0));
    expect(reader.tryAdvanceTo(ascii(';e'))).toBe(true);
    expect(reader.end).toBe(true);
  });

  it('tryCopyTo copies across segments without advancing; too large a target returns false', () => {
    const reader = new SequenceReader(ReadOnlySequence.from(...sampleChunks()));
    reader.advance(1);
    const target = new Uint8Array(5);
    expect(reader.tryCopyTo(target)).toBe(true);
    expect([...target]).toEqual([1, 2, 3, 4, 5]);
    expect(reader.consumed).toBe(1);
    const all = new Uint8Array(6);
    expect(reader.tryCopyTo(all)).toBe(true);
    expect([...all]).toEqual([1, 2, 3, 4, 5, 6]);
    const tooBig = new Uint8Array(7).fill(9);
    expect(reader.tryCopyTo(tooBig)).toBe(false);
    expect([...tooBig]).toEqual([9, 9, 9, 9, 9, 9, 9]);
    expect(reader.tryCopyTo(new Uint8Array(0))).toBe(true);
    expect(reader.consumed).toBe(1);
  });

  it('unreadSpan is the rest of the current segment; unreadSequence the rest of the sequence', () => {
    const reader = new SequenceReader(ReadOnlySequence.from(ascii('abc'), new Uint8Array(0), ascii('de')));
    expect(Buffer.from(reader.unreadSpan).toString()).toBe('abc');
    reader.advance(1);
    expect(Buffer.from(reader.unreadSpan).toString()).toBe('bc');
    expect(reader.unreadSequence.toString()).toBe('bcde');
    reader.advance(2);
    expect(Buffer.from(reader.unreadSpan).toString()).toBe('de');
    expect(reader.unreadSequence.toString()).toBe('de');
    reader.advance(2);
    expect(reader.unreadSpan.length).toBe(0);
    expect(reader.unreadSequence.length).toBe(0);
  });

  it('position can slice the sequence read so far', () => {
    const sequence = ReadOnlySequence.from(ascii('hel'), ascii('lo wo'), ascii('rld'));
    const reader = new SequenceReader(sequence);
    reader.advance(7);
    expect(sequence.slice(sequence.start, reader.position).toString()).toBe('hello w');
    expect(sequence.getOffset(reader.position)).toBe(7);
  });
});

describe('SequenceReader integer readers', () => {
  // One prefix byte so the integer never starts at a segment start in the single-segment case.
  const data = Uint8Array.from([0xaa, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10]);
  const buffer = Buffer.from(data);

  const readers: Array<[string, number, (r: SequenceReader) => number | bigint | null, number | bigint]> = [
    ['tryReadUInt16BE', 2, (r) => r.tryReadUInt16BE(), buffer.readUInt16BE(1)],
    ['tryReadUInt16LE', 2, (r) => r.tryReadUInt16LE(), buffer.readUInt16LE(1)],
    ['tryReadUInt32BE', 4, (r) => r.tryReadUInt32BE(), buffer.readUInt32BE(1)],
    ['tryReadUInt32LE', 4, (r) => r.tryReadUInt32LE(), buffer.readUInt32LE(1)],
    ['tryReadInt32BE', 4, (r) => r.tryReadInt32BE(), buffer.readInt32BE(1)],
    ['tryReadInt32LE', 4, (r) => r.tryReadInt32LE(), buffer.readInt32LE(1)],
    ['tryReadBigUInt64BE', 8, (r) => r.tryReadBigUInt64BE(), buffer.readBigUInt64BE(1)],
    ['tryReadBigUInt64LE', 8, (r) => r.tryReadBigUInt64LE(), buffer.readBigUInt64LE(1)],
  ];

  it('the expected values are what they look like', () => {
    expect(buffer.readUInt16BE(1)).toBe(0xfedc);
    expect(buffer.readUInt32BE(1)).toBe(0xfedcba98);
    expect(buffer.readInt32BE(1)).toBe(0xfedcba98 | 0);
    expect(buffer.readBigUInt64BE(1)).toBe(0xfedcba9876543210n);
    expect(buffer.readBigUInt64LE(1)).toBe(0x1032547698badcfen);
  });

  describe.each(readers)('%s', (_name, size, read, expected) => {
    it.each(segmentations(data))('reads the value (%s)', (_label, sequence) => {
      const reader = new SequenceReader(sequence);
      expect(reader.tryRead()).toBe(0xaa);
      expect(read(reader)).toBe(expected);
      expect(reader.consumed).toBe(1 + size);
      expect(reader.tryPeek()).toBe(size + 1 < data.length ? data[size + 1] : null);
    });

    it('returns null and consumes nothing when fewer bytes remain (also split)', () => {
      const short = data.subarray(0, size);
      for (const [, sequence] of segmentations(short)) {
        const reader = new SequenceReader(sequence);
        reader.advance(1);
        expect(read(reader)).toBeNull();
        expect(reader.consumed).toBe(1);
        expect(reader.tryPeek()).toBe(short[1]);
      }
    });
  });

  it('UInt32 values with the top bit set are positive; Int32 ones negative', () => {
    const sequence = ReadOnlySequence.from(bytes(0xff, 0xff), bytes(0xff, 0xff, 0x80, 0x00), bytes(0x00, 0x00));
    const reader = new SequenceReader(sequence);
    expect(reader.tryReadUInt32BE()).toBe(0xffffffff);
    expect(reader.tryReadInt32LE()).toBe(0x80);
    const signed = new SequenceReader(sequence);
    expect(signed.tryReadInt32BE()).toBe(-1);
    expect(signed.tryReadInt32BE()).toBe(-0x80000000);
  });

  it('consecutive reads over random splits agree with Buffer', () => {
    const flat = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff);
    const b = Buffer.from(flat);
    for (let seed = 1; seed <= 20; seed++) {
      const chunks: Uint8Array[] = [];
      let at = 0;
      let state = seed;
      while (at < flat.length) {
        state = (state * 1103515245 + 12345) & 0x7fffffff;
        const size = state % 6; // 0..5, zero makes empty segments
        chunks.push(flat.slice(at, at + size));
        at += size;
      }
      const reader = new SequenceReader(ReadOnlySequence.from(...chunks));
      let offset = 0;
      expect(reader.tryReadUInt16BE()).toBe(b.readUInt16BE(offset)); offset += 2;
      expect(reader.tryReadUInt32LE()).toBe(b.readUInt32LE(offset)); offset += 4;
      expect(reader.tryReadBigUInt64BE()).toBe(b.readBigUInt64BE(offset)); offset += 8;
      expect(reader.tryReadInt32BE()).toBe(b.readInt32BE(offset)); offset += 4;
      expect(reader.tryReadUInt16LE()).toBe(b.readUInt16LE(offset)); offset += 2;
      expect(reader.tryReadBigUInt64LE()).toBe(b.readBigUInt64LE(offset)); offset += 8;
      expect(reader.tryReadInt32LE()).toBe(b.readInt32LE(offset)); offset += 4;
      expect(reader.tryReadUInt32BE()).toBe(b.readUInt32BE(offset)); offset += 4;
      expect(reader.tryReadUInt8()).toBe(b.readUInt8(offset)); offset += 1;
      expect(reader.consumed).toBe(offset);
    }
  });
});
