/** Test helpers: servers on ephemeral loopback ports, and awaiting events with a bound. */

import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import type { ClientOptions, ServerOptions } from '../../src/node/options.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import { acceptKey } from '../../src/protocol/handshake.js';

export { delay };

/** A parley server on 127.0.0.1 with an ephemeral port; resolves once listening. */
export async function listen(
  options: Omit<ServerOptions, 'port'> = {},
): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

/** Resolves with the arguments of the next `event`, or rejects after `ms` (a generous bound). */
export async function next(emitter: EventEmitter, event: string, ms = 5000): Promise<unknown[]> {
  const timer = AbortSignal.timeout(ms);
  return once(emitter, event, { signal: timer });
}

/** Closes a server and every connection on it. */
export async function shutdown(wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients ?? []) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}

// --- Connected pairs --------------------------------------------------------------------------

/** Opens a parley client to `url` and resolves once it is open (rejects on error or close). */
export async function open(
  url: string,
  protocols?: string | string[] | ClientOptions,
  options?: ClientOptions,
): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
    ws.once('close', (code: number) => reject(new Error(`closed with ${code} before open`)));
  });
  return ws;
}

/** A listening server, a client connected to it, and the server side of that connection. */
export async function pair(
  serverOptions: Omit<ServerOptions, 'port'> = {},
  clientOptions: ClientOptions = {},
): Promise<{ wss: WebSocketServer; url: string; client: WebSocket; server: WebSocket }> {
  const { wss, url } = await listen(serverOptions);
  const connected = next(wss, 'connection');
  const client = await open(url, clientOptions);
  const [server] = (await connected) as [WebSocket];
  return { wss, url, client, server };
}

/**
 * A listening server, a raw TCP client that completed the opening handshake with it (write frames
 * to `socket`, read them from `reader`), and the server side of that connection.
 */
export async function rawPair(
  serverOptions: Omit<ServerOptions, 'port'> = {},
): Promise<{ wss: WebSocketServer; socket: Socket; reader: FrameReader; server: WebSocket }> {
  const { wss } = await listen(serverOptions);
  const connected = next(wss, 'connection');
  const { socket, reader } = await rawClient(portOf(wss));
  const [server] = (await connected) as [WebSocket];
  return { wss, socket, reader, server };
}

/** Polls `predicate` every 5 ms until it holds, or throws after `ms`. */
export async function waitFor(predicate: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** Collects every `message` of `ws` as Buffers (or what `binaryType` gives) into an array. */
export function collect(ws: WebSocket): Array<{ data: unknown; isBinary: boolean }> {
  const received: Array<{ data: unknown; isBinary: boolean }> = [];
  ws.on('message', (data, isBinary) => received.push({ data, isBinary }));
  return received;
}

/** The port of a listening server. */
export function portOf(server: { address(): unknown }): number {
  return (server.address() as AddressInfo).port;
}

/** A fresh directory under the OS temp dir, removed when the test file ends. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parley-test-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// --- Raw peers: hand-made frames on plain TCP sockets ------------------------------------------

/** A masked (client-to-server) frame. */
export function clientFrame(opcode: number, payload: Uint8Array | string, fin = true, rsv1 = false): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return encodeFrame(opcode, data, { fin, rsv1, mask: randomBytes(4) });
}

/** An unmasked (server-to-client) frame. */
export function serverFrame(opcode: number, payload: Uint8Array | string, fin = true, rsv1 = false): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return encodeFrame(opcode, data, { fin, rsv1, mask: null });
}

/** A frame as a raw peer sees it. */
export interface RawFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
}

/**
 * Reads the frames a raw peer receives (unmasking when needed). `frames` fills as data arrives;
 * `nextFrame()` resolves with the next one.
 */
export class FrameReader {
  readonly frames: RawFrame[] = [];
  #buffer: Buffer = Buffer.alloc(0);
  #taken = 0;

