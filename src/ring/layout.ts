/*
 * The shared memory of one ring (one direction of a SharedPipe), in one SharedArrayBuffer.
 *
 *   byte   line  sole writer           Int32 words (index = byte / 4)
 *   0      L0    creator; then CAS/OR  [0] MAGIC  [1] VERSION  [2] CAPACITY  [3] PAUSE  [4] RESUME
 *                by either side        [5] STATE (sticky bits, Atomics.or / and)
 *                                      [6] WRITER_HOLDER  [7] READER_HOLDER  (threadId + 1, 0 = free)
 *                                      [8] WRITER_COMPLETION  [9] READER_COMPLETION  (first wins by CAS)
 *                                      [10] WRITER_ERROR_LEN  [11] READER_ERROR_LEN  [12] RING_ID
 *                                      [13] MAX_CAPACITY (what CAPACITY may grow to; CAPACITY itself
 *                                      is stored by the writer only, when it grows the ring)
 *   128    L1    writer                [32] WRITE_POS  [33] DATA_SEQ (the reader sleeps on it)
 *                                      [34] WRITER_WAITING (a wake-up is wanted; the reader claims it)
 *                                      [35] WRITER_NEED (room a writer blocked on space waits for, else 0)
 *                                      [36] SKIP_POS  [37] SKIP_ACTIVE
 *                                      [38] WRITE_LAPS  [39] FLUSHES  [40] WRITER_WAITS  [41] WRITER_WAKEUPS
 *                                      [42] PAUSES  [43] WRAPS  [44] WRITER_RESCUES (waits a slice
 *                                      ended that found room with no wake-up: lost wake-ups, 0 expected)
 *                                      [45] GROWS
 *   256    L2    reader                [64] READ_POS (consumed)  [65] EXAMINED_POS  [66] SPACE_SEQ (the
 *                                      writer sleeps on it)  [67] READER_WAITING (a wake-up is wanted; the
 *                                      writer claims it)  [68] READ_MINIMUM  [69] READ_LAPS  [70] READS
 *                                      [71] READER_WAITS  [72] READER_WAKEUPS  [73] READER_BLOCKED (a read
 *                                      is waiting for data)  [74] READER_RESCUES (likewise for the reader)
 *                                      [75] READER_CAPACITY (the capacity the reader maps positions
 *                                      with: CAPACITY once it took up a growth, the old one before)
 *                                      [76] READER_VIEWS (1 while a result's views may be in use)
 *   384    L3    (reserved)
 *   512    ERR   writer's completion error: UTF-8 JSON {name, message, code, stack, cause}, <= 512 bytes
 *   1024   ERR   reader's completion error, likewise
 *   1536   DATA  capacity bytes (a power of two); the writer fills [WRITE_POS, READ_POS + capacity),
 *                the reader reads [READ_POS, WRITE_POS)
 *
 * Positions are free-running uint32 byte counters: used = (write - read) >>> 0, index = pos & (capacity - 1),
 * exact while capacity <= 2^30. Each 128-byte line has one writer, so the two threads never write the
 * same cache line on the hot path (a canceller or a completion bumps the other side's sequence word,
 * and a side claims the other's wake-up flag with an exchange: once per sleep, not per message).
 * Waiters sleep on a sequence word, never on a position: set the wake-up flag, sample the word, check
 * the condition, then wait for the word to change. A publisher stores its position, then claims the
 * flag and bumps the word: either the sleeper sees the new position or the publisher sees the flag.
 *
 * A write that wants contiguous memory past the end of the data region skips the tail: the writer
 * records SKIP_POS (where the unused tail starts; it runs to the end of that lap) with SKIP_ACTIVE set,
 * before publishing a WRITE_POS beyond it. At most one skipped tail is ever inside [READ_POS, WRITE_POS).
 *
 * A ring whose MAX_CAPACITY exceeds its CAPACITY lives in a growable SharedArrayBuffer. When the writer
 * has bytes that do not fit and either the unexamined bytes are below the pause threshold (a Pipe takes
 * a whole flush then) or the reader waits for more than the ring holds, the writer grows the buffer to
 * a larger power of two C' and re-places the unconsumed bytes for the new index (pos & (C' - 1)). A byte whose index changes
 * moves into the new part [C, C'), so every byte at its old index stays where it was: views the reader
 * still holds stay true. The writer stores CAPACITY after the copy and before it publishes any byte
 * placed for the new index; the reader loads it after WRITE_POS. The writer's room stays at the old C
 * until the reader holds no old views: READER_VIEWS is 0 (the reader stores 1 before it loads CAPACITY
 * to make views, the writer loads it after storing CAPACITY: one of them sees the other), or
 * READER_CAPACITY says the reader maps with C'. Meanwhile a position q the writer fills is less than
 * READ_POS + C from every held position p, so q & (C' - 1) never lands on p's old index p & (C - 1).
 * One growth at a time, never with a skipped tail inside [READ_POS, WRITE_POS), and no tail is skipped
 * while the room lags the capacity.
 */

