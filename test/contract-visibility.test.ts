import { describe, expect, it } from 'vitest';
import { Pipe } from '../dist/src/index.js';
import { describeContract } from './contract/harness.js';
import { F_PT0, F_RW, pipeImplementation } from './contract/implementations.js';
import { visibilityCases } from './contract/visibility.contract.js';
import { ascii, within } from './helpers.js';

// Group A over every implementation; beside it the cases that are about Pipe's pooled segments.

describeContract('A: write / flush / read visibility', visibilityCases);

describe('A on Pipe: segment-shaped cases', () => {
  it('A4 data spanning two segments is iterated as two memories', async () => {
    const pipe = await pipeImplementation.open(F_RW);
    const blockSize = pipe.writer.getMemory().length;
    const payload = new Uint8Array(blockSize - 5 + 11);
    payload.fill('a'.charCodeAt(0), 0, blockSize - 5);
    payload.set(ascii('Hello World'), blockSize - 5);
    await within(pipe.writer.write(payload));

    const result = await within(pipe.reader.read());
    const buffer = result.buffer;
    expect(buffer.length).toBe(blockSize + 6);
    expect(buffer.isSingleSegment).toBe(false);
    const tail = buffer.slice(blockSize - 5);
    expect(tail.isSingleSegment).toBe(false);
    const parts = [...tail].map((s) => new TextDecoder().decode(s));
    expect(parts).toEqual(['Hello', ' World']);
    expect(() => pipe.reader.advanceTo(buffer.start, buffer.start)).not.toThrow();
  });

  it('A9a a Pipe with the default pool also gives non-empty memory for getMemory(0)', () => {
    expect(new Pipe().writer.getMemory(0).length).toBeGreaterThan(0);
  });

  it('A11b a write of three block lengths round-trips as several segments', async () => {
    const pipe = await pipeImplementation.open(F_PT0);
    const blockLength = pipe.writer.getMemory().length;
    const data = new Uint8Array(blockLength * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    await within(pipe.writer.write(data));
    const result = await within(pipe.reader.read());
    expect(result.buffer.length).toBe(data.length);
    expect(result.buffer.isSingleSegment).toBe(false);
    expect(Buffer.from(result.buffer.toUint8Array()).equals(Buffer.from(data))).toBe(true);
    pipe.reader.advanceTo(result.buffer.end);
  });
});
