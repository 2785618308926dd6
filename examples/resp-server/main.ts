// A Redis-protocol (RESP2) server. Usage:
//   node dist/examples/resp-server/main.js [--port 6379] [--host 127.0.0.1] [--threads 0|1]
import { startServer } from './server.js';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 && index + 1 < process.argv.length ? process.argv[index + 1]! : fallback;
}

const threads = Number(option('threads', '1'));
if (threads !== 0 && threads !== 1) {
  console.error('--threads takes 0 (everything on the main thread) or 1 (parsing on a worker thread)');
  process.exit(2);
}
const server = await startServer({ port: Number(option('port', '6379')), host: option('host', '127.0.0.1'), threads });
console.log(`resp-server listening on ${server.host}:${server.port} (${threads === 0 ? 'parsing on the main thread' : `parsing on worker thread ${server.scheduler!.threadId}`})`);
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