  constructor(socket: Duplex, head: Buffer = Buffer.alloc(0)) {
    if (head.length > 0) this.#push(head);
    socket.on('data', (chunk: Buffer) => this.#push(chunk));
  }

  /** Resolves with the next frame not yet taken. */
  async nextFrame(ms = 5000): Promise<RawFrame> {
    await waitFor(() => this.frames.length > this.#taken, ms, 'a frame');
    return this.frames[this.#taken++];
  }

  #push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      const buf = this.#buffer;
      if (buf.length < 2) break;
      let length = buf[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buf.length < 4) break;
        length = buf.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buf.length < 10) break;
        length = Number(buf.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (buf[1] & 0x80) !== 0;
      const keyAt = offset;
      if (masked) offset += 4;
      if (buf.length < offset + length) break;
      const payload = Buffer.from(buf.subarray(offset, offset + length));
      if (masked) for (let i = 0; i < payload.length; i++) payload[i] ^= buf[keyAt + (i % 4)];
      this.frames.push({
        fin: (buf[0] & 0x80) !== 0,
        rsv1: (buf[0] & 0x40) !== 0,
        opcode: buf[0] & 0x0f,
        payload,
      });
      this.#buffer = buf.subarray(offset + length);
    }
  }
}

/** An upgrade request's text, with `headers` added to (or replacing) the usual ones. */
export function upgradeRequest(path = '/', headers: Record<string, string | undefined> = {}): string {
  const all: Record<string, string | undefined> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = [`GET ${path} HTTP/1.1`];
  for (const [name, value] of Object.entries(all)) if (value !== undefined) lines.push(`${name}: ${value}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/**
 * Writes `request` to 127.0.0.1:`port` and resolves with everything the server sent until it
 * closed the connection (or `ms` passed: then with what came so far).
 */
export async function exchange(port: number, request: string | Buffer, ms = 5000): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {});
  socket.write(request);
  await Promise.race([once(socket, 'close'), delay(ms)]);
  socket.destroy();
  return Buffer.concat(chunks).toString('latin1');
}

/** A raw TCP client that completed the opening handshake: write frames to `socket`, read them from `reader`. */
export async function rawClient(
  port: number,
  path = '/',
  headers: Record<string, string | undefined> = {},
): Promise<{ socket: Socket; reader: FrameReader; response: string }> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write(upgradeRequest(path, headers));
  let head = Buffer.alloc(0);
  let end = -1;
  while (end === -1) {
    const [chunk] = (await next(socket, 'data')) as [Buffer];
    head = Buffer.concat([head, chunk]);
    end = head.indexOf('\r\n\r\n');
  }
  socket.removeAllListeners('data');
  const response = head.subarray(0, end).toString('latin1');
  const reader = new FrameReader(socket, head.subarray(end + 4));
  return { socket, reader, response };
}

/**
 * A raw WebSocket server on 127.0.0.1: answers every upgrade with a valid 101 (plus `extraHeaders`)
 * and hands the socket to `onSocket` with a frame reader. Nothing else is automatic.
 */
export async function rawServer(
  onSocket: (socket: Socket, reader: FrameReader, request: string) => void,
  extraHeaders: string[] = [],
): Promise<{ server: Server; url: string }> {
  const server = track(
    createServer((socket) => {
      socket.on('error', () => {});
      let head = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.removeListener('data', onData);
        const request = head.subarray(0, end).toString('latin1');
        const key = /sec-websocket-key:\s*(\S+)/i.exec(request)?.[1] ?? '';
        const lines = [
          'HTTP/1.1 101 Switching Protocols',
          'Upgrade: websocket',
          'Connection: Upgrade',
          `Sec-WebSocket-Accept: ${acceptKey(key)}`,
          ...extraHeaders,
        ];
        socket.write(`${lines.join('\r\n')}\r\n\r\n`);
        onSocket(socket, new FrameReader(socket, head.subarray(end + 4)), request);
      };
      socket.on('data', onData);
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `ws://127.0.0.1:${portOf(server)}` };
}

/** Closes a net/http server, destroying its remaining connections. */
export async function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  for (const socket of openSockets.get(server) ?? []) socket.destroy();
  await closed;
}

const openSockets = new WeakMap<Server, Set<Socket>>();

/** Tracks the sockets of `server` so that {@link closeServer} can destroy them. */
export function track<T extends Server>(server: T): T {
  const sockets = new Set<Socket>();
  openSockets.set(server, sockets);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return server;
}

/**
 * Resolves with the code and reason of `ws`'s `close` event (unlike `next`, an `error` before it
 * is not a rejection: failures are expected to end in `close`). Rejects after `ms`.
 */
export function closed(ws: WebSocket, ms = 10_000): Promise<{ code: number; reason: string; error?: Error }> {
  return new Promise((resolve, reject) => {
    let error: Error | undefined;
    const timer = setTimeout(() => reject(new Error('timed out waiting for close')), ms);
    ws.on('error', (err) => {
      error ??= err;
    });
    ws.once('close', (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString(), ...(error === undefined ? {} : { error }) });
    });
  });
}
