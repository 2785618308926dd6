// The thread-stream destination for the ring suites: thread-stream's own worker imports this module and
// writes the decoded strings into the Writable it returns. It only counts bytes (the payload is ASCII),
// and reports the count from flush(), which thread-stream calls before it answers a flush(cb).
import { Writable } from 'node:stream';
import { parentPort } from 'node:worker_threads';

export default async function sink(): Promise<Writable> {
  let bytes = 0;
  const writable = new Writable({
    decodeStrings: false,
    highWaterMark: 1 << 24,
    write(chunk: string | Buffer, _encoding, callback) {
      bytes += chunk.length;
      callback();
    },
  });
  return Object.assign(writable, {
    flush(callback: (error?: Error) => void): void {
      parentPort!.postMessage({ code: 'EVENT', name: 'count', args: [bytes] });
      callback();
    },
  });
}
