import { describe, expect, it } from 'vitest';
import { ReadOnlySequence, SequencePosition } from '../dist/src/index.js';
import { ascii, bytes } from './helpers.js';

// ---- local helpers -------------------------------------------------------------------------------

/** The segment object behind a position (internal; used only for identity checks the cases require). */
function segmentOf(position: SequencePosition): unknown {
  return (position as any).segment;
}

/** The segment chain of a sequence built with `from()`, first to last (internal `next` links). */
function chainOf(sequence: ReadOnlySequence): any[] {
  const segments: any[] = [];
  for (let s = segmentOf(sequence.start) as any; s !== null && s !== undefined; s = s.next) segments.push(s);
  return segments;
}

/** A sequence over an explicit (segment, index) range: .NET's `new ReadOnlySequence(s1, i1, s2, i2)`. */
function over(startSegment: unknown, startIndex: number, endSegment: unknown, endIndex: number): ReadOnlySequence {
  return new (ReadOnlySequence as any)(startSegment, startIndex, endSegment, endIndex);
}

/** .NET's `new SequencePosition(object, integer)`. */
function positionAt(segment: unknown, index: number): SequencePosition {
  return new (SequencePosition as any)(segment, index);
}

function sizesOf(sequence: ReadOnlySequence): number[] {
  return [...sequence].map((chunk) => chunk.length);
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

/** The segmentations .NET's ReadOnlySequenceTests.byte run every case with. */
const factories: Array<[string, (data: Uint8Array) => ReadOnlySequence]> = [
  ['single segment', (data) => ReadOnlySequence.from(Uint8Array.from(data))],
  [
    'single segment inside a larger buffer',
    (data) => {
      const backing = new Uint8Array(data.length + 20).fill(0xee);
      backing.set(data, 10);
      return ReadOnlySequence.from(backing.subarray(10, 10 + data.length));
    },
  ],
  [
    'segment per byte (with empty segments between)',
    (data) => {
      const chunks: Uint8Array[] = [new Uint8Array(0)];
      for (const b of data) chunks.push(bytes(b), new Uint8Array(0));
      return ReadOnlySequence.from(...chunks);
    },
  ],
  [
    'split in three',
    (data) => {
      const chunks: Uint8Array[] = [];
      let start = 0;
      for (let i = 1; i <= 3; i++) {
        const end = Math.floor((data.length * i) / 3);
        chunks.push(data.slice(start, end));
        start = end;
      }
      return ReadOnlySequence.from(...chunks);
    },
  ],
];

function range(from: number, to: number): Uint8Array {
  return Uint8Array.from({ length: to - from }, (_, i) => (from + i) & 0xff);
}

// ---- P ------------------------------------------------------------------------------------------

describe('P ReadOnlySequence semantics', () => {
  it('P1a getPosition at the end of a segment prefers the next (empty) segment', () => {
    const sequence = ReadOnlySequence.from(new Uint8Array(50), new Uint8Array(0));
    const [, s2] = chainOf(sequence);
    for (const position of [sequence.getPosition(50), sequence.getPosition(50, sequence.start)]) {
      expect(segmentOf(position)).toBe(s2);
      expect(position.equals(positionAt(s2, 0))).toBe(true);
      expect(position.equals(sequence.end)).toBe(true);
    }
  });

  it('P1b getPosition does not cross past the end segment into a chained segment', () => {
    const chain = chainOf(ReadOnlySequence.from(new Uint8Array(100), new Uint8Array(100), new Uint8Array(0)));
    const sequence = over(chain[0], 0, chain[1], 100);
    expect(sequence.length).toBe(200);
    for (const position of [sequence.getPosition(200), sequence.getPosition(200, sequence.start)]) {
      expect(segmentOf(position)).toBe(chain[1]);
      expect(position.equals(positionAt(chain[1], 100))).toBe(true);
    }
  });

  it('P1c getPosition(200) over four 100-byte segments lands on (s3, 0) and slice(0, it) has length 200', () => {
    const sequence = ReadOnlySequence.from(new Uint8Array(100), new Uint8Array(100), new Uint8Array(100), new Uint8Array(100));
    const chain = chainOf(sequence);
    for (const position of [sequence.getPosition(200), sequence.getPosition(200, sequence.start)]) {
      expect(segmentOf(position)).toBe(chain[2]);
      expect(position.equals(positionAt(chain[2], 0))).toBe(true);
      expect(sequence.slice(0, position).length).toBe(200);
    }
  });

  it('P1d a slice between positions straddling a boundary counts bytes of both segments', () => {
    // SegmentStartIsConsideredInBoundsCheck: [49] -> [50]
    const sequence = ReadOnlySequence.from(new Uint8Array(49), new Uint8Array(50));
    const sliced = sequence.slice(sequence.getPosition(25), sequence.getPosition(55));
    expect(sliced.length).toBe(30);
    const sliced2 = sequence.slice(sequence.getPosition(25, sequence.start), sequence.getPosition(55, sequence.start));
    expect(sliced2.length).toBe(30);
  });

  it('P2a seeking skips empty segments: [100][0][0][100] getPosition(100) is (s4, 0)', () => {
    const sequence = ReadOnlySequence.from(new Uint8Array(100), new Uint8Array(0), new Uint8Array(0), new Uint8Array(100));
    const chain = chainOf(sequence);
    for (const position of [sequence.getPosition(100), sequence.getPosition(100, sequence.start)]) {
      expect(segmentOf(position)).toBe(chain[3]);
      expect(position.equals(positionAt(chain[3], 0))).toBe(true);
    }
  });

  it('P2b skipping empty segments stops at a sequence end of (s2, 0)', () => {
    const chain = chainOf(ReadOnlySequence.from(new Uint8Array(100), new Uint8Array(0), new Uint8Array(0), new Uint8Array(100)));
    const sequence = over(chain[0], 0, chain[1], 0);
    expect(sequence.length).toBe(100);
    for (const position of [sequence.getPosition(100), sequence.getPosition(100, sequence.start)]) {
      expect(segmentOf(position)).toBe(chain[1]);
      expect(position.equals(positionAt(chain[1], 0))).toBe(true);
    }
    expectArgumentError(() => sequence.getPosition(150, sequence.start));
    expectArgumentError(() => sequence.getPosition(250, sequence.start));
    expectArgumentError(() => sequence.getPosition(150));
    expectArgumentError(() => sequence.getPosition(250));
  });

  it('P2c the same with extra chained blocks after the end', () => {
    const chain = chainOf(
      ReadOnlySequence.from(
        new Uint8Array(100),
        new Uint8Array(0),
        new Uint8Array(0),
        new Uint8Array(100),
        new Uint8Array(0),
        new Uint8Array(100),
      ),
    );
    const sequence = over(chain[0], 0, chain[1], 0);
    for (const position of [sequence.getPosition(100), sequence.getPosition(100, sequence.start)]) {
      expect(segmentOf(position)).toBe(chain[1]);
      expect(position.equals(positionAt(chain[1], 0))).toBe(true);
    }
    expectArgumentError(() => sequence.getPosition(150, sequence.start));
    expectArgumentError(() => sequence.getPosition(250, sequence.start));
  });

  describe.each(factories)('P3 bounds (%s)', (_name, create) => {
    it('P3a getPosition(101) and getPosition(-1) on 100 bytes throw RangeError', () => {
      const sequence = create(new Uint8Array(100));
      expectArgumentError(() => sequence.getPosition(101));
      expectArgumentError(() => sequence.getPosition(101, sequence.start));
      expectArgumentError(() => sequence.getPosition(-1));
      expectArgumentError(() => sequence.getPosition(-1, sequence.start));
      expectArgumentError(() => sequence.getPosition(1.5));
    });

    it('P3b getPosition(65) leaves 35 bytes after it', () => {
      const sequence = create(range(0, 100));
      for (const position of [sequence.getPosition(65), sequence.getPosition(65, sequence.start)]) {
        const rest = sequence.slice(position);
        expect(rest.length).toBe(35);
        expect(rest.toUint8Array()).toEqual(range(65, 100));
      }
    });

    it('P3c slice(70, start) throws RangeError', () => {
      const sequence = create(new Uint8Array(100));
      expectArgumentError(() => sequence.slice(70, sequence.start));
    });

    it('P3d slice(end) is empty', () => {
      const sequence = create(new Uint8Array(10));
      const tail = sequence.slice(sequence.end);
      expect(tail.isEmpty).toBe(true);
      expect(tail.length).toBe(0);
    });

    it('P3e start equals getPosition(0), end equals getPosition(length), interior positions equal neither', () => {
      const sequence = create(new Uint8Array(100));
      if (sequence.first.length > 0) {
        expect(sequence.start.equals(sequence.getPosition(0))).toBe(true);
        expect(sequence.start.equals(sequence.getPosition(0, sequence.start))).toBe(true);
      } else {
        // A leading empty segment: like .NET's Seek, offset 0 moves on to the next segment's start.
        expect(sequence.getOffset(sequence.getPosition(0))).toBe(0);
      }
      expect(sequence.end.equals(sequence.getPosition(100))).toBe(true);
      expect(sequence.end.equals(sequence.getPosition(100, sequence.start))).toBe(true);
      for (let i = 1; i < 100; i++) {
        const position = sequence.getPosition(i);
        expect(position.equals(sequence.start)).toBe(false);
        expect(position.equals(sequence.end)).toBe(false);
      }
    });

    it('P3f copyTo into a smaller target throws RangeError', () => {
      const sequence = create(new Uint8Array(10));
      expectArgumentError(() => sequence.copyTo(new Uint8Array(5)), 'target');
    });
  });

  describe.each(factories)('P4 slice equivalences (%s)', (_name, create) => {
    const valid: Array<[string, (b: ReadOnlySequence) => ReadOnlySequence]> = [
      ['slice(5)', (b) => b.slice(5)],
      ['slice(0).slice(5)', (b) => b.slice(0).slice(5)],
      ['slice(5, 10)', (b) => b.slice(5, 10)],
      ['slice(pos5, 10)', (b) => b.slice(b.getPosition(5), 10)],
      ['slice(5, pos10)', (b) => b.slice(5, b.getPosition(10))],
      ['slice(pos5, pos10)', (b) => b.slice(b.getPosition(5), b.getPosition(10))],
      ['slice(pos5 from start, 10)', (b) => b.slice(b.getPosition(5, b.start), 10)],
      ['slice(5, pos10 from start)', (b) => b.slice(5, b.getPosition(10, b.start))],
      ['slice(pos5 from start, pos10 from start)', (b) => b.slice(b.getPosition(5, b.start), b.getPosition(10, b.start))],
      ['slice(5, end)', (b) => b.slice(5, b.end)],
    ];

    it.each(valid)('P4a %s gives [5..9]', (_label, fn) => {
      const slice = fn(create(range(0, 10)));
      expect(slice.length).toBe(5);
      expect(slice.toUint8Array()).toEqual(bytes(5, 6, 7, 8, 9));
    });

    // .NET's OutOfRangeSliceCases on 100 bytes, with .NET's (start, length) turned into (start, end = start + length).
    const outOfRange: Array<[string, (b: ReadOnlySequence) => unknown]> = [
      ['slice(-1)', (b) => b.slice(-1)],
      ['slice(-1, -2)', (b) => b.slice(-1, -2)],
      ['slice(-1, -1)', (b) => b.slice(-1, -1)],
      ['slice(-1, 0)', (b) => b.slice(-1, 0)],
      ['slice(-1, 100)', (b) => b.slice(-1, 100)],
      ['slice(-1, start)', (b) => b.slice(-1, b.start)],
      ['slice(-1, end)', (b) => b.slice(-1, b.end)],
      ['slice(0, -1)', (b) => b.slice(0, -1)],
      ['slice(0, 101)', (b) => b.slice(0, 101)],
      ['slice(100, 99)', (b) => b.slice(100, 99)],
      ['slice(100, 101)', (b) => b.slice(100, 101)],
      ['slice(100, start)', (b) => b.slice(100, b.start)],
      ['slice(101)', (b) => b.slice(101)],
      ['slice(101, 100)', (b) => b.slice(101, 100)],
      ['slice(101, 101)', (b) => b.slice(101, 101)],
      ['slice(101, 102)', (b) => b.slice(101, 102)],
      ['slice(101, start)', (b) => b.slice(101, b.start)],
      ['slice(101, end)', (b) => b.slice(101, b.end)],
      ['slice(start, -1)', (b) => b.slice(b.start, -1)],
      ['slice(start, 101)', (b) => b.slice(b.start, 101)],
      ['slice(end, 99)', (b) => b.slice(b.end, 99)],
      ['slice(end, 101)', (b) => b.slice(b.end, 101)],
      ['slice(end, start)', (b) => b.slice(b.end, b.start)],
      ['slice(50, 40)', (b) => b.slice(50, 40)],
      ['slice(0.5)', (b) => b.slice(0.5)],
      ['slice(0, 70).slice(0, end)', (b) => b.slice(0, 70).slice(0, b.end)],
      ['slice(0, 70).slice(start, end)', (b) => b.slice(0, 70).slice(b.start, b.end)],
      ['slice(0, 70).slice(end)', (b) => b.slice(0, 70).slice(b.end)],
      ['slice(0, 70).slice(end, 69)', (b) => b.slice(0, 70).slice(b.end, 69)],
      ['slice(0, 70).slice(end, 70)', (b) => b.slice(0, 70).slice(b.end, 70)],
      ['slice(0, 70).slice(end, 71)', (b) => b.slice(0, 70).slice(b.end, 71)],
      ['slice(0, 70).slice(end, start)', (b) => b.slice(0, 70).slice(b.end, b.start)],
      ['slice(0, 70).slice(end, end)', (b) => b.slice(0, 70).slice(b.end, b.end)],
      ['slice(start, 70).slice(0, end)', (b) => b.slice(b.start, 70).slice(0, b.end)],
      ['slice(start, 70).slice(start, end)', (b) => b.slice(b.start, 70).slice(b.start, b.end)],
      ['slice(start, 70).slice(end)', (b) => b.slice(b.start, 70).slice(b.end)],
      ['slice(start, 70).slice(end, 70)', (b) => b.slice(b.start, 70).slice(b.end, 70)],
      ['slice(start, 70).slice(end, start)', (b) => b.slice(b.start, 70).slice(b.end, b.start)],
      ['slice(start, 70).slice(end, end)', (b) => b.slice(b.start, 70).slice(b.end, b.end)],
      ['slice(30, 70).slice(0, start)', (b) => b.slice(30, 70).slice(0, b.start)],
      ['slice(30, 70).slice(0, end)', (b) => b.slice(30, 70).slice(0, b.end)],
      ['slice(30, 70).slice(start)', (b) => b.slice(30, 70).slice(b.start)],
      ['slice(30, 70).slice(start, -1)', (b) => b.slice(30, 70).slice(b.start, -1)],
      ['slice(30, 70).slice(start, 0)', (b) => b.slice(30, 70).slice(b.start, 0)],
      ['slice(30, 70).slice(start, 1)', (b) => b.slice(30, 70).slice(b.start, 1)],
      ['slice(30, 70).slice(start, 41)', (b) => b.slice(30, 70).slice(b.start, 41)],
      ['slice(30, 70).slice(start, start)', (b) => b.slice(30, 70).slice(b.start, b.start)],
      ['slice(30, 70).slice(start, end)', (b) => b.slice(30, 70).slice(b.start, b.end)],
      ['slice(30, 70).slice(end)', (b) => b.slice(30, 70).slice(b.end)],
      ['slice(30, 70).slice(end, start)', (b) => b.slice(30, 70).slice(b.end, b.start)],
      ['slice(30, 70).slice(end, end)', (b) => b.slice(30, 70).slice(b.end, b.end)],
      ['slice(30, 70).slice(pos20, pos40)', (b) => b.slice(30, 70).slice(b.getPosition(20), b.getPosition(40))],
      ['slice(30, 70).slice(pos40, pos80)', (b) => b.slice(30, 70).slice(b.getPosition(40), b.getPosition(80))],
      ['slice(70, 100).slice(0, start)', (b) => b.slice(70, 100).slice(0, b.start)],
      ['slice(70, 100).slice(end, start)', (b) => b.slice(70, 100).slice(b.end, b.start)],
    ];

    it.each(outOfRange)('P4b %s throws RangeError on 100 bytes', (_label, fn) => {
      const sequence = create(new Uint8Array(100));
      expectArgumentError(() => fn(sequence));
    });

    it('P4c slices of slices keep the right bytes', () => {
      const sequence = create(range(0, 100));
      const middle = sequence.slice(30, 70);
      expect(middle.toUint8Array()).toEqual(range(30, 70));
      expect(middle.slice(10, 20).toUint8Array()).toEqual(range(40, 50));
      expect(middle.slice(middle.getPosition(10), middle.end).toUint8Array()).toEqual(range(40, 70));
      // A position taken from the parent that lies inside the slice is accepted.
      expect(middle.slice(sequence.getPosition(40), sequence.getPosition(50)).toUint8Array()).toEqual(range(40, 50));
      expect(middle.getOffset(sequence.getPosition(45))).toBe(15);
    });
  });

  const positionOfCases: Array<[string, string, number]> = [
    ['a', 'a', 0],
    ['ab', 'a', 0],
    ['aab', 'a', 0],
    ['acab', 'a', 0],
    ['acab', 'c', 1],
    ['abcdefghijklmnopqrstuvwxyz', 'l', 11],
    ['abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz', 'l', 11],
    ['aaaaaaaaaaacmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz', 'm', 12],
    ['aaaaaaaaaaarmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz', 'r', 11],
    ['/localhost:5000/PATH/%2FPATH2/ HTTP/1.1', '%', 21],
    ['/localhost:5000/PATH/%2FPATH2/?key=value HTTP/1.1', '%', 21],
    ['/localhost:5000/PATH/PATH2/?key=value HTTP/1.1', '?', 27],
    ['/localhost:5000/PATH/PATH2/ HTTP/1.1', ' ', 27],
  ];

  describe.each(factories)('P5 positionOf (%s)', (_name, create) => {
    it.each(positionOfCases)('P5a positionOf in %j of %j is at %i', (raw, searchFor, expected) => {
      const sequence = create(ascii(raw));
      const position = sequence.positionOf(searchFor.charCodeAt(0));
      expect(position).not.toBeNull();
      expect(sequence.getOffset(position!)).toBe(expected);
      expect(sequence.slice(position!).toUint8Array()).toEqual(ascii(raw.substring(expected)));
      expect(sequence.indexOf(searchFor.charCodeAt(0))).toBe(expected);
    });

    it('P5b positionOf returns null (indexOf -1) when the byte is absent', () => {
      const sequence = create(bytes(1, 2, 3));
      expect(sequence.positionOf(4)).toBeNull();
      expect(sequence.indexOf(4)).toBe(-1);
    });
  });

  it('P6a iteration over a range ending at (s2, 0) of a full s2 yields [100, 0]', () => {
    const sequence = ReadOnlySequence.from(new Uint8Array(100), new Uint8Array(100)).slice(0, 100);
    const chain = chainOf(sequence);
    expect(sequence.end.equals(positionAt(chain[1], 0))).toBe(true);
    expect(sizesOf(sequence)).toEqual([100, 0]);
    // The same range built directly.
    expect(sizesOf(over(chain[0], 0, chain[1], 0))).toEqual([100, 0]);
  });

  it('P6b iteration over a range ending at (s1, 100) yields [100] even with a segment chained after it', () => {
    const chain = chainOf(ReadOnlySequence.from(new Uint8Array(100), new Uint8Array(100)));
    expect(sizesOf(over(chain[0], 0, chain[0], 100))).toEqual([100]);
  });

  it('P6c iteration over a range ending at (s2, 0) of an empty s2 yields [100, 0]', () => {
    const sequence = ReadOnlySequence.from(new Uint8Array(100), new Uint8Array(0));
    expect(sizesOf(sequence)).toEqual([100, 0]);
  });

  it('P6d iteration stops at the end segment: (s1, 0)..(s3, 100) of five segments yields three', () => {
    const chain = chainOf(ReadOnlySequence.from(...Array.from({ length: 5 }, () => new Uint8Array(100))));
    expect(sizesOf(over(chain[0], 0, chain[2], 100))).toEqual([100, 100, 100]);
  });

  it('P6e iteration yields the empty segments inside the range: four empty segments to (s3, 0) yield three', () => {
    const chain = chainOf(ReadOnlySequence.from(new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0)));
    const sequence = over(chain[0], 0, chain[2], 0);
    expect(sequence.length).toBe(0);
    expect(sizesOf(sequence)).toEqual([0, 0, 0]);
  });

  it('P7 first shrinks by one as each byte is sliced off, segment by segment', () => {
    let sequence = ReadOnlySequence.from(new Uint8Array(100), new Uint8Array(100), new Uint8Array(100), new Uint8Array(200));
    expect(sequence.length).toBe(500);
    let length = 500;
    for (const size of [100, 100, 100, 200]) {
      for (let i = size; i > 0; i--) {
        expect(sequence.first.length).toBe(i);
        sequence = sequence.slice(1);
        length--;
        expect(sequence.length).toBe(length);
      }
    }
    expect(sequence.length).toBe(0);
    expect(sequence.isEmpty).toBe(true);
    expect(sequence.first.length).toBe(0);
  });

  it('P7b first of a single segment shrinks to empty', () => {
    let sequence = ReadOnlySequence.from(new Uint8Array(5));
    for (let i = 5; i > 0; i--) {
      expect(sequence.first.length).toBe(i);
      sequence = sequence.slice(1);
      expect(sequence.length).toBe(i - 1);
    }
    expect(sequence.first.length).toBe(0);
  });

  describe('P8 getOffset', () => {
    // [50] -> [50] -> [0] -> [50]
    const fourSegments = () => ReadOnlySequence.from(new Uint8Array(50), new Uint8Array(50), new Uint8Array(0), new Uint8Array(50));

    it('P8a getOffset(getPosition(i)) is i for every offset (multi and single segment)', () => {
      for (const sequence of [fourSegments(), ReadOnlySequence.from(new Uint8Array(50))]) {
        for (let i = 0; i <= sequence.length; i++) {
          expect(sequence.getOffset(sequence.getPosition(i))).toBe(i);
          expect(sequence.getOffset(sequence.getPosition(i, sequence.start))).toBe(i);
          expect(sequence.slice(0, i).length).toBe(i);
        }
      }
      const sequence = fourSegments();
      expect(sequence.getOffset(sequence.getPosition(25))).toBe(25);
      expect(sequence.getOffset(sequence.getPosition(75))).toBe(75);
      expect(sequence.getOffset(sequence.getPosition(125))).toBe(125);
    });

    it('P8b at a boundary both (s1, 50) and (s2, 0) are offset 50; past an empty segment (s3, 1) throws', () => {
      const sequence = fourSegments();
      const [s1, s2, s3, s4] = chainOf(sequence);
      expect(sequence.getOffset(positionAt(s1, 50))).toBe(50);
      expect(sequence.getOffset(positionAt(s2, 0))).toBe(50);
      expect(sequence.getOffset(positionAt(s2, 1))).toBe(51);
      expect(sequence.getOffset(positionAt(s2, 50))).toBe(100);
      expect(sequence.getOffset(positionAt(s3, 0))).toBe(100);
      expect(sequence.getOffset(positionAt(s4, 1))).toBe(101);
      expectArgumentError(() => sequence.getOffset(positionAt(s3, 1)), 'position');
    });

    it('P8c a position with a null segment is offset 0', () => {
      expect(fourSegments().getOffset(SequencePosition.none)).toBe(0);
      expect(fourSegments().getOffset(positionAt(null, 25))).toBe(0);
      expect(ReadOnlySequence.from(new Uint8Array(50)).getOffset(positionAt(null, 25))).toBe(0);
    });

    it('P8d a position past its segment, or of a segment not in the sequence, throws RangeError', () => {
      const sequence = fourSegments();
      const [, , , s4] = chainOf(sequence);
      expectArgumentError(() => sequence.getOffset(positionAt(s4, 200)), 'position');
      expectArgumentError(() => sequence.getOffset(fourSegments().getPosition(25)), 'position');
      expectArgumentError(() => sequence.getOffset(ReadOnlySequence.from(new Uint8Array(50)).getPosition(25)), 'position');
      const single = ReadOnlySequence.from(new Uint8Array(50));
      expectArgumentError(() => single.getOffset(positionAt(segmentOf(single.start), 75)), 'position');
    });

    it('P8e leading empty segments are all offset 0', () => {
      // [0] -> [0] -> [0] -> [50]
      const sequence = ReadOnlySequence.from(new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(50));
      const [s1, s2, s3, s4] = chainOf(sequence);
      for (const s of [s1, s2, s3, s4]) expect(sequence.getOffset(positionAt(s, 0))).toBe(0);
      for (const s of [s1, s2, s3]) expectArgumentError(() => sequence.getOffset(positionAt(s, 1)));
      for (let i = 0; i <= 50; i++) expect(sequence.getOffset(positionAt(s4, i))).toBe(i);
    });

    it('P8f an empty single segment accepts index 0 only', () => {
      const sequence = ReadOnlySequence.from(new Uint8Array(0));
      const segment = segmentOf(sequence.start);
      expect(sequence.getOffset(positionAt(segment, 0))).toBe(0);
      expectArgumentError(() => sequence.getOffset(positionAt(segment, 1)));
    });
  });
});

