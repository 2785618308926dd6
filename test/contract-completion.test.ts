import { describe, expect, it } from 'vitest';
import { Pipe } from '../dist/src/index.js';
import { completionCases } from './contract/completion.contract.js';
import { describeContract } from './contract/harness.js';
import { bytes, settledValue, TrackingPool, writeEmpty } from './helpers.js';

// Group F and the ring parity case on completing during a write, over every implementation;
// beside it Pipe's pooled memory on completion (F9).

describeContract('F: completion and errors', completionCases);

describe('F9 on Pipe: pooled memory on completion', () => {
  it('F9a memory is released only when both sides have completed', async () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool });
    writeEmpty(pipe.writer, 4094);
    writeEmpty(pipe.writer, 4094);
    await pipe.writer.flush();
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(8188);
    expect(result.buffer.isSingleSegment).toBe(false);
    expect(pool.currentlyRentedBlocks).toBe(2);

    pipe.reader.complete();
    expect(pool.currentlyRentedBlocks).toBe(2);
    expect(pool.disposedBlocks).toBe(0);

    pipe.writer.complete();
    expect(pool.currentlyRentedBlocks).toBe(0);
    expect(pool.disposedBlocks).toBe(2);
  });

  it('F9b completing both sides returns memory exactly once, even when completed again', async () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool });
    await pipe.writer.write(bytes(1));
    pipe.writer.complete();
    pipe.reader.complete();
    expect(pool.disposedBlocks).toBe(1);
    expect(pool.currentlyRentedBlocks).toBe(0);
    // TrackingPool throws on a double return; completing again must not return anything.
    pipe.writer.complete();
    pipe.reader.complete();
    expect(pool.disposedBlocks).toBe(1);
    expect(pool.currentlyRentedBlocks).toBe(0);
  });

  it('F9c a write head that was only rented (getMemory, no advance) is returned on completion', () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool });
    pipe.writer.getMemory(512);
    expect(pool.currentlyRentedBlocks).toBe(1);
    pipe.writer.complete();
    pipe.reader.complete();
    expect(pool.disposedBlocks).toBe(1);
    expect(pool.currentlyRentedBlocks).toBe(0);
  });
});
