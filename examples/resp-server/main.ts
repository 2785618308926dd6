// A Redis-protocol (RESP2) server. Usage:
//   node --max-semi-space-size=1 dist/examples/resp-server/main.js [--port 6379] [--host 127.0.0.1] [--threads 0|1]
// (--help lists the options; `npm run resp-server` starts it so). The Node option bounds the main
// thread's young generation, which otherwise grows to 32 MB under a thousand connections' load: the
// largest single part of the server's memory. The worker's is bounded in server.ts.
import { CommandLine } from '../shared/args.js';
import { startServer } from './server.js';

const kMaxPort = 65535;
const command = CommandLine.parse({
  usage: 'node dist/examples/resp-server/main.js',
  summary: 'A Redis-protocol (RESP2) server: socket I/O on the main thread, parsing there too (--threads 0) or on a worker (--threads 1).',
  options: {
    port: { type: 'string', short: 'p', value: 'N', description: 'TCP port, 0 for any free one (default 6379)' },
    host: { type: 'string', value: 'ADDRESS', description: 'address to listen on (default 127.0.0.1)' },
    threads: { type: 'string', value: '0|1', description: '0: parse on the main thread; 1: parse on a worker thread (default 1)' },
  },
});
const threads = command.choice('threads', '1', ['0', '1']) === '0' ? 0 : 1;
const port = command.number('port', 6379, { integer: true, min: 0, max: kMaxPort });
const host = command.string('host', '127.0.0.1');
const server = await startServer({ port, host, threads });
console.log(`resp-server listening on ${server.host}:${server.port} (${threads === 0 ? 'parsing on the main thread' : `parsing on worker thread ${server.scheduler!.threadId}`})`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
