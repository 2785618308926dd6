import { describe, expect, it } from 'vitest';
import { Pipe, type FlushResult, type ReadResult } from '../dist/src/index.js';
import { peek, settledValue, within, writeEmpty } from './helpers.js';

// Group D: backpressure with exact byte counts (dotnet-pipelines-behaviors.md, section D).
// The counter is pipe.length: flushed bytes not yet examined. Pausing needs a crossing into
// `>= pause`; resuming needs a crossing strictly below `resume`.

/** F_BP: pause 64 / resume 32, inline schedulers. */
function bpPipe(): Pipe {
  return new Pipe({ pauseWriterThreshold: 64, resumeWriterThreshold: 32 });
}

/** F_PT: pause 65 / resume 6, inline schedulers. */
function ptPipe(): Pipe {
  return new Pipe({ pauseWriterThreshold: 65, resumeWriterThreshold: 6 });
}

async function expectPending(promise: Promise<unknown>): Promise<void> {
  expect((await peek(promise)).state).toBe('pending');
}

/** F_BP with a paused flush of 64 bytes and the reader holding those 64 bytes. */
async function pausedWithRead(): Promise<{ pipe: Pipe; flush: Promise<FlushResult>; result: ReadResult }> {
  const pipe = bpPipe();
  writeEmpty(pipe.writer, 64);
  const flush = pipe.writer.flush();
  await expectPending(flush);
  const result = await settledValue(pipe.reader.read());
  expect(result.buffer.length).toBe(64);
  expect(pipe.length).toBe(64);
  return { pipe, flush, result };
}

