// RESP2, the Redis protocol. Requests are parsed in place over the bytes the pipe holds: a command's
// arguments are offsets into that memory, decoded only when a command reads them. Replies are encoded
// into one reusable buffer per connection.
import { SequenceReader, type ReadOnlySequence } from 'threadpipe';

/** The longest bulk string accepted (Redis allows 512 MB by default; a command must fit the receive ring whole). */
export const kMaxBulkLength = 16 << 20;
/** The most one request may take while it arrives: a client sending more gets an error and is closed. */
export const kMaxRequestBytes = 64 << 20;
export const kMaxArgs = 1 << 16;
export const kMaxLineLength = 64 * 1024;
/** The longest inline command line, as Redis's PROTO_INLINE_MAX_SIZE. */
export const kMaxInlineLength = 64 * 1024;
/** The longest length header Redis reads (more characters are an invalid length, not a long one). */
const kMaxHeaderLength = 20;
const kInitialArgs = 16;

const LF = 0x0a;
const CR = 0x0d;
const STAR = 0x2a;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const BACKSLASH = 0x5c;
const LOWER_X = 0x78;
const UPPER_A = 0x41;
const UPPER_Z = 0x5a;
const CASE_BIT = 0x20;

const CRLF = Uint8Array.of(CR, LF);
const utf8 = new TextDecoder();

/** A request that breaks the protocol: answered with an error, then the connection closes. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/**
 * The command being executed: its arguments as [start, end) offsets into the memory the request
 * lies in, reused from one command to the next. The memory is the pipe's, reused once the reader
 * advances past it: a command that keeps an argument beyond its own execution stores `copy(i)`.
 */
export class Args {
  /** A Buffer over the whole ArrayBuffer the request lies in, so that offsets need no view per argument. */
  #source: Buffer = Buffer.alloc(0);
  #backing: ArrayBufferLike | null = null;
  /** The block being parsed, and where it starts inside #source. */
  #bytes: Uint8Array | null = null;
  #base = 0;
  #starts = new Int32Array(kInitialArgs);
  #ends = new Int32Array(kInitialArgs);
  #length = 0;
  /** Inline arguments with quotes or escapes, decoded (the only case where an argument is not the request's bytes). */
  #decoded: Buffer | null = null;

  get length(): number {
    return this.#length;
  }

  /** Starts a command over `bytes` (offsets given to `add` are relative to it). */
  begin(bytes: Uint8Array): void {
    // Every request of a block starts here: only a new block costs more than a comparison.
    if (bytes !== this.#bytes) {
      this.#bytes = bytes;
      // A ring that grew keeps its ArrayBuffer, but a Buffer over it keeps the length it had. The
      // length is given: a view that tracks a growable buffer's length is several times slower to index.
      if (bytes.buffer !== this.#backing || bytes.byteOffset + bytes.length > this.#source.length) {
        this.#backing = bytes.buffer;
        this.#source = Buffer.from(bytes.buffer, 0, bytes.buffer.byteLength);
      }
      this.#base = bytes.byteOffset;
    }
    this.#length = 0;
  }

