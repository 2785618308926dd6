import { expect } from 'vitest';
import type { FlushResult, ReadResult } from '../../dist/src/index.js';
import { expectSameBytes, peek, quiet, seededRandom } from '../helpers.js';
import { contractCase, expectLength, expectPending, kBoundMs, pattern, readBytes, ready, released, within, writeEmpty, type ContractCase, type ContractPipe } from './harness.js';
import { F_BP, F_PT, type Implementation } from './implementations.js';

// Group D: backpressure with exact byte counts (dotnet-pipelines-behaviors.md, section D), and the
// ring parity cases on when a flush may wait (S1–S4, CASES.md). The counter is length: flushed bytes
// not yet examined. Pausing needs a crossing into `>= pause`; resuming needs a crossing strictly
// below `resume`. A flush waits for nothing else (on a ring, also not for room for the next batch).

/** F_BP with a paused flush of 64 bytes and the reader holding those 64 bytes. */
async function pausedWithRead(impl: Implementation): Promise<{ pipe: ContractPipe; flush: Promise<FlushResult>; result: ReadResult }> {
  const pipe = await impl.open(F_BP);
  writeEmpty(pipe.writer, 64);
  const flush = pipe.writer.flush();
  await expectPending(pipe, flush);
  const result = await ready(pipe, 'reader', pipe.reader.read());
  expect(result.buffer.length).toBe(64);
  expectLength(pipe, 64);
  return { pipe, flush, result };
}

const KiB = 1024;