describe('D: backpressure', () => {
  it('D1 below the pause threshold a flush completes synchronously', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 32);
    const flush = pipe.writer.flush();
    const peeked = await peek(flush);
    expect(peeked.state).toBe('fulfilled');
    const result = await flush;
    expect(result.isCompleted).toBe(false);
    expect(result.isCanceled).toBe(false);
    expect(pipe.length).toBe(32);
  });

  it('D1b one byte short of the threshold still does not pause', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 63);
    expect((await peek(pipe.writer.flush())).state).toBe('fulfilled');
    expect(pipe.length).toBe(63);
  });

  it('D2 reaching the pause threshold exactly makes the flush wait', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    expect(pipe.length).toBe(64);
    expect(pipe.writer.unflushedBytes).toBe(0);
  });

  it('D2b crossing the threshold in two flushes pauses on the crossing one', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 40);
    expect((await peek(pipe.writer.flush())).state).toBe('fulfilled');
    writeEmpty(pipe.writer, 30);
    await expectPending(pipe.writer.flush());
    expect(pipe.length).toBe(70);
  });

  it('D3 consuming below resume releases the writer before advanceTo returns', async () => {
    const { pipe, flush, result } = await pausedWithRead();
    const at33 = result.buffer.getPosition(33);
    pipe.reader.advanceTo(at33, at33);
    expect(pipe.length).toBe(31);
    const peeked = await peek(flush);
    expect(peeked.state).toBe('fulfilled');
    const flushResult = await flush;
    expect(flushResult.isCompleted).toBe(false);
    expect(flushResult.isCanceled).toBe(false);
  });

  it('D4 examining below resume releases the writer even when nothing is consumed', async () => {
    const { pipe, flush, result } = await pausedWithRead();
    pipe.reader.advanceTo(result.buffer.start, result.buffer.getPosition(33));
    expect(pipe.length).toBe(31);
    expect((await peek(flush)).state).toBe('fulfilled');
    expect((await flush).isCompleted).toBe(false);
    // Nothing was consumed: the next read still starts at the first byte and holds all 64.
    const again = await settledValue(pipe.reader.read());
    expect(again.buffer.length).toBe(64);
  });

  it('D5 landing exactly on resume does not release the writer', async () => {
    const { pipe, flush, result } = await pausedWithRead();
    const at32 = result.buffer.getPosition(32);
    pipe.reader.advanceTo(at32, at32);
    expect(pipe.length).toBe(32);
    await expectPending(flush);
  });

  it('D5b one more examined byte then crosses below resume and releases it', async () => {
    const { pipe, flush, result } = await pausedWithRead();
    const at32 = result.buffer.getPosition(32);
    pipe.reader.advanceTo(at32, at32);
    await expectPending(flush);
    const next = await settledValue(pipe.reader.read());
    expect(next.buffer.length).toBe(32);
    const one = next.buffer.getPosition(1);
    pipe.reader.advanceTo(one, one);
    expect(pipe.length).toBe(31);
    expect((await peek(flush)).state).toBe('fulfilled');
  });

  it('D6 pausing re-arms after a resume', async () => {
    const { pipe, flush, result } = await pausedWithRead();
    const at33 = result.buffer.getPosition(33);
    pipe.reader.advanceTo(at33, at33);
    expect((await peek(flush)).state).toBe('fulfilled');
    writeEmpty(pipe.writer, 64);
    const second = pipe.writer.flush();
    expect(pipe.length).toBe(95);
    await expectPending(second);
  });

  it('D6b a commit that starts at or above the threshold does not pause again (pausing is an edge)', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const first = pipe.writer.flush();
    await expectPending(first);
    // A waiting readAtLeast releases the paused writer while the length stays at 64 (J7).
    const atLeast = pipe.reader.readAtLeast(200);
    expect((await peek(first)).state).toBe('fulfilled');
    await expectPending(atLeast);
    expect(pipe.length).toBe(64);
    // 64 -> 128: the reader still wants 200, so it is not woken and the writer is not paused.
    writeEmpty(pipe.writer, 64);
    expect((await peek(pipe.writer.flush())).state).toBe('fulfilled');
    await expectPending(atLeast);
    // 128 -> 228 wakes the reader, but the commit started above 64: no new pause.
    writeEmpty(pipe.writer, 100);
    const third = pipe.writer.flush();
    expect((await peek(atLeast)).state).toBe('fulfilled');
    expect((await atLeast).buffer.length).toBe(228);
    expect((await peek(third)).state).toBe('fulfilled');
    expect(pipe.length).toBe(228);
  });

  it('D7 the buffer grows past the pause threshold while the reader only examines, pausing every flush', async () => {
    const pipe = bpPipe();
    const pendingAtReturn: string[] = [];

    const writer = (async () => {
      for (let i = 0; i < 5; i++) {
        writeEmpty(pipe.writer, 64);
        const flush = pipe.writer.flush();
        pendingAtReturn.push((await peek(flush)).state);
        await flush;
      }
      pipe.writer.complete();
    })();

    const reader = (async () => {
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
    })();

    const [, lengths] = await within(Promise.all([writer, reader]), 5_000, 'D7 writer and reader');
    expect(pendingAtReturn).toEqual(['pending', 'pending', 'pending', 'pending', 'pending']);
    expect(lengths.at(-1)).toBe(320);
    // Nothing was consumed: each read saw the whole buffer so far, growing by 64.
    for (let i = 1; i < lengths.length; i++) expect(lengths[i]).toBeGreaterThanOrEqual(lengths[i - 1]!);
  });

  it('D8a completing the reader releases a paused writer with isCompleted', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    pipe.reader.complete();
    const peeked = await peek(flush);
    expect(peeked.state).toBe('fulfilled');
    expect((await flush).isCompleted).toBe(true);

    writeEmpty(pipe.writer, 64);
    const later = pipe.writer.flush();
    expect((await peek(later)).state).toBe('fulfilled');
    expect((await later).isCompleted).toBe(true);
  });

  it('D8b completing the reader after a read without advanceTo releases the writer too', async () => {
    const { pipe, flush } = await pausedWithRead();
    await expectPending(flush);
    pipe.reader.complete();
    expect((await peek(flush)).state).toBe('fulfilled');
    expect((await flush).isCompleted).toBe(true);

    writeEmpty(pipe.writer, 64);
    const later = pipe.writer.flush();
    expect((await peek(later)).state).toBe('fulfilled');
    expect((await later).isCompleted).toBe(true);
  });

  it('D9 pause 0 disables backpressure: 100,000 single-byte flushes all complete synchronously', async () => {
    const pipe = new Pipe({ pauseWriterThreshold: 0, resumeWriterThreshold: 0 });
    const n = 100_000;
    let pendingCount = 0;
    for (let i = 1; i <= n; i++) {
      pipe.writer.getMemory(100);
      pipe.writer.advance(1);
      const flush = pipe.writer.flush();
      if ((await peek(flush)).state !== 'fulfilled') pendingCount++;
      if (i === 1 || i === 65_536 || i === n) expect(pipe.length).toBe(i);
    }
    expect(pendingCount).toBe(0);
    expect(pipe.length).toBe(n);
    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(n);
    pipe.reader.advanceTo(result.buffer.end);
    expect(pipe.length).toBe(0);
  });

  it('D10a small flushes under the 65/6 thresholds complete synchronously, repeatedly', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 1);
    expect((await peek(pipe.writer.flush())).state).toBe('fulfilled');
    writeEmpty(pipe.writer, 1);
    expect((await peek(pipe.writer.flush())).state).toBe('fulfilled');
    expect(pipe.length).toBe(2);
  });

  it('D10b a flush while one is paused throws ERR_PIPE_FLUSH_PENDING; the first completes on drain and the extra byte is not lost', async () => {
    const pipe = ptPipe();
    writeEmpty(pipe.writer, 65);
    const first = pipe.writer.flush();
    await expectPending(first);

    writeEmpty(pipe.writer, 1);
    expect(() => pipe.writer.flush()).toThrow(expect.objectContaining({ code: 'ERR_PIPE_FLUSH_PENDING' }));
    // The throw changed nothing: the first flush still waits and the byte is still unflushed.
    await expectPending(first);
    expect(pipe.writer.unflushedBytes).toBe(1);
    expect(pipe.length).toBe(65);

    const result = await settledValue(pipe.reader.read());
    expect(result.buffer.length).toBe(65);
    pipe.reader.advanceTo(result.buffer.end);
    expect((await peek(first)).state).toBe('fulfilled');
    expect((await first).isCompleted).toBe(false);

    // The next flush carries the extra byte.
    const next = pipe.writer.flush();
    expect((await peek(next)).state).toBe('fulfilled');
    expect(pipe.writer.unflushedBytes).toBe(0);
    const rest = await settledValue(pipe.reader.read());
    expect(rest.buffer.length).toBe(1);
    pipe.reader.advanceTo(rest.buffer.end);
  });

  it('D11 a flush that pauses the writer still wakes a pending read', async () => {
    const pipe = bpPipe();
    const read = pipe.reader.read();
    await expectPending(read);
    writeEmpty(pipe.writer, 64);
    const flush = pipe.writer.flush();
    const readState = await peek(read);
    expect(readState.state).toBe('fulfilled');
    expect((await read).buffer.length).toBe(64);
    await expectPending(flush);
  });

  it('D11b after a pausing flush with no read pending, data is ready for tryRead', async () => {
    const pipe = bpPipe();
    writeEmpty(pipe.writer, 100);
    const flush = pipe.writer.flush();
    await expectPending(flush);
    const result = pipe.reader.tryRead();
    expect(result).not.toBeNull();
    expect(result!.buffer.length).toBe(100);
    pipe.reader.advanceTo(result!.buffer.end);
    expect((await peek(flush)).state).toBe('fulfilled');
  });
});
