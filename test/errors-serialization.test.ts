// Errors that are not threadpipe's own across the thread boundary: what they keep (name, message,
// code, the system-error fields, a bounded cause chain, AggregateError's errors), and how the byte
// record of a shared ring cuts an error that is too long for it: stacks first, then causes, then the
// message, never the class or the code, always valid UTF-8 within the limit.
import { openSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameTooLargeError, PeerExitedError, SharedPipe, ThreadpipeError } from '../dist/src/index.js';
import { abortError } from '../dist/src/errors/index.js';
import {
  decodeErrorRecord,
  deserializeError,
  encodeErrorRecord,
  kMinErrorRecordBytes,
  serializeError,
} from '../dist/src/errors/serialization.js';
import { within } from './helpers.js';

const kRecordBytes = 512;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Through postMessage's structured clone, as the schedulers send it. */
function viaObject(error: unknown): Error {
  return deserializeError(structuredClone(serializeError(error)));
}

function viaBytes(error: unknown, maxBytes = kRecordBytes): Error {
  const bytes = encodeErrorRecord(error, maxBytes);
  expect(bytes.length).toBeLessThanOrEqual(maxBytes);
  strictUtf8.decode(bytes);
  return decodeErrorRecord(bytes);
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let cause = (error as Error).cause; cause !== undefined; cause = (cause as Error).cause) chain.push(cause);
  return chain;
}

function systemError(): Error {
  try {
    openSync('no-such-dir/no-such-file', 'r');
  } catch (error) {
    return error as Error;
  }
  throw new Error('opening a missing file succeeded');
}

