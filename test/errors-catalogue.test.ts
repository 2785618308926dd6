// The error catalogue, one table row per class (test/fixtures/error-cases.ts): each error has its
// code and name, an `instanceof` specific to its class and its ancestors (also for an error from a
// second copy of the module or from another realm), and it crosses a thread boundary as itself:
// through postMessage's object record, through a shared ring's 512-byte record even with a message
// far too long for it, and through a real SharedPipe on this thread and from a worker.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import * as api from '../dist/src/index.js';
import { SharedPipe, ThreadpipeError } from '../dist/src/index.js';
import * as catalogue from '../dist/src/errors/catalogue.js';
import { decodeErrorRecord, deserializeError, encodeErrorRecord, serializeError } from '../dist/src/errors/serialization.js';
import { errorCases, fieldsOf, kLongMessage, type ErrorCase } from '../dist/test/fixtures/error-cases.js';
import type { ErrorWorkerJob, ForeignRealmReport } from '../dist/test/fixtures/error-worker.js';
import type { ErrorInfo } from '../dist/test/fixtures/ring-harness.js';
import { within } from './helpers.js';

const kRecordBytes = 512;
const cases = errorCases(catalogue);
const workerUrl = new URL('../dist/test/fixtures/error-worker.js', import.meta.url);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

const running = new Set<Worker>();

afterEach(async () => {
  await Promise.all([...running].map((worker) => worker.terminate()));
  running.clear();
});

function runWorker<T>(job: ErrorWorkerJob, execArgv: string[] = []): Promise<T> {
  const worker = new Worker(workerUrl, { workerData: job, execArgv, stderr: true });
  running.add(worker);
  return new Promise<T>((resolve, reject) => {
    worker.once('message', (message: { type: 'done'; result: T } | { type: 'failed'; error: ErrorInfo }) => {
      if (message.type === 'done') resolve(message.result);
      else reject(new Error(`error worker failed: ${message.error.name}: ${message.error.message}`));
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`error worker exited with code ${code} before reporting`)));
  });
}

/** Class, code, name and fields of a rebuilt error match the row; the message is checked by the caller. */
function expectRow(error: unknown, row: ErrorCase): asserts error is Error {
  const Class = catalogue.errorClasses.get(row.type)!;
  expect(error).toBeInstanceOf(Class);
  expect(Object.getPrototypeOf(error)).toBe(Class.prototype);
  expect(error).toBeInstanceOf(ThreadpipeError);
  expect(catalogue.errorTypeOf(error)).toBe(row.type);
  expect(error).toMatchObject({ name: row.name, code: row.code });
  expect(fieldsOf(error as Error)).toEqual(row.fields);
}

/** What a long message leaves after a cut: a prefix of it, on a code point boundary, marked. */
function expectCutMessage(message: string, original: string): void {
  expect(message.endsWith('…')).toBe(true);
  const kept = Array.from(message.slice(0, -1));
  expect(kept.length).toBeGreaterThan(0);
  expect(Array.from(original).slice(0, kept.length)).toEqual(kept);
}

function withLongMessage(row: ErrorCase): Error {
  const error = row.make();
  error.message = kLongMessage;
  return error;
}

