// RESP2, the Redis protocol: parsing requests out of a ReadOnlySequence without copying until a
// command is complete, and encoding replies into a reusable buffer.
import { SequenceReader, type ReadOnlySequence } from 'threadpipe';

export const kMaxBulkLength = 1 << 20;
export const kMaxArgs = 1 << 16;
export const kMaxLineLength = 64 * 1024;
/** The longest inline command line, as Redis's PROTO_INLINE_MAX_SIZE. */
export const kMaxInlineLength = 64 * 1024;

const CRLF = Uint8Array.of(0x0d, 0x0a);

/** A request that breaks the protocol: answered with an error, then the connection closes. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/**
 * A command's arguments. They may be views of the pipe's memory, which is reused once the reader
 * advances past them: a command that keeps an argument beyond its own execution stores a copy.
 */
export type Command = Uint8Array[];

/** Reads one `\r\n`-terminated header line as an integer, or null when it has not fully arrived. */
function readInteger(reader: SequenceReader, what: string): number | null {
  const line = reader.tryReadTo(CRLF);
  if (line === null) {
    if (reader.remaining > kMaxLineLength) throw new ProtocolError(`unterminated ${what} line`);
    return null;
  }
  if (line.length === 0 || line.length > 20) throw new ProtocolError(`invalid ${what}`);
  const text = line.toString('latin1');
  if (!/^-?\d+$/.test(text)) throw new ProtocolError(`invalid ${what}`);
  return Number(text);
}

