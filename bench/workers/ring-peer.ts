// The worker side of the ring suites. One script, three roles (workerData.role):
//   consumer — takes exactly N bytes per run of a transport (bench/workers/ring-common.ts), on command;
//   producer — sends N messages per run, on command (the worker->worker case);
//   echo     — the latency peer: answers every ping with a pong until told to stop.
// Commands and replies travel on parentPort; failures are posted as { error } for the suite to throw.
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { SharedPipe, type ReadResult, type SharedPipeHandle, type SharedPipeReader } from 'threadpipe';
import { createConsumer, createProducer, GcWatch, spurious, type TransportSpec } from './ring-common.js';

export type EchoMode = 'sp-sync' | 'sp-async' | 'atomics' | 'port';

export interface EchoSpec {
  mode: EchoMode;
  /** tryRead() (or Atomics.load) polls before falling back to a blocking / async wait. */
  spin: number;
  input?: SharedPipeHandle;
  output?: SharedPipeHandle;
  sab?: SharedArrayBuffer;
  port?: MessagePort;
}

export type PeerData =
  | { role: 'consumer'; spec: TransportSpec }
  | { role: 'producer'; spec: TransportSpec }
  | { role: 'echo'; echo: EchoSpec }
  /** Keeps a core busy until flag[0] becomes non-zero (the oversubscribed latency case). */
  | { role: 'burn'; flag: SharedArrayBuffer };

const port = parentPort!;
const data = workerData as PeerData;

function fail(error: unknown): void {
  port.postMessage({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}

async function consumerRole(spec: TransportSpec): Promise<void> {
  const consumer = createConsumer(spec);
  const gc = new GcWatch();
  port.on('message', async (message: { cmd: string; bytes?: number }) => {
    try {
      if (message.cmd === 'consume') {
        port.postMessage({ armed: true });
        await consumer.consume(message.bytes!);
        port.postMessage({ done: true });
      } else if (message.cmd === 'gc-start') {
        gc.start();
        port.postMessage({ ok: true });
      } else if (message.cmd === 'gc-stop') {
        port.postMessage({ gc: await gc.stop() });
      }
    } catch (error) {
      fail(error);
    }
  });
  port.postMessage({ ready: true });
}

async function producerRole(spec: TransportSpec): Promise<void> {
  const producer = await createProducer(spec);
  port.on('message', async (message: { cmd: string; count?: number }) => {
    try {
      if (message.cmd === 'produce') {
        await producer.produce(message.count!);
        port.postMessage({ produced: true, spurious: spurious.count });
      } else if (message.cmd === 'close') {
        await producer.close();
        port.postMessage({ closed: true });
      }
    } catch (error) {
      fail(error);
    }
  });
  port.postMessage({ ready: true });
}

/** Polls tryRead() up to `spin` times; null when nothing came (the reader may then read / readSync). */
function spinRead(reader: SharedPipeReader, spin: number): ReadResult | null {
  for (let i = 0; i < spin; i++) {
    const result = reader.tryRead();
    if (result !== null) return result;
  }
  return null;
}

async function echoRole(echo: EchoSpec): Promise<void> {
  const { mode, spin } = echo;
  let rounds = 0;
  let spinHits = 0;
  if (mode === 'port') {
    const p = echo.port!;
    p.on('message', (value: number) => {
      if (value < 0) {
        p.close();
        port.postMessage({ stopped: true, rounds, spinHits });
        return;
      }
      rounds++;
      p.postMessage(value);
    });
    port.postMessage({ ready: true });
    return;
  }
  if (mode === 'atomics') {
    // [0] ping (main writes), [1] pong (this thread writes); -1 in ping stops.
    const a = new Int32Array(echo.sab!);
    port.postMessage({ ready: true });
    let last = 0;
    for (;;) {
      let value = Atomics.load(a, 0);
      if (value === last) {
        for (let i = 0; i < spin && value === last; i++) value = Atomics.load(a, 0);
        if (value !== last) spinHits++;
        while (value === last) {
          Atomics.wait(a, 0, last);
          value = Atomics.load(a, 0);
        }
      }
      if (value < 0) break;
      last = value;
      rounds++;
      Atomics.store(a, 1, value);
      Atomics.notify(a, 1);
    }
    port.postMessage({ stopped: true, rounds, spinHits });
    return;
  }
  const input = SharedPipe.reader(echo.input!);
  const output = SharedPipe.writer(echo.output!);
  port.postMessage({ ready: true });
  if (mode === 'sp-sync') {
    for (;;) {
      let result = spin > 0 ? spinRead(input, spin) : null;
      if (result !== null) spinHits++;
      else result = input.readSync();
      const buffer = result.buffer;
      const last = buffer.length > 0 ? buffer.first[0]! : 0;
      input.advanceTo(buffer.end);
      if (result.isCompleted) break;
      rounds++;
      const memory = output.getMemory(1);
      memory[0] = last;
      output.advance(1);
      output.flushSync();
    }
  } else {
    for (;;) {
      let result = spin > 0 ? spinRead(input, spin) : null;
      if (result !== null) spinHits++;
      else result = await input.read();
      const buffer = result.buffer;
      const last = buffer.length > 0 ? buffer.first[0]! : 0;
      input.advanceTo(buffer.end);
      if (result.isCompleted) break;
      rounds++;
      const memory = output.getMemory(1);
      memory[0] = last;
      output.advance(1);
      await output.flush();
    }
  }
  input.complete();
  output.complete();
  port.postMessage({ stopped: true, rounds, spinHits });
}

function burnRole(flag: SharedArrayBuffer): void {
  const stop = new Int32Array(flag);
  port.postMessage({ ready: true });
  let x = 0;
  while (Atomics.load(stop, 0) === 0) for (let i = 0; i < 10000; i++) x = (x * 31 + i) | 0;
  port.postMessage({ stopped: true, x });
}

try {
  if (data.role === 'echo') await echoRole(data.echo);
  else if (data.role === 'burn') burnRole(data.flag);
  else if (data.role === 'consumer') await consumerRole(data.spec);
  else await producerRole(data.spec);
} catch (error) {
  fail(error);
}
