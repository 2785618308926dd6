import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadOnlySequence, SequenceReader } from '../dist/src/index.js';

const params = { seed: 42, numRuns: 200 };

interface Segmented {
  flat: Uint8Array;
  chunks: Uint8Array[];
}

/**
 * Cuts `flat` at the given points (repeated points and points at 0 / the end make empty segments).
 * Each chunk is copied into a padded backing buffer so chunks have non-zero byteOffsets.
 */
function split(flat: Uint8Array, cuts: number[], pad: number): Uint8Array[] {
  const points = [...cuts].sort((a, b) => a - b);
  const bounds = [0, ...points, flat.length];
  const chunks: Uint8Array[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const part = flat.subarray(bounds[i]!, bounds[i + 1]!);
    const backing = new Uint8Array(part.length + 2 * pad).fill(0xa5);
    backing.set(part, pad);
    chunks.push(backing.subarray(pad, pad + part.length));
  }
  return chunks;
}

/** Random bytes from a small alphabet (so searches hit) or the full range, split into random segments. */
const segmentedArb: fc.Arbitrary<Segmented> = fc
  .oneof(fc.uint8Array({ maxLength: 48, max: 3 }), fc.uint8Array({ maxLength: 48 }))
  .chain((flat) =>
    fc.record({
      flat: fc.constant(flat),
      cuts: fc.array(fc.integer({ min: 0, max: flat.length }), { maxLength: 10 }),
      pad: fc.integer({ min: 0, max: 3 }),
    }),
  )
  .map(({ flat, cuts, pad }) => ({ flat, chunks: split(flat, cuts, pad) }));

/** A segmented array and a range [start, end) inside it. */
const withRangeArb = segmentedArb.chain((s) =>
  fc
    .tuple(fc.integer({ min: 0, max: s.flat.length }), fc.integer({ min: 0, max: s.flat.length }))
    .map(([a, b]) => ({ ...s, start: Math.min(a, b), end: Math.max(a, b) })),
);

function same(actual: Uint8Array, expected: Uint8Array): void {
  expect([...actual]).toEqual([...expected]);
}

