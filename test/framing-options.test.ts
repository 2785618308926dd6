// readLines / readFrames and their fast forms (readLineBatches, forEachLine, readFrameBatches,
// forEachFrame) check their arguments when they are called — a bad option throws there, with its name
// in the message, and nothing is read — and a maxFrameSize above what the prefix can express is
// accepted as the prefix's largest length.
import { describe, expect, it } from 'vitest';
import {
  forEachFrame,
  forEachLine,
  Pipe,
  readFrameBatches,
  readFrames,
  readLineBatches,
  readLines,
  writeFrame,
  type FramePrefix,
  type ReadFramesOptions,
  type ReadLinesOptions,
} from '../dist/src/index.js';
import { randomData, within } from './helpers.js';

const prefixes: FramePrefix[] = ['u16be', 'u32be', 'u32le', 'varint'];

function expectInvalidArgument(call: () => unknown, name: string, label: string): void {
  expect(call, label).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining(`'${name}'`) }));
}

describe('readLines checks its arguments at the call', () => {
  it('a bad maxLineLength throws at once, naming it; the reader is untouched', () => {
    const pipe = new Pipe();
    for (const bad of [0, -1, 1.5, '80', Number.NaN]) {
      expectInvalidArgument(() => readLines(pipe.reader, { maxLineLength: bad as number }), 'maxLineLength', String(bad));
    }
    expect(pipe.reader.tryRead()).toBeNull();
  });

  it('options that are not an object, or a reader that is not a PipeReader, throw at once', () => {
    const pipe = new Pipe();
    for (const bad of [null, 'long', 80]) {
      expectInvalidArgument(() => readLines(pipe.reader, bad as ReadLinesOptions), 'options', String(bad));
    }
    for (const bad of [null, {}, pipe.writer]) {
      expectInvalidArgument(() => readLines(bad as unknown as Pipe['reader']), 'reader', String(bad));
    }
  });
});

describe('the fast forms check their arguments at the call, as readLines and readFrames do', () => {
  const lineForms: [string, (reader: Pipe['reader'], options?: ReadLinesOptions) => unknown][] = [
    ['readLines', (reader, options) => readLines(reader, options)],
    ['readLineBatches', (reader, options) => readLineBatches(reader, options)],
    ['forEachLine', (reader, options) => forEachLine(reader, () => {}, options)],
  ];
  const frameForms: [string, (reader: Pipe['reader'], options: ReadFramesOptions) => unknown][] = [
    ['readFrames', (reader, options) => readFrames(reader, options)],
    ['readFrameBatches', (reader, options) => readFrameBatches(reader, options)],
    ['forEachFrame', (reader, options) => forEachFrame(reader, () => {}, options)],
  ];

  it('a bad maxLineLength, signal, options or reader throws at once in every line form, naming it; nothing is read', async () => {
    const pipe = new Pipe();
    await pipe.writer.write('a\n');
    for (const [name, form] of lineForms) {
      expectInvalidArgument(() => form(pipe.reader, { maxLineLength: 0 }), 'maxLineLength', name);
      for (const bad of [{}, 'abort', 1]) expectInvalidArgument(() => form(pipe.reader, { signal: bad as AbortSignal }), 'signal', `${name} signal ${String(bad)}`);
      expectInvalidArgument(() => form(pipe.reader, null as unknown as ReadLinesOptions), 'options', name);
      expectInvalidArgument(() => form({} as Pipe['reader']), 'reader', name);
    }
    const result = pipe.reader.tryRead();
    expect(result?.buffer.toString()).toBe('a\n');
  });

  it('a bad prefix, maxFrameSize or signal throws at once in every frame form, naming it', () => {
    const pipe = new Pipe();
    for (const [name, form] of frameForms) {
      expectInvalidArgument(() => form(pipe.reader, { prefix: 'u8' as FramePrefix, maxFrameSize: 1 }), 'prefix', name);
      expectInvalidArgument(() => form(pipe.reader, { prefix: 'u16be', maxFrameSize: -1 }), 'maxFrameSize', name);
      expectInvalidArgument(() => form(pipe.reader, { prefix: 'u16be', maxFrameSize: 1, signal: {} as AbortSignal }), 'signal', name);
      expectInvalidArgument(() => form(pipe.reader, undefined as unknown as ReadFramesOptions), 'options', name);
    }
    expect(pipe.reader.tryRead()).toBeNull();
  });

  it('a callback that is not a function throws at once, naming onLine / onFrame', () => {
    const pipe = new Pipe();
    for (const bad of [undefined, null, 'cb', {}]) {
      expectInvalidArgument(() => forEachLine(pipe.reader, bad as never), 'onLine', String(bad));
      expectInvalidArgument(() => forEachFrame(pipe.reader, bad as never, { prefix: 'u16be', maxFrameSize: 1 }), 'onFrame', String(bad));
    }
    expect(pipe.reader.tryRead()).toBeNull();
  });
});

describe('readFrames checks its arguments at the call', () => {
  it('a bad prefix, a bad or missing maxFrameSize, or options that are not an object throw at once, naming the option', () => {
    const pipe = new Pipe();
    const bad: [unknown, string][] = [
      [{ prefix: 'u8', maxFrameSize: 10 }, 'prefix'],
      [{ maxFrameSize: 10 }, 'prefix'],
      [{ prefix: 'u32be', maxFrameSize: -1 }, 'maxFrameSize'],
      [{ prefix: 'varint', maxFrameSize: 1.5 }, 'maxFrameSize'],
      [{ prefix: 'u32le' }, 'maxFrameSize'],
      [{ prefix: 'u16be', maxFrameSize: '10' }, 'maxFrameSize'],
      [null, 'options'],
      [undefined, 'options'],
    ];
    for (const [options, name] of bad) {
      expectInvalidArgument(() => readFrames(pipe.reader, options as ReadFramesOptions), name, JSON.stringify(options) ?? 'undefined');
    }
    expect(pipe.reader.tryRead()).toBeNull();
  });

  it('a reader that is not a PipeReader throws at once', () => {
    for (const bad of [undefined, {}, new Pipe().writer]) {
      expectInvalidArgument(() => readFrames(bad as unknown as Pipe['reader'], { prefix: 'u16be', maxFrameSize: 10 }), 'reader', String(bad));
    }
  });
});

describe('readFrames: a maxFrameSize above what the prefix can express', () => {
  for (const prefix of prefixes) {
    it(`${prefix}: is accepted, and frames up to the prefix's largest length arrive`, async () => {
      const limit = prefix === 'u16be' ? 0xffff : 0xffffffff;
      const sizes = prefix === 'u16be' ? [0, 1, 0xffff] : [0, 1, 0xffff, 0x10000 + 7];
      const pipe = new Pipe();
      const payloads = sizes.map((size, i) => randomData(80 + i, size));
      for (const maxFrameSize of [limit + 1, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
        // Accepted at the call: no throw.
        readFrames(pipe.reader, { prefix, maxFrameSize });
      }
      const frames = readFrames(pipe.reader, { prefix, maxFrameSize: 2 ** 40 });
      for (const payload of payloads) writeFrame(pipe.writer, payload, prefix);
      pipe.writer.complete();
      const received: number[] = [];
      await within(
        (async () => {
          for await (const frame of frames) received.push(frame.length);
        })(),
      );
      expect(received).toEqual(sizes);
      pipe.reader.complete();
    });
  }
});
