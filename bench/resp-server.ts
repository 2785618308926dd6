// The RESP server side by side with redis-server (when installed), driven by redis-benchmark (when
// installed): the default suite, pipelined SET/GET, 1,000 pipelining connections with the server's
// RSS, and 10,000 idle connections' RSS, each on a fresh server (the suites after the same warm-up).
// Figures are medians over runs; ratios are to redis-server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { formatRate, formatRatio, markdownTable, median, ratio, type Suite, type SuiteOptions } from './report.js';

const serverScript = fileURLToPath(new URL('../examples/resp-server/main.js', import.meta.url));
const kStartMs = 20_000;
const kBenchmarkMs = 600_000;
const kIdleConnections = 10_000;
/** Connections opened at once while setting up the idle ones: more would overrun the listen backlog. */
const kConnectBatch = 500;
const kRssSampleMs = 100;
/** How long a server has to exit on SIGTERM before it is killed. */
const kStopMs = 10_000;
/** How long one PING may go unanswered while waiting for redis-server to start. */
const kPingMs = 1_000;
/** As `npm run resp-server` starts it: the main thread's young generation bounded (see the README). */
const kServerNodeOptions = ['--max-semi-space-size=1'];
/** Run on each fresh server before what is measured. */
const kWarmUp = ['-P', '16', '-c', '50', '-t', 'set,get', '-n', '100000'];

const has = (command: string): boolean => spawnSync(command, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0;

interface Server {
  readonly name: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  if (match === null) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), kStopMs);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function startOwn(threads: 0 | 1): Promise<Server> {
  const child = spawn(process.execPath, [...kServerNodeOptions, serverScript, '--port', '0', '--threads', String(threads)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<Server>((resolve, reject) => {
    // A server that never says it listens is killed, or its open stdout would keep this process alive.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`resp-server --threads ${threads} did not start in ${kStartMs} ms`));
    }, kStartMs);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on [^:]+:(\d+)/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ name: `threadpipe --threads ${threads}`, port: Number(match[1]), process: child, stop: stopper(child) });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`resp-server --threads ${threads} exited with ${code}`));
    });
  });
}

