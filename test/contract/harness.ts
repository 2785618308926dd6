import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FlushResult, ReadResult } from '../../dist/src/index.js';
import { fillPattern } from '../../dist/test/fixtures/ring-harness.js';
import { peek, quiet, settledValue, within as withinMs } from '../helpers.js';
import { closeOpened, implementations, shutdown, type ContractPipe, type ContractReader, type ContractWriter, type Implementation, type Need } from './implementations.js';

/** A case of the contract: written once, run over every implementation that has what it needs. */
export interface ContractCase {
  /** The behavior id of dotnet-pipelines-behaviors.md (A1, D7, ...) or of test/CASES.md (S1, ...). */
  readonly id: string;
  readonly title: string;
  readonly needs: readonly Need[];
  /** The bound the whole case runs within; a hang fails the case. */
  readonly ms: number;
  run(impl: Implementation): Promise<void>;
}

const kCaseMs = 10_000;

/**
 * How long an operation that must not wait may take before the case calls it a hang: far above what
 * the few KiB a case moves need, even on a busy two-core machine, and short enough that a suite run
 * against a pipe that does hang stays short.
 */
export const kBoundMs = 2_000;

/** Races a promise against kBoundMs (or `ms`): a hang fails the case instead of freezing it. */
export function within<T>(promise: Promise<T>, ms = kBoundMs, label = 'operation'): Promise<T> {
  return withinMs(promise, ms, label);
}

export function contractCase(id: string, title: string, needs: readonly Need[], run: (impl: Implementation) => Promise<void>, ms = kCaseMs): ContractCase {
  return { id, title, needs, ms, run };
}

export function applies(impl: Implementation, c: ContractCase): boolean {
  return c.needs.every((need) => impl.caps[need]);
}

/** Registers the cases that apply to `impl` (inside a describe for it); the others do not run there. */
export function registerCases(impl: Implementation, cases: readonly ContractCase[]): void {
  for (const c of cases) {
    if (applies(impl, c)) it(`${c.id} ${c.title}`, () => within(c.run(impl), c.ms, `${c.id} on ${impl.name}`), c.ms + kBoundMs);
  }
}

/** Every test file of the contract closes the pipes a case opened, and the far-end worker at the end. */
export function useContract(): void {
  afterEach(closeOpened);
  afterAll(shutdown);
}

/** A describe per implementation that has at least one of the cases, holding the cases that apply to it. */
export function describeContract(title: string, cases: readonly ContractCase[], over: readonly Implementation[] = implementations): void {
  useContract();
  const applicable = over.filter((impl) => cases.some((c) => applies(impl, c)));
  describe.each(applicable)(`${title}, $name`, (impl) => registerCases(impl, cases));
}

export async function expectPending(pipe: ContractPipe, promise: Promise<unknown>, label = 'the operation'): Promise<void> {
  await pipe.settle();
  expect((await peek(promise)).state, `${label} should still be pending`).toBe('pending');
}

/**
 * An operation released by a call on the other end: with inline schedulers it has settled by the time
 * that call returned; elsewhere it settles in a later turn (of this thread or of the far end's).
 */
export function released<T>(pipe: ContractPipe, promise: Promise<T>, label = 'the released operation'): Promise<T> {
  return pipe.caps.inlineResume ? settledValue(promise) : within(promise, kBoundMs, label);
}

/** An operation whose condition already holds: settled at once where its end is local, else answered within a bound. */
export function ready<T>(pipe: ContractPipe, side: 'reader' | 'writer', promise: Promise<T>, label = 'the operation'): Promise<T> {
  const local = side === 'reader' ? pipe.caps.localReader : pipe.caps.localWriter;
  return local ? settledValue(promise) : within(promise, kBoundMs, label);
}

/** A readAtLeast whose minimum is already met: settled at once where the pipe's own readAtLeast runs here. */
export function readyAtLeast<T>(pipe: ContractPipe, promise: Promise<T>, label = 'readAtLeast'): Promise<T> {
  return pipe.caps.nativeReadAtLeast && pipe.caps.localReader ? settledValue(promise) : within(promise, kBoundMs, label);
}

/** The error `fn` throws synchronously; a returned promise fails the test (its rejection is swallowed). */
export function thrownBy(fn: () => unknown): Error & { code?: string; argument?: string } {
  let returned: unknown;
  try {
    returned = fn();
  } catch (error) {
    return error as Error & { code?: string; argument?: string };
  }
  if (returned instanceof Promise) returned.catch(() => {});
  throw new Error('expected a synchronous throw, but the call returned normally');
}

/** The rejection of `promise` (settled within a bound). */
export async function rejectionOf(promise: Promise<unknown>, label = 'the operation'): Promise<Error & { code?: string }> {
  const outcome = await within(promise.then(() => ({ fulfilled: true as const }), (error: unknown) => ({ fulfilled: false as const, error })), kBoundMs, label);
  if (outcome.fulfilled) throw new Error(`expected ${label} to reject, but it fulfilled`);
  return outcome.error as Error & { code?: string };
}

/** The other end's completion error: the same object in one heap, the same name, message and code across threads. */
export function expectSameError(pipe: ContractPipe, actual: unknown, expected: Error): void {
  if (pipe.caps.sameErrorObject) {
    expect(actual).toBe(expected);
    return;
  }
  expect(actual).toBeInstanceOf(Error);
  const e = actual as Error & { code?: unknown };
  expect(e.name).toBe(expected.name);
  expect(e.message).toBe(expected.message);
  expect(e.code).toBe((expected as { code?: unknown }).code);
}

/** `length` (unexamined flushed bytes), where the implementation shows it. */
export function expectLength(pipe: ContractPipe, expected: number): void {
  if (pipe.caps.length) expect(pipe.length, 'length').toBe(expected);
}

/** IBufferWriter.Write: copy through getMemory/advance, no flush. */
export function put(writer: ContractWriter, data: Uint8Array): void {
  const memory = writer.getMemory(data.length);
  memory.set(data);
  writer.advance(data.length);
}

/** .NET's writeEmpty(W, n): n zero bytes through getMemory/advance, not flushed. */
export function writeEmpty(writer: ContractWriter, count: number): void {
  const memory = writer.getMemory(count);
  memory.fill(0, 0, count);
  writer.advance(count);
}

/** `length` bytes of the seeded pattern of the stream starting at `offset`. */
export function pattern(length: number, offset = 0, seed = 7): Uint8Array {
  const data = new Uint8Array(length);
  fillPattern(data, offset, length, seed);
  return data;
}

/**
 * Reads, consuming everything, until `count` bytes arrived or the writer completed. A case often
 * runs this beside its writes; if the case fails first, the rejection left behind is marked handled.
 */
export function readBytes(reader: ContractReader, count = Infinity): Promise<Uint8Array> {
  return quiet(
    (async () => {
      const parts: Uint8Array[] = [];
      let received = 0;
      while (received < count) {
        const result = await reader.read();
        parts.push(result.buffer.toUint8Array());
        received += result.buffer.length;
        reader.advanceTo(result.buffer.end);
        if (result.isCompleted) break;
      }
      return Buffer.concat(parts);
    })(),
  );
}

/** Every byte the reader yields until the writer completes. */
export function readAll(reader: ContractReader): Promise<Uint8Array> {
  return readBytes(reader);
}

export type { ContractPipe, FlushResult, ReadResult };
