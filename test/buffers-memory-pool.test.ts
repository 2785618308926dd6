import { describe, expect, it } from 'vitest';
import { MemoryPool } from '../dist/src/index.js';

function catchError(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to throw');
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && (n & (n - 1)) === 0;
}

describe('MemoryPool', () => {
  it('rent(n) returns a Uint8Array of at least n bytes', () => {
    const pool = new MemoryPool();
    for (const n of [0, 1, 2, 15, 16, 17, 100, 1000, 4095, 4096, 4097, 65536, 1 << 20]) {
      const block = pool.rent(n);
      expect(block).toBeInstanceOf(Uint8Array);
      expect(block.length).toBeGreaterThanOrEqual(n);
    }
  });

  it('pooled blocks are sized in powers of two (at least 16 bytes), the smallest that fits', () => {
    const pool = new MemoryPool();
    const cases: Array<[number, number]> = [
      [0, 16],
      [1, 16],
      [16, 16],
      [17, 32],
      [100, 128],
      [128, 128],
      [129, 256],
      [4095, 4096],
      [4096, 4096],
      [4097, 8192],
    ];
    for (const [n, size] of cases) {
      const block = pool.rent(n);
      expect(isPowerOfTwo(block.length)).toBe(true);
      expect(block.length).toBe(size);
    }
  });

  it('a returned block is handed out again for a request of the same size class', () => {
    const pool = new MemoryPool();
    const block = pool.rent(100);
    pool.return(block);
    const again = pool.rent(65); // also a 128-byte request
    expect(again).toBe(block);
    // Now rented: the next request of that size gets a different block.
    const other = pool.rent(128);
    expect(other).not.toBe(block);
    expect(other.length).toBe(128);
  });

  it('a returned block is not handed out for another size class', () => {
    const pool = new MemoryPool();
    const block = pool.rent(128);
    pool.return(block);
    expect(pool.rent(256)).not.toBe(block);
    expect(pool.rent(64)).not.toBe(block);
    expect(pool.rent(128)).toBe(block);
  });

  it('every returned block of a size is reused before new ones are allocated', () => {
    const pool = new MemoryPool();
    const blocks = [pool.rent(1000), pool.rent(1000), pool.rent(1000)];
    expect(new Set(blocks).size).toBe(3);
    for (const block of blocks) pool.return(block);
    const again = [pool.rent(1000), pool.rent(1000), pool.rent(1000)];
    expect(new Set(again)).toEqual(new Set(blocks));
    expect(blocks).not.toContain(pool.rent(1000));
  });

  it('keeps at most maxBlocksPerSize free blocks of each size', () => {
    const pool = new MemoryPool({ maxBlocksPerSize: 2 });
    expect(pool.maxBlocksPerSize).toBe(2);
    const blocks = [pool.rent(256), pool.rent(256), pool.rent(256), pool.rent(256)];
    for (const block of blocks) pool.return(block);
    const again = [pool.rent(256), pool.rent(256), pool.rent(256), pool.rent(256)];
    const reused = again.filter((block) => blocks.includes(block));
    expect(reused.length).toBe(2);
    expect(new Set(again).size).toBe(4);
    // The bound is per size: another size class has its own two slots.
    const small = [pool.rent(16), pool.rent(16)];
    for (const block of small) pool.return(block);
    expect(new Set([pool.rent(16), pool.rent(16)])).toEqual(new Set(small));
  });

  it('maxBlocksPerSize 0 pools nothing', () => {
    const pool = new MemoryPool({ maxBlocksPerSize: 0 });
    const block = pool.rent(64);
    pool.return(block);
    expect(pool.rent(64)).not.toBe(block);
  });

  it('requests over maxBufferSize get an unpooled block that is not kept when returned', () => {
    const pool = new MemoryPool({ maxBufferSize: 1024 });
    expect(pool.maxBufferSize).toBe(1024);
    const big = pool.rent(2000);
    expect(big.length).toBeGreaterThanOrEqual(2000);
    pool.return(big);
    expect(pool.rent(2000)).not.toBe(big);
    // Exactly maxBufferSize is still pooled.
    const edge = pool.rent(1024);
    expect(edge.length).toBe(1024);
    pool.return(edge);
    expect(pool.rent(1024)).toBe(edge);
  });

  it('a power-of-two block larger than maxBufferSize is not kept', () => {
    const pool = new MemoryPool({ maxBufferSize: 1024 });
    const block = pool.rent(2048);
    expect(block.length).toBeGreaterThanOrEqual(2048);
    pool.return(block);
    expect(pool.rent(2048)).not.toBe(block);
  });

  it('blocks the pool would never hand out are not kept when returned', () => {
    const pool = new MemoryPool();
    const odd = new Uint8Array(100);
    pool.return(odd);
    expect(pool.rent(100)).not.toBe(odd);
    const backing = new Uint8Array(256);
    const view = backing.subarray(0, 128); // a view into a larger buffer
    pool.return(view);
    expect(pool.rent(128)).not.toBe(view);
  });

  it('defaults: maxBufferSize 1 MiB, maxBlocksPerSize 64', () => {
    const pool = new MemoryPool();
    expect(pool.maxBufferSize).toBe(1 << 20);
    expect(pool.maxBlocksPerSize).toBe(64);
    const empty = new MemoryPool({});
    expect(empty.maxBufferSize).toBe(1 << 20);
  });

  describe('option validation', () => {
    const bad: Array<[string, Record<string, unknown>, 'RangeError' | 'TypeError']> = [
      ['maxBufferSize', { maxBufferSize: 0 }, 'RangeError'],
      ['maxBufferSize', { maxBufferSize: -1 }, 'RangeError'],
      ['maxBufferSize', { maxBufferSize: 1.5 }, 'RangeError'],
      ['maxBufferSize', { maxBufferSize: Number.NaN }, 'RangeError'],
      ['maxBufferSize', { maxBufferSize: 2 ** 30 + 1 }, 'RangeError'],
      ['maxBufferSize', { maxBufferSize: '4096' }, 'TypeError'],
      ['maxBlocksPerSize', { maxBlocksPerSize: -1 }, 'RangeError'],
      ['maxBlocksPerSize', { maxBlocksPerSize: 2.5 }, 'RangeError'],
      ['maxBlocksPerSize', { maxBlocksPerSize: '8' }, 'TypeError'],
    ];

    it.each(bad)('%s: %j throws ERR_INVALID_ARG_VALUE naming the option', (name, options, kind) => {
      const error = catchError(() => new MemoryPool(options as any));
      expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
      expect(error).toBeInstanceOf(kind === 'RangeError' ? RangeError : TypeError);
      expect(error.argument).toBe(name);
      expect(error.message).toContain(name);
    });

    it('accepts the edges: maxBufferSize 1 and 2^30, maxBlocksPerSize 0', () => {
      expect(new MemoryPool({ maxBufferSize: 1 }).maxBufferSize).toBe(1);
      expect(new MemoryPool({ maxBufferSize: 2 ** 30 }).maxBufferSize).toBe(2 ** 30);
      expect(new MemoryPool({ maxBlocksPerSize: 0 }).maxBlocksPerSize).toBe(0);
    });

    it('rent rejects a negative or non-integer size with ERR_INVALID_ARG_VALUE', () => {
      const pool = new MemoryPool();
      for (const n of [-1, 1.5, Number.NaN]) {
        const error = catchError(() => pool.rent(n));
        expect(error).toBeInstanceOf(RangeError);
        expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
        expect(error.argument).toBe('minimumSize');
      }
      const error = catchError(() => pool.rent('10' as any));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    });
  });

  it('MemoryPool.shared is one MemoryPool that rents and reuses blocks', () => {
    expect(MemoryPool.shared).toBeInstanceOf(MemoryPool);
    expect(MemoryPool.shared).toBe(MemoryPool.shared);
    const block = MemoryPool.shared.rent(300);
    expect(block.length).toBeGreaterThanOrEqual(300);
    MemoryPool.shared.return(block);
    expect(MemoryPool.shared.rent(300)).toBe(block);
  });

  it('rented blocks do not share memory with each other', () => {
    const pool = new MemoryPool();
    const a = pool.rent(64);
    const b = pool.rent(64);
    a.fill(1);
    b.fill(2);
    expect(a.every((x) => x === 1)).toBe(true);
    expect(b.every((x) => x === 2)).toBe(true);
  });
});
