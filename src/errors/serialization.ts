// Errors across threads. A structured clone keeps neither an error's class nor most of its fields, so
// an error travels as an ErrorRecord: threadpipe's own errors by their catalogue type and fields,
// other errors by name, message, code, the system-error fields, a bounded cause chain and
// AggregateError's errors. The object form goes through postMessage; the byte form fills the fixed
// error record of a shared ring. Internal: not part of the package's exports.
import { types } from 'node:util';
import { errorClasses, errorTypeOf, ThreadpipeError, UnreadableErrorRecordError } from './catalogue.js';
import { validateInteger } from './validation.js';

/** A JSON value: what a field or a non-error cause can hold across the boundary. */
export type PlainValue = string | number | boolean | null | PlainValue[] | { [key: string]: PlainValue };

/** A cause that was not an error (a string reason, a plain object). */
export interface ValueRecord {
  value: PlainValue;
}

export interface ErrorRecord {
  /** The catalogue class of one of threadpipe's own errors. */
  type?: string;
  /** For other errors, the nearest native class they derive from, when it is not Error. */
  base?: string;
  name: string;
  message: string;
  code?: string | number;
  errno?: number;
  syscall?: string;
  path?: string;
  /** The own fields of a catalogue class (`size` and `limit` of a FrameTooLargeError). */
  fields?: Record<string, PlainValue>;
  stack?: string;
  cause?: ErrorRecord | ValueRecord;
  errors?: ErrorRecord[];
}

/** How many causes deep a chain is followed. */
const kMaxCauseDepth = 4;
/** How many of an AggregateError's errors travel. */
const kMaxAggregateErrors = 16;
/** How many nested errors (causes and aggregated errors together) one record holds. */
const kMaxNestedErrors = 32;
const kMaxStackChars = 4096;
/** How deep a plain field value is copied. */
const kMaxValueDepth = 4;
/** The smallest byte record that always holds an error's type, name and code once its texts are cut. */
export const kMinErrorRecordBytes = 256;
const kCutMark = '…';

/** Keys of an error that the record carries apart from its fields. */
const kRecordKeys = new Set(['name', 'message', 'stack', 'code', 'cause', 'errors']);

type NativeErrorConstructor = new (message?: string) => Error;

const kNativeErrors: Record<string, NativeErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Turns any thrown value into a record that survives a structured clone or JSON; a getter that throws is read as absent. */
export function serializeError(error: unknown): ErrorRecord {
  return toRecord(error, 0, { nested: kMaxNestedErrors });
}


/**
 * The byte form of an error, at most `maxBytes` of UTF-8 JSON. An error too long for it loses, in
 * this order: the stacks of its causes, its own stack (whole lines from the end), its causes and
 * aggregated errors, its message (code points from the end, marked with '…'); only a record still
 * too long then has its remaining texts cut, and last its fields dropped. Its type stays whole.
 */
export function encodeErrorRecord(error: unknown, maxBytes: number): Uint8Array {
  validateInteger('maxBytes', maxBytes, kMinErrorRecordBytes);
  return encoder.encode(JSON.stringify(fitRecord(serializeError(error), maxBytes)));
}

/** Rebuilds the error of a byte record; bytes that do not hold one give an UnreadableErrorRecordError. */
export function decodeErrorRecord(bytes: Uint8Array): Error {
  try {
    const record: unknown = JSON.parse(decoder.decode(bytes));
    return isErrorRecord(record) ? deserializeError(record) : new UnreadableErrorRecordError();
  } catch (cause) {
    return new UnreadableErrorRecordError({ cause });
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function isErrorRecord(value: unknown): value is ErrorRecord {
  return typeof value === 'object' && value !== null && typeof (value as ErrorRecord).name === 'string' && typeof (value as ErrorRecord).message === 'string';
}

function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value) || errorTypeOf(value) !== undefined;
}

