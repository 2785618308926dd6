import { expect } from 'vitest';
import { bytes, expectSameBytes, seededRandom } from '../helpers.js';
import { contractCase, expectLength, expectPending, pattern, put, readAll, readBytes, ready, released, thrownBy, within, type ContractCase } from './harness.js';
import { F_BP, F_RW } from './implementations.js';

// Group T: write(data, { transfer: true }), the handoff of a buffer the caller stops using. Every
// writer takes it with the semantics of write(): the same bytes in the same place of the stream, the
// same flush result, backpressure counting them. Whether the pipe keeps the buffer (Pipe,
// createWriter) or copies it (a ring) is beside the contract (pipe-transfer.test.ts).

const kLargest = 16 * 1024;
const kWrites = 40;

export const transferCases: readonly ContractCase[] = [
  contractCase('T1', 'a transferred buffer is read back byte-exact, after the bytes advanced before it and before those written after it', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const stream = pattern(6000);
    put(pipe.writer, stream.slice(0, 300));
    const flushed = await within(pipe.writer.write(stream.slice(300, 5300), { transfer: true }));
    expect(flushed).toEqual({ isCanceled: false, isCompleted: false });
    if (pipe.caps.localWriter) expect(pipe.writer.unflushedBytes).toBe(0);
    // After the handoff the writer goes on in memory of its own: through getMemory, then write().
    put(pipe.writer, stream.slice(5300, 5600));
    await within(pipe.writer.flush());
    await within(pipe.writer.write(stream.slice(5600)));
    await pipe.barrier();
    expectLength(pipe, 6000);
    pipe.writer.complete();
    expectSameBytes(await within(readAll(pipe.reader)), stream);
  }),

  contractCase('T2', 'transferring an empty buffer is an empty write: it does not wake a pending read', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const read = pipe.reader.read();
    expect(await within(pipe.writer.write(new Uint8Array(0), { transfer: true }))).toEqual({ isCanceled: false, isCompleted: false });
    await expectPending(pipe, read);
    expectLength(pipe, 0);
    pipe.writer.complete();
    expect((await within(read)).buffer.length).toBe(0);
  }),

  contractCase('T3', 'backpressure counts transferred bytes: 63 of 64 pass, the 64th waits until the reader examines below resume', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_BP);
    const data = pattern(64);
    await ready(pipe, 'writer', pipe.writer.write(data.slice(0, 63), { transfer: true }));
    expectLength(pipe, 63);
    const flush = pipe.writer.write(data.slice(63), { transfer: true });
    await expectPending(pipe, flush);
    expectLength(pipe, 64);
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expectSameBytes(result.buffer.toUint8Array(), data);
    const at33 = result.buffer.getPosition(33);
    pipe.reader.advanceTo(at33, at33);
    expectLength(pipe, 31);
    expect(await released(pipe, flush)).toEqual({ isCanceled: false, isCompleted: false });
  }),

  contractCase('T4', 'canceling the wait of a transfer cancels the wait, not the data: every byte is still read', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_BP);
    const data = pattern(100);
    const flush = pipe.writer.write(data.slice(), { transfer: true });
    await expectPending(pipe, flush);
    pipe.writer.cancelPendingFlush();
    expect(await released(pipe, flush)).toEqual({ isCanceled: true, isCompleted: false });
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expectSameBytes(result.buffer.toUint8Array(), data);
    pipe.reader.advanceTo(result.buffer.end);
  }),

  contractCase('T5', 'options.transfer must be a boolean and a string cannot be transferred: ERR_INVALID_ARG_VALUE naming the argument, nothing written', ['localWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    put(pipe.writer, bytes(1, 2, 3));
    const notBoolean = thrownBy(() => pipe.writer.write(bytes(4), { transfer: 'yes' as unknown as boolean }));
    expect(notBoolean).toBeInstanceOf(TypeError);
    expect(notBoolean.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(notBoolean.argument).toBe('options.transfer');
    const text = thrownBy(() => pipe.writer.write('text', { transfer: true }));
    expect(text).toBeInstanceOf(TypeError);
    expect(text.code).toBe('ERR_INVALID_ARG_VALUE');
    expect(text.argument).toBe('data');
    expect(pipe.writer.unflushedBytes).toBe(3);
    // transfer: false is the default copy.
    await within(pipe.writer.write(bytes(5), { transfer: false }));
    pipe.writer.complete();
    expect(await within(readAll(pipe.reader))).toEqual(Buffer.from([1, 2, 3, 5]));
  }),

  contractCase('T6', 'after the reader completed, a transfer resolves isCompleted', ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    pipe.reader.complete();
    await pipe.barrier();
    expect(await within(pipe.writer.write(pattern(100), { transfer: true }))).toEqual({ isCanceled: false, isCompleted: true });
  }),

  contractCase('T7', `${kWrites} seeded writes of 1 B to 16 KiB, each transferred or copied, round-trip byte-exact while the reader reads`, ['realWriter'], async (impl) => {
    const pipe = await impl.open(F_RW);
    const random = seededRandom(kWrites);
    const sizes = Array.from({ length: kWrites }, () => 1 + Math.floor(random() * kLargest));
    const total = sizes.reduce((sum, size) => sum + size, 0);
    const stream = pattern(total);
    const reading = readBytes(pipe.reader, total);
    let offset = 0;
    for (const [i, size] of sizes.entries()) {
      // A transferred chunk is a buffer of its own: the pipe may keep it.
      const chunk = stream.slice(offset, offset + size);
      await within(pipe.writer.write(chunk, random() < 0.5 ? { transfer: true } : undefined), undefined, `write ${i + 1} (${size} bytes)`);
      offset += size;
    }
    expectSameBytes(await within(reading), stream);
  }, 20_000),
];
