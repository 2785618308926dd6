// A first look at a Pipe: a writer sends lines in uneven pieces, a reader parses whole lines out of
// whatever has arrived, consuming what it parsed and examining the rest, and backpressure pauses the
// writer when the reader falls behind.
import { Pipe, PipeScheduler, type PipeReader, type PipeWriter } from 'threadpipe';
import { CommandLine } from '../shared/args.js';

CommandLine.parse({
  usage: 'node dist/examples/hello/main.js',
  summary: 'A first look at a Pipe: uneven writes, whole-line parsing, consumed/examined, backpressure. Takes no options.',
  options: {},
});

const lines = ['GET /index.html', 'Host: example.test', 'Accept: */*', 'X-Note: naïve café ☕', ''];
const wire = new TextEncoder().encode(lines.map((line) => line + '\r\n').join('').repeat(2000));

async function produce(writer: PipeWriter, log: string[]): Promise<void> {
  let offset = 0;
  let pauses = 0;
  let piece = 1;
  while (offset < wire.length) {
    // Uneven pieces, so lines (and multi-byte characters) are split across flushes and segments.
    const size = Math.min(wire.length - offset, (piece = (piece * 7 + 3) % 997) + 1);
    const memory = writer.getMemory(size);
    memory.set(wire.subarray(offset, offset + size));
    writer.advance(size);
    offset += size;
    const flush = writer.flush();
    let settled = false;
    void flush.then(() => (settled = true));
    await Promise.resolve();
    if (!settled) pauses++;
    await flush;
  }
  writer.complete();
  log.push(`writer: sent ${wire.length} bytes, paused ${pauses} times by backpressure`);
}

async function parse(reader: PipeReader, log: string[]): Promise<number> {
  let count = 0;
  let reads = 0;
  let longest = '';
  for (;;) {
    const result = await reader.read();
    reads++;
    let buffer = result.buffer;
    for (;;) {
      const newline = buffer.positionOf(0x0a);
      if (newline === null) break;
      const line = buffer.slice(0, newline).toString().replace(/\r$/, '');
      if (line.length > longest.length) longest = line;
      count++;
      buffer = buffer.slice(buffer.getPosition(1, newline));
    }
    // Consumed up to the last whole line; examined everything, so the next read waits for more bytes.
    reader.advanceTo(buffer.start, result.buffer.end);
    if (result.isCompleted) break;
  }
  reader.complete();
  log.push(`reader: parsed ${count} lines in ${reads} reads; longest line: "${longest}"`);
  return count;
}

async function main(): Promise<void> {
  const log: string[] = [];
  const pipe = new Pipe({ pauseWriterThreshold: 16 * 1024, resumeWriterThreshold: 8 * 1024, readerScheduler: PipeScheduler.immediate });
  const started = process.hrtime.bigint();
  const [, count] = await Promise.all([produce(pipe.writer, log), parse(pipe.reader, log)]);
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  for (const line of log) console.log(line);
  const expected = lines.length * 2000;
  console.log(`${count === expected ? 'ok' : 'MISMATCH'}: ${count} of ${expected} lines in ${elapsed.toFixed(1)} ms`);
  if (count !== expected) process.exitCode = 1;
}

await main();
