// run()'s transferList and move(), the same cases over both schedulers: what is listed moves (it is
// detached on the sending side, the receiving side sees every byte), what is not listed is copied,
// a bad list is refused by name before anything moves, and a transferred port lives exactly as long
// as the thread it went to.
import { once } from 'node:events';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { move, SharedPipe, type RunOptions } from '../dist/src/index.js';
import { fnv1aOf, seededBytes } from '../dist/test/fixtures/sched-data.js';
import type { BadResultKind, ProduceHow } from '../dist/test/fixtures/sched-tasks.js';
import { rejection, within } from './helpers.js';

export interface TransferScheduler {
  run<T>(exportName: string, args?: unknown, options?: RunOptions): Promise<T>;
  close(): Promise<void>;
}

interface Digest {
  lengths: number[];
  checksums: number[];
  threadId: number;
}

const bytesOf = (seed: number, length: number): Uint8Array<ArrayBuffer> => seededBytes(seed, length) as Uint8Array<ArrayBuffer>;

/** `make` returns a fresh scheduler over the fixture tasks that the calling file closes after each test. */
export function transferCases(label: string, make: () => TransferScheduler): void {
  describe(`${label}: transferList and move()`, () => {
    it('TX1 a listed ArrayBuffer is detached here as soon as run() returns; the task sees every byte', async () => {
      const s = make();
      const bytes = bytesOf(301, 256 * 1024);
      const checksum = fnv1aOf(bytes);
      const running = s.run<Digest>('digest', { parts: [bytes] }, { transferList: [bytes.buffer] });
      expect(bytes.buffer.byteLength).toBe(0);
      expect(bytes.length).toBe(0);
      const seen = await within(running, 10_000, 'digest');
      expect(seen.lengths).toEqual([256 * 1024]);
      expect(seen.checksums).toEqual([checksum]);
    });

    it('TX2 buffers at any depth and views at offsets move; a buffer left off the list is copied and stays usable here', async () => {
      const s = make();
      const a = bytesOf(302, 1000);
      const b = bytesOf(303, 5000);
      const kept = bytesOf(304, 300);
      const middle = new Uint8Array(b.buffer, 1000, 2000);
      const expected = [fnv1aOf(a), fnv1aOf(middle), fnv1aOf(kept)];
      const keptChecksum = fnv1aOf(kept);
      const running = s.run<Digest>('digest', { parts: [a, middle, kept] }, { transferList: [a.buffer, b.buffer] });
      expect([a.buffer.byteLength, b.buffer.byteLength, middle.length]).toEqual([0, 0, 0]);
      expect(kept.length).toBe(300);
      const seen = await within(running, 10_000, 'digest');
      expect(seen.lengths).toEqual([1000, 2000, 300]);
      expect(seen.checksums).toEqual(expected);
      expect(fnv1aOf(kept)).toBe(keptChecksum);
    });

    it('TX3 arguments made by move() move the same way; a buffer also in options.transferList moves once', async () => {
      const s = make();
      const a = bytesOf(305, 4096);
      const b = bytesOf(306, 777);
      const expected = [fnv1aOf(a), fnv1aOf(b)];
      const running = s.run<Digest>('digest', move({ parts: [a, b] }, [a.buffer]), { transferList: [a.buffer, b.buffer] });
      expect([a.buffer.byteLength, b.buffer.byteLength]).toEqual([0, 0]);
      const seen = await within(running, 10_000, 'digest');
      expect(seen.checksums).toEqual(expected);
      const alone = bytesOf(307, 64);
      const aloneChecksum = fnv1aOf(alone);
      const second = s.run<Digest>('digest', move({ parts: [alone] }, [alone.buffer]));
      expect(alone.buffer.byteLength).toBe(0);
      expect((await within(second, 10_000, 'digest')).checksums).toEqual([aloneChecksum]);
    });

    it.each<[ProduceHow, boolean]>([
      ['view', true],
      ['buffer', true],
      ['list', true],
      ['piscina', true],
      ['clone', false],
    ])('TX4 a result returned as %s arrives byte-exact and is moved: %s (a moved one is detached on the task\'s thread)', async (how, moves) => {
      const s = make();
      const length = 100_000;
      const expected = fnv1aOf(bytesOf(308, length));
      const result = await within(s.run<unknown>('produce', { seed: 308, length, how }), 10_000, 'produce');
      const bytes = how === 'buffer' ? new Uint8Array(result as ArrayBuffer) : how === 'list' ? (result as { label: string; bytes: Uint8Array }).bytes : (result as Uint8Array);
      if (how === 'list') expect((result as { label: string }).label).toBe('bytes');
      expect(bytes.length).toBe(length);
      expect(fnv1aOf(bytes)).toBe(expected);
      expect(await within(s.run<boolean>('lastProducedMoved'), 10_000)).toBe(moves);
    });

    it('TX5 a bad transferList throws at once with ERR_INVALID_ARG_VALUE naming the item, and nothing moves', async () => {
      const s = make();
      const detached = new ArrayBuffer(8);
      structuredClone(detached, { transfer: [detached] });
      const cases: Array<[string, unknown, string]> = [
        ['a number', 5, 'options.transferList'],
        ['a string', 'buffer', 'options.transferList'],
        ['an object', { 0: new ArrayBuffer(1) }, 'options.transferList'],
        ['a typed array instead of its buffer', [new Uint8Array(4)], 'options.transferList[1]'],
        ['a SharedArrayBuffer', [new SharedArrayBuffer(4)], 'options.transferList[1]'],
        ['a detached ArrayBuffer', [detached], 'options.transferList[1]'],
        ['null', [null], 'options.transferList[1]'],
        ['a number item', [42], 'options.transferList[1]'],
        ['a function', [() => 1], 'options.transferList[1]'],
      ];
      for (const [what, list, argument] of cases) {
        const pipe = new SharedPipe({ capacity: 1024 });
        const good = new ArrayBuffer(64);
        const transferList = Array.isArray(list) ? [good, ...list] : list;
        let thrown: unknown;
        try {
          void s.run('digest', { parts: [new Uint8Array(good)], input: pipe.reader }, { transferList } as RunOptions);
        } catch (error) {
          thrown = error;
        }
        expect(thrown, what).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', argument });
        expect((thrown as Error).message, what).toContain(`'${argument}'`);
        // Nothing moved: the good buffer is still here, the reader still usable here.
        expect(good.byteLength, what).toBe(64);
        expect(pipe.reader.tryRead(), what).toBeNull();
        pipe.reader.complete();
        pipe.writer.complete();
      }
      const twice = new ArrayBuffer(8);
      expect(() => s.run('digest', { parts: [] }, { transferList: [twice, twice] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'options.transferList[1]' }));
      expect(twice.byteLength).toBe(8);
      expect(() => s.run('digest', { parts: [] }, 'fast' as unknown as RunOptions)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'options' }));
    });

    it('TX6 an object that cannot be transferred rejects with ERR_INVALID_ARG_VALUE naming options.transferList, Node\'s error as the cause', async () => {
      const s = make();
      const error = await rejection(s.run('digest', { parts: [] }, { transferList: [{} as ArrayBuffer] }));
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', argument: 'options.transferList' });
      expect((error.cause as { code?: unknown }).code).toBe('ERR_INVALID_TRANSFER_OBJECT');
      // The scheduler is still fine.
      const bytes = bytesOf(309, 10);
      const checksum = fnv1aOf(bytes);
      expect((await within(s.run<Digest>('digest', { parts: [bytes] }, { transferList: [bytes.buffer] }), 10_000)).checksums).toEqual([checksum]);
    });

    it.each<[BadResultKind, string]>([
      ['view', 'transferList[0]'],
      ['shared', 'value.buffer'],
      ['twice', 'transferList[1]'],
      ['detached', 'value'],
      ['number', 'transferList[0]'],
      ['nothing', 'value'],
      ['raw-view', 'result.transferList[0]'],
      ['opaque', 'result.transferList'],
    ])('TX7 a result whose transfer list is bad (%s) fails the run with ERR_INVALID_ARG_VALUE naming %s; the thread serves the next run', async (kind, argument) => {
      const s = make();
      const before = await within(s.run<{ threadId: number }>('whoAmI'), 10_000);
      const error = await rejection(s.run('badResult', { kind }), 10_000);
      expect(error).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE', argument });
      const after = await within(s.run<{ threadId: number }>('whoAmI'), 10_000);
      expect(after.threadId).toBe(before.threadId);
    });

    it('TX8 a transferred MessagePort reaches the task\'s thread and answers; it closes when the scheduler closes (the thread ended)', async () => {
      const s = make();
      const { port1, port2 } = new MessageChannel();
      try {
        const answered = once(port1, 'message');
        const threadId = await within(s.run<number>('keepPort', { port: port2, note: 'over here' }, { transferList: [port2] }), 10_000, 'keepPort');
        const [answer] = await within(answered, 10_000, 'the answer on the port');
        expect(answer).toEqual({ note: 'over here', threadId });
        const closed = once(port1, 'close');
        await within(s.close(), 10_000, 'close()');
        await within(closed, 10_000, "the port's close once its thread ended");
      } finally {
        port1.close();
      }
    });
  });
}