describe('ReadOnlySequence agrees with the flat array (property)', () => {
  it('length, toUint8Array, copyTo and iteration', () => {
    fc.assert(
      fc.property(segmentedArb, ({ flat, chunks }) => {
        const sequence = ReadOnlySequence.from(...chunks);
        expect(sequence.length).toBe(flat.length);
        expect(sequence.isEmpty).toBe(flat.length === 0);
        same(sequence.toUint8Array(), flat);
        const target = new Uint8Array(flat.length + 1).fill(0x5a);
        sequence.copyTo(target);
        same(target.subarray(0, flat.length), flat);
        expect(target[flat.length]).toBe(0x5a);
        const iterated = [...sequence];
        expect(iterated.length).toBe(chunks.length);
        same(Uint8Array.from(iterated.flatMap((chunk) => [...chunk])), flat);
      }),
      params,
    );
  });

  it('slice by offsets and by positions', () => {
    fc.assert(
      fc.property(withRangeArb, ({ flat, chunks, start, end }) => {
        const sequence = ReadOnlySequence.from(...chunks);
        const expected = flat.slice(start, end);
        const byOffsets = sequence.slice(start, end);
        expect(byOffsets.length).toBe(end - start);
        same(byOffsets.toUint8Array(), expected);
        same(sequence.slice(sequence.getPosition(start), sequence.getPosition(end)).toUint8Array(), expected);
        same(sequence.slice(sequence.getPosition(start), end).toUint8Array(), expected);
        same(sequence.slice(start, sequence.getPosition(end)).toUint8Array(), expected);
        same(sequence.slice(start).toUint8Array(), flat.slice(start));
        same(sequence.slice(sequence.getPosition(start)).toUint8Array(), flat.slice(start));
        // Slices of the slice.
        for (let i = 0; i <= expected.length; i++) {
          same(byOffsets.slice(i).toUint8Array(), expected.slice(i));
          same(byOffsets.slice(0, i).toUint8Array(), expected.slice(0, i));
        }
        // Out of range is a RangeError.
        expect(() => sequence.slice(0, flat.length + 1)).toThrow(RangeError);
        expect(() => sequence.slice(flat.length + 1)).toThrow(RangeError);
        if (start < end) expect(() => sequence.slice(end, start)).toThrow(RangeError);
      }),
      params,
    );
  });

  it('getPosition and getOffset', () => {
    fc.assert(
      fc.property(withRangeArb, ({ flat, chunks, start, end }) => {
        const sequence = ReadOnlySequence.from(...chunks);
        for (let i = 0; i <= flat.length; i++) {
          const position = sequence.getPosition(i);
          expect(sequence.getOffset(position)).toBe(i);
          same(sequence.slice(position).toUint8Array(), flat.slice(i));
        }
        expect(sequence.end.equals(sequence.getPosition(flat.length))).toBe(true);
        expect(() => sequence.getPosition(flat.length + 1)).toThrow(RangeError);
        // Relative to an origin, and inside a slice.
        const origin = sequence.getPosition(start);
        for (let j = 0; j <= flat.length - start; j++) {
          expect(sequence.getOffset(sequence.getPosition(j, origin))).toBe(start + j);
        }
        expect(() => sequence.getPosition(flat.length - start + 1, origin)).toThrow(RangeError);
        const sliced = sequence.slice(start, end);
        for (let j = 0; j <= end - start; j++) {
          const position = sliced.getPosition(j);
          expect(sliced.getOffset(position)).toBe(j);
          expect(sequence.getOffset(position)).toBe(start + j);
        }
        expect(() => sliced.getPosition(end - start + 1)).toThrow(RangeError);
      }),
      params,
    );
  });

  it('indexOf and positionOf, on the whole and on a slice', () => {
    fc.assert(
      fc.property(withRangeArb, fc.integer({ min: 0, max: 255 }), ({ flat, chunks, start, end }, extra) => {
        const sequence = ReadOnlySequence.from(...chunks);
        const sliced = sequence.slice(start, end);
        const part = flat.subarray(start, end);
        for (const value of [0, 1, 2, 3, extra]) {
          expect(sequence.indexOf(value)).toBe(flat.indexOf(value));
          const expected = part.indexOf(value);
          expect(sliced.indexOf(value)).toBe(expected);
          const position = sliced.positionOf(value);
          if (expected === -1) {
            expect(position).toBeNull();
          } else {
            expect(position).not.toBeNull();
            expect(sliced.getOffset(position!)).toBe(expected);
            expect(sliced.slice(position!).first[0]).toBe(value);
          }
        }
      }),
      params,
    );
  });

  it('toString in utf8, latin1, hex and base64', () => {
    fc.assert(
      fc.property(withRangeArb, ({ flat, chunks, start, end }) => {
        const sequence = ReadOnlySequence.from(...chunks);
        const sliced = sequence.slice(start, end);
        for (const encoding of ['utf8', 'latin1', 'hex', 'base64'] as const) {
          expect(sequence.toString(encoding)).toBe(Buffer.from(flat).toString(encoding));
          expect(sliced.toString(encoding)).toBe(Buffer.from(flat.subarray(start, end)).toString(encoding));
        }
      }),
      params,
    );
  });
});

