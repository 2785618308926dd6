// The load generator of the tcp-lines suite, a child process (forked with IPC): on each 'run'
// command it opens `clients` plain net.Sockets to the server and has each send `linesPerClient`
// 40-byte lines, 1638 lines per write, as fast as the socket takes them (write until write() returns
// false, then wait for 'drain'), then end(). It replies once every socket closed (the server answers
// the FIN after counting), with the process CPU time the run cost.
import * as net from 'node:net';
import { LINE_BYTES, LINES_PER_WRITE, lineBlock, type ClientReply, type RunCommand } from './tcp-common.js';

const block = lineBlock();

function reply(message: ClientReply): void {
  process.send!(message);
}

/** Sends the lines on one socket; resolves when the socket closed. */
function client(port: number, lines: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const fullWrites = Math.floor(lines / LINES_PER_WRITE);
    const rest = block.subarray(0, (lines % LINES_PER_WRITE) * LINE_BYTES);
    let written = 0;
    const pump = (): void => {
      while (written < fullWrites) {
        written++;
        if (!socket.write(block)) {
          socket.once('drain', pump);
          return;
        }
      }
      if (rest.length > 0) socket.write(rest);
      socket.end();
    };
    socket.once('connect', pump);
    socket.on('error', reject);
    // Not reading anything: the server only sends its FIN.
    socket.resume();
    socket.once('close', (hadError) => (hadError ? undefined : resolve()));
  });
}

process.on('message', (message: RunCommand | { cmd: 'exit' }) => {
  if (message.cmd === 'exit') {
    process.disconnect();
    return;
  }
  const { id, port, clients, linesPerClient } = message;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const sockets: Promise<void>[] = [];
  for (let i = 0; i < clients; i++) sockets.push(client(port, linesPerClient));
  Promise.all(sockets).then(
    () => {
      const used = process.cpuUsage(cpu);
      reply({ id, done: true, userMs: used.user / 1000, systemMs: used.system / 1000, wallMs: performance.now() - started });
    },
    (error: Error) => reply({ id, error: error.stack ?? error.message }),
  );
});

process.on('disconnect', () => process.exit(0));
reply({ ready: true });