async function startRedis(): Promise<Server> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--maxclients', String(kIdleConnections + 100)], { stdio: 'ignore' });
  const started = Date.now();
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      if (await ping(port)) return { name: 'redis-server', port, process: child, stop: stopper(child) };
      if (Date.now() - started > kStartMs) throw new Error(`redis-server did not answer in ${kStartMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

async function onFreshServer(start: () => Promise<Server>, measure: (server: Server) => Promise<void>): Promise<void> {
  const server = await start();
  try {
    await measure(server);
  } finally {
    await server.stop();
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(kPingMs, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}

/** Runs redis-benchmark; returns requests per second by test name, and the server's peak RSS while it ran. */
async function benchmark(server: Server, args: readonly string[]): Promise<{ rates: Map<string, number>; peakRss: number }> {
  const child = spawn('redis-benchmark', ['-h', '127.0.0.1', '-p', String(server.port), '-q', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let peakRss = rssOf(server.process.pid!);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssOf(server.process.pid!));
  }, kRssSampleMs);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`redis-benchmark ${args.join(' ')} against ${server.name} took over ${kBenchmarkMs} ms`));
      }, kBenchmarkMs);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    const rates = new Map<string, number>();
    for (const line of output.split(/[\r\n]+/)) {
      const match = /^([A-Za-z_0-9() ]+): ([\d.]+) requests per second/.exec(line.trim());
      if (match !== null) rates.set(match[1]!.trim(), Number(match[2]));
      if (/error/i.test(line)) throw new Error(`redis-benchmark against ${server.name}: ${line.trim()}`);
    }
    if (code !== 0 || rates.size === 0) throw new Error(`redis-benchmark against ${server.name} exited with ${code}: ${output.slice(-500)}`);
    return { rates, peakRss };
  } finally {
    clearInterval(sampler);
  }
}

/** Opens `count` connections, each answered once (so the server set it up), then reads the server's RSS. */
async function idleRss(server: Server, count: number): Promise<number> {
  const sockets: net.Socket[] = [];
  try {
    for (let opened = 0; opened < count; opened += kConnectBatch) {
      const batch = Math.min(kConnectBatch, count - opened);
      await Promise.all(
        Array.from({ length: batch }, () =>
          new Promise<void>((resolve, reject) => {
            const socket = net.connect(server.port, '127.0.0.1');
            sockets.push(socket);
            socket.once('error', reject);
            socket.once('connect', () => socket.write('PING\r\n'));
            socket.once('data', (data) => (data.toString().startsWith('+PONG') ? resolve() : reject(new Error(`${server.name} answered ${data.toString().trim()}`))));
          }),
        ),
      );
    }
    return rssOf(server.process.pid!);
  } finally {
    for (const socket of sockets) socket.destroy();
  }
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(0)} MB`;

async function run(options: SuiteOptions): Promise<void> {
  if (!has('redis-benchmark')) {
    console.log('redis-benchmark is not installed (apt-get install redis-tools): skipping this suite.');
    return;
  }
  const withRedis = has('redis-server');
  if (!withRedis) console.log('redis-server is not installed: threadpipe figures only, no ratios.\n');
  const n = String(Math.max(20_000, options.timeMs * 100));
  const starters: (() => Promise<Server>)[] = [() => startOwn(0), () => startOwn(1), ...(withRedis ? [startRedis] : [])];
  const names = ['threadpipe --threads 0', 'threadpipe --threads 1', ...(withRedis ? ['redis-server'] : [])];
  const suites: { title: string; args: string[] }[] = [
    { title: `default suite, redis-benchmark -q -n ${n}`, args: ['-n', n] },
    { title: `pipelined, -P 16 -c 50 -t set,get -n ${Number(n) * 10}`, args: ['-P', '16', '-c', '50', '-t', 'set,get', '-n', String(Number(n) * 10)] },
    { title: `1,000 connections, -c 1000 -P 4 -t set -n ${Number(n) * 10}`, args: ['-c', '1000', '-P', '4', '-t', 'set', '-n', String(Number(n) * 10)] },
  ];
  const rates = suites.map(() => names.map(() => new Map<string, number[]>()));
  const peak = suites.map(() => names.map(() => [] as number[]));
  const idle = names.map(() => [] as number[]);
  for (let r = 0; r < options.runs; r++) {
    // Each run takes the servers in turn, so drift hits them alike, and starts each one fresh for every
    // suite: a suite's RSS is its own, not what an earlier suite left in a heap that does not shrink.
    // The same unmeasured warm-up comes before each suite, so that none measures a cold JIT; the idle
    // connections meet a server that has served nothing, as the README's start-up figures do.
    for (let s = 0; s < starters.length; s++) {
      for (let k = 0; k < suites.length; k++) {
        await onFreshServer(starters[s]!, async (server) => {
          await benchmark(server, kWarmUp);
          const got = await benchmark(server, suites[k]!.args);
          for (const [test, rate] of got.rates) rates[k]![s]!.set(test, [...(rates[k]![s]!.get(test) ?? []), rate]);
          peak[k]![s]!.push(got.peakRss);
        });
      }
      await onFreshServer(starters[s]!, async (server) => void idle[s]!.push(await idleRss(server, kIdleConnections)));
    }
    console.log(`run ${r + 1}/${options.runs} done`);
  }
  const redis = withRedis ? names.length - 1 : -1;
  for (let k = 0; k < suites.length; k++) {
    console.log(`\n### ${suites[k]!.title}\n`);
    const tests = [...rates[k]![0]!.keys()];
    const header = ['test', ...names.map((name) => `${name} req/s`), ...(withRedis ? ['--threads 0 / redis', '--threads 1 / redis'] : []), '--threads 1 / --threads 0'];
    const rows = tests.map((test) => {
      const per = names.map((_, s) => rates[k]![s]!.get(test) ?? []);
      // Ratios are medians of per-run ratios: run r of every server came from the same round.
      const versus = (a: number, b: number): string => formatRatio(ratio(per[a]!, per[b]!));
      return [test, ...per.map((v) => formatRate(median(v))), ...(withRedis ? [versus(0, redis), versus(1, redis)] : []), versus(1, 0)];
    });
    rows.push(['peak server RSS', ...names.map((_, s) => mb(median(peak[k]![s]!))), ...(withRedis ? ['', ''] : []), '']);
    console.log(markdownTable(header, rows));
  }
  console.log(`\n### ${kIdleConnections} idle connections (each answered one PING)\n`);
  console.log(markdownTable(['server', 'RSS'], names.map((name, s) => [name, mb(median(idle[s]!))])));
}

export const suite: Suite = {
  name: 'resp-server',
  description: 'The RESP server against redis-server, both driven by redis-benchmark: requests per second (medians of runs), peak RSS, and RSS with 10,000 idle connections.',
  run,
};
