// The soak's short variant: `bench/soak.ts` (built to dist/) as a child process with a small volume
// and a fixed seed: randomized traffic main→worker, worker→main and worker→worker on small and large
// rings, every byte checked, cancels and aborts on reads and flushes, and peer deaths on fresh pipes.
// It must pass: exit 0 with no mismatch. The soak bounds itself (--seconds, --hang-seconds); the
// kill timer here only catches a soak that does not.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const soak = fileURLToPath(new URL('../dist/bench/soak.js', import.meta.url));
const kSeed = 20_260_101;
const kGib = 0.5;
// A lost wake-up is caught exactly, not by time: the ring counts every wait that a wait slice ended with
// its condition already met and no wake-up sent, and that count must be 0. The stall limit here only
// catches a wait that hangs: on a loaded two-core box the test runner's own load delays wake-ups by
// hundreds of milliseconds (the soak's own default, for a quiet machine, is 150 ms).
const kArgs = ['--gib', String(kGib), '--seed', String(kSeed), '--seconds', '90', '--hang-seconds', '20', '--max-stall-ms', '2000'];
const kTestTimeoutMs = 150_000;
const kKillAfterMs = 140_000;
const kUsageTimeoutMs = 10_000;

interface SoakResult {
  verdict: string;
  bytes: number;
  mismatches: number;
  lostBytes: number;
  duplicatedBytes: number;
  failures: number;
  longestStallMs: number;
  lostWakeups: number;
  peerDeaths: number;
  peerDeathsDetected: number;
}

function runSoak(args: string[], killAfterMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [soak, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

/** The part of the soak's output that explains a failure: its failure list, else its tail. */
function explain(output: string): string {
  const at = output.indexOf('## failures');
  return at >= 0 ? output.slice(at) : output.slice(-4000);
}

describe('soak (short)', () => {
  it(
    `moves ${kGib} GiB across threads with cancels, aborts and peer deaths, every byte checked: exit 0, nothing lost, duplicated or reordered`,
    async () => {
      const { code, signal, output } = await runSoak(kArgs, kKillAfterMs);
      expect(signal, `the soak was killed after ${kKillAfterMs} ms:\n${output.slice(-4000)}`).toBeNull();
      const line = output.split('\n').find((l) => l.startsWith('soak-result '));
      expect(line, `no result line:\n${output.slice(-4000)}`).toBeDefined();
      const result = JSON.parse(line!.slice('soak-result '.length)) as SoakResult;
      expect(result.mismatches, explain(output)).toBe(0);
      expect(result.lostBytes + result.duplicatedBytes, explain(output)).toBe(0);
      expect(result.lostWakeups, explain(output)).toBe(0);
      expect(code, explain(output)).toBe(0);
      expect(result.verdict).toBe('PASSED');
      expect(result.bytes).toBe(Math.ceil(kGib * 2 ** 30));
      expect(result.peerDeaths).toBeGreaterThanOrEqual(32);
      expect(result.peerDeathsDetected).toBe(result.peerDeaths);
    },
    kTestTimeoutMs,
  );

  it(
    'rejects an unknown flag and a bad value with exit code 2, naming the option',
    async () => {
      const unknown = await runSoak(['--gib', '0.01', '--bogus'], kUsageTimeoutMs);
      expect(unknown.code).toBe(2);
      expect(unknown.output).toMatch(/Unknown option '--bogus'/);
      const bad = await runSoak(['--gib', 'lots'], kUsageTimeoutMs);
      expect(bad.code).toBe(2);
      expect(bad.output).toMatch(/--gib must be a number from [\d.]+ to \d+, got 'lots'/);
      const skip = await runSoak(['--skip', 'cancel,nothing'], kUsageTimeoutMs);
      expect(skip.code).toBe(2);
      expect(skip.output).toMatch(/--skip: unknown feature 'nothing'/);
      const help = await runSoak(['--help'], kUsageTimeoutMs);
      expect(help.code).toBe(0);
      expect(help.output).toMatch(/usage: npm run soak/);
    },
    4 * kUsageTimeoutMs,
  );
});
