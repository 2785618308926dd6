import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Pipe, SharedPipe, type PipeReader } from '../dist/src/index.js';
import { checkPattern, fillPattern } from '../dist/test/fixtures/ring-harness.js';
import { peek, rejection, settleTurns, within } from './helpers.js';

// Bytes a SharedPipe writer owns while the ring has no room for them: a flush waits only until
// they are placed, a canceled or aborted wait keeps them, a completion follows the last of them,
// and nothing waits on a peer that could never end the wait.

function pattern(size: number, seed: number): Uint8Array {
  const data = new Uint8Array(size);
  fillPattern(data, 0, size, seed);
  return data;
}

/** Reads (checking every byte against the pattern) until `size` bytes arrived, or with -1 until the writer completed. */
async function readPattern(reader: PipeReader, size: number, seed: number): Promise<{ received: number; completed: boolean }> {
  let received = 0;
  for (;;) {
    const result = await within(reader.read(), 5_000, `a read after ${received} bytes`);
    for (const segment of result.buffer) {
      checkPattern(segment, received, seed);
      received += segment.length;
    }
    reader.advanceTo(result.buffer.end);
    if (result.isCompleted || received === size) return { received, completed: result.isCompleted };
  }
}

describe('SharedPipe: bytes the writer owns', () => {
  it('a canceled write that is never flushed again still delivers every byte, in order', async () => {
    const pipe = new SharedPipe({ capacity: 65536 });
    const write = pipe.writer.write(pattern(200_000, 1));
    expect((await peek(write)).state).toBe('pending');
    pipe.writer.cancelPendingFlush();
    expect(await within(write)).toMatchObject({ isCanceled: true });
    // No further writer call: the pipe places the rest as the reader frees room.
    expect(await readPattern(pipe.reader, 200_000, 1)).toEqual({ received: 200_000, completed: false });
  });

  it('an aborted write delivers every byte before anything written after it', async () => {
    const pipe = new SharedPipe({ capacity: 65536 });
    const controller = new AbortController();
    const write = pipe.writer.write(pattern(150_000, 2), { signal: controller.signal });
    controller.abort();
    expect(await rejection(write)).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    const whole = pattern(200_000, 2);
    const later = pipe.writer.write(whole.subarray(150_000));
    expect(await readPattern(pipe.reader, 200_000, 2)).toEqual({ received: 200_000, completed: false });
    await within(later);
  });

  it('complete() after a canceled write: the reader sees every byte, then isCompleted', async () => {
    const pipe = new SharedPipe({ capacity: 65536 });
    const write = pipe.writer.write(pattern(300_000, 3));
    pipe.writer.cancelPendingFlush();
    await within(write);
    pipe.writer.complete();
    expect(await readPattern(pipe.reader, -1, 3)).toEqual({ received: 300_000, completed: true });
  });

  it('complete() during a pending write ends that write at once, as on a Pipe, and the bytes still go out', async () => {
    const pipe = new SharedPipe({ capacity: 65536 });
    const write = pipe.writer.write(pattern(100_000, 4));
    expect((await peek(write)).state).toBe('pending');
    pipe.writer.complete();
    // Settled within a few turns of the event loop, not at the next wait slice.
    await settleTurns(5);
    const peeked = await peek(write);
    expect(peeked.state).toBe('rejected');
    expect((peeked as { error: { code?: unknown } }).error.code).toBe('ERR_PIPE_COMPLETED');
    expect(await readPattern(pipe.reader, -1, 4)).toEqual({ received: 100_000, completed: true });
  });

  it('a flush after complete() while paused waits like any flush, and resolves once the reader drains (as on a Pipe)', async () => {
    for (const make of [() => new Pipe({ pauseWriterThreshold: 64, resumeWriterThreshold: 32 }), () => new SharedPipe({ capacity: 1024, pauseWriterThreshold: 64, resumeWriterThreshold: 32 })]) {
      const pipe = make();
      const first = pipe.writer.write(new Uint8Array(64));
      pipe.writer.complete();
      await within(first.then(() => undefined, () => undefined));
      const flush = pipe.writer.flush();
      expect((await peek(flush)).state).toBe('pending');
      const result = await within(pipe.reader.read());
      pipe.reader.advanceTo(result.buffer.end);
      expect(await within(flush)).toMatchObject({ isCanceled: false });
    }
  });

  it.each(['getMemory', 'write'] as const)('a worker that hands over more than the ring holds (%s), completes and ends its script still delivers it all', async (how) => {
    const pipe = new SharedPipe({ capacity: 65536 });
    const worker = new Worker(new URL('../dist/test/fixtures/ring-owned-exit.js', import.meta.url), {
      workerData: { handle: pipe.writer.handle(), size: 300_000, seed: 5, how },
    });
    const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
    try {
      expect(await readPattern(pipe.reader, -1, 5)).toEqual({ received: 300_000, completed: true });
      expect(await within(exited)).toBe(0);
    } finally {
      await worker.terminate();
    }
  });

  it('writeSync with the reader on the same thread refuses before taking a byte; an async write then works', async () => {
    const pipe = new SharedPipe({ capacity: 64 });
    expect(() => pipe.writer.writeSync(pattern(200, 6))).toThrow(expect.objectContaining({ code: 'ERR_PIPE_SAME_THREAD_WAIT' }));
    expect(pipe.reader.tryRead()).toBeNull();
    expect(pipe.writer.unflushedBytes).toBe(0);
    const write = pipe.writer.write(pattern(200, 6));
    expect(await readPattern(pipe.reader, 200, 6)).toEqual({ received: 200, completed: false });
    await within(write);
  });

  it('flushSync with a same-thread readAtLeast waiting for more is not refused: that reader keeps the writer from pausing', async () => {
    const pipe = new SharedPipe({ capacity: 4096, pauseWriterThreshold: 1024 });
    const atLeast = pipe.reader.readAtLeast(2048);
    pipe.writer.getMemory(1500).fill(1, 0, 1500);
    pipe.writer.advance(1500);
    expect(pipe.writer.flushSync()).toEqual({ isCanceled: false, isCompleted: false });
    const write = pipe.writer.write(new Uint8Array(600).fill(2));
    const result = await within(atLeast);
    expect(result.buffer.length).toBe(2100);
    pipe.reader.advanceTo(result.buffer.end);
    await within(write);
  });

  it('readAtLeast within the ring is served even when a skipped tail sits at the read position', async () => {
    const pipe = new SharedPipe({ capacity: 1024, pauseWriterThreshold: 0 });
    await within(pipe.writer.write(new Uint8Array(600)));
    const first = await within(pipe.reader.read());
    pipe.reader.advanceTo(first.buffer.end);
    const atLeast = pipe.reader.readAtLeast(700);
    // 500 contiguous bytes do not fit before the end: the writer skips the 424-byte tail.
    const memory = pipe.writer.getMemory(500);
    fillPattern(memory, 0, 500, 7);
    pipe.writer.advance(500);
    const rest = new Uint8Array(200);
    fillPattern(rest, 500, 200, 7);
    const write = pipe.writer.write(rest);
    const result = await within(atLeast);
    expect(result.buffer.length).toBe(700);
    let offset = 0;
    for (const segment of result.buffer) {
      checkPattern(segment, offset, 7);
      offset += segment.length;
    }
    pipe.reader.advanceTo(result.buffer.end);
    await within(write);
  });

  it('getMemory beyond what one block can hold throws ERR_INVALID_ARG_VALUE naming sizeHint', () => {
    const pipe = new SharedPipe({ capacity: 1024 });
    expect(() => pipe.writer.getMemory(2 ** 40)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'sizeHint' }));
    expect(pipe.writer.getMemory(10).length).toBeGreaterThanOrEqual(10);
  });
});

describe('SharedPipe: a wait only this thread could end keeps nothing alive', () => {
  it.each(['Pipe read', 'SharedPipe read', 'SharedPipe flush'])('%s pending at the end of a script: the process exits as with any unsettled promise', async (what) => {
    const dist = new URL('../dist/src/index.js', import.meta.url).href;
    const body = {
      'Pipe read': `const p = new Pipe(); await p.reader.read();`,
      'SharedPipe read': `const p = new SharedPipe({ capacity: 1024 }); await p.reader.read();`,
      'SharedPipe flush': `const p = new SharedPipe({ capacity: 64 }); await p.writer.write(new Uint8Array(100));`,
    }[what];
    const child = spawn(process.execPath, ['--input-type=module', '-e', `import { Pipe, SharedPipe } from ${JSON.stringify(dist)}; ${body}`], { stdio: 'ignore' });
    const code = await within(new Promise<number | null>((resolve) => child.once('exit', resolve)), 10_000, `the process with a pending ${what}`).finally(() => child.kill());
    // 13: Node's exit code for a top-level await that can never settle.
    expect(code).toBe(13);
  });
});
