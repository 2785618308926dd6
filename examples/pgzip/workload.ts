// Generated input for pgzip's demonstrations and benchmark: JSON log lines, seeded, so every run
// compresses the same bytes.

const kVocabularySize = 5000;
const kLevels = ['info', 'warn', 'error', 'debug'];
const kFirstTimestamp = 1_700_000_000_000;
const kUsers = 100_000;

/**
 * `bytes` bytes of JSON log lines whose messages are drawn from a 5,000-word vocabulary: compresses
 * about 3:1, like real logs, so the time goes into compression rather than into moving chunks
 * between threads. The same seed gives the same bytes.
 */
export function jsonLogLines(bytes: number, seed = 42): Uint8Array {
  let state = seed >>> 0;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const vocabulary = Array.from({ length: kVocabularySize }, () => Array.from({ length: 2 + (next() % 8) }, () => letters[next() % 26]).join(''));
  // Encoded line by line into the final buffer: no string of the whole input for the collector to
  // trace while the compressors run.
  const data = new Uint8Array(bytes);
  const encoder = new TextEncoder();
  let size = 0;
  for (let n = 0; size < bytes; n++) {
    const words = Array.from({ length: 3 + (next() % 10) }, () => vocabulary[next() % vocabulary.length]).join(' ');
    const line = `{"ts":${kFirstTimestamp + n},"level":"${kLevels[next() % kLevels.length]}","user":${next() % kUsers},"msg":"${words}"}\n`;
    size += encoder.encodeInto(line, data.subarray(size)).written;
  }
  return data;
}