/** Parses a decimal header value in bytes[from, to); NaN when it is not one. */
function parseDecimal(bytes: Uint8Array, from: number, to: number): number {
  if (to <= from || to - from > 19) return NaN;
  let at = from;
  const negative = bytes[at] === 0x2d;
  if (negative) at++;
  if (at === to) return NaN;
  let value = 0;
  for (; at < to; at++) {
    const digit = bytes[at]! - 0x30;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/** The index of `\r\n` at or after `from` in bytes, or -1. */
function lineEnd(bytes: Uint8Array, from: number): number {
  for (let at = bytes.indexOf(0x0d, from); at !== -1; at = bytes.indexOf(0x0d, at + 1)) {
    if (at + 1 >= bytes.length) return -1;
    if (bytes[at + 1] === 0x0a) return at;
  }
  return -1;
}

/**
 * The fast path: a command that lies whole in one contiguous block, starting at `from`. Returns
 * undefined when it does not (the caller then takes the general path over the sequence), null never.
 * The arguments are views of `bytes`, valid until the reader advances past them (see Command).
 */
export function parseContiguous(bytes: Uint8Array, from = 0): { command: Command; length: number } | undefined {
  if (from >= bytes.length) return undefined;
  if (bytes[from] !== 0x2a) return inlineContiguous(bytes, from);
  let end = lineEnd(bytes, from + 1);
  if (end < 0) return undefined;
  const count = parseDecimal(bytes, from + 1, end);
  if (!(count >= 1 && count <= kMaxArgs)) return undefined;
  let at = end + 2;
  const command: Command = new Array(count);
  for (let i = 0; i < count; i++) {
    if (bytes[at] !== 0x24) return undefined;
    end = lineEnd(bytes, at + 1);
    if (end < 0) return undefined;
    const length = parseDecimal(bytes, at + 1, end);
    if (!(length >= 0 && length <= kMaxBulkLength)) return undefined;
    at = end + 2;
    if (at + length + 2 > bytes.length || bytes[at + length] !== 0x0d || bytes[at + length + 1] !== 0x0a) return undefined;
    // A view, not a copy: most arguments are read once (a key, a command name) while the batch runs.
    command[i] = bytes.subarray(at, at + length);
    at += length + 2;
  }
  return { command, length: at - from };
}

/**
 * Parses one command (`*N` then N bulk strings) at the start of `buffer`. Returns null when it has
 * not fully arrived; throws a ProtocolError when the bytes break the protocol.
 */
export function parseCommand(buffer: ReadOnlySequence): { command: Command; length: number } | null {
  // Anything the fast path does not accept whole (split, incomplete, malformed) takes the general path.
  const fast = parseContiguous(buffer.first);
  if (fast !== undefined) return fast;
  const reader = new SequenceReader(buffer);
  const type = reader.tryRead();
  if (type === null) return null;
  if (type !== 0x2a /* '*' */) return parseInline(buffer);
  const count = readInteger(reader, 'multibulk length');
  if (count === null) return null;
  // An empty or null array is no command at all; Redis skips it.
  if (count === 0 || count === -1) return { command: [], length: reader.consumed };
  if (count < 1 || count > kMaxArgs) throw new ProtocolError('invalid multibulk length');
  const command: Command = [];
  for (let i = 0; i < count; i++) {
    const marker = reader.tryRead();
    if (marker === null) return null;
    if (marker !== 0x24 /* '$' */) throw new ProtocolError(`expected '$', got '${String.fromCharCode(marker)}'`);
    const length = readInteger(reader, 'bulk length');
    if (length === null) return null;
    if (length < 0 || length > kMaxBulkLength) throw new ProtocolError('invalid bulk length');
    if (reader.remaining < length + 2) return null;
    const value = reader.tryReadExact(length)!;
    if (!reader.isNext(CRLF, true)) throw new ProtocolError('bulk string not terminated by CRLF');
    // Copied out: the pipe's memory is reused once the reader advances past it.
    command.push(value.toUint8Array());
  }
  return { command, length: reader.consumed };
}

const LF = 0x0a;
const CR = 0x0d;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const BACKSLASH = 0x5c;

/** Whitespace as C's isspace: what separates inline arguments. */
const isSpace = (byte: number | undefined): boolean => byte === 0x20 || (byte !== undefined && byte >= 0x09 && byte <= 0x0d);

function hexDigit(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

const ESCAPES: Record<number, number> = { 0x6e: LF, 0x72: CR, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };

/**
 * Splits an inline command line into arguments as Redis does (sdssplitargs): runs of non-space
 * bytes; "..." with \n \r \t \b \a \xHH escapes (any other escaped byte stands for itself);
 * '...' literal but for \'. A closing quote must be followed by a space or the end of the line.
 * Returns null for unbalanced quotes.
 */
export function splitInline(line: Uint8Array): Command | null {
  const args: Command = [];
  let at = 0;
  for (;;) {
    while (at < line.length && isSpace(line[at])) at++;
    if (at >= line.length) return args;
    const arg: number[] = [];
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const byte = line[at];
      if (inDouble) {
        if (byte === undefined) return null;
        if (byte === BACKSLASH && line[at + 1] === 0x78 && hexDigit(line[at + 2]) >= 0 && hexDigit(line[at + 3]) >= 0) {
          arg.push(hexDigit(line[at + 2]) * 16 + hexDigit(line[at + 3]));
          at += 3;
        } else if (byte === BACKSLASH && at + 1 < line.length) {
          at++;
          arg.push(ESCAPES[line[at]!] ?? line[at]!);
        } else if (byte === DOUBLE_QUOTE) {
          if (at + 1 < line.length && !isSpace(line[at + 1])) return null;
          at++;
          break;
        } else {
          arg.push(byte);
        }
      } else if (inSingle) {
        if (byte === undefined) return null;
        if (byte === BACKSLASH && line[at + 1] === SINGLE_QUOTE) {
          at++;
          arg.push(SINGLE_QUOTE);
        } else if (byte === SINGLE_QUOTE) {
          if (at + 1 < line.length && !isSpace(line[at + 1])) return null;
          at++;
          break;
        } else {
          arg.push(byte);
        }
      } else if (byte === undefined || isSpace(byte)) {
        break;
      } else if (byte === DOUBLE_QUOTE) {
        inDouble = true;
      } else if (byte === SINGLE_QUOTE) {
        inSingle = true;
      } else {
        arg.push(byte);
      }
      at++;
    }
    args.push(Uint8Array.from(arg));
  }
}

/** An inline command whose line lies whole in bytes from `from`; undefined otherwise (or when broken: the general path reports it). */
function inlineContiguous(bytes: Uint8Array, from: number): { command: Command; length: number } | undefined {
  const lf = bytes.indexOf(LF, from);
  if (lf < 0 || lf - from > kMaxInlineLength) return undefined;
  const end = lf > from && bytes[lf - 1] === CR ? lf - 1 : lf;
  const command = splitInline(bytes.subarray(from, end));
  return command === null ? undefined : { command, length: lf + 1 - from };
}

/**
 * An inline command: one line ending in \n (a \r before it is dropped), as typed into telnet or sent
 * by redis-benchmark's PING_INLINE. An empty line is no command (length consumed, no arguments).
 */
function parseInline(buffer: ReadOnlySequence): { command: Command; length: number } | null {
  const reader = new SequenceReader(buffer);
  const line = reader.tryReadTo(LF);
  if (line === null) {
    if (buffer.length > kMaxInlineLength) throw new ProtocolError('too big inline request');
    return null;
  }
  if (line.length > kMaxInlineLength) throw new ProtocolError('too big inline request');
  let bytes = line.toUint8Array();
  if (bytes.length > 0 && bytes[bytes.length - 1] === CR) bytes = bytes.subarray(0, bytes.length - 1);
  const command = splitInline(bytes);
  if (command === null) throw new ProtocolError('unbalanced quotes in request');
  return { command, length: reader.consumed };
}

/** Reply bytes for one batch of commands, in a buffer that grows and is reused. */
export class ReplyBuffer {
  #buffer = Buffer.allocUnsafe(16 * 1024);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  view(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  clear(): void {
    this.#length = 0;
  }

  simple(text: string): void {
    this.#ascii(`+${text}\r\n`);
  }

  error(text: string): void {
    // An error may quote what the client sent (an unknown command's arguments): a CR or LF in it
    // would end the reply early and desynchronise the client, so each becomes a space, as in Redis.
    this.#ascii(`-${text.replace(/[\r\n]/g, ' ')}\r\n`);
  }

  integer(value: number): void {
    this.#ascii(`:${value}\r\n`);
  }

  nil(): void {
    this.#ascii('$-1\r\n');
  }

  bulk(value: Uint8Array): void {
    this.#ascii(`$${value.length}\r\n`);
    this.#ensure(value.length + 2);
    this.#buffer.set(value, this.#length);
    this.#length += value.length;
    this.#buffer[this.#length++] = 0x0d;
    this.#buffer[this.#length++] = 0x0a;
  }

  arrayHeader(count: number): void {
    this.#ascii(`*${count}\r\n`);
  }

  #ascii(text: string): void {
    this.#ensure(text.length);
    this.#length += this.#buffer.write(text, this.#length, 'latin1');
  }

  #ensure(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + extra));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}