describe('foreign errors', () => {
  for (const [form, cross] of [['object', viaObject], ['byte', viaBytes]] as const) {
    it(`${form} record: a system error keeps name, message, code, errno, syscall and path`, () => {
      const error = systemError() as Error & { code: string; errno: number; syscall: string; path: string };
      expect(error.code).toBe('ENOENT');
      const rebuilt = cross(error);
      expect(rebuilt).toBeInstanceOf(Error);
      expect(rebuilt).not.toBeInstanceOf(ThreadpipeError);
      expect(rebuilt).toMatchObject({ name: error.name, message: error.message, code: 'ENOENT', errno: error.errno, syscall: 'open', path: 'no-such-dir/no-such-file' });
    });

    it(`${form} record: a custom class keeps its name and code and the native class it derives from`, () => {
      class QuotaError extends RangeError {
        readonly code = 'E_QUOTA';
        override name = 'QuotaError';
      }
      const rebuilt = cross(new QuotaError('quota exceeded for tenant 7'));
      expect(rebuilt).toBeInstanceOf(RangeError);
      expect(rebuilt).toMatchObject({ name: 'QuotaError', message: 'quota exceeded for tenant 7', code: 'E_QUOTA' });
    });

    it(`${form} record: an error with a code that names a threadpipe failure is still not one of threadpipe's errors`, () => {
      const rebuilt = cross(Object.assign(new Error('look-alike'), { code: 'ERR_PIPE_PEER_EXITED' }));
      expect(rebuilt).not.toBeInstanceOf(ThreadpipeError);
      expect(rebuilt).toMatchObject({ name: 'Error', code: 'ERR_PIPE_PEER_EXITED' });
    });

    it(`${form} record: an AggregateError keeps its errors with their classes and codes`, () => {
      const error = new AggregateError([new TypeError('first'), new FrameTooLargeError('A line', 9, 8), Object.assign(new Error('third'), { code: 'E_THIRD' })], 'three failed');
      const rebuilt = cross(error) as AggregateError;
      expect(rebuilt).toBeInstanceOf(AggregateError);
      expect(rebuilt.message).toBe('three failed');
      expect(rebuilt.errors).toHaveLength(3);
      expect(rebuilt.errors[0]).toBeInstanceOf(TypeError);
      expect(rebuilt.errors[1]).toBeInstanceOf(FrameTooLargeError);
      expect(rebuilt.errors[1]).toMatchObject({ size: 9, limit: 8, code: 'ERR_FRAME_TOO_LARGE' });
      expect(rebuilt.errors[2]).toMatchObject({ message: 'third', code: 'E_THIRD' });
    });

    it(`${form} record: a cause chain keeps its classes and codes`, () => {
      const inner = Object.assign(new Error('inner failure'), { code: 'E_INNER' });
      const error = new PeerExitedError('the pool thread exited');
      Object.defineProperty(error, 'cause', { value: new TypeError('middle', { cause: inner }), configurable: true });
      const rebuilt = cross(error);
      expect(rebuilt).toBeInstanceOf(PeerExitedError);
      const [middle, innermost] = causeChain(rebuilt);
      expect(middle).toBeInstanceOf(TypeError);
      expect(middle).toMatchObject({ message: 'middle' });
      expect(innermost).toMatchObject({ message: 'inner failure', code: 'E_INNER' });
    });

    it(`${form} record: an abort keeps the signal's reason, an Error or a plain value, as its cause`, () => {
      const reason = new AbortController();
      reason.abort();
      const rebuiltDefault = cross(abortError(reason.signal));
      expect(rebuiltDefault).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
      expect(rebuiltDefault.cause).toBeInstanceOf(DOMException);
      expect(rebuiltDefault.cause).toMatchObject({ name: 'AbortError' });
      const stop = new AbortController();
      stop.abort('shutting down');
      expect(cross(abortError(stop.signal)).cause).toBe('shutting down');
      const plain = new AbortController();
      plain.abort({ reason: 'deadline', after: 30 });
      expect(cross(abortError(plain.signal)).cause).toEqual({ reason: 'deadline', after: 30 });
    });
  }

  it('a record naming a class this copy does not know (from a newer copy) still rebuilds a ThreadpipeError with its code and fields', () => {
    const rebuilt = deserializeError({ type: 'FutureError', name: 'FutureError', message: 'from the future', code: 'ERR_PIPE_FUTURE', fields: { when: 2038 } });
    expect(rebuilt).toBeInstanceOf(ThreadpipeError);
    expect(rebuilt).not.toBeInstanceOf(PeerExitedError);
    expect(rebuilt).toMatchObject({ name: 'FutureError', message: 'from the future', code: 'ERR_PIPE_FUTURE', when: 2038 });
  });

  it('a thrown value that is not an error arrives as an Error with its text as the message', () => {
    expect(viaObject('a bare string')).toMatchObject({ name: 'Error', message: 'a bare string' });
    expect(viaBytes(42)).toMatchObject({ name: 'Error', message: '42' });
  });

  it('a cause chain is followed a bounded number of levels, also when it loops', () => {
    let error = new Error('level 0');
    for (let level = 1; level < 20; level++) error = new Error(`level ${level}`, { cause: error });
    const chain = causeChain(viaObject(error));
    expect(chain.length).toBeGreaterThan(0);
    expect(chain.length).toBeLessThan(19);
    expect((chain[0] as Error).message).toBe('level 18');
    const looped = new Error('loop');
    Object.defineProperty(looped, 'cause', { value: looped });
    const loopChain = causeChain(viaObject(looped));
    expect(loopChain.length).toBeGreaterThan(0);
    expect(loopChain.length).toBeLessThan(20);
  });

  it('an AggregateError with many errors keeps a bounded number of them', () => {
    const errors = Array.from({ length: 500 }, (_, i) => new AggregateError(Array.from({ length: 50 }, (_, j) => new Error(`${i}.${j}`)), `group ${i}`));
    const rebuilt = viaObject(new AggregateError(errors, 'everything failed')) as AggregateError;
    expect(rebuilt.errors.length).toBeGreaterThan(0);
    expect(rebuilt.errors.length).toBeLessThan(50);
    let nested = 0;
    for (const group of rebuilt.errors as AggregateError[]) nested += 1 + group.errors.length;
    expect(nested).toBeLessThan(100);
    expect((rebuilt.errors[0] as Error).message).toBe('group 0');
  });

  it('a getter that throws does not stop the error from crossing', () => {
    const error = new Error('odd');
    Object.defineProperty(error, 'code', {
      get() {
        throw new Error('no code for you');
      },
    });
    expect(viaObject(error)).toMatchObject({ message: 'odd' });
  });
});

