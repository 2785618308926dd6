import { abortError, InvalidArgumentTypeError, validateSignal } from '../errors/index.js';
import type { OperationOptions } from '../pipe/results.js';

export interface DuplexTransport<Req, Res> {
  send(request: Req, signal: AbortSignal): Promise<void>;
  receive(signal: AbortSignal): Promise<{ done: boolean; value?: Res }>;
}

/**
 * Runs a request/response exchange both ways at once under one linked AbortController: requests are
 * sent from `requests` while responses are yielded. Whichever comes first — the external signal, the
 * consumer leaving the loop, a send failure or a receive failure — stops both directions; the
 * iteration then ends (consumer exit, end of responses) or rejects (abort, failure).
 */
export async function* duplex<Req, Res>(
  transport: DuplexTransport<Req, Res>,
  requests: AsyncIterable<Req>,
  options?: OperationOptions,
): AsyncGenerator<Res> {
  if (typeof transport !== 'object' || transport === null || typeof transport.send !== 'function' || typeof transport.receive !== 'function') {
    throw new InvalidArgumentTypeError('transport', transport, 'an object with send(request, signal) and receive(signal)');
  }
  if (typeof requests !== 'object' || requests === null || typeof requests[Symbol.asyncIterator] !== 'function') {
    throw new InvalidArgumentTypeError('requests', requests, 'an AsyncIterable');
  }
  const external = validateSignal('options.signal', options?.signal);
  if (external?.aborted) throw abortError(external);
  const controller = new AbortController();
  const signal = controller.signal;
  const onExternalAbort = (): void => controller.abort(abortError(external!));
  external?.addEventListener('abort', onExternalAbort, { once: true });
  // The first failure of either direction, kept to reject the iteration with it.
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown): void => {
    failure ??= { error };
    controller.abort(error);
  };
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = (): void => reject(failure?.error ?? signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  const sending = (async () => {
    const iterator = requests[Symbol.asyncIterator]();
    try {
      for (;;) {
        const step = await Promise.race([iterator.next(), aborted]);
        if (step.done) return;
        await Promise.race([transport.send(step.value, signal), aborted]);
      }
    } catch (error) {
      if (!signal.aborted) fail(error);
    } finally {
      void iterator.return?.()?.catch?.(() => {});
    }
  })();
  try {
    for (;;) {
      let step: { done: boolean; value?: Res };
      try {
        step = await Promise.race([transport.receive(signal), aborted]);
      } catch (error) {
        fail(error);
        throw failure!.error;
      }
      if (step.done) break;
      yield step.value as Res;
    }
    // The responses ended: stop sending too, then report a send failure that came first.
    if (!signal.aborted) controller.abort(abortError(signal));
    await sending;
    if (failure !== undefined) throw failure.error;
  } finally {
    // Consumer exit, end of responses or failure: stop the other direction too.
    if (!signal.aborted) controller.abort(abortError(signal));
    external?.removeEventListener('abort', onExternalAbort);
    await sending;
  }
}