/** Reads a property that may be a throwing getter. */
function read(object: object, key: string): unknown {
  try {
    return (object as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

function toRecord(error: unknown, depth: number, budget: { nested: number }): ErrorRecord {
  if (!isError(error)) return { name: 'Error', message: safeString(error) };
  const name = read(error, 'name');
  const message = read(error, 'message');
  const record: ErrorRecord = { name: typeof name === 'string' ? name : 'Error', message: typeof message === 'string' ? message : safeString(message) };
  const type = errorTypeOf(error);
  const base = nativeBase(error);
  if (type !== undefined) record.type = type;
  else if (base !== 'Error') record.base = base;
  const code = read(error, 'code');
  if (typeof code === 'string' || typeof code === 'number') record.code = code;
  if (type !== undefined) {
    const fields = ownFields(error);
    if (fields !== undefined) record.fields = fields;
  } else {
    const errno = read(error, 'errno');
    const syscall = read(error, 'syscall');
    const path = read(error, 'path');
    if (typeof errno === 'number') record.errno = errno;
    if (typeof syscall === 'string') record.syscall = syscall;
    if (typeof path === 'string') record.path = path;
  }
  const stack = read(error, 'stack');
  if (typeof stack === 'string') record.stack = cut(stack, kMaxStackChars);
  const cause = read(error, 'cause');
  if (cause !== undefined && depth < kMaxCauseDepth && budget.nested > 0) {
    budget.nested--;
    record.cause = isError(cause) ? toRecord(cause, depth + 1, budget) : { value: toPlain(cause, 0) ?? safeString(cause) };
  }
  const errors = base === 'AggregateError' ? read(error, 'errors') : undefined;
  if (Array.isArray(errors) && depth < kMaxCauseDepth) {
    record.errors = [];
    for (const inner of errors.slice(0, kMaxAggregateErrors)) {
      if (budget.nested === 0) break;
      budget.nested--;
      record.errors.push(toRecord(inner, depth + 1, budget));
    }
  }
  return record;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** The nearest native error class in the prototype chain, also for an error of another realm. */
function nativeBase(error: object): string {
  for (let prototype = Object.getPrototypeOf(error) as object | null; prototype !== null; prototype = Object.getPrototypeOf(prototype) as object | null) {
    const constructor = Object.getOwnPropertyDescriptor(prototype, 'constructor')?.value as { name?: unknown } | undefined;
    const name = constructor?.name;
    if (typeof name === 'string' && (Object.hasOwn(kNativeErrors, name) || name === 'AggregateError' || name === 'DOMException')) return name;
  }
  return 'Error';
}

function ownFields(error: object): Record<string, PlainValue> | undefined {
  let fields: Record<string, PlainValue> | undefined;
  for (const key of Object.keys(error)) {
    if (kRecordKeys.has(key)) continue;
    const value = toPlain(read(error, key), 0);
    if (value !== undefined) (fields ??= {})[key] = value;
  }
  return fields;
}

/** A JSON copy of a value, or undefined for what JSON cannot carry (functions, symbols, class instances). */
function toPlain(value: unknown, depth: number): PlainValue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value !== 'object' || depth >= kMaxValueDepth) return undefined;
  if (Array.isArray(value)) return value.map((item) => toPlain(item, depth + 1) ?? null);
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return undefined;
  const copy: Record<string, PlainValue> = {};
  for (const key of Object.keys(value)) {
    const item = toPlain(read(value, key), depth + 1);
    if (item !== undefined) copy[key] = item;
  }
  return copy;
}

function isValueRecord(cause: ErrorRecord | ValueRecord): cause is ValueRecord {
  return !isErrorRecord(cause);
}

/** Rebuilds an error: threadpipe's own class with its code and fields, else the nearest native class carrying name and code. */
export function deserializeError(record: ErrorRecord): Error {
  const errorClass = record.type !== undefined ? errorClasses.get(record.type) : undefined;
  const errors = record.errors?.filter(isErrorRecord).map(deserializeError) ?? [];
  let error: Error;
  if (errorClass !== undefined) {
    // Built as the class's prototype without running its constructor: the record already holds the
    // message and the fields the constructor would have derived from its arguments.
    error = Reflect.construct(Error, [record.message], errorClass) as Error;
    error.name = record.name;
    Object.assign(error, { code: record.code }, record.fields);
  } else if (record.type !== undefined) {
    // A class a newer copy of threadpipe knows and this one does not: still one of threadpipe's errors.
    error = Object.assign(new ThreadpipeError(record.message, String(record.code ?? '')), record.fields);
    error.name = record.name;
  } else {
    error = nativeError(record, errors);
    if (error.name !== record.name) Object.defineProperty(error, 'name', { value: record.name, enumerable: false, writable: true, configurable: true });
    if (record.code !== undefined && read(error, 'code') !== record.code) {
      Object.defineProperty(error, 'code', { value: record.code, enumerable: true, writable: true, configurable: true });
    }
    const system = { errno: record.errno, syscall: record.syscall, path: record.path };
    for (const [key, value] of Object.entries(system)) {
      if (value !== undefined) Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  // Without its stack (cut to fit a ring's record) the error shows its first line, not this thread's frames.
  Object.defineProperty(error, 'stack', { value: record.stack ?? `${record.name}: ${record.message}`, enumerable: false, writable: true, configurable: true });
  if (record.cause !== undefined) {
    const cause = isValueRecord(record.cause) ? record.cause.value : deserializeError(record.cause);
    Object.defineProperty(error, 'cause', { value: cause, enumerable: false, writable: true, configurable: true });
  }
  return error;
}

function nativeError(record: ErrorRecord, errors: Error[]): Error {
  if (record.base === 'AggregateError') return new AggregateError(errors, record.message);
  if (record.base === 'DOMException') return new DOMException(record.message, record.name);
  const Base = (record.base !== undefined ? kNativeErrors[record.base] : undefined) ?? Error;
  return new Base(record.message);
}

/** One way to shorten a record: `apply(record, keep)` keeps `keep` of its `size(record)` units. */
interface Reduction {
  size(record: ErrorRecord): number;
  apply(record: ErrorRecord, keep: number): ErrorRecord;
}

const kReductions: Reduction[] = [
  { size: () => 1, apply: (record, keep) => (keep === 1 ? record : withNested(record, stripStack)) },
  {
    size: (record) => record.stack?.split('\n').length ?? 0,
    apply: (record, keep) => ({ ...record, stack: keep === 0 ? undefined : record.stack!.split('\n').slice(0, keep).join('\n') }),
  },
  { size: countNested, apply: keepNested },
  { size: (record) => codePoints(record.message).length, apply: (record, keep) => ({ ...record, message: cut(record.message, keep) }) },
  { size: longestText, apply: cutTexts },
  { size: () => 1, apply: (record, keep) => (keep === 1 ? record : { type: record.type, base: record.base, name: record.name, message: record.message, code: record.code }) },
];

function fitRecord(full: ErrorRecord, maxBytes: number): ErrorRecord {
  const fits = (record: ErrorRecord): boolean => Buffer.byteLength(JSON.stringify(record)) <= maxBytes;
  let record = full;
  for (const { size, apply } of kReductions) {
    if (fits(record)) return record;
    const units = size(record);
    const keep = largestFitting(units - 1, (n) => fits(apply(record, n)));
    record = apply(record, Math.max(keep, 0));
  }
  // Only a type name longer than the whole record (none of the catalogue's) gets here.
  return fits(record) ? record : { name: 'Error', message: kCutMark };
}

/** The largest n in [0, max] for which fits(n) holds, by bisection (fits grows with n), or -1. */
function largestFitting(max: number, fits: (n: number) => boolean): number {
  if (max < 0 || !fits(0)) return -1;
  let low = 0;
  let high = max;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

function withNested(record: ErrorRecord, map: (record: ErrorRecord) => ErrorRecord): ErrorRecord {
  const copy = { ...record };
  if (record.cause !== undefined && !isValueRecord(record.cause)) copy.cause = map(record.cause);
  if (record.errors !== undefined) copy.errors = record.errors.map(map);
  return copy;
}

function stripStack(record: ErrorRecord): ErrorRecord {
  const { stack: _stack, ...rest } = record;
  return withNested(rest, stripStack);
}

function countNested(record: ErrorRecord): number {
  let count = 0;
  if (record.cause !== undefined) count += 1 + (isValueRecord(record.cause) ? 0 : countNested(record.cause));
  for (const inner of record.errors ?? []) count += 1 + countNested(inner);
  return count;
}

/** Keeps the first `keep` nested records, cause before aggregated errors, depth first. */
function keepNested(record: ErrorRecord, keep: number): ErrorRecord {
  let left = keep;
  const visit = (node: ErrorRecord): ErrorRecord => {
    const { cause, errors, ...rest } = node;
    const copy: ErrorRecord = rest;
    if (cause !== undefined && left > 0) {
      left--;
      copy.cause = isValueRecord(cause) ? cause : visit(cause);
    }
    if (errors !== undefined) {
      copy.errors = [];
      for (const inner of errors) {
        if (left === 0) break;
        left--;
        copy.errors.push(visit(inner));
      }
    }
    return copy;
  };
  return visit(record);
}

function codePoints(text: string): string[] {
  return Array.from(text);
}

/** The first `keep` code points of a text, marked when something was cut; never splits a surrogate pair. */
function cut(text: string, keep: number): string {
  if (text.length <= keep) return text;
  const points = codePoints(text);
  return keep >= points.length ? text : points.slice(0, keep).join('') + kCutMark;
}

/** The texts left once message, stack and nested errors are gone: name, code, system fields, field strings. */
function longestText(record: ErrorRecord): number {
  let longest = 0;
  mapTexts(record, (text) => {
    longest = Math.max(longest, codePoints(text).length);
    return text;
  });
  return longest;
}

function cutTexts(record: ErrorRecord, keep: number): ErrorRecord {
  return mapTexts(record, (text) => cut(text, keep));
}

function mapTexts(record: ErrorRecord, map: (text: string) => string): ErrorRecord {
  const copy = { ...record, name: map(record.name) };
  if (typeof record.code === 'string') copy.code = map(record.code);
  if (record.syscall !== undefined) copy.syscall = map(record.syscall);
  if (record.path !== undefined) copy.path = map(record.path);
  if (record.fields !== undefined) copy.fields = mapPlain(record.fields, map) as Record<string, PlainValue>;
  return copy;
}

function mapPlain(value: PlainValue, map: (text: string) => string): PlainValue {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapPlain(item, map));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapPlain(item, map)]));
  return value;
}