describe('SequenceReader agrees with the flat array (property)', () => {
  it('tryReadTo(byte) splits like the flat array, with and without advancing past the delimiter', () => {
    fc.assert(
      fc.property(segmentedArb, fc.integer({ min: 0, max: 3 }), ({ flat, chunks }, delimiter) => {
        const sequence = ReadOnlySequence.from(...chunks);

        const reader = new SequenceReader(sequence);
        let at = 0;
        for (;;) {
          const found = flat.indexOf(delimiter, at);
          const piece = reader.tryReadTo(delimiter);
          if (found === -1) {
            expect(piece).toBeNull();
            expect(reader.consumed).toBe(at);
            break;
          }
          expect(piece).not.toBeNull();
          same(piece!.toUint8Array(), flat.subarray(at, found));
          at = found + 1;
          expect(reader.consumed).toBe(at);
        }
        same(reader.unreadSequence.toUint8Array(), flat.subarray(at));

        const stay = new SequenceReader(sequence);
        const found = flat.indexOf(delimiter);
        const piece = stay.tryReadTo(delimiter, false);
        if (found === -1) {
          expect(piece).toBeNull();
          expect(stay.consumed).toBe(0);
        } else {
          same(piece!.toUint8Array(), flat.subarray(0, found));
          expect(stay.consumed).toBe(found);
          expect(stay.tryPeek()).toBe(delimiter);
          expect(stay.tryReadTo(delimiter, false)!.length).toBe(0);
          expect(stay.consumed).toBe(found);
        }
      }),
      params,
    );
  });

  it('tryReadTo(byte string) finds the same match as Buffer#indexOf', () => {
    fc.assert(
      fc.property(
        segmentedArb,
        fc.uint8Array({ minLength: 1, maxLength: 3, max: 3 }),
        fc.integer({ min: 0, max: 48 }),
        ({ flat, chunks }, delimiter, skip) => {
          const sequence = ReadOnlySequence.from(...chunks);
          const from = Math.min(skip, flat.length);
          const reader = new SequenceReader(sequence);
          reader.advance(from);
          const found = Buffer.from(flat).indexOf(Buffer.from(delimiter), from);
          const piece = reader.tryReadTo(delimiter);
          if (found === -1) {
            expect(piece).toBeNull();
            expect(reader.consumed).toBe(from);
          } else {
            expect(piece).not.toBeNull();
            same(piece!.toUint8Array(), flat.subarray(from, found));
            expect(reader.consumed).toBe(found + delimiter.length);
          }
        },
      ),
      params,
    );
  });

  it('tryReadTo on a slice never finds bytes outside it', () => {
    fc.assert(
      fc.property(withRangeArb, fc.integer({ min: 0, max: 3 }), ({ flat, chunks, start, end }, delimiter) => {
        const sliced = ReadOnlySequence.from(...chunks).slice(start, end);
        const part = flat.subarray(start, end);
        const reader = new SequenceReader(sliced);
        const found = part.indexOf(delimiter);
        const piece = reader.tryReadTo(delimiter);
        if (found === -1) expect(piece).toBeNull();
        else same(piece!.toUint8Array(), part.subarray(0, found));
        // Reading byte by byte gives the slice.
        const whole = new SequenceReader(sliced);
        const seen: number[] = [];
        for (let b = whole.tryRead(); b !== null; b = whole.tryRead()) seen.push(b);
        expect(seen).toEqual([...part]);
      }),
      params,
    );
  });
});

describe('UTF-8 text split across segments (property)', () => {
  // Any code point, with extra weight on multi-byte characters and U+FEFF.
  const unit = fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.constantFrom('é', '€', '😀', '\u{10FFFF}', '\uFEFF', 'a', '\u0000'),
  );
  const textArb = fc.string({ unit, maxLength: 24 });

  it('toString("utf8") equals the text whatever byte boundary it is split at', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        const encoded = Uint8Array.from(Buffer.from(text, 'utf8'));
        expect(ReadOnlySequence.from(encoded).toString('utf8')).toBe(text);
        for (let cut = 0; cut <= encoded.length; cut++) {
          const sequence = ReadOnlySequence.from(encoded.slice(0, cut), encoded.slice(cut));
          expect(sequence.toString('utf8')).toBe(text);
        }
        const perByte = ReadOnlySequence.from(...[...encoded].map((b) => Uint8Array.of(b)));
        expect(perByte.toString()).toBe(text);
      }),
      params,
    );
  });

  it('toString("utf8") equals the text for random segmentations with empty segments', () => {
    fc.assert(
      fc.property(
        textArb.chain((text) => {
          const encoded = Uint8Array.from(Buffer.from(text, 'utf8'));
          return fc.record({
            text: fc.constant(text),
            encoded: fc.constant(encoded),
            cuts: fc.array(fc.integer({ min: 0, max: encoded.length }), { maxLength: 8 }),
          });
        }),
        ({ text, encoded, cuts }) => {
          expect(ReadOnlySequence.from(...split(encoded, cuts, 1)).toString('utf8')).toBe(text);
        },
      ),
      params,
    );
  });
});
