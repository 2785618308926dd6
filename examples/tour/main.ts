// The threadpipe tour (npm start): no setup, under a minute.
//   1. a Redis-protocol server on a free loopback port, driven by a pipelining client on its own
//      thread, with parsing on the main thread (--threads 0) and then on a worker (--threads 1);
//   2. parallel gzip of generated data on a PoolScheduler, against single-threaded zlib;
// then a table: requests/s, MB/s, CPU time per thread, and which thread did what.
// Options: --seconds N (load per mode, default 3), --mb N (pgzip input, default 48); --help lists them.
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, createGzip } from 'node:zlib';
import { threadId } from 'node:worker_threads';
import { ThreadScheduler } from 'threadpipe';
import { pgzip } from '../pgzip/pgzip.js';
import { jsonLogLines } from '../pgzip/workload.js';
import { report as mainThreadReport } from '../resp-server/handler.js';
import { startServer } from '../resp-server/server.js';
import { CommandLine } from '../shared/args.js';
import { threadCpuMs } from '../shared/thread-cpu.js';
import type { DriveResult } from './resp-client.js';

const kMaxSeconds = 600;
const kMaxMegabytes = 4096;
const command = CommandLine.parse({
  usage: 'node dist/examples/tour/main.js',
  summary: 'The threadpipe tour (npm start): a RESP server in both modes under load, then parallel gzip, then a table.',
  options: {
    seconds: { type: 'string', value: 'N', description: 'seconds of load per RESP server mode (default 3)' },
    mb: { type: 'string', value: 'N', description: 'megabytes of generated input for pgzip (default 48)' },
  },
});
const seconds = command.number('seconds', 3, { min: 0, exclusiveMin: true, max: kMaxSeconds });
const megabytes = command.number('mb', 48, { min: 0, exclusiveMin: true, max: kMaxMegabytes });
const say = (text: string): void => void process.stderr.write(text);

interface Row {
  what: string;
  rate: string;
  cpu: string;
  threads: string;
}

async function respMode(threads: 0 | 1, client: ThreadScheduler): Promise<Row> {
  say(`• resp-server --threads ${threads}: starting… `);
  const server = await startServer({ port: 0, threads });
  say(`listening on ${server.host}:${server.port}; ${seconds} s of pipelined SET/GET… `);
  const mainCpu = threadCpuMs();
  const workerBefore = server.scheduler ? await server.scheduler.run<{ cpuMs: number }>('report') : null;
  const load = await client.run<DriveResult>('drive', { port: server.port, host: server.host, seconds, connections: 8, depth: 32 });
  const mainUsed = threadCpuMs() - mainCpu;
  let parseThread = `main (${threadId})`;
  let cpu = `main ${mainUsed.toFixed(0)} ms, client ${load.cpuMs.toFixed(0)} ms`;
  if (server.scheduler !== null) {
    const after = await server.scheduler.run<{ cpuMs: number; threadId: number }>('report');
    parseThread = `worker ${after.threadId}`;
    cpu = `main ${mainUsed.toFixed(0)} ms, parser ${(after.cpuMs - workerBefore!.cpuMs).toFixed(0)} ms, client ${load.cpuMs.toFixed(0)} ms`;
  } else {
    void mainThreadReport;
  }
  await server.close();
  if (load.errors > 0) throw new Error(`the server answered ${load.errors} requests with errors`);
  say(`${Math.round(load.requests / load.seconds).toLocaleString('en-US')} requests/s\n`);
  return {
    what: `resp-server --threads ${threads} (8 connections, 32 pipelined)`,
    rate: `${Math.round(load.requests / load.seconds).toLocaleString('en-US')} req/s`,
    cpu,
    threads: `socket I/O: main (${threadId}); parsing: ${parseThread}; client: ${load.threadId}`,
  };
}

async function gzipRows(): Promise<Row[]> {
  say(`• pgzip: generating ${megabytes} MB… `);
  const data = jsonLogLines(megabytes * 1e6);
  const chunks = (async function* () {
    for (let offset = 0; offset < data.length; offset += 1 << 20) yield data.subarray(offset, offset + (1 << 20));
  })();
  const members: Uint8Array[] = [];
  const collect = new Writable({
    write(chunk: Uint8Array, _encoding, callback) {
      members.push(chunk);
      callback();
    },
  });
  say('compressing on a PoolScheduler… ');
  const mainCpu = threadCpuMs();
  const parallel = await pgzip(chunks, collect, { level: 6 });
  const parallelMainCpu = threadCpuMs() - mainCpu;
  const restored = gunzipSync(Buffer.concat(members));
  if (restored.length !== data.length || Buffer.compare(restored, data) !== 0) throw new Error('pgzip output did not decompress to its input');
  say(`${(data.length / 1e6 / parallel.seconds).toFixed(0)} MB/s; single-threaded zlib… `);
  const started = performance.now();
  const singleCpu = threadCpuMs();
  await pipeline((async function* () { yield data; })(), createGzip({ level: 6 }), new Writable({ write: (_c, _e, callback) => callback() }));
  const single = (performance.now() - started) / 1000;
  const singleCpuUsed = threadCpuMs() - singleCpu;
  say(`${(data.length / 1e6 / single).toFixed(0)} MB/s\n`);
  return [
    {
      what: `pgzip, ${parallel.threads} pool threads, level 6 (${parallel.chunks} members)`,
      rate: `${(data.length / 1e6 / parallel.seconds).toFixed(0)} MB/s (${(single / parallel.seconds).toFixed(2)}x zlib)`,
      cpu: `main ${parallelMainCpu.toFixed(0)} ms (reading, ordering, writing)`,
      threads: `compression: ${parallel.threads} pool threads; output checked byte-exact`,
    },
    {
      what: 'zlib.createGzip, one thread, level 6',
      rate: `${(data.length / 1e6 / single).toFixed(0)} MB/s`,
      cpu: `zlib's thread pool ${singleCpuUsed.toFixed(0)} ms seen from main`,
      threads: 'compression: libuv thread pool, one stream',
    },
  ];
}

async function main(): Promise<void> {
  const started = performance.now();
  say('threadpipe tour\n');
  const client = new ThreadScheduler(new URL('./resp-client.js', import.meta.url), { name: 'resp-client' });
  const rows: Row[] = [];
  try {
    rows.push(await respMode(0, client));
    rows.push(await respMode(1, client));
  } finally {
    await client.close();
  }
  rows.push(...(await gzipRows()));
  console.log('\n| what | throughput | CPU time per thread | which thread did what |');
  console.log('|---|---:|---|---|');
  for (const row of rows) console.log(`| ${row.what} | ${row.rate} | ${row.cpu} | ${row.threads} |`);
  console.log(`\n2 cores are shared by the server, the load client and the compressors; see the README for what that does to the ratios. Tour took ${((performance.now() - started) / 1000).toFixed(1)} s.`);
}

await main();