export const backpressureCases: readonly ContractCase[] = [
  contractCase('D1', 'below the pause threshold a flush completes synchronously', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_BP);
    writeEmpty(pipe.writer, 32);
    const result = await ready(pipe, 'writer', pipe.writer.flush());
    expect(result.isCompleted).toBe(false);
    expect(result.isCanceled).toBe(false);
    expectLength(pipe, 32);
  }),

  contractCase('D1b', 'one byte short of the threshold still does not pause', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_BP);
    writeEmpty(pipe.writer, 63);
    await ready(pipe, 'writer', pipe.writer.flush());
    expectLength(pipe, 63);
  }),

  contractCase('D2', 'reaching the pause threshold exactly makes the flush wait', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_BP);
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(pipe, flush);
    expectLength(pipe, 64);
    expect(pipe.writer.unflushedBytes).toBe(0);
  }),

  contractCase('D2b', 'crossing the threshold in two flushes pauses on the crossing one', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_BP);
    writeEmpty(pipe.writer, 40);
    await ready(pipe, 'writer', pipe.writer.flush());
    writeEmpty(pipe.writer, 30);
    await expectPending(pipe, pipe.writer.flush());
    expectLength(pipe, 70);
  }),

  contractCase('D3', 'consuming below resume releases the writer before advanceTo returns', ['backpressure'], async (impl) => {
    const { pipe, flush, result } = await pausedWithRead(impl);
    const at33 = result.buffer.getPosition(33);
    pipe.reader.advanceTo(at33, at33);
    expectLength(pipe, 31);
    const flushResult = await released(pipe, flush);
    expect(flushResult.isCompleted).toBe(false);
    expect(flushResult.isCanceled).toBe(false);
  }),

  contractCase('D4', 'examining below resume releases the writer even when nothing is consumed', ['backpressure'], async (impl) => {
    const { pipe, flush, result } = await pausedWithRead(impl);
    pipe.reader.advanceTo(result.buffer.start, result.buffer.getPosition(33));
    expectLength(pipe, 31);
    expect((await released(pipe, flush)).isCompleted).toBe(false);
    // Nothing was consumed: the next read still starts at the first byte and holds all 64.
    const again = await ready(pipe, 'reader', pipe.reader.read());
    expect(again.buffer.length).toBe(64);
  }),

  contractCase('D5', 'landing exactly on resume does not release the writer', ['backpressure'], async (impl) => {
    const { pipe, flush, result } = await pausedWithRead(impl);
    const at32 = result.buffer.getPosition(32);
    pipe.reader.advanceTo(at32, at32);
    expectLength(pipe, 32);
    await expectPending(pipe, flush);
  }),

  contractCase('D5b', 'one more examined byte then crosses below resume and releases it', ['backpressure'], async (impl) => {
    const { pipe, flush, result } = await pausedWithRead(impl);
    const at32 = result.buffer.getPosition(32);
    pipe.reader.advanceTo(at32, at32);
    await expectPending(pipe, flush);
    const next = await ready(pipe, 'reader', pipe.reader.read());
    expect(next.buffer.length).toBe(32);
    const one = next.buffer.getPosition(1);
    pipe.reader.advanceTo(one, one);
    expectLength(pipe, 31);
    await released(pipe, flush);
  }),

  contractCase('D6', 'pausing re-arms after a resume', ['backpressure'], async (impl) => {
    const { pipe, flush, result } = await pausedWithRead(impl);
    const at33 = result.buffer.getPosition(33);
    pipe.reader.advanceTo(at33, at33);
    await released(pipe, flush);
    writeEmpty(pipe.writer, 64);
    const second = pipe.writer.flush();
    expectLength(pipe, 95);
    await expectPending(pipe, second);
  }),

  contractCase('D6b', 'a commit that starts at or above the threshold does not pause again (pausing is an edge)', ['backpressure', 'nativeReadAtLeast'], async (impl) => {
    const pipe = await impl.open(F_BP);
    writeEmpty(pipe.writer, 64);
    const first = pipe.writer.flush();
    await expectPending(pipe, first);
    // A waiting readAtLeast releases the paused writer while the length stays at 64 (J7).
    const atLeast = pipe.reader.readAtLeast(200);
    await released(pipe, first);
    await expectPending(pipe, atLeast);
    expectLength(pipe, 64);
    // 64 -> 128: the reader still wants 200, so it is not woken and the writer is not paused.
    writeEmpty(pipe.writer, 64);
    await ready(pipe, 'writer', pipe.writer.flush());
    await expectPending(pipe, atLeast);
    // 128 -> 228 wakes the reader, but the commit started above 64: no new pause.
    writeEmpty(pipe.writer, 100);
    const third = pipe.writer.flush();
    expect((await released(pipe, atLeast)).buffer.length).toBe(228);
    await ready(pipe, 'writer', third);
    expectLength(pipe, 228);
  }),

  contractCase('D7', 'the buffer grows past the pause threshold while the reader only examines, pausing every flush', ['backpressure', 'localWriter'], async (impl) => {
    const pipe = await impl.open(F_BP);
    const pendingAtReturn: string[] = [];

    const writer = quiet((async () => {
      for (let i = 0; i < 5; i++) {
        writeEmpty(pipe.writer, 64);
        const flush = pipe.writer.flush();
        pendingAtReturn.push((await peek(flush)).state);
        await flush;
      }
      pipe.writer.complete();
    })());

    const reader = quiet((async () => {
      const lengths: number[] = [];
      for (;;) {
        const result = await pipe.reader.read();
        lengths.push(result.buffer.length);
        if (result.isCompleted) {
          pipe.reader.advanceTo(result.buffer.end);
          return lengths;
        }
        pipe.reader.advanceTo(result.buffer.start, result.buffer.end);
      }
    })());

    const [, lengths] = await within(Promise.all([writer, reader]), kBoundMs, 'D7 writer and reader');
    expect(pendingAtReturn).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(lengths.at(-1)).toBe(320);
    // Nothing was consumed: each read saw the whole buffer so far, growing by 64.
    for (let i = 1; i < lengths.length; i++) expect(lengths[i]).toBeGreaterThanOrEqual(lengths[i - 1]!);
  }),

  contractCase('D8a', 'completing the reader releases a paused writer with isCompleted', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_BP);
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(pipe, flush);
    pipe.reader.complete();
    expect((await released(pipe, flush)).isCompleted).toBe(true);

    writeEmpty(pipe.writer, 64);
    expect((await ready(pipe, 'writer', pipe.writer.flush())).isCompleted).toBe(true);
  }),

  contractCase('D8b', 'completing the reader after a read without advanceTo releases the writer too', ['backpressure'], async (impl) => {
    const { pipe, flush } = await pausedWithRead(impl);
    await expectPending(pipe, flush);
    pipe.reader.complete();
    expect((await released(pipe, flush)).isCompleted).toBe(true);

    writeEmpty(pipe.writer, 64);
    expect((await ready(pipe, 'writer', pipe.writer.flush())).isCompleted).toBe(true);
  }),

  contractCase('D9', 'pause 0 disables backpressure: 100,000 single-byte flushes all complete synchronously', ['backpressure', 'localWriter'], async (impl) => {
    const pipe = await impl.open({ pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
    const n = 100_000;
    let pendingCount = 0;
    for (let i = 1; i <= n; i++) {
      pipe.writer.getMemory(100);
      pipe.writer.advance(1);
      const flush = pipe.writer.flush();
      if ((await peek(flush)).state !== 'fulfilled') pendingCount++;
      if (i === 1 || i === 65_536 || i === n) expectLength(pipe, i);
    }
    expect(pendingCount).toBe(0);
    expectLength(pipe, n);
    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.buffer.length).toBe(n);
    pipe.reader.advanceTo(result.buffer.end);
    await pipe.barrier();
    expectLength(pipe, 0);
  }, 30_000),

  contractCase('D10a', 'small flushes under the 65/6 thresholds complete synchronously, repeatedly', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 1);
    await ready(pipe, 'writer', pipe.writer.flush());
    writeEmpty(pipe.writer, 1);
    await ready(pipe, 'writer', pipe.writer.flush());
    expectLength(pipe, 2);
  }),

  contractCase('D10b', 'a flush while one is paused throws ERR_PIPE_FLUSH_PENDING; the first completes on drain and the extra byte is not lost', ['backpressure', 'localWriter'], async (impl) => {
    const pipe = await impl.open(F_PT);
    writeEmpty(pipe.writer, 65);
    const first = pipe.writer.flush();
    await expectPending(pipe, first);

    writeEmpty(pipe.writer, 1);
    expect(() => pipe.writer.flush()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_FLUSH_PENDING' }));
    // The throw changed nothing: the first flush still waits and the byte is still unflushed.
    await expectPending(pipe, first);
    expect(pipe.writer.unflushedBytes).toBe(1);
    expectLength(pipe, 65);

    const result = await ready(pipe, 'reader', pipe.reader.read());
    expect(result.buffer.length).toBe(65);
    pipe.reader.advanceTo(result.buffer.end);
    expect((await released(pipe, first)).isCompleted).toBe(false);

    // The next flush carries the extra byte.
    const next = pipe.writer.flush();
    expect(pipe.writer.unflushedBytes).toBe(0);
    await ready(pipe, 'writer', next);
    const rest = await ready(pipe, 'reader', pipe.reader.read());
    expect(rest.buffer.length).toBe(1);
    pipe.reader.advanceTo(rest.buffer.end);
  }),

  contractCase('D11', 'a flush that pauses the writer still wakes a pending read', ['backpressure'], async (impl) => {
    const pipe = await impl.open(F_BP);
    const read = pipe.reader.read();
    await expectPending(pipe, read);
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    expect((await released(pipe, read)).buffer.length).toBe(64);
    await expectPending(pipe, flush);
  }),

  contractCase('D11b', 'after a pausing flush with no read pending, data is ready for tryRead', ['backpressure', 'localReader'], async (impl) => {
    const pipe = await impl.open(F_BP);
    writeEmpty(pipe.writer, 100);
    const flush = pipe.writer.flush();
    await expectPending(pipe, flush);
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    expect(result!.buffer.length).toBe(100);
    pipe.reader.advanceTo(result!.buffer.end);
    await released(pipe, flush);
  }),

  ...[
    { capacity: 128 * KiB, size: Math.ceil(0.6 * 128 * KiB) },
    { capacity: 64 * KiB, size: 40 * KiB },
  ].map(({ capacity, size }) =>
    contractCase('S1', `a write below the pause threshold returns with no reader started, then the read sees it (${size} bytes, pause ${capacity})`, ['realWriter'], async (impl) => {
      const pipe = await impl.open({ capacity, pauseWriterThreshold: capacity });
      const data = pattern(size);
      const flush = await within(pipe.writer.write(data), kBoundMs, `write(${size}) with no reader started`);
      expect(flush).toEqual({ isCanceled: false, isCompleted: false });
      const result = await within(pipe.reader.read());
      expectSameBytes(result.buffer.toUint8Array(), data);
      pipe.reader.advanceTo(result.buffer.end);
    }),
  ),

  contractCase('S1', 'flushes below the pause threshold return with no reader started, batch after batch (32 x 3 KiB, pause 128 KiB)', ['realWriter'], async (impl) => {
    const pipe = await impl.open({ capacity: 128 * KiB, pauseWriterThreshold: 128 * KiB });
    const batch = 3 * KiB;
    for (let i = 0; i < 32; i++) {
      const memory = pipe.writer.getMemory(batch);
      memory.set(pattern(batch, i * batch));
      pipe.writer.advance(batch);
      await within(pipe.writer.flush(), kBoundMs, `flush ${i + 1} with no reader started`);
    }
    const all = await within(readBytes(pipe.reader, 32 * batch));
    expectSameBytes(all, pattern(32 * batch));
  }),

  contractCase('S4', 'await write(600 KiB) into a 1 MiB pipe (pause 1 MiB) completes before any read', ['realWriter'], async (impl) => {
    const pipe = await impl.open({ capacity: 1024 * KiB, pauseWriterThreshold: 1024 * KiB });
    const data = pattern(600 * KiB);
    await within(pipe.writer.write(data), kBoundMs, 'write(600 KiB) with no reader started');
    const all = await within(readBytes(pipe.reader, data.length));
    expectSameBytes(all, data);
  }),

  ...(['consumes the request, then answers', 'answers before it consumes the request'] as const).map((order) =>
    contractCase('S2', `request/response echo over two crossed pipes, 1000 round trips in one thread: the server ${order}`, ['sameThread'], async (impl) => {
      // Messages up to 640 KiB stay below the 1 MiB pause threshold, so no flush may wait.
      const [client, server] = impl.duplexPair!({ capacity: 1024 * KiB, pauseWriterThreshold: 1024 * KiB });
      const answerFirst = order === 'answers before it consumes the request';
      const random = seededRandom(answerFirst ? 2000 : 1000);
      const source = pattern(1024 * KiB, 0, 11);
      const echo = quiet((async () => {
        for (;;) {
          const request = await server.input.read();
          const body = request.buffer.toUint8Array();
          if (!answerFirst) server.input.advanceTo(request.buffer.end);
          if (body.length > 0) await server.output.write(body);
          if (answerFirst) server.input.advanceTo(request.buffer.end);
          if (request.isCompleted) return;
        }
      })());
      for (let i = 0; i < 1000; i++) {
        const size = random() < 0.9 ? 1 + Math.floor(random() * 2 * KiB) : 2 * KiB + Math.floor(random() * 638 * KiB);
        const offset = Math.floor(random() * (source.length - size));
        const message = source.subarray(offset, offset + size);
        await within(client.output.write(message), kBoundMs, `request ${i + 1} (${size} bytes)`);
        const response = await within(readBytes(client.input, size), kBoundMs, `response ${i + 1} (${size} bytes)`);
        expectSameBytes(response, message, `round trip ${i + 1}`);
      }
      client.output.complete();
      await within(echo, kBoundMs, 'the echo loop to end');
    }, 30_000),
  ),

  contractCase('S3', 'readAtLeast above the pause threshold, waiting while the writer is paused, releases it: no deadlock', ['backpressure', 'nativeReadAtLeast'], async (impl) => {
    const pipe = await impl.open(F_BP);
    const data = pattern(320);
    const written = quiet((async () => {
      for (let offset = 0; offset < data.length; offset += 64) await pipe.writer.write(data.subarray(offset, offset + 64));
    })());
    const result = await within(pipe.reader.readAtLeast(256), kBoundMs, 'readAtLeast(256) against a writer paused at 64');
    // A result is valid until the next advanceTo (a reader may rewrite it for its next read): keep the length.
    const got = result.buffer.length;
    expect(got).toBeGreaterThanOrEqual(256);
    expectSameBytes(result.buffer.toUint8Array(), data.subarray(0, got));
    pipe.reader.advanceTo(result.buffer.end);
    // Read the rest while the writer finishes: a later write may cross the threshold again and pause
    // until the reader examines it (where it lands depends on how the two sides interleave).
    const rest = within(readBytes(pipe.reader, data.length - got));
    await within(written, kBoundMs, 'the writer to finish');
    expectSameBytes(await rest, data.subarray(got));
  }),

  contractCase('S3', 'readAtLeast started first: flushes that do not reach its minimum never pause', ['backpressure', 'nativeReadAtLeast'], async (impl) => {
    const pipe = await impl.open(F_BP);
    const atLeast = pipe.reader.readAtLeast(192);
    await expectPending(pipe, atLeast);
    for (let i = 0; i < 2; i++) {
      writeEmpty(pipe.writer, 64);
      expect(await ready(pipe, 'writer', pipe.writer.flush())).toEqual({ isCanceled: false, isCompleted: false });
      await expectPending(pipe, atLeast);
    }
    writeEmpty(pipe.writer, 64);
    const third = pipe.writer.flush();
    expect((await released(pipe, atLeast)).buffer.length).toBe(192);
    await within(third);
  }),
];