// ---- other ReadOnlySequence behavior ---------------------------------------------------------------

describe('ReadOnlySequence basics', () => {
  it('empty and from() with no chunks', () => {
    expect(ReadOnlySequence.empty.length).toBe(0);
    expect(ReadOnlySequence.empty.isEmpty).toBe(true);
    expect(ReadOnlySequence.empty.isSingleSegment).toBe(true);
    expect(ReadOnlySequence.empty.first.length).toBe(0);
    expect(ReadOnlySequence.empty.toUint8Array()).toEqual(new Uint8Array(0));
    expect(ReadOnlySequence.empty.toString()).toBe('');
    expect(ReadOnlySequence.empty.indexOf(0)).toBe(-1);
    expect(ReadOnlySequence.empty.slice(0).length).toBe(0);
    expect(ReadOnlySequence.empty.getOffset(ReadOnlySequence.empty.getPosition(0))).toBe(0);
    expectArgumentError(() => ReadOnlySequence.empty.getPosition(1));
    const none = ReadOnlySequence.from();
    expect(none.length).toBe(0);
    expect([...none]).toEqual([]);
  });

  it('from() rejects a chunk that is not a Uint8Array with a TypeError', () => {
    let error: any;
    try {
      ReadOnlySequence.from(bytes(1), 'nope' as any);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('length, isEmpty, isSingleSegment and first follow the chunks', () => {
    const single = ReadOnlySequence.from(ascii('hello'));
    expect(single.length).toBe(5);
    expect(single.isSingleSegment).toBe(true);
    expect(single.isEmpty).toBe(false);
    expect(single.first).toEqual(ascii('hello'));

    const multi = ReadOnlySequence.from(ascii('he'), new Uint8Array(0), ascii('llo'));
    expect(multi.length).toBe(5);
    expect(multi.isSingleSegment).toBe(false);
    expect(multi.first).toEqual(ascii('he'));
    expect(multi.slice(2).first).toEqual(ascii('llo'));
    expect(multi.slice(3).first).toEqual(ascii('lo'));
    expect(multi.slice(3).isSingleSegment).toBe(true);
  });

  it('from() wraps the chunks without copying them', () => {
    const a = ascii('abc');
    const b = ascii('def');
    const sequence = ReadOnlySequence.from(a, b);
    a[0] = 0x41;
    b[2] = 0x46;
    expect(sequence.toString()).toBe('AbcdeF');
  });

  it('SequencePosition.equals compares segment and index; none equals none', () => {
    const sequence = ReadOnlySequence.from(ascii('abc'), ascii('def'));
    expect(sequence.getPosition(1).equals(sequence.getPosition(1))).toBe(true);
    expect(sequence.getPosition(1).equals(sequence.getPosition(2))).toBe(false);
    expect(sequence.getPosition(4).equals(ReadOnlySequence.from(ascii('abc'), ascii('def')).getPosition(4))).toBe(false);
    expect(SequencePosition.none.equals(SequencePosition.none)).toBe(true);
    expect(SequencePosition.none.equals(sequence.start)).toBe(false);
  });

  it('slice keeps the chunks across boundaries and returns views', () => {
    const a = ascii('hello ');
    const b = ascii('wide ');
    const c = ascii('world');
    const sequence = ReadOnlySequence.from(a, b, c);
    const middle = sequence.slice(3, 13);
    expect(middle.toString()).toBe('lo wide wo');
    expect(middle.length).toBe(10);
    const chunks = [...middle];
    expect(chunks.map((chunk) => chunk.length)).toEqual([3, 5, 2]);
    expect(chunks[0]!.buffer).toBe(a.buffer);
    expect(chunks[1]!.buffer).toBe(b.buffer);
    expect(chunks[2]!.buffer).toBe(c.buffer);
  });
});

describe('ReadOnlySequence iteration', () => {
  it('yields each segment in order as views over the chunks', () => {
    const chunks = [ascii('ab'), new Uint8Array(0), ascii('cde'), ascii('f')];
    const sequence = ReadOnlySequence.from(...chunks);
    const seen = [...sequence];
    expect(seen.map((chunk) => Buffer.from(chunk).toString())).toEqual(['ab', '', 'cde', 'f']);
    seen.forEach((chunk, i) => {
      expect(chunk).toBeInstanceOf(Uint8Array);
      expect(chunk.buffer).toBe(chunks[i]!.buffer);
      expect(chunk.byteOffset).toBe(chunks[i]!.byteOffset);
    });
  });

  it('yields only the bytes of the range for a sliced sequence', () => {
    const backing = range(0, 30);
    const sequence = ReadOnlySequence.from(backing.subarray(0, 10), backing.subarray(10, 20), backing.subarray(20, 30));
    const sliced = sequence.slice(7, 23);
    const seen = [...sliced];
    expect(seen.map((chunk) => [...chunk])).toEqual([
      [7, 8, 9],
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
      [20, 21, 22],
    ]);
    expect([...sequence.slice(12, 15)].map((chunk) => [...chunk])).toEqual([[12, 13, 14]]);
  });

  it('can be iterated more than once', () => {
    const sequence = ReadOnlySequence.from(ascii('ab'), ascii('cd'));
    expect(sizesOf(sequence)).toEqual([2, 2]);
    expect(sizesOf(sequence)).toEqual([2, 2]);
  });
});

describe('ReadOnlySequence copyTo / toUint8Array', () => {
  it('copyTo copies every segment into a target of exactly the length', () => {
    const sequence = ReadOnlySequence.from(bytes(1, 2), new Uint8Array(0), bytes(3), bytes(4, 5, 6));
    const target = new Uint8Array(6);
    sequence.copyTo(target);
    expect(target).toEqual(bytes(1, 2, 3, 4, 5, 6));
  });

  it('copyTo into a larger target writes the first bytes and leaves the rest', () => {
    const sequence = ReadOnlySequence.from(bytes(1, 2), bytes(3));
    const target = new Uint8Array(5).fill(9);
    sequence.copyTo(target);
    expect(target).toEqual(bytes(1, 2, 3, 9, 9));
  });

  it('copyTo of a slice copies only the slice', () => {
    const sequence = ReadOnlySequence.from(bytes(1, 2, 3), bytes(4, 5, 6));
    const target = new Uint8Array(3);
    sequence.slice(2, 5).copyTo(target);
    expect(target).toEqual(bytes(3, 4, 5));
  });

  it('copyTo rejects a target that is not a Uint8Array with a TypeError', () => {
    let error: any;
    try {
      ReadOnlySequence.from(bytes(1)).copyTo([0] as any);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
  });

  it('copyTo into a target one byte short throws RangeError and copies nothing past it', () => {
    const sequence = ReadOnlySequence.from(bytes(1, 2), bytes(3, 4));
    expectArgumentError(() => sequence.copyTo(new Uint8Array(3)), 'target');
  });

  it('toUint8Array returns a copy', () => {
    const a = bytes(1, 2);
    const b = bytes(3, 4);
    const sequence = ReadOnlySequence.from(a, b);
    const copy = sequence.toUint8Array();
    expect(copy).toEqual(bytes(1, 2, 3, 4));
    copy[0] = 99;
    expect(a[0]).toBe(1);
    const single = ReadOnlySequence.from(a);
    const singleCopy = single.toUint8Array();
    expect(singleCopy.buffer).not.toBe(a.buffer);
    singleCopy[1] = 99;
    expect(a[1]).toBe(2);
  });
});

describe('ReadOnlySequence toString', () => {
  it('decodes utf8 by default, single and multi segment', () => {
    expect(ReadOnlySequence.from(ascii('hello')).toString()).toBe('hello');
    expect(ReadOnlySequence.from(ascii('hel'), ascii('lo')).toString()).toBe('hello');
    expect(ReadOnlySequence.from(ascii('hel'), ascii('lo')).toString('utf8')).toBe('hello');
    expect(ReadOnlySequence.from(ascii('hel'), ascii('lo')).toString('utf-8')).toBe('hello');
  });

  it('decodes a UTF-8 character split across segments (every split point)', () => {
    const text = 'a€b😀c';
    const encoded = Buffer.from(text, 'utf8');
    for (let cut = 0; cut <= encoded.length; cut++) {
      const sequence = ReadOnlySequence.from(Uint8Array.from(encoded.subarray(0, cut)), Uint8Array.from(encoded.subarray(cut)));
      expect(sequence.toString()).toBe(text);
    }
    const perByte = ReadOnlySequence.from(...[...encoded].map((b) => bytes(b)));
    expect(perByte.toString('utf8')).toBe(text);
  });

  it('decodes a slice that starts inside a chunk with a non-zero byteOffset', () => {
    const backing = ascii('xxhello world!');
    const sequence = ReadOnlySequence.from(backing.subarray(2, 7), backing.subarray(7, 13));
    expect(sequence.toString()).toBe('hello world');
    expect(sequence.slice(1, 4).toString()).toBe('ell');
    expect(ReadOnlySequence.from(backing.subarray(2, 7)).toString()).toBe('hello');
  });

  it.each(['latin1', 'hex', 'base64', 'ascii', 'utf16le'] as const)('%s matches Buffer#toString across segments', (encoding) => {
    const flat = Uint8Array.from([0x00, 0x41, 0xe9, 0xff, 0x80, 0x7f, 0x10, 0x20, 0xc3, 0xa9]);
    const expected = Buffer.from(flat).toString(encoding);
    expect(ReadOnlySequence.from(flat).toString(encoding)).toBe(expected);
    for (let cut = 0; cut <= flat.length; cut++) {
      const sequence = ReadOnlySequence.from(flat.slice(0, cut), flat.slice(cut));
      expect(sequence.toString(encoding)).toBe(expected);
    }
  });

  it('replaces invalid UTF-8 as Buffer#toString does, across segments', () => {
    const flat = Uint8Array.from([0x61, 0xff, 0xe2, 0x82, 0x62, 0xf0, 0x9f, 0x98]);
    const expected = Buffer.from(flat).toString('utf8');
    for (let cut = 0; cut <= flat.length; cut++) {
      expect(ReadOnlySequence.from(flat.slice(0, cut), flat.slice(cut)).toString()).toBe(expected);
    }
  });

  it('keeps a leading U+FEFF as Buffer#toString does, whatever the segmentation', () => {
    const text = '\uFEFFhi';
    const encoded = Uint8Array.from(Buffer.from(text, 'utf8'));
    expect(ReadOnlySequence.from(encoded).toString()).toBe(text);
    for (let cut = 0; cut <= encoded.length; cut++) {
      expect(ReadOnlySequence.from(encoded.slice(0, cut), encoded.slice(cut)).toString()).toBe(text);
    }
  });
});

describe('ReadOnlySequence indexOf / positionOf', () => {
  it('finds the first occurrence across segments', () => {
    const sequence = ReadOnlySequence.from(bytes(1, 2), new Uint8Array(0), bytes(3, 4), bytes(5, 4));
    expect(sequence.indexOf(1)).toBe(0);
    expect(sequence.indexOf(3)).toBe(2);
    expect(sequence.indexOf(4)).toBe(3);
    expect(sequence.indexOf(5)).toBe(4);
    expect(sequence.indexOf(9)).toBe(-1);
    const position = sequence.positionOf(4)!;
    expect(sequence.getOffset(position)).toBe(3);
    expect(sequence.slice(position).toUint8Array()).toEqual(bytes(4, 5, 4));
  });

  it('searches only inside the range of a slice (not the rest of the chunks)', () => {
    const chunk = bytes(7, 1, 2, 3, 4, 5, 6, 7, 8);
    const single = ReadOnlySequence.from(chunk).slice(1, 6);
    expect(single.indexOf(7)).toBe(-1);
    expect(single.positionOf(7)).toBeNull();
    expect(single.indexOf(6)).toBe(-1);
    expect(single.indexOf(5)).toBe(4);

    const multi = ReadOnlySequence.from(bytes(9, 1, 2), bytes(3, 9), bytes(4, 9)).slice(1, 4);
    expect(multi.toUint8Array()).toEqual(bytes(1, 2, 3));
    expect(multi.indexOf(9)).toBe(-1);
    expect(multi.indexOf(3)).toBe(2);
  });

  it('offsets are relative to the slice start', () => {
    const sequence = ReadOnlySequence.from(ascii('abc'), ascii('def'), ascii('ghi'));
    const sliced = sequence.slice(4);
    expect(sliced.indexOf('g'.charCodeAt(0))).toBe(2);
    expect(sliced.getOffset(sliced.positionOf('h'.charCodeAt(0))!)).toBe(3);
    expect(sequence.getOffset(sliced.positionOf('h'.charCodeAt(0))!)).toBe(7);
  });
});
