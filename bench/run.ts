// Benchmark runner: `npm run bench [-- <filter>...] [--runs=N] [--time=MS] [--warmup=MS] [--mb=N] [--list]`.
// A filter selects the suites whose name contains it (e.g. `npm run bench -- pipe`).
// New suites: add a file exporting `suite: Suite` and list it below.
import { availableParallelism, cpus } from 'node:os';
import type { Suite, SuiteOptions } from './report.js';

const suites: ReadonlyArray<{ readonly name: string; readonly load: () => Promise<Suite> }> = [
  { name: 'pipe-vs-streams', load: async () => (await import('./pipe-vs-streams.js')).suite },
  { name: 'tcp-lines', load: async () => (await import('./tcp-lines.js')).suite },
  { name: 'ring-throughput', load: async () => (await import('./ring-throughput.js')).suite },
  { name: 'ring-latency', load: async () => (await import('./ring-latency.js')).suite },
  { name: 'resp-server', load: async () => (await import('./resp-server.js')).suite },
  { name: 'pgzip', load: async () => (await import('./pgzip.js')).suite },
];

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): { filters: string[]; options: SuiteOptions; list: boolean } {
  const filters: string[] = [];
  const options: { runs: number; timeMs: number; warmupMs: number; inputMB?: number } = { runs: 5, timeMs: 300, warmupMs: 100 };
  let list = false;
  for (const arg of argv) {
    const match = /^--(\w+)=(\d+)$/.exec(arg);
    if (match) {
      const value = Number(match[2]);
      if (match[1] === 'runs' && value >= 1) options.runs = value;
      else if (match[1] === 'time' && value >= 1) options.timeMs = value;
      else if (match[1] === 'warmup') options.warmupMs = value;
      else if (match[1] === 'mb' && value >= 1) options.inputMB = value;
      else throw new UsageError(`unknown or invalid option ${arg}`);
    } else if (arg === '--list') {
      list = true;
    } else if (arg.startsWith('-')) {
      throw new UsageError(`unknown option ${arg}`);
    } else {
      filters.push(arg.toLowerCase());
    }
  }
  return { filters, options, list };
}

async function main(): Promise<void> {
  const { filters, options, list } = parseArgs(process.argv.slice(2));
  const selected = suites.filter((s) => filters.length === 0 || filters.some((f) => s.name.toLowerCase().includes(f)));
  if (list) {
    for (const s of suites) console.log(s.name);
    return;
  }
  if (selected.length === 0) {
    console.error(`no suite matches ${filters.join(', ')}; suites: ${suites.map((s) => s.name).join(', ')}`);
    process.exitCode = 1;
    return;
  }
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(`# threadpipe benchmarks\n`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} CPUs (${cpu})`);
  console.log(`${options.runs} runs per suite, ${options.timeMs} ms measured + ${options.warmupMs} ms warm-up per task and run; figures are medians over runs.\n`);
  for (const entry of selected) {
    const suite = await entry.load();
    const started = performance.now();
    console.log(`## ${suite.name}\n\n${suite.description}\n`);
    await suite.run(options);
    console.log(`\n_${suite.name}: ${((performance.now() - started) / 1000).toFixed(1)} s_\n`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`${error.message}\nusage: npm run bench [-- <suite filter>...] [--runs=N] [--time=MS] [--warmup=MS] [--mb=N] [--list]`);
  else console.error(error);
  process.exitCode = 1;
});
