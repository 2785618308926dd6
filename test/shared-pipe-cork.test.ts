import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SharedPipe } from '../dist/src/index.js';
import { concatBytes as concat, within } from './helpers.js';

// cork() / uncork() on a SharedPipe writer: small flushes coalesce into one publish, at uncork() or
// at the end of the current tick, and nothing the writer did not flush is ever shown.

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve));
const record = (i: number): Uint8Array => new Uint8Array(128).fill(i & 0xff);


describe('SharedPipeWriter.cork()', () => {
  it('corked writes return at once and become readable together at uncork()', async () => {
    const pipe = new SharedPipe({ capacity: 64 * 1024 });
    const reading = pipe.reader.read();
    let settled = false;
    void reading.then(() => (settled = true));
    pipe.writer.cork();
    const writes = Array.from({ length: 64 }, (_, i) => pipe.writer.write(record(i)));
    for (const write of writes) expect(await within(write, 1_000, 'a corked write')).toEqual({ isCanceled: false, isCompleted: false });
    // Awaiting the writes ran microtasks only: the tick has not ended, the bytes are not published.
    expect(settled).toBe(false);
    expect(pipe.writer.stats().bytesWritten).toBe(0);
    pipe.writer.uncork();
    const result = await within(reading, 1_000, 'the read after uncork()');
    expect(concat(result.buffer)).toEqual(concat(Array.from({ length: 64 }, (_, i) => record(i))));
    pipe.reader.advanceTo(result.buffer.end);
  });

  it('publishes at the end of the tick when uncork() is never called', async () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    pipe.writer.cork();
    await pipe.writer.write('abc');
    expect(pipe.reader.tryRead()).toBeNull();
    await nextTick();
    const result = pipe.reader.tryRead();
    expect(result === null ? null : new TextDecoder().decode(concat(result.buffer))).toBe('abc');
  });

  it('nests: only the last uncork() publishes', () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    pipe.writer.cork();
    pipe.writer.cork();
    void pipe.writer.write('x');
    pipe.writer.uncork();
    expect(pipe.reader.tryRead()).toBeNull();
    pipe.writer.uncork();
    expect(pipe.reader.tryRead()?.buffer.length).toBe(1);
  });

  it('advanced bytes that were not flushed stay invisible; the corked ones before them are published', () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    pipe.writer.cork();
    void pipe.writer.write('flushed');
    const memory = pipe.writer.getMemory(9);
    memory.set(new TextEncoder().encode('unflushed'));
    pipe.writer.advance(9);
    pipe.writer.uncork();
    const result = pipe.reader.tryRead();
    expect(new TextDecoder().decode(concat(result!.buffer))).toBe('flushed');
    expect(pipe.writer.unflushedBytes).toBe(9);
  });

  it('complete() publishes corked bytes before the completion', () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    pipe.writer.cork();
    void pipe.writer.write('last');
    pipe.writer.complete();
    const result = pipe.reader.tryRead();
    expect(result?.isCompleted).toBe(true);
    expect(new TextDecoder().decode(concat(result!.buffer))).toBe('last');
  });

  it('a flush that must wait (past the pause threshold) still waits while corked, and its bytes arrive', async () => {
    const pipe = new SharedPipe({ capacity: 1024, pauseWriterThreshold: 256, resumeWriterThreshold: 128 });
    pipe.writer.cork();
    // The first crosses the threshold when published at the cork's end; the next flush then waits.
    await pipe.writer.write(new Uint8Array(300).fill(1));
    await nextTick();
    const waiting = pipe.writer.write(new Uint8Array(10).fill(2));
    let done = false;
    void waiting.then(() => (done = true));
    await nextTick();
    expect(done).toBe(false);
    const result = await within(pipe.reader.read(), 1_000);
    expect(result.buffer.length).toBe(310);
    pipe.reader.advanceTo(result.buffer.end);
    await within(waiting, 1_000, 'the paused write once the reader examined everything');
  });

  it('across threads: corked batches arrive whole and in order, every byte checked', async () => {
    const pipe = new SharedPipe({ capacity: 1 << 16 });
    const batches = 200;
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(workerData.entry).then(async ({ SharedPipe }) => {
         const reader = SharedPipe.reader(workerData.handle);
         let expected = 0, total = 0;
         for (;;) {
           const result = await reader.read();
           for (const segment of result.buffer) for (const byte of segment) {
             if (byte !== (Math.floor(expected / 128) & 0xff)) { parentPort.postMessage({ error: 'byte ' + expected + ' is ' + byte }); return; }
             expected++;
           }
           total += result.buffer.length;
           reader.advanceTo(result.buffer.end);
           if (result.isCompleted) break;
         }
         reader.complete();
         parentPort.postMessage({ total });
       });`,
      { eval: true, workerData: { entry: new URL('../dist/src/index.js', import.meta.url).href, handle: pipe.reader.handle() } },
    );
    try {
      const report = new Promise<{ total?: number; error?: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      let n = 0;
      for (let b = 0; b < batches; b++) {
        // Awaited writes: one that must wait for room publishes and waits, as any flush does.
        pipe.writer.cork();
        for (let i = 0; i < 64; i++) await within(pipe.writer.write(record(n++)), 5_000, 'a corked write');
        pipe.writer.uncork();
      }
      pipe.writer.complete();
      expect(await within(report, 10_000, 'the reader in the worker')).toEqual({ total: batches * 64 * 128 });
    } finally {
      await worker.terminate();
    }
  });
});
