// The RESP server's in-place parsing (examples/resp-server/resp.ts, handler.ts), driven straight
// through serve() over in-thread pipes whose blocks are 16 bytes: every request then runs across
// blocks somewhere, at every alignment, and must be answered exactly as when it lies in one block.
import { describe, expect, it } from 'vitest';
import { Pipe, type PipeReader } from '../dist/src/index.js';
import { serve } from '../dist/examples/resp-server/handler.js';
import { within } from './helpers.js';

const WAIT_MS = 10_000;
/** The smallest block a pipe rents: every request of more than a few bytes spans several. */
const TINY_BLOCK = 16;
const BIG_VALUE_BYTES = 5000;

const multibulk = (...args: (string | Buffer)[]): Buffer =>
  Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.flatMap((arg) => [Buffer.from(`$${Buffer.byteLength(arg)}\r\n`), Buffer.from(arg), Buffer.from('\r\n')])]);

const line = (text: string): Buffer => Buffer.from(text, 'latin1');

async function collect(reader: PipeReader): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (;;) {
    const result = await reader.read();
    for (const chunk of result.buffer) chunks.push(Buffer.from(chunk));
    reader.advanceTo(result.buffer.end);
    if (result.isCompleted) {
      reader.complete();
      return Buffer.concat(chunks);
    }
  }
}

/** Serves `chunks` (one write each) through pipes with `block`-byte segments; every reply byte until serve() ends. */
async function exchange(chunks: Buffer[], block?: number): Promise<Buffer> {
  const input = new Pipe(block === undefined ? undefined : { minimumSegmentSize: block });
  const output = new Pipe();
  const served = serve({ input: input.reader, output: output.writer });
  const replies = collect(output.reader);
  for (const chunk of chunks) {
    const flushed = await within(input.writer.write(chunk), WAIT_MS, 'a write to the server');
    // A protocol error closes the connection: what is left is never read.
    if (flushed.isCompleted) break;
  }
  input.writer.complete();
  await within(served, WAIT_MS, 'serve() ending');
  return within(replies, WAIT_MS, 'the replies');
}

/** Bytes of the big value: every byte value, CR and LF included, so no scan can stop early. */
const bigValue = Buffer.from(Array.from({ length: BIG_VALUE_BYTES }, (_, i) => (i * 7) & 0xff));

const requests = Buffer.concat([
  multibulk('SET', 'inplace:a', 'x\r\ny\0z'),
  line('get inplace:a\r\n'),
  line('\r\n'),
  line('*0\r\n*-1\r\n'),
  line(`ECHO "q\\x41\\n" 'r s'\r\n`),
  line(`EcHo "q\\x41\\n"\n`),
  multibulk('SET', 'inplace:n', '0'),
  multibulk('INCRBY', 'inplace:n', '-123456789012'),
  line('INCRBY inplace:n 9007199254740000\r\n'),
  multibulk('SET', 'inplace:big', bigValue),
  multibulk('STRLEN', 'inplace:big'),
  multibulk('GET', 'inplace:big'),
  line('PING\r\n'),
  multibulk('DEL', 'inplace:a', 'inplace:n', 'inplace:big', 'inplace:none'),
]);

const expected = Buffer.concat([
  line('+OK\r\n'),
  line('$6\r\nx\r\ny\0z\r\n'),
  line("-ERR wrong number of arguments for 'echo' command\r\n"),
  line('$3\r\nqA\n\r\n'),
  line('+OK\r\n'),
  line(':-123456789012\r\n'),
  line(':9007075797950988\r\n'),
  line('+OK\r\n'),
  line(`:${BIG_VALUE_BYTES}\r\n`),
  line(`$${BIG_VALUE_BYTES}\r\n`),
  bigValue,
  line('\r\n+PONG\r\n:3\r\n'),
]);

/** Shifts where the block boundaries fall: empty inline lines, which are no command. */
const shifted = (bytes: Buffer, by: number): Buffer => Buffer.concat([Buffer.alloc(by, 0x0a), bytes]);

describe('P RESP server parsing in place across blocks', () => {
  it('P1 the request stream in one block and in 16-byte blocks at every alignment gets the same replies', async () => {
    expect((await exchange([requests])).equals(expected)).toBe(true);
    for (let by = 0; by < TINY_BLOCK; by++) {
      const got = await exchange([shifted(requests, by)], TINY_BLOCK);
      expect(got.equals(expected), `shifted by ${by}: ${got.subarray(0, 200).toString('latin1')}`).toBe(true);
    }
  }, 60_000);

  it('P2 the stream cut into two writes at every byte before the big value, in 16-byte blocks, gets the same replies', async () => {
    const before = requests.indexOf(multibulk('SET', 'inplace:big', bigValue));
    for (let cut = 1; cut <= before + 40; cut++) {
      const got = await exchange([requests.subarray(0, cut), requests.subarray(cut)], TINY_BLOCK);
      expect(got.equals(expected), `cut at ${cut}`).toBe(true);
    }
  }, 60_000);

  it('P3 a broken request after a good one, in 16-byte blocks at every alignment: the reply, then the protocol error, then the end', async () => {
    const broken: [string, string][] = [
      ['*1\r\n$3\r\nabcde\r\n', 'bulk string not terminated by CRLF'],
      ['*x\r\n', 'invalid multibulk length'],
      ['*1\r\n$-3\r\n', 'invalid bulk length'],
      [`*1\r\n$${(16 << 20) + 1}\r\n`, 'invalid bulk length'],
      ['*2\r\n$3\r\nGET\r\n+x\r\n', "expected '$', got '+'"],
      ['SET k "open\r\n', 'unbalanced quotes in request'],
      [`GET 'a'b\r\n`, 'unbalanced quotes in request'],
      ['x'.repeat(64 * 1024 + 1), 'too big inline request'],
      [`*${'1'.repeat(64 * 1024 + 1)}`, 'unterminated multibulk length line'],
      [`*1\r\n$${'2'.repeat(64 * 1024 + 1)}`, 'unterminated bulk length line'],
    ];
    for (const [tail, message] of broken) {
      const request = Buffer.concat([line('PING\r\n'), line(tail)]);
      for (const by of [0, 1, 7, 15]) {
        const got = await exchange([shifted(request, by)], TINY_BLOCK);
        expect(got.toString('latin1'), `${JSON.stringify(tail.slice(0, 20))} shifted by ${by}`).toBe(`+PONG\r\n-ERR Protocol error: ${message}\r\n`);
      }
    }
  }, 60_000);

  it('P4 a request that has not fully arrived when the writer completes gets no reply and serve() ends', async () => {
    const partial = multibulk('SET', 'inplace:partial', bigValue).subarray(0, 100);
    expect((await exchange([partial], TINY_BLOCK)).length).toBe(0);
    expect((await exchange([multibulk('EXISTS', 'inplace:partial')], TINY_BLOCK)).toString('latin1')).toBe(':0\r\n');
  });
});