describe('the byte record cuts what does not fit', () => {
  it('the stack goes first, in whole lines: a message and a cause that fit are kept whole', () => {
    const error = new FrameTooLargeError('A frame', 5000, 4096);
    error.stack = ['FrameTooLargeError: A frame of 5000 bytes exceeds the limit of 4096 bytes.', ...Array.from({ length: 60 }, (_, i) => `    at frame${i} (file:///app/module${i}.js:${i}:7)`)].join('\n');
    Object.defineProperty(error, 'cause', { value: Object.assign(new Error('the header said 5000'), { code: 'E_HEADER' }) });
    const rebuilt = viaBytes(error);
    expect(rebuilt).toBeInstanceOf(FrameTooLargeError);
    expect(rebuilt).toMatchObject({ message: error.message, size: 5000, limit: 4096 });
    expect(rebuilt.cause).toMatchObject({ message: 'the header said 5000', code: 'E_HEADER' });
    const lines = rebuilt.stack!.split('\n');
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.length).toBeLessThan(61);
    expect(error.stack.split('\n').slice(0, lines.length)).toEqual(lines);
  });

  it('then the causes, then the message: the class, code and fields stay', () => {
    const error = new FrameTooLargeError('A frame', 5000, 4096);
    error.message = 'x'.repeat(300);
    Object.defineProperty(error, 'cause', { value: new Error('y'.repeat(200)) });
    const rebuilt = viaBytes(error);
    expect(rebuilt).toBeInstanceOf(FrameTooLargeError);
    expect(rebuilt).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', name: 'FrameTooLargeError', size: 5000, limit: 4096, message: error.message });
    expect(rebuilt.cause).toBeUndefined();
    // Without its stack the error shows its first line, not frames of the thread that rebuilt it.
    expect(rebuilt.stack).toBe(`FrameTooLargeError: ${error.message}`);
    error.message = 'x'.repeat(600);
    const cut = viaBytes(error);
    expect(cut).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', size: 5000, limit: 4096 });
    expect(cut.message).toMatch(/^x+…$/);
  });

  it('a foreign error keeps its name and code when its path is too long for the record', () => {
    const error = Object.assign(new Error('ENAMETOOLONG: name too long'), { code: 'ENAMETOOLONG', errno: -36, syscall: 'open', path: 'd/'.repeat(400) });
    const rebuilt = viaBytes(error) as Error & { path: string };
    expect(rebuilt).toMatchObject({ name: 'Error', code: 'ENAMETOOLONG', errno: -36, syscall: 'open' });
    expect(rebuilt.path.endsWith('…')).toBe(true);
    expect('d/'.repeat(400).startsWith(rebuilt.path.slice(0, -1))).toBe(true);
  });

  it('lone surrogates and astral characters never produce invalid UTF-8 or a split pair', () => {
    const message = `${'\uD800a🚀\uDFFF'.repeat(200)}`;
    const rebuilt = viaBytes(new PeerExitedError(message));
    expect(rebuilt).toBeInstanceOf(PeerExitedError);
    const kept = Array.from(rebuilt.message.slice(0, -1));
    expect(Array.from(message).slice(0, kept.length)).toEqual(kept);
  });

  it('any message and limit: the record fits, is valid UTF-8, and keeps the class, code and a prefix of the message', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 600 }), fc.integer({ min: kMinErrorRecordBytes, max: 1024 }), (message, maxBytes) => {
        const rebuilt = viaBytes(new FrameTooLargeError('A frame', 70000, 65536), maxBytes);
        expect(rebuilt).toMatchObject({ code: 'ERR_FRAME_TOO_LARGE', size: 70000, limit: 65536 });
        const error = new PeerExitedError(message);
        const crossed = viaBytes(error, maxBytes);
        expect(crossed).toBeInstanceOf(PeerExitedError);
        expect(crossed).toMatchObject({ code: 'ERR_PIPE_PEER_EXITED', name: 'PeerExitedError' });
        const kept = crossed.message === message ? message : crossed.message.slice(0, -1);
        expect(Array.from(message).slice(0, Array.from(kept).length).join('')).toBe(kept);
      }),
      { seed: 1010, numRuns: 200 },
    );
  });

  it('a limit below the smallest record is refused with ERR_INVALID_ARG_VALUE', () => {
    expect(() => encodeErrorRecord(new Error('x'), kMinErrorRecordBytes - 1)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', argument: 'maxBytes' }));
  });

  it('bytes that hold no record decode to an UnreadableErrorRecordError', () => {
    for (const bytes of [new Uint8Array([0xff, 0xfe]), new TextEncoder().encode('{"name":'), new TextEncoder().encode('[1,2]'), new Uint8Array(0)]) {
      expect(decodeErrorRecord(bytes)).toMatchObject({ name: 'UnreadableErrorRecordError', code: 'ERR_PIPE_ERROR_RECORD_UNREADABLE' });
    }
  });

  it('a SharedPipe reader completed with a foreign error fails the writer\'s flush with it, cut to fit', async () => {
    const pipe = new SharedPipe({ capacity: 4096 });
    const error = Object.assign(new TypeError('🚀'.repeat(300)), { code: 'E_ROCKETS' });
    pipe.reader.complete(error);
    pipe.writer.getMemory(1)[0] = 1;
    pipe.writer.advance(1);
    const caught = await within(pipe.writer.flush()).then(
      () => expect.unreachable('the flush resolved'),
      (reason: unknown) => reason as Error,
    );
    expect(caught).toBeInstanceOf(TypeError);
    expect(caught).toMatchObject({ name: 'TypeError', code: 'E_ROCKETS' });
    expect(caught.message).toMatch(/^(🚀)+…$/u);
  });
});
