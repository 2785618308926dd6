import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createWriter, Pipe, SharedPipe } from '../dist/src/index.js';
import { expectSameBytes, randomData, TrackingPool, within } from './helpers.js';

// What write(data, { transfer: true }) does with the buffer, per writer (the contract cases T1–T7
// hold for all of them): the Pipe keeps it as a segment, createWriter passes it on, a ring copies it.

describe('T8–T11 where a transferred buffer goes', () => {
  it('T8 Pipe: the reader reads the very buffer handed over, in place; the pipe writes nothing around it and pools nothing of it', async () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool, pauseWriterThreshold: 0 });
    // A view over the middle of a larger ArrayBuffer: the bytes around it must stay as they are.
    const backing = new Uint8Array(10_000).fill(0xee);
    const view = backing.subarray(1000, 9000);
    view.set(randomData(8, view.length));
    const expected = Uint8Array.from(view);
    const before = Uint8Array.from(backing);

    await within(pipe.writer.write(Uint8Array.of(1, 2, 3)));
    await within(pipe.writer.write(view, { transfer: true }));
    // The writer goes on after the handoff, in pool memory of its own.
    const memory = pipe.writer.getMemory(100);
    expect(memory.buffer).not.toBe(backing.buffer);
    memory.fill(7, 0, 100);
    pipe.writer.advance(100);
    await within(pipe.writer.write(new Uint8Array(50).fill(9)));

    const result = await within(pipe.reader.read());
    const segments = [...result.buffer];
    expect(segments.map((s) => s.length)).toEqual([3, view.length, 150]);
    // The whole transferred segment is the object itself, not a copy and not a new view.
    expect(segments[1]).toBe(view);
    expectSameBytes(segments[1]!, expected);
    expect(segments[2]!.buffer).not.toBe(backing.buffer);
    // Consume part of it: the next read starts inside the same memory.
    pipe.reader.advanceTo(result.buffer.getPosition(3 + 10));
    const rest = await within(pipe.reader.read());
    const first = rest.buffer.first;
    expect(first.buffer).toBe(backing.buffer);
    expect(first.byteOffset).toBe(view.byteOffset + 10);
    pipe.reader.advanceTo(rest.buffer.end);

    expectSameBytes(backing, before, 'the handed-over buffer and the bytes around it');
    pipe.writer.complete();
    pipe.reader.complete();
    // Every pooled block went back, and only those: TrackingPool throws for a block it never rented.
    expect(pool.currentlyRentedBlocks).toBe(0);
  });

  it('T9 Pipe: a transfer into a fresh pipe or onto an untouched head becomes the first segment; a reset pipe takes transfers again', async () => {
    const pool = new TrackingPool();
    const pipe = new Pipe({ pool });
    const a = randomData(1, 500);
    // getMemory without advance leaves an empty head: the transfer takes its place.
    pipe.writer.getMemory(10);
    await within(pipe.writer.write(a, { transfer: true }));
    const result = await within(pipe.reader.read());
    expect(result.buffer.isSingleSegment).toBe(true);
    expect(result.buffer.first).toBe(a);
    pipe.reader.advanceTo(result.buffer.end);
    expect(pool.currentlyRentedBlocks).toBe(0);

    pipe.writer.complete();
    pipe.reader.complete();
    pipe.reset();
    const b = randomData(2, 300);
    await within(pipe.writer.write(b, { transfer: true }));
    const again = await within(pipe.reader.read());
    expect(again.buffer.first).toBe(b);
    pipe.reader.advanceTo(again.buffer.end);
  });

  it('T10 createWriter: the destination is given the very buffer, after the advanced bytes as a chunk of their own', async () => {
    const chunks: Uint8Array[] = [];
    const sink = new Writable({
      write(chunk: Uint8Array, _encoding, callback) {
        chunks.push(chunk);
        callback();
      },
    });
    const writer = createWriter(sink);
    const memory = writer.getMemory(4);
    memory.set([1, 2, 3, 4]);
    writer.advance(4);
    const handed = randomData(3, 64 * 1024);
    expect(await within(writer.write(handed, { transfer: true }))).toEqual({ isCanceled: false, isCompleted: false });
    expect(chunks.length).toBe(2);
    expect(Array.from(chunks[0]!)).toEqual([1, 2, 3, 4]);
    // A Writable wraps a Uint8Array in a Buffer: a new object over the same memory, no copy.
    expect(chunks[1]!.buffer).toBe(handed.buffer);
    expect(chunks[1]!.byteOffset).toBe(handed.byteOffset);
    expect(chunks[1]!.length).toBe(handed.length);
    writer.complete();
  });

  it('T11 SharedPipe: a transfer is copied into the ring, the floor for memory another thread cannot see', async () => {
    const pipe = new SharedPipe({ capacity: 1 << 16 });
    const handed = randomData(4, 1000);
    const expected = Uint8Array.from(handed);
    await within(pipe.writer.write(handed, { transfer: true }));
    // Nothing of the caller's buffer is kept: changing it now changes nothing the reader sees.
    handed.fill(0);
    const result = await within(pipe.reader.read());
    expect(result.buffer.first.buffer).not.toBe(handed.buffer);
    expectSameBytes(result.buffer.toUint8Array(), expected);
    pipe.reader.advanceTo(result.buffer.end);
    pipe.writer.complete();
    pipe.reader.complete();
  });
});