describe('the catalogue', () => {
  it('the table has one row for every class of the catalogue and every error class the package exports', () => {
    const types = cases.map((row) => row.type);
    expect(new Set(types).size).toBe(types.length);
    expect([...catalogue.errorClasses.keys()].sort()).toEqual([...types].sort());
    const exported = Object.entries(api).filter(([, value]) => typeof value === 'function' && value.prototype instanceof Error);
    expect(exported.map(([name]) => name).sort()).toEqual([...types].sort());
    for (const [name, value] of exported) expect(catalogue.errorClasses.get(name)).toBe(value);
  });

  it('serialization stays internal: the package exports no serializer', () => {
    for (const name of ['serializeError', 'deserializeError', 'encodeErrorRecord', 'decodeErrorRecord', 'errorClasses']) expect(api).not.toHaveProperty(name);
  });

  for (const row of cases) {
    it(`${row.type}: constructed with code ${row.code}, name ${row.name} and its fields`, () => {
      const error = row.make();
      expectRow(error, row);
      expect(error.message.length).toBeGreaterThan(0);
      expect(error.stack).toContain(error.message);
    });
  }

  it('instanceof is specific: new A() instanceof B only when B is A or an ancestor of A', () => {
    for (const a of cases) {
      const error = a.make();
      for (const b of cases) {
        const expected = a.type === b.type || a.ancestors.includes(b.type);
        expect({ error: a.type, instanceOf: b.type, result: error instanceof catalogue.errorClasses.get(b.type)! }).toEqual({
          error: a.type,
          instanceOf: b.type,
          result: expected,
        });
      }
    }
    expect(new api.PeerExitedError() instanceof api.ReadCanceledError).toBe(false);
    expect(new api.ReadCanceledError() instanceof api.AbortError).toBe(true);
  });

  it('the native classes still hold: argument errors are RangeError / TypeError, every row is an Error', () => {
    for (const row of cases) expect(row.make()).toBeInstanceOf(Error);
    expect(new api.InvalidArgumentValueError('x', 1, 'is bad')).toBeInstanceOf(RangeError);
    expect(new api.WriteBeyondMemoryError(2, 1)).toBeInstanceOf(RangeError);
    expect(new api.InvalidArgumentTypeError('x', 1, 'a string')).toBeInstanceOf(TypeError);
    expect(new Error('plain')).not.toBeInstanceOf(ThreadpipeError);
    expect(null instanceof ThreadpipeError).toBe(false);
    expect(Object.assign(new Error('look-alike'), { code: 'ERR_PIPE_PEER_EXITED', name: 'PeerExitedError' })).not.toBeInstanceOf(api.PeerExitedError);
  });

  it('instanceof holds for errors from a second copy of the module', async () => {
    const copy = (await import('../dist/src/errors/catalogue.js?copy')) as typeof catalogue;
    expect(copy.PeerExitedError).not.toBe(catalogue.PeerExitedError);
    for (const a of errorCases(copy)) {
      const error = a.make();
      expect(Object.getPrototypeOf(error)).not.toBe(catalogue.errorClasses.get(a.type)!.prototype);
      const matches = cases.filter((b) => error instanceof catalogue.errorClasses.get(b.type)!).map((b) => b.type);
      expect({ type: a.type, matches: matches.sort() }).toEqual({ type: a.type, matches: [a.type, ...a.ancestors].sort() });
    }
    // And the other way round: this copy's errors are instances of the copy's classes.
    expect(new catalogue.FrameTooLargeError('A frame', 2, 1)).toBeInstanceOf(copy.FrameTooLargeError);
    expect(new catalogue.FrameTooLargeError('A frame', 2, 1)).not.toBeInstanceOf(copy.PeerExitedError);
  });

  it('instanceof holds for errors built in another realm (the catalogue evaluated in a node:vm context), and they serialize as themselves', async () => {
    const reports = await within(runWorker<ForeignRealmReport[]>({ role: 'foreign-realm' }, ['--experimental-vm-modules']), 15_000, 'the foreign-realm worker');
    expect(reports.map((report) => report.type)).toEqual(cases.map((row) => row.type));
    for (const [i, report] of reports.entries()) {
      const row = cases[i]!;
      expect(report.isLocalError).toBe(false);
      expect({ type: report.type, instanceOf: report.instanceOf.sort() }).toEqual({ type: row.type, instanceOf: [row.type, ...row.ancestors].sort() });
      const rebuilt = deserializeError(report.record);
      expectRow(rebuilt, row);
      expect(rebuilt.message).toBe(row.make().message);
    }
  });
});

describe('every code crosses the thread boundary as itself', () => {
  for (const row of cases) {
    it(`${row.type}: the object record (postMessage) rebuilds its class, code, fields, message and stack`, () => {
      const error = row.make();
      const rebuilt = deserializeError(structuredClone(serializeError(error)));
      expectRow(rebuilt, row);
      expect({ ...rebuilt }).toEqual({ ...error });
      expect(rebuilt.message).toBe(error.message);
      expect(rebuilt.stack).toBe(error.stack);
    });

    it(`${row.type}: the 512-byte record keeps class, code and fields when a 300-character non-ASCII message must be cut`, () => {
      const error = withLongMessage(row);
      const bytes = encodeErrorRecord(error, kRecordBytes);
      expect(bytes.length).toBeLessThanOrEqual(kRecordBytes);
      // Cut no more than needed: one more code point (at most 4 bytes, 3 for the mark's room) would not fit.
      expect(bytes.length).toBeGreaterThan(kRecordBytes - 8);
      expect(() => strictUtf8.decode(bytes)).not.toThrow();
      const rebuilt = decodeErrorRecord(bytes);
      expectRow(rebuilt, row);
      expectCutMessage(rebuilt.message, kLongMessage);
    });

    it(`${row.type}: a SharedPipe writer completed with it fails the reader's read with the same class, code and fields`, async () => {
      for (const error of [row.make(), withLongMessage(row)]) {
        const pipe = new SharedPipe({ capacity: 4096 });
        pipe.writer.complete(error);
        const caught = await within(pipe.reader.read()).then(
          () => expect.unreachable('the read resolved'),
          (reason: unknown) => reason,
        );
        expectRow(caught, row);
        if (error.message === kLongMessage) expectCutMessage((caught as Error).message, kLongMessage);
        else expect((caught as Error).message).toBe(error.message);
      }
    });
  }

  it('every code completed by writers in a worker fails the reads on this thread with the same class, code and fields', async () => {
    const jobs = cases.flatMap((row) => [false, true].map((longMessage) => ({ row, longMessage, pipe: new SharedPipe({ capacity: 4096 }) })));
    const done = runWorker<{ completed: number }>({
      role: 'complete-writers',
      writers: jobs.map(({ row, longMessage, pipe }) => ({ type: row.type, handle: pipe.writer.handle(), longMessage })),
    });
    expect(await within(done, 15_000, 'the completing worker')).toEqual({ completed: jobs.length });
    for (const { row, longMessage, pipe } of jobs) {
      const caught = await within(pipe.reader.read()).then(
        () => expect.unreachable(`the read of ${row.type} resolved`),
        (reason: unknown) => reason,
      );
      expectRow(caught, row);
      if (longMessage) expectCutMessage((caught as Error).message, kLongMessage);
      else expect((caught as Error).message).toBe(row.make().message);
    }
  });
});
