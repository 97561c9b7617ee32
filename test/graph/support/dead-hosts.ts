/**
 * Loopback hosts that fail the way networks do: a closed port (refused at once), a server that
 * takes the connection and never says a word (the TLS handshake never completes), and a port
 * whose accept queue is full, so the kernel drops our SYN and the connect itself never completes.
 */
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { Worker } from 'node:worker_threads';

/** A dead host: its port, and how to free what it holds. */
export interface DeadHost {
  port: number;
  close(): Promise<void>;
}

/** A port nothing listens on: connections are refused at once. */
export async function closedPort(): Promise<DeadHost> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { port, close: async () => undefined };
}

/** Accepts TCP connections and never writes a byte. */
export async function silentServer(): Promise<DeadHost> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Opens a TCP connection; resolves whether it connected or failed within `ms`. The socket is kept in `held`. */
function completes(port: number, ms: number, held: Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect(port, '127.0.0.1');
    held.push(socket);
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * A listening port whose connect never completes. The listener lives in a worker thread that then
 * blocks, so nothing ever accepts; connections fill the accept queue (backlog 1) until Linux
 * drops further SYNs. Undefined where the queue never fills (another kernel's policy).
 */
export async function neverConnects(): Promise<DeadHost | undefined> {
  const release = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
       server.close();
     });`,
    { eval: true, workerData: release },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const held: Socket[] = [];
  const close = async () => {
    for (const socket of held) socket.destroy();
    Atomics.store(release, 0, 1);
    Atomics.notify(release, 0);
    await worker.terminate();
  };
  for (let i = 0; i < 16; i++) {
    if (!(await completes(port, 300, held))) return { port, close };
  }
  await close();
  return undefined;
}