export const kMagic = 0x50495045; // 'PIPE'
export const kLayoutVersion = 2;

export const kHeaderBytes = 512;
export const kErrorRecordBytes = 512;
export const kWriterErrorOffset = kHeaderBytes;
export const kReaderErrorOffset = kHeaderBytes + kErrorRecordBytes;
export const kDataOffset = kHeaderBytes + 2 * kErrorRecordBytes;

export const kMaxCapacity = 2 ** 30;
export const kMinCapacity = 16;

// Line 0: configuration and sticky state.
export const MAGIC = 0;
export const VERSION = 1;
export const CAPACITY = 2;
export const PAUSE = 3;
export const RESUME = 4;
export const STATE = 5;
export const WRITER_HOLDER = 6;
export const READER_HOLDER = 7;
export const WRITER_COMPLETION = 8;
export const READER_COMPLETION = 9;
export const WRITER_ERROR_LEN = 10;
export const READER_ERROR_LEN = 11;
export const RING_ID = 12;
export const MAX_CAPACITY = 13;

// Line 1: written by the writer.
export const WRITE_POS = 32;
export const DATA_SEQ = 33;
export const WRITER_WAITING = 34;
export const WRITER_NEED = 35;
export const SKIP_POS = 36;
export const SKIP_ACTIVE = 37;
export const WRITE_LAPS = 38;
export const FLUSHES = 39;
export const WRITER_WAITS = 40;
export const WRITER_WAKEUPS = 41;
export const PAUSES = 42;
export const WRAPS = 43;
export const WRITER_RESCUES = 44;
export const GROWS = 45;

// Line 2: written by the reader.
export const READ_POS = 64;
export const EXAMINED_POS = 65;
export const SPACE_SEQ = 66;
export const READER_WAITING = 67;
export const READ_MINIMUM = 68;
export const READ_LAPS = 69;
export const READS = 70;
export const READER_WAITS = 71;
export const READER_WAKEUPS = 72;
export const READER_BLOCKED = 73;
export const READER_RESCUES = 74;
export const READER_CAPACITY = 75;
export const READER_VIEWS = 76;

// STATE bits. Terminal bits are sticky; the two cancel bits are one-shot (cleared by the side that sees them).
export const WRITER_COMPLETED = 1 << 0;
export const READER_COMPLETED = 1 << 1;
export const WRITER_FAULTED = 1 << 2;
export const READER_FAULTED = 1 << 3;
export const READ_CANCEL = 1 << 4;
export const FLUSH_CANCEL = 1 << 5;
export const WRITER_EXITED = 1 << 6;
export const READER_EXITED = 1 << 7;
/** The writer could not grow the buffer (the system refused the memory): the capacity now is the limit. */
export const GROWTH_FAILED = 1 << 8;

/** How many times a side re-checks before it sleeps: a wake-up costs tens of microseconds. */
export const kSpinBeforeSleep = 200;

// *_COMPLETION values.
export const COMPLETION_NONE = 0;
export const COMPLETION_OK = 1;
export const COMPLETION_FAULTED = 2;