  add(start: number, end: number): void {
    if (this.#length === this.#starts.length) this.#grow();
    this.#starts[this.#length] = this.#base + start;
    this.#ends[this.#length++] = this.#base + end;
  }

  /** Memory for `size` decoded bytes; the arguments `add`ed after this are offsets into it. */
  beginDecoded(size: number): Uint8Array {
    if (this.#decoded === null || this.#decoded.length < size) this.#decoded = Buffer.allocUnsafe(Math.max(size, kInitialDecoded));
    this.begin(this.#decoded);
    return this.#decoded;
  }

  /** Drops a large decode buffer once its command ran, so an idle connection holds little memory. */
  release(): void {
    if (this.#decoded !== null && this.#decoded.length > kInitialDecoded) this.#decoded = null;
  }

  size(i: number): number {
    return this.#ends[i]! - this.#starts[i]!;
  }

  /** A view of argument i, valid while the command runs. */
  view(i: number): Uint8Array {
    return this.#source.subarray(this.#starts[i], this.#ends[i]);
  }

  /** An owned copy of argument i, for a value the keyspace keeps. */
  copy(i: number): Uint8Array {
    const copy = new Uint8Array(this.size(i));
    this.copyTo(i, copy);
    return copy;
  }

  /** Copies argument i into `target` (which holds at least its size). */
  copyTo(i: number, target: Uint8Array): void {
    const start = this.#starts[i]!;
    const size = this.#ends[i]! - start;
    const source = this.#source;
    // Most values are short: a loop costs less than set() with its view.
    if (size <= kCopyLoopMax) for (let j = 0; j < size; j++) target[j] = source[start + j]!;
    else target.set(source.subarray(start, start + size));
  }

  /** Argument i as a latin1 string (one character per byte): how keys, members and fields are stored. */
  latin1(i: number): string {
    return recentStrings.get(this.#source, this.#starts[i]!, this.#ends[i]!);
  }

  /** Argument i decoded as UTF-8, for messages. */
  text(i: number): string {
    return utf8.decode(this.view(i));
  }

  byte(i: number, j: number): number {
    return this.#source[this.#starts[i]! + j]!;
  }

  /** Whether argument i is `word` (upper-case ASCII), ignoring the case of letters. */
  is(i: number, word: string): boolean {
    const start = this.#starts[i]!;
    if (this.#ends[i]! - start !== word.length) return false;
    const source = this.#source;
    for (let j = 0; j < word.length; j++) {
      const byte = source[start + j]!;
      const want = word.charCodeAt(j);
      if (byte !== want && !(want >= UPPER_A && want <= UPPER_Z && byte === (want | CASE_BIT))) return false;
    }
    return true;
  }

  /** Argument i as an integer as Redis reads one (an optional '-', 1 to 19 digits, a safe integer), or null. */
  integer(i: number): number | null {
    return decimal(this.#source, this.#starts[i]!, this.#ends[i]!, kMaxIntegerDigits);
  }

  /** A small hash of argument i's letters, case-folded, for a table lookup; -1 when it holds anything else. */
  nameCode(i: number): number {
    return nameCode(this.#source, this.#starts[i]!, this.#ends[i]!);
  }

  #grow(): void {
    const starts = new Int32Array(this.#starts.length * 2);
    const ends = new Int32Array(this.#ends.length * 2);
    starts.set(this.#starts);
    ends.set(this.#ends);
    this.#starts = starts;
    this.#ends = ends;
  }
}

const kInitialDecoded = 256;
/** Slots of the recent-string table (a power of two) and the longest string it holds. */
const kRecentSlots = 1024;
const kRecentMaxLength = 64;
const kFnvOffset = 0x811c9dc5;
const kFnvPrime = 0x01000193;

/**
 * The latin1 strings of recently seen arguments, by a hash of their bytes: a key that comes again
 * and again (most workloads have hot keys) is decoded once, and a Map lookup with the same string
 * reuses the hash it computed the first time. A miss costs the hash and one comparison over
 * the bytes; the table is direct-mapped, so a new string simply takes its slot.
 */
class RecentStrings {
  readonly #slots: (string | undefined)[] = new Array<string | undefined>(kRecentSlots).fill(undefined);

  get(source: Buffer, start: number, end: number): string {
    const size = end - start;
    if (size > kRecentMaxLength) return source.toString('latin1', start, end);
    let hash = kFnvOffset;
    for (let at = start; at < end; at++) hash = Math.imul(hash ^ source[at]!, kFnvPrime);
    const slot = (hash >>> 0) & (kRecentSlots - 1);
    const known = this.#slots[slot];
    if (known !== undefined && known.length === size) {
      let same = true;
      for (let j = 0; j < size && same; j++) same = known.charCodeAt(j) === source[start + j];
      if (same) return known;
    }
    const fresh = source.toString('latin1', start, end);
    this.#slots[slot] = fresh;
    return fresh;
  }
}

const recentStrings = new RecentStrings();
const kCopyLoopMax = 32;
const kMaxIntegerDigits = 19;
/** Command names are at most this long for the hash of `nameCode` (longer ones take the string path). */
const kMaxNameCode = 12;
const kNameCodeMask = 0x3fffffff;
const kNameCodeBase = 31;

/**
 * The hash of a command name: letters only, case-folded, at most kMaxNameCode of them; -1 otherwise.
 * A table keyed by it finds a handler without decoding the name into a string.
 */
export function nameCode(bytes: Uint8Array, start: number, end: number): number {
  if (end - start > kMaxNameCode || end === start) return -1;
  let code = 0;
  for (let at = start; at < end; at++) {
    const upper = bytes[at]! & ~CASE_BIT;
    if (upper < UPPER_A || upper > UPPER_Z) return -1;
    code = (code * kNameCodeBase + upper - UPPER_A + 1) & kNameCodeMask;
  }
  return code;
}

/** The decimal in bytes[from, to): an optional '-' and up to `maxDigits` digits (a safe integer); null otherwise. */
function decimal(bytes: Uint8Array, from: number, to: number, maxDigits: number): number | null {
  let at = from;
  const negative = bytes[at] === MINUS;
  if (negative) at++;
  const digits = to - at;
  if (digits < 1 || digits > maxDigits) return null;
  let value = 0;
  for (; at < to; at++) {
    const digit = bytes[at]! - DIGIT_0;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  if (!Number.isSafeInteger(value)) return null;
  return negative ? -value : value;
}

/** A stored value as an integer, read as `Args.integer` reads an argument. */
export function parseInteger(bytes: Uint8Array): number | null {
  return decimal(bytes, 0, bytes.length, kMaxIntegerDigits);
}

/** A length header in bytes[from, to): as Redis reads one, at most kMaxHeaderLength characters; NaN otherwise. */
function header(bytes: Uint8Array, from: number, to: number): number {
  if (to <= from || to - from > kMaxHeaderLength) return NaN;
  let at = from;
  const negative = bytes[at] === MINUS;
  if (negative) at++;
  if (at === to) return NaN;
  let value = 0;
  for (; at < to; at++) {
    const digit = bytes[at]! - DIGIT_0;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/** The index of the first `\r\n` in bytes[from, length), or -1. Header lines are short: a loop beats indexOf's call. */
function lineEnd(bytes: Uint8Array, from: number): number {
  const last = bytes.length - 1;
  for (let at = from; at < last; at++) {
    if (bytes[at] === CR && bytes[at + 1] === LF) return at;
  }
  return -1;
}

/** A header line that has not ended: an error once it is longer than a header can be, else wait for more. */
function unterminated(bytes: Uint8Array, from: number, last: boolean, what: string): number {
  if (last && bytes.length - from > kMaxLineLength) throw new ProtocolError(`unterminated ${what} line`);
  return -1;
}

const kIncomplete = -1;

/**
 * Parses the request at `from` in `bytes` into `args` (no arguments: an empty line or array, which
 * is no command) and returns the offset after it, or -1 when it has not fully arrived in `bytes`.
 * `last`: nothing follows `bytes` yet, so a too-long line is an error now; when more memory follows,
 * -1 only means the request continues there (see `measureRequest`). Throws a ProtocolError when the
 * bytes break the protocol, with Redis's wording.
 */
export function parseRequest(bytes: Uint8Array, from: number, last: boolean, args: Args): number {
  if (from >= bytes.length) return kIncomplete;
  args.begin(bytes);
  if (bytes[from] !== STAR) return parseInline(bytes, from, last, args);
  let end = lineEnd(bytes, from + 1);
  if (end < 0) return unterminated(bytes, from + 1, last, 'multibulk length');
  const count = header(bytes, from + 1, end);
  if (Number.isNaN(count)) throw new ProtocolError('invalid multibulk length');
  let at = end + 2;
  // An empty or null array is no command at all; Redis skips it.
  if (count === 0 || count === -1) return at;
  if (count < 1 || count > kMaxArgs) throw new ProtocolError('invalid multibulk length');
  const length = bytes.length;
  for (let i = 0; i < count; i++) {
    if (at >= length) return kIncomplete;
    const marker = bytes[at]!;
    if (marker !== DOLLAR) throw new ProtocolError(`expected '$', got '${String.fromCharCode(marker)}'`);
    end = lineEnd(bytes, at + 1);
    if (end < 0) return unterminated(bytes, at + 1, last, 'bulk length');
    const size = header(bytes, at + 1, end);
    if (!(size >= 0 && size <= kMaxBulkLength)) throw new ProtocolError('invalid bulk length');
    at = end + 2;
    if (length - at < size + 2) return kIncomplete;
    if (bytes[at + size] !== CR || bytes[at + size + 1] !== LF) throw new ProtocolError('bulk string not terminated by CRLF');
    args.add(at, at + size);
    at += size + 2;
  }
  return at;
}

/**
 * An inline command: one line ending in \n (a \r before it is dropped), as typed into telnet or sent
 * by redis-benchmark's PING_INLINE.
 */
function parseInline(bytes: Uint8Array, from: number, last: boolean, args: Args): number {
  const lf = bytes.indexOf(LF, from);
  if (lf < 0) {
    if (last && bytes.length - from > kMaxInlineLength) throw new ProtocolError('too big inline request');
    return kIncomplete;
  }
  if (lf - from > kMaxInlineLength) throw new ProtocolError('too big inline request');
  const end = lf > from && bytes[lf - 1] === CR ? lf - 1 : lf;
  if (!splitInline(bytes, from, end, args)) throw new ProtocolError('unbalanced quotes in request');
  return lf + 1;
}

/** Whitespace as C's isspace: what separates inline arguments. */
const isSpace = (byte: number | undefined): boolean => byte === 0x20 || (byte !== undefined && byte >= 0x09 && byte <= 0x0d);

function hexDigit(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | CASE_BIT;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

const ESCAPES: Record<number, number> = { 0x6e: LF, 0x72: CR, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };

/**
 * Splits the inline line bytes[from, to) into arguments as Redis does (sdssplitargs): runs of
 * non-space bytes; "..." with \n \r \t \b \a \xHH escapes (any other escaped byte stands for itself);
 * '...' literal but for \'. A closing quote must be followed by a space or the end of the line.
 * A line without quotes is split in place; one with quotes is decoded. False for unbalanced quotes.
 */
function splitInline(bytes: Uint8Array, from: number, to: number, args: Args): boolean {
  let quoted = false;
  for (let at = from; at < to && !quoted; at++) quoted = bytes[at] === DOUBLE_QUOTE || bytes[at] === SINGLE_QUOTE;
  if (!quoted) {
    let at = from;
    for (;;) {
      while (at < to && isSpace(bytes[at])) at++;
      if (at >= to) return true;
      const start = at;
      while (at < to && !isSpace(bytes[at])) at++;
      args.add(start, at);
    }
  }
  const line = bytes.subarray(from, to);
  const out = args.beginDecoded(line.length);
  let written = 0;
  let at = 0;
  for (;;) {
    while (at < line.length && isSpace(line[at])) at++;
    if (at >= line.length) return true;
    const start = written;
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const byte = line[at];
      if (inDouble) {
        if (byte === undefined) return false;
        if (byte === BACKSLASH && line[at + 1] === LOWER_X && hexDigit(line[at + 2]) >= 0 && hexDigit(line[at + 3]) >= 0) {
          out[written++] = hexDigit(line[at + 2]) * 16 + hexDigit(line[at + 3]);
          at += 3;
        } else if (byte === BACKSLASH && at + 1 < line.length) {
          at++;
          out[written++] = ESCAPES[line[at]!] ?? line[at]!;
        } else if (byte === DOUBLE_QUOTE) {
          if (at + 1 < line.length && !isSpace(line[at + 1])) return false;
          at++;
          break;
        } else {
          out[written++] = byte;
        }
      } else if (inSingle) {
        if (byte === undefined) return false;
        if (byte === BACKSLASH && line[at + 1] === SINGLE_QUOTE) {
          at++;
          out[written++] = SINGLE_QUOTE;
        } else if (byte === SINGLE_QUOTE) {
          if (at + 1 < line.length && !isSpace(line[at + 1])) return false;
          at++;
          break;
        } else {
          out[written++] = byte;
        }
      } else if (byte === undefined || isSpace(byte)) {
        break;
      } else if (byte === DOUBLE_QUOTE) {
        inDouble = true;
      } else if (byte === SINGLE_QUOTE) {
        inSingle = true;
      } else {
        out[written++] = byte;
      }
      at++;
    }
    args.add(start, written);
  }
}

/** Reads one `\r\n`-terminated header line as a length, or null when it has not fully arrived. */
function readHeader(reader: SequenceReader, what: string): number | null {
  const line = reader.tryReadTo(CRLF);
  if (line === null) {
    if (reader.remaining > kMaxLineLength) throw new ProtocolError(`unterminated ${what} line`);
    return null;
  }
  // Longer than a header can be: no copy of it, just the error.
  const value = line.length > kMaxHeaderLength ? NaN : header(line.toUint8Array(), 0, line.length);
  if (Number.isNaN(value)) throw new ProtocolError(`invalid ${what}`);
  return value;
}

/**
 * The length of the request at the start of `buffer` when it runs across memory blocks (the rare
 * case: `parseRequest` takes all others in place), or -1 when it has not fully arrived. Throws the
 * ProtocolError that `parseRequest` would. Bulk bytes are skipped, not copied.
 */
export function measureRequest(buffer: ReadOnlySequence): number {
  const reader = new SequenceReader(buffer);
  const type = reader.tryRead();
  if (type === null) return kIncomplete;
  if (type !== STAR) {
    const lf = buffer.indexOf(LF);
    if (lf < 0) {
      if (buffer.length > kMaxInlineLength) throw new ProtocolError('too big inline request');
      return kIncomplete;
    }
    if (lf > kMaxInlineLength) throw new ProtocolError('too big inline request');
    return lf + 1;
  }
  const count = readHeader(reader, 'multibulk length');
  if (count === null) return kIncomplete;
  if (count === 0 || count === -1) return reader.consumed;
  if (count < 1 || count > kMaxArgs) throw new ProtocolError('invalid multibulk length');
  for (let i = 0; i < count; i++) {
    const marker = reader.tryRead();
    if (marker === null) return kIncomplete;
    if (marker !== DOLLAR) throw new ProtocolError(`expected '$', got '${String.fromCharCode(marker)}'`);
    const size = readHeader(reader, 'bulk length');
    if (size === null) return kIncomplete;
    if (size < 0 || size > kMaxBulkLength) throw new ProtocolError('invalid bulk length');
    if (reader.remaining < size + 2) return kIncomplete;
    reader.advance(size);
    if (!reader.isNext(CRLF, true)) throw new ProtocolError('bulk string not terminated by CRLF');
  }
  return reader.consumed;
}

/** Constant replies, encoded once. */
const kOk = Buffer.from('+OK\r\n', 'latin1');
const kNil = Buffer.from('$-1\r\n', 'latin1');
// Small at first: an idle connection keeps it; a busy one grows it once and reuses it.
const kInitialReply = 512;
/** Integers up to this many digits are written digit by digit; others (rare) through a string. */
const kDigitsFast = 1e15;

/** Reply bytes for one batch of commands, in a buffer that grows and is reused. */
export class ReplyBuffer {
  #buffer = Buffer.allocUnsafe(kInitialReply);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  view(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  clear(): void {
    this.#length = 0;
    // A batch that needed a large buffer (a big GET, a long LRANGE) does not pin it.
    if (this.#buffer.length > kMaxKeptReply) this.#buffer = Buffer.allocUnsafe(kInitialReply);
  }

  ok(): void {
    this.#constant(kOk);
  }

  simple(text: string): void {
    this.#ensure(text.length + 3);
    this.#buffer[this.#length++] = 0x2b;
    this.#latin1(text);
    this.#crlf();
  }

  error(text: string): void {
    // An error may quote what the client sent (an unknown command's arguments): a CR or LF in it
    // would end the reply early and desynchronise the client, so each becomes a space, as in Redis.
    const safe = text.replace(/[\r\n]/g, ' ');
    this.#ensure(safe.length + 3);
    this.#buffer[this.#length++] = MINUS;
    this.#latin1(safe);
    this.#crlf();
  }

  integer(value: number): void {
    this.#header(0x3a, value);
  }

  nil(): void {
    this.#constant(kNil);
  }

  bulk(value: Uint8Array): void {
    const size = value.length;
    this.#header(DOLLAR, size);
    this.#ensure(size + 2);
    const buffer = this.#buffer;
    let at = this.#length;
    if (size <= kCopyLoopMax) for (let j = 0; j < size; j++) buffer[at++] = value[j]!;
    else {
      buffer.set(value, at);
      at += size;
    }
    buffer[at++] = CR;
    buffer[at++] = LF;
    this.#length = at;
  }

  /** A bulk string of a latin1 string's characters (a stored member or field). */
  bulkLatin1(value: string): void {
    this.#header(DOLLAR, value.length);
    this.#ensure(value.length + 2);
    this.#latin1(value);
    this.#crlf();
  }

  arrayHeader(count: number): void {
    this.#header(STAR, count);
  }

  /** A type byte, an integer and CRLF. */
  #header(type: number, value: number): void {
    if (!(Number.isInteger(value) && Math.abs(value) < kDigitsFast)) {
      this.#ensure(1);
      this.#buffer[this.#length++] = type;
      const text = String(value);
      this.#ensure(text.length + 2);
      this.#latin1(text);
      this.#crlf();
      return;
    }
    this.#ensure(kMaxHeaderLength);
    const buffer = this.#buffer;
    let at = this.#length;
    buffer[at++] = type;
    if (value < 0) {
      buffer[at++] = MINUS;
      value = -value;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    for (let j = digits - 1; j >= 0; j--) {
      const next = Math.floor(value / 10);
      buffer[at + j] = DIGIT_0 + value - next * 10;
      value = next;
    }
    at += digits;
    buffer[at++] = CR;
    buffer[at++] = LF;
    this.#length = at;
  }

  #constant(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let j = 0; j < bytes.length; j++) buffer[at++] = bytes[j]!;
    this.#length = at;
  }

  /** Writes text (room ensured by the caller). */
  #latin1(text: string): void {
    this.#length += this.#buffer.write(text, this.#length, 'latin1');
  }

  #crlf(): void {
    this.#buffer[this.#length++] = CR;
    this.#buffer[this.#length++] = LF;
  }

  #ensure(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + extra));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}

const kMaxKeptReply = 1 << 20;

