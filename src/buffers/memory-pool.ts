import { validateInteger } from '../errors/index.js';

export interface MemoryPoolOptions {
  /** The largest block the pool keeps; larger requests get a fresh, unpooled block. Default 1 MiB. */
  maxBufferSize?: number;
  /** How many free blocks of each size the pool keeps. Default 64. */
  maxBlocksPerSize?: number;
}

const kMinimumBlock = 16;
const kMaxSize = 2 ** 32;

/** @internal How the one that rented a block gives it back whole (see `MemoryPool#[kReturnRented]`). */
export const kReturnRented = Symbol('returnRented');

/**
 * A bounded pool of byte blocks. Blocks are sized in powers of two (at least 16 bytes); `rent(n)`
 * returns a block of at least `n` bytes. Returned blocks are kept per size up to a bound, the rest are
 * left to the garbage collector, so the pool never grows without limit.
 */
export class MemoryPool {
  static readonly shared: MemoryPool = new MemoryPool();

  readonly maxBufferSize: number;
  readonly maxBlocksPerSize: number;
  readonly #free: Uint8Array[][] = [];

  constructor(options: MemoryPoolOptions = {}) {
    this.maxBufferSize = validateInteger('maxBufferSize', options.maxBufferSize ?? 1 << 20, 1, 1 << 30);
    this.maxBlocksPerSize = validateInteger('maxBlocksPerSize', options.maxBlocksPerSize ?? 64, 0);
  }

  /** A block of at least `minimumSize` bytes (its contents are not zeroed). */
  rent(minimumSize: number): Uint8Array {
    if (!(minimumSize >= 0 && minimumSize <= kMaxSize && Number.isInteger(minimumSize))) validateInteger('minimumSize', minimumSize, 0, kMaxSize);
    if (minimumSize > this.maxBufferSize) return allocate(minimumSize);
    const size = Math.max(kMinimumBlock, nextPowerOfTwo(minimumSize));
    const bucket = this.#free[bucketOf(size)];
    const block = bucket?.pop();
    return block ?? allocate(size);
  }

  /** Hands a block back. Blocks of sizes the pool does not keep are dropped. */
  return(block: Uint8Array): void {
    const size = block.byteLength;
    if (block.byteOffset !== 0 || block.buffer.byteLength !== size) return;
    if (size < kMinimumBlock || size > this.maxBufferSize || (size & (size - 1)) !== 0) return;
    this.#keep(block, size);
  }

  /**
   * @internal A block `rent` handed out, given back whole by the one that rented it (a pipe's
   * segment). It skips the checks `return` makes of a block of unknown origin (reading a typed
   * array's `buffer` costs more than the rest of a pipe's write): only its size says whether this pool keeps it.
   */
  [kReturnRented](block: Uint8Array): void {
    // A `return` of a subclass or set on the instance sees every block.
    if (this.return !== ownReturn) {
      this.return(block);
      return;
    }
    const size = block.length;
    if (size >= kMinimumBlock && size <= this.maxBufferSize && (size & (size - 1)) === 0) this.#keep(block, size);
  }

  #keep(block: Uint8Array, size: number): void {
    const bucket = (this.#free[bucketOf(size)] ??= []);
    if (bucket.length < this.maxBlocksPerSize) bucket.push(block);
  }
}

function allocate(size: number): Uint8Array {
  // Not zeroed, as a pool's blocks never are: the writer overwrites what it hands out.
  const slab = Buffer.allocUnsafeSlow(size);
  return new Uint8Array(slab.buffer, slab.byteOffset, size);
}

function nextPowerOfTwo(n: number): number {
  // n <= 2^30 here (maxBufferSize is at most 2^30), so 32-bit arithmetic is exact.
  return n <= 1 ? 1 : 1 << (32 - Math.clz32(n - 1));
}

function bucketOf(size: number): number {
  return 31 - Math.clz32(size);
}

const ownReturn = MemoryPool.prototype.return;
