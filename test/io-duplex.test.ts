// duplex(transport, requests, { signal }): responses in order; one linked AbortController stops both
// directions on an external abort, the consumer's break, a send failure or a receive failure.
import { describe, expect, it } from 'vitest';
import { duplex, type DuplexTransport } from '../dist/src/index.js';
import { nextImmediate, peek, within, rejection, settleTurns } from './helpers.js';

/** Requests from a manual async iterator: values are pushed by the test, return() is recorded. */
class Requests implements AsyncIterable<number> {
  readonly #queue: number[] = [];
  #waiter: ((step: IteratorResult<number>) => void) | null = null;
  #ended = false;
  returned = false;
  nextCalls = 0;
  /** When set, next() makes up the following value at once (an endless, eager request stream). */
  endless = false;
  #counter = 0;

  push(...values: number[]): void {
    for (const value of values) {
      if (this.#waiter !== null) {
        const waiter = this.#waiter;
        this.#waiter = null;
        waiter({ done: false, value });
      } else this.#queue.push(value);
    }
  }

  end(): void {
    this.#ended = true;
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter({ done: true, value: undefined });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<number> {
    return {
      next: () => {
        this.nextCalls++;
        if (this.endless) return Promise.resolve({ done: false, value: this.#counter++ });
        if (this.#queue.length > 0) return Promise.resolve({ done: false, value: this.#queue.shift()! });
        if (this.#ended) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => {
          this.#waiter = resolve;
        });
      },
      return: () => {
        this.returned = true;
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}

/**
 * Settles with `promise`, or rejects with the signal's reason if it aborts first. The listener goes
 * when the race is over: one signal serves every receive of a duplex.
 */
async function orAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) throw signal.reason;
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * A transport answering each request with `request * 10` after a turn of the event loop. Records
 * every send and receive with whether its signal was already aborted at the call.
 */
class EchoTransport implements DuplexTransport<number, number> {
  readonly sent: number[] = [];
  readonly sendAbortedAtCall: boolean[] = [];
  receiveCalls = 0;
  receiveAbortedAtCall = 0;
  signals: AbortSignal[] = [];
  /** Number of responses after which receive() reports done (Infinity: never). */
  responsesToGive = Infinity;
  failSendAt = -1;
  failReceiveAt = -1;
  readonly sendError = new Error('send failed');
  readonly receiveError = new Error('receive failed');
  readonly #answers: number[] = [];
  #receiver: (() => void) | null = null;
  #given = 0;

  send(request: number, signal: AbortSignal): Promise<void> {
    this.signals.push(signal);
    this.sendAbortedAtCall.push(signal.aborted);
    const index = this.sent.length;
    this.sent.push(request);
    return new Promise<void>((resolve, reject) => {
      setImmediate(() => {
        if (index === this.failSendAt) {
          reject(this.sendError);
          return;
        }
        this.#answers.push(request * 10);
        const receiver = this.#receiver;
        this.#receiver = null;
        receiver?.();
        resolve();
      });
    });
  }

  async receive(signal: AbortSignal): Promise<{ done: boolean; value?: number }> {
    this.signals.push(signal);
    this.receiveCalls++;
    if (signal.aborted) this.receiveAbortedAtCall++;
    if (this.#given === this.failReceiveAt) throw this.receiveError;
    if (this.#given >= this.responsesToGive) return { done: true };
    while (this.#answers.length === 0) {
      await orAborted(new Promise<void>((resolve) => (this.#receiver = resolve)), signal);
    }
    this.#given++;
    return { done: false, value: this.#answers.shift()! };
  }
}

describe('duplex: responses', () => {
  it('all responses arrive in order while requests are sent in order', async () => {
    const transport = new EchoTransport();
    transport.responsesToGive = 200;
    const requests = new Requests();
    const received: number[] = [];
    const consumer = (async () => {
      for await (const response of duplex(transport, requests)) received.push(response);
    })();
    for (let i = 0; i < 200; i++) {
      requests.push(i);
      if (i % 17 === 0) await nextImmediate();
    }
    requests.end();
    await within(consumer);
    expect(transport.sent).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(received).toEqual(Array.from({ length: 200 }, (_, i) => i * 10));
    expect(transport.sendAbortedAtCall.every((aborted) => !aborted)).toBe(true);
    // One linked signal for both directions, aborted once the exchange is over.
    expect(new Set(transport.signals).size).toBe(1);
    expect(transport.signals[0]!.aborted).toBe(true);
  });

  it('no requests and no responses: the iteration just ends', async () => {
    const transport = new EchoTransport();
    transport.responsesToGive = 0;
    const requests = new Requests();
    requests.end();
    const received: number[] = [];
    await within((async () => {
      for await (const response of duplex(transport, requests)) received.push(response);
    })());
    expect(received).toEqual([]);
    expect(transport.sent).toEqual([]);
  });

  it('end of responses ends the iteration and stops sending, even while requests keep coming', async () => {
    const transport = new EchoTransport();
    transport.responsesToGive = 3;
    const requests = new Requests();
    requests.endless = true;
    const received: number[] = [];
    try {
      await within((async () => {
        for await (const response of duplex(transport, requests)) received.push(response);
      })(), 2_000, 'the iteration after the last response');
    } finally {
      // If the iteration hangs, end the request stream so its send loop does not outlive the test.
      requests.endless = false;
      requests.end();
    }
    expect(received).toEqual([0, 10, 20]);
    const sends = transport.sent.length;
    await settleTurns();
    expect(transport.sent.length).toBe(sends);
    expect(requests.returned).toBe(true);
  });

  it('bad arguments reject at the first step with ERR_INVALID_ARG_VALUE', async () => {
    const requests = new Requests();
    for (const [transport, reqs] of [
      [null, requests],
      [{ send: () => Promise.resolve() }, requests],
      [new EchoTransport(), [1, 2, 3]],
    ] as const) {
      const error = await rejection(within(duplex(transport as unknown as EchoTransport, reqs as unknown as Requests).next()));
      expect(error.code).toBe('ERR_INVALID_ARG_VALUE');
    }
  });
});

describe('duplex: stopping both directions', () => {
  it('an external signal aborted while waiting rejects with AbortError and stops both directions', async () => {
    const transport = new EchoTransport();
    const requests = new Requests();
    const external = new AbortController();
    const iterator = duplex(transport, requests, { signal: external.signal })[Symbol.asyncIterator]();
    requests.push(1);
    expect((await within(iterator.next())).value).toBe(10);
    // Waiting for a response that will not come, and for a request that will not come.
    const next = iterator.next();
    expect((await peek(next)).state).toBe('pending');
    const sends = transport.sent.length;
    external.abort(new Error('caller gave up'));
    const error = await rejection(within(next));
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');
    // The transport's signal is aborted: both directions were told to stop.
    expect(transport.signals.every((signal) => signal.aborted)).toBe(true);
    requests.push(2, 3);
    await settleTurns();
    expect(transport.sent.length).toBe(sends);
    expect(requests.returned).toBe(true);
    // The iteration is over.
    expect((await within(iterator.next())).done).toBe(true);
  });

  it('an external signal aborted before the start rejects at once with AbortError; the transport is never called', async () => {
    const transport = new EchoTransport();
    const requests = new Requests();
    requests.push(1, 2);
    const error = await rejection(within(duplex(transport, requests, { signal: AbortSignal.abort() }).next()));
    expect(error.name).toBe('AbortError');
    expect(error.code).toBe('ABORT_ERR');
    expect(transport.sent).toEqual([]);
    expect(transport.receiveCalls).toBe(0);
  });

  it('the consumer breaking out of the loop stops sending: the signal is aborted and no send follows', async () => {
    const transport = new EchoTransport();
    const requests = new Requests();
    requests.endless = true;
    const received: number[] = [];
    await within((async () => {
      for await (const response of duplex(transport, requests)) {
        received.push(response);
        if (received.length === 3) break;
      }
    })());
    expect(received).toEqual([0, 10, 20]);
    // The break returned only after the sending side had stopped.
    const sends = transport.sent.length;
    expect(transport.signals.every((signal) => signal.aborted)).toBe(true);
    await settleTurns();
    expect(transport.sent.length).toBe(sends);
    expect(transport.sendAbortedAtCall.some((aborted) => aborted)).toBe(false);
    expect(requests.returned).toBe(true);
  });

  it('a send failure rejects the iteration with that error and stops receiving', async () => {
    const transport = new EchoTransport();
    transport.failSendAt = 2;
    const requests = new Requests();
    requests.endless = true;
    const received: number[] = [];
    const error = await rejection(within((async () => {
      for await (const response of duplex(transport, requests)) received.push(response);
    })()));
    expect(error).toBe(transport.sendError);
    expect(received).toEqual([0, 10]);
    expect(transport.sent).toEqual([0, 1, 2]);
    // The pending receive was told to stop, and no receive was started after the failure.
    expect(transport.signals.every((signal) => signal.aborted)).toBe(true);
    const receives = transport.receiveCalls;
    await settleTurns();
    expect(transport.receiveCalls).toBe(receives);
    expect(transport.receiveAbortedAtCall).toBe(0);
    expect(requests.returned).toBe(true);
  });

  it('a receive failure rejects the iteration with that error and stops sending', async () => {
    const transport = new EchoTransport();
    transport.failReceiveAt = 2;
    const requests = new Requests();
    requests.endless = true;
    const received: number[] = [];
    const error = await rejection(within((async () => {
      for await (const response of duplex(transport, requests)) received.push(response);
    })()));
    expect(error).toBe(transport.receiveError);
    expect(received).toEqual([0, 10]);
    expect(transport.signals.every((signal) => signal.aborted)).toBe(true);
    const sends = transport.sent.length;
    await settleTurns();
    expect(transport.sent.length).toBe(sends);
    expect(transport.sendAbortedAtCall.some((aborted) => aborted)).toBe(false);
    expect(requests.returned).toBe(true);
  });

  it('a requests iterable that throws rejects the iteration with its error', async () => {
    const transport = new EchoTransport();
    const failure = new Error('no more requests');
    const requests: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => {
        let i = 0;
        return {
          next: () => (i < 2 ? Promise.resolve({ done: false, value: i++ }) : Promise.reject(failure)),
        };
      },
    };
    const received: number[] = [];
    const error = await rejection(within((async () => {
      for await (const response of duplex(transport, requests)) received.push(response);
    })()));
    expect(error).toBe(failure);
    expect(transport.sent).toEqual([0, 1]);
    expect(transport.signals.every((signal) => signal.aborted)).toBe(true);
  });
});
