import { describe, expect, it } from 'vitest';
import { Pipe, PipeScheduler } from '../dist/src/index.js';
import { consumedExaminedCases } from './contract/consumed-examined.contract.js';
import { describeContract, writeEmpty } from './contract/harness.js';
import { F_LEN, pipeImplementation, type ContractPipe } from './contract/implementations.js';
import { TrackingPool, within } from './helpers.js';

// Group B over every implementation; beside it the cases about Pipe's pooled segments.

describeContract('B: consumed vs examined, read completion, length', consumedExaminedCases);

/** A TrackingPool that also remembers which blocks came back. */
class RecordingPool extends TrackingPool {
  readonly returned: Uint8Array[] = [];

  override return(block: Uint8Array): void {
    this.returned.push(block);
    super.return(block);
  }
}

/** With 4096 bytes held: one more block makes 8192 unexamined after examining none, 0 after examining all. */
async function expectAccountingAfterOneMoreBlock(pipe: ContractPipe): Promise<void> {
  writeEmpty(pipe.writer, 4096);
  await within(pipe.writer.flush());
  let result = await within(pipe.reader.read());
  expect(result.buffer.length).toBe(8192);
  pipe.reader.advanceTo(result.buffer.start);
  expect(pipe.length).toBe(8192);

  result = await within(pipe.reader.read());
  pipe.reader.advanceTo(result.buffer.end);
  expect(pipe.length).toBe(0);
}

describe('B on Pipe: pooled segments', () => {
  it('B6a segment reuse does not corrupt the last-examined bookkeeping', async () => {
    const pipe = await pipeImplementation.open(F_LEN);
    writeEmpty(pipe.writer, 4096);
    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());

    let result = await within(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(false);
    const position = result.buffer.slice(result.buffer.start, 4096).end;
    pipe.reader.advanceTo(position);
    expect(pipe.length).toBe(4096);

    // The next block reuses the segment returned above.
    await expectAccountingAfterOneMoreBlock(pipe);
  });
  it('B6b consumed and examined as different positions at the same offset (end of block 1, start of block 2)', async () => {
    const pipe = await pipeImplementation.open(F_LEN);
    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());
    const first = await within(pipe.reader.read());
    const endOfFirstBlock = first.buffer.end; // (block 1, 4096)
    pipe.reader.advanceTo(first.buffer.start);

    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());
    let result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(8192);
    const startOfSecondBlock = result.buffer.getPosition(4096);
    expect(result.buffer.getOffset(endOfFirstBlock)).toBe(4096);
    expect(result.buffer.getOffset(startOfSecondBlock)).toBe(4096);
    expect(endOfFirstBlock.equals(startOfSecondBlock)).toBe(false);

    expect(() => pipe.reader.advanceTo(startOfSecondBlock, endOfFirstBlock)).not.toThrow();
    expect(pipe.length).toBe(4096);

    await expectAccountingAfterOneMoreBlock(pipe);
  });
  it('B6c examined at the second-last block works', async () => {
    const pipe = await pipeImplementation.open(F_LEN);
    writeEmpty(pipe.writer, 4096);
    writeEmpty(pipe.writer, 4096);
    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());

    let result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(12288);
    const endOfFirstBlock = result.buffer.slice(result.buffer.start, 4096).end;
    pipe.reader.advanceTo(endOfFirstBlock, result.buffer.getPosition(8192));
    expect(pipe.length).toBe(4096);

    writeEmpty(pipe.writer, 4096);
    await within(pipe.writer.flush());
    result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(12288);
    pipe.reader.advanceTo(result.buffer.end);
    expect(pipe.length).toBe(0);
  });
  it('B8 consuming up to the write head while a write is active keeps the write head', async () => {
    const pool = new RecordingPool(4096);
    const pipe = new Pipe({ pool, readerScheduler: PipeScheduler.inline, writerScheduler: PipeScheduler.inline });
    for (let i = 0; i < 2; i++) {
      const memory = pipe.writer.getMemory(1);
      memory.fill(i + 1);
      pipe.writer.advance(memory.length);
    }
    await within(pipe.writer.flush());

    const result = await within(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(false);
    const memory = pipe.writer.getMemory(1); // writing is active now
    expect(() => pipe.reader.advanceTo(result.buffer.getPosition(result.buffer.length))).not.toThrow();
    // The write head's block must not have gone back to the pool.
    expect(pool.returned.some((block) => block.buffer === memory.buffer)).toBe(false);
    expect(pool.currentlyRentedBlocks).toBeGreaterThanOrEqual(1);

    memory.fill(0x5a);
    expect(() => pipe.writer.advance(memory.length)).not.toThrow();
    await within(pipe.writer.flush());
    const next = await within(pipe.reader.read());
    expect(next.buffer.length).toBe(memory.length);
    expect(next.buffer.toUint8Array().every((b) => b === 0x5a)).toBe(true);
    pipe.reader.advanceTo(next.buffer.end);
  });
});
