// Parses the same workload — JSON lines built in memory — four ways, and shows where the work ran:
//   1. everything on the main thread, through an in-thread Pipe;
//   2. main thread writes into a SharedPipe, a ThreadScheduler's thread parses;
//   3. chunks cut at line ends, spread over a PoolScheduler;
//   4. in-thread again, with readerScheduler `immediate` against `inline`.
// Usage: node dist/examples/scheduler-lab/main.js [--mb 200] (--help lists the options)
import { threadId } from 'node:worker_threads';
import { Pipe, PipeScheduler, PoolScheduler, SharedPipe, ThreadScheduler, type PipeWriter } from 'threadpipe';
import { CommandLine } from '../shared/args.js';
import { threadCpuMs } from '../shared/thread-cpu.js';
import { emptyTally, parsePipe, type StageReport } from './parsers.js';

const parsers = new URL('./parsers.js', import.meta.url);
const kMaxMegabytes = 4096;
const command = CommandLine.parse({
  usage: 'node dist/examples/scheduler-lab/main.js',
  summary: 'Parses the same JSON-lines workload four ways (main thread, ThreadScheduler, PoolScheduler, immediate) and shows where the work ran.',
  options: { mb: { type: 'string', value: 'N', description: 'megabytes of JSON lines to build and parse (default 200)' } },
});
const megabytes = command.number('mb', 200, { min: 0, exclusiveMin: true, max: kMaxMegabytes });
const kChunk = 64 * 1024;

interface Row {
  way: string;
  seconds: number;
  lines: number;
  sum: number;
  threads: string;
  cpu: string;
}

function buildWorkload(bytes: number): Uint8Array {
  const parts: string[] = [];
  let size = 0;
  for (let id = 0; size < bytes; id++) {
    const line = `{"id":${id},"user":"user-${id % 9973}","score":${(id % 1000) / 10},"tags":["t${id % 7}","t${id % 13}"],"ok":${id % 3 === 0}}\n`;
    parts.push(line);
    size += line.length;
  }
  return new TextEncoder().encode(parts.join(''));
}

async function feed(writer: PipeWriter, data: Uint8Array): Promise<void> {
  for (let offset = 0; offset < data.length; offset += kChunk) {
    await writer.write(data.subarray(offset, Math.min(data.length, offset + kChunk)));
  }
  writer.complete();
}

async function inThread(data: Uint8Array, way: string, scheduler: PipeScheduler): Promise<Row> {
  const cpu = threadCpuMs();
  const started = performance.now();
  const pipe = new Pipe({ readerScheduler: scheduler, pauseWriterThreshold: 1 << 20 });
  const tally = emptyTally();
  await Promise.all([feed(pipe.writer, data), parsePipe(pipe.reader, tally)]);
  const seconds = (performance.now() - started) / 1000;
  return { way, seconds, lines: tally.lines, sum: tally.sum, threads: `write+parse: main (${threadId})`, cpu: `main ${(threadCpuMs() - cpu).toFixed(0)} ms` };
}

async function onThreadScheduler(data: Uint8Array): Promise<Row> {
  const scheduler = new ThreadScheduler(parsers, { name: 'parser' });
  try {
    const cpu = threadCpuMs();
    const started = performance.now();
    const pipe = new SharedPipe({ capacity: 4 << 20 });
    const parsed = scheduler.run<StageReport>('parseFromPipe', { input: pipe.reader });
    await feed(pipe.writer, data);
    const report = await parsed;
    const seconds = (performance.now() - started) / 1000;
    return {
      way: 'SharedPipe → ThreadScheduler',
      seconds,
      lines: report.lines,
      sum: report.sum,
      threads: `write: main (${threadId}), parse: ${report.threadId}`,
      cpu: `main ${(threadCpuMs() - cpu).toFixed(0)} ms, parser ${report.cpuMs.toFixed(0)} ms`,
    };
  } finally {
    await scheduler.close();
  }
}

async function onPool(data: Uint8Array): Promise<Row> {
  const pool = new PoolScheduler(parsers, { minThreads: 2, maxThreads: 2 });
  try {
    await Promise.all([pool.run('cpuTime'), pool.run('cpuTime')]);
    const cpu = threadCpuMs();
    const started = performance.now();
    const chunkSize = 4 << 20;
    const runs: Promise<StageReport>[] = [];
    for (let start = 0; start < data.length;) {
      let end = Math.min(data.length, start + chunkSize);
      while (end < data.length && data[end - 1] !== 0x0a) end++;
      // A view would clone its whole underlying buffer; a slice sends only its own bytes.
      runs.push(pool.run<StageReport>('parseChunk', { chunk: data.slice(start, end) }));
      start = end;
    }
    const reports = await Promise.all(runs);
    const seconds = (performance.now() - started) / 1000;
    const perThread = new Map<number, number>();
    for (const report of reports) perThread.set(report.threadId, (perThread.get(report.threadId) ?? 0) + report.cpuMs);
    return {
      way: `PoolScheduler (${runs.length} chunks)`,
      seconds,
      lines: reports.reduce((n, r) => n + r.lines, 0),
      sum: reports.reduce((n, r) => n + r.sum, 0),
      threads: `split: main (${threadId}), parse: ${[...perThread.keys()].join(', ')}`,
      cpu: `main ${(threadCpuMs() - cpu).toFixed(0)} ms, ${[...perThread].map(([id, ms]) => `${id}: ${ms.toFixed(0)} ms`).join(', ')}`,
    };
  } finally {
    await pool.close();
  }
}

async function main(): Promise<void> {
  process.stdout.write(`building ${megabytes} MB of JSON lines… `);
  const data = buildWorkload(megabytes * 1e6);
  console.log('done');
  const rows: Row[] = [];
  const ways: [string, () => Promise<Row>][] = [
    ['main thread', () => inThread(data, 'main thread, Pipe (inline)', PipeScheduler.inline)],
    ['thread scheduler', () => onThreadScheduler(data)],
    ['pool scheduler', () => onPool(data)],
    ['immediate', () => inThread(data, 'main thread, Pipe (immediate)', PipeScheduler.immediate)],
  ];
  for (const [name, run] of ways) {
    process.stdout.write(`running: ${name}… `);
    const row = await run();
    console.log(`${row.seconds.toFixed(2)} s`);
    rows.push(row);
  }
  const expected = rows[0]!;
  console.log('\n| way | MB/s | lines | CPU time per thread | which thread did what |');
  console.log('|---|---:|---:|---|---|');
  for (const row of rows) {
    const same = row.lines === expected.lines && Math.abs(row.sum - expected.sum) < 1e-6 * Math.abs(expected.sum);
    console.log(`| ${row.way} | ${(data.length / 1e6 / row.seconds).toFixed(0)} | ${row.lines}${same ? '' : ' (MISMATCH)'} | ${row.cpu} | ${row.threads} |`);
    if (!same) process.exitCode = 1;
  }
}

await main();
