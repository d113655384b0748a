// Test helpers for parley/web: loopback servers (the engine's WebSocketServer, and a raw TCP server
// that answers the opening handshake by hand to misbehave exactly) and event waiting with timeouts.

import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import { type AddressInfo, createServer as createNetServer, type Server, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { type WebSocket as EngineWebSocket, WebSocketServer } from '../../src/index.js';

/** The engine's server-side socket, as the WebSocketServer's 'connection' event gives it. */
export type ServerSocket = EngineWebSocket;

export interface WsFixture {
  server: WebSocketServer;
  url: string;
  port: number;
}

type ServerOptions = ConstructorParameters<typeof WebSocketServer>[0];

/**
 * Starts the engine's WebSocketServer on 127.0.0.1 with an ephemeral port; closed (with every
 * client terminated) when the test ends.
 */
export async function startServer(
  t: TestContext,
  options: Omit<NonNullable<ServerOptions>, 'port' | 'host'> = {},
): Promise<WsFixture> {
  const server = new WebSocketServer({ ...options, port: 0, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', () => resolve());
    server.once('error', reject);
  });
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients ?? []) client.terminate();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as AddressInfo).port;
  return { server, port, url: `ws://127.0.0.1:${port}` };
}

/** Starts an echo server: every message goes back with the same type. */
export async function startEchoServer(t: TestContext): Promise<WsFixture> {
  const fixture = await startServer(t);
  fixture.server.on('connection', (socket) => {
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) =>
      socket.send(data as Buffer, { binary: isBinary }),
    );
  });
  return fixture;
}

/** The Sec-WebSocket-Accept value for a key (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

/**
 * Starts a raw TCP server on 127.0.0.1 that reads one HTTP request head and hands it, with the
 * socket, to `onRequest`, which writes whatever response the test needs. Closed at the end.
 */
export async function startRawServer(
  t: TestContext,
  onRequest: (socket: Socket, headers: Record<string, string>) => void,
): Promise<{ url: string; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (head.length > 16384) socket.destroy();
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.off('data', onData);
      const headers: Record<string, string> = {};
      for (const line of head.slice(0, end).split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      onRequest(socket, headers);
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Writes a 101 response accepting the handshake, with extra header lines. */
export function writeAccept(socket: Socket, headers: Record<string, string>, extra: string[] = []): void {
  socket.write(
    [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptFor(headers['sec-websocket-key'] ?? '')}`,
      ...extra,
      '',
      '',
    ].join('\r\n'),
  );
}

/** An unmasked server frame with a payload shorter than 126 bytes. */
export function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  if (payload.length > 125) throw new RangeError('short frames only');
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, payload.length]), payload]);
}

/** Starts a plain HTTP server answering every request with `status`; closed at the end. */
export async function startHttpServer(t: TestContext, status: number): Promise<{ url: string }> {
  const server = createHttpServer((_req: IncomingMessage, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end('not a websocket server');
  });
  server.on('upgrade', (_req, socket) => {
    socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A loopback port nobody listens on (bound, then released). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves with the next event of `type` on `target`, or rejects after `ms` milliseconds. */
export function nextEvent<E extends Event = Event>(target: EventTarget, type: string, ms = 5000): Promise<E> {
  return new Promise<E>((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`timed out waiting for '${type}'`));
    }, ms);
    const listener = (event: Event) => {
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve(event as E);
    };
    target.addEventListener(type, listener);
  });
}

/** Resolves with the next `connection` socket of a WebSocketServer, or rejects after `ms`. */
export function nextConnection(server: WebSocketServer, ms = 5000): Promise<ServerSocket> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for a connection')), ms);
    server.once('connection', (socket) => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/** Records the type of every open/message/error/close event, in dispatch order. */
export function recordEvents(target: EventTarget): string[] {
  const log: string[] = [];
  for (const type of ['open', 'message', 'error', 'close']) {
    target.addEventListener(type, () => log.push(type));
  }
  return log;
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
