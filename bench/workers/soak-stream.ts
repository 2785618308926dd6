// The soak's byte stream: a seeded pseudo-random function of the absolute stream offset, so the
// writer generates it and the reader regenerates it independently, and any run of bytes can be
// regenerated again (a re-presented, partially consumed tail is checked again; a mismatch is located
// by searching the stream around it). Both sides work in 64 KiB blocks of 32-bit words.

/** Bytes generated per block; a piece of a chunk never spans more. */
const kBlockBytes = 65536;
const kBlockWords = kBlockBytes / 4;
const kWordsPerEpoch = 2 ** 32;
/** How many bytes of received data a mismatch is searched for in the expected stream, at most and at least. */
export const kNeedleBytes = 16;
const kMinNeedleBytes = 8;
/** How far around a mismatch its received bytes are searched for in the expected stream. */
const kSearchWindow = 64 * 1024 * 1024;
/** The search proceeds outward in steps of this many bytes on each side. */
const kSearchChunk = 1024 * 1024;

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across threads. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Where received bytes that differ from the stream were found in it, relative to where they should be. */
export interface MismatchReport {
  /** Absolute stream offset of the first byte that differs. */
  readonly offset: number;
  readonly expected: string;
  readonly received: string;
  /** lost: the received bytes appear later in the stream; duplicated: earlier; corrupted: nowhere near. */
  readonly kind: 'lost' | 'duplicated' | 'corrupted';
  /** Bytes skipped (lost) or repeated (duplicated); 0 when corrupted. */
  readonly distance: number;
}

export class ByteStream {
  readonly #seed: number;
  readonly #words = new Uint32Array(kBlockWords + 1);
  readonly #bytes = new Uint8Array(this.#words.buffer);
  #search: Uint8Array | undefined;

  constructor(seed: number) {
    this.#seed = seed >>> 0;
  }

  /** Writes the stream bytes at [offset, offset + target.length) into target. */
  fill(target: Uint8Array, offset: number): void {
    for (let done = 0; done < target.length;) {
      const count = Math.min(kBlockBytes, target.length - done);
      target.set(this.#expected(offset + done, count), done);
      done += count;
    }
  }

  /** Index in `chunk` of its first byte that differs from the stream at `offset`, or -1. */
  firstMismatch(chunk: Uint8Array, offset: number): number {
    for (let done = 0; done < chunk.length;) {
      const count = Math.min(kBlockBytes, chunk.length - done);
      const expected = this.#expected(offset + done, count);
      const received = chunk.subarray(done, done + count);
      if (Buffer.compare(expected, received) !== 0) {
        for (let i = 0; i < count; i++) if (expected[i] !== received[i]) return done + i;
      }
      done += count;
    }
    return -1;
  }

  /**
   * Describes received bytes that differ from the stream at `at` (pass up to kNeedleBytes of them,
   * from the first that differs): where nearest they appear in the stream, up to kSearchWindow away.
   */
  describe(received: Uint8Array, at: number): MismatchReport {
    const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
    const expected = hex(this.#expected(at, received.length));
    // Too few bytes to place them anywhere with confidence: called corrupted.
    const distance = received.length >= kMinNeedleBytes ? this.#nearest(received, at) : 0;
    if (distance === 0) return { offset: at, expected, received: hex(received), kind: 'corrupted', distance: 0 };
    return { offset: at, expected, received: hex(received), kind: distance > 0 ? 'lost' : 'duplicated', distance: Math.abs(distance) };
  }

  /**
   * The offset from `at` of the nearest other place where `needle` is in the stream, or 0. Searches
   * outward a chunk at a time on both sides, so the cost follows the distance (a few lost KiB cost
   * a chunk, not the whole window).
   */
  #nearest(needle: Uint8Array, at: number): number {
    const scratch = (this.#search ??= new Uint8Array(kSearchChunk + kNeedleBytes));
    for (let k = 0; k * kSearchChunk < kSearchWindow; k++) {
      let best = 0;
      const scan = (from: number, starts: number): void => {
        if (starts <= 0) return;
        const hay = scratch.subarray(0, starts + needle.length - 1);
        this.fill(hay, from);
        const view = Buffer.from(hay.buffer, hay.byteOffset, hay.length);
        for (let i = view.indexOf(needle); i >= 0; i = view.indexOf(needle, i + 1)) {
          const distance = from + i - at;
          if (distance !== 0 && (best === 0 || Math.abs(distance) < Math.abs(best))) best = distance;
        }
      };
      scan(at + k * kSearchChunk, kSearchChunk);
      const back = Math.max(0, at - (k + 1) * kSearchChunk);
      scan(back, at - k * kSearchChunk - back);
      if (best !== 0) return best;
    }
    return 0;
  }

  /** A view of the stream bytes at [offset, offset + count), count <= one block; valid until the next call. */
  #expected(offset: number, count: number): Uint8Array {
    const lead = offset % 4;
    const firstWord = (offset - lead) / 4;
    const words = Math.ceil((lead + count) / 4);
    const out = this.#words;
    let w = 0;
    while (w < words) {
      // Word indexes past 2^32 (16 GiB) take a key of their own epoch, so the stream never repeats.
      const index = firstWord + w;
      const epoch = Math.floor(index / kWordsPerEpoch);
      const key = fmix32(this.#seed ^ fmix32(epoch + 0x632be5ab));
      const low = index - epoch * kWordsPerEpoch;
      const run = Math.min(words - w, kWordsPerEpoch - low);
      for (let i = 0; i < run; i++) out[w + i] = fmix32(Math.imul((low + i) | 0, 0x9e3779b1) ^ key);
      w += run;
    }
    return this.#bytes.subarray(lead, lead + count);
  }
}
