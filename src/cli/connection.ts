import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from '../index.js';
import type { Logger } from './log.js';

/** One accepted WebSocket connection as the server modes see it. */
export interface Connection {
  /** Sequence number, unique for the life of the server (shown in the log as `#id`). */
  readonly id: number;
  /** The socket (ws-compatible API). */
  readonly ws: WebSocket;
  /** The upgrade request (headers, URL). */
  readonly req: IncomingMessage;
  /** The TCP socket under the WebSocket, for byte counters and addresses. */
  readonly socket: Socket;
  /** `address:port` of the peer. */
  readonly remote: string;
  /** Request target (path and query) of the upgrade request. */
  readonly target: string;
  /** `Date.now()` when the connection opened. */
  readonly openedAt: number;
  /** Messages received from the peer. */
  messagesIn: number;
  /** Messages sent to the peer. */
  messagesOut: number;
  /** Last heartbeat ping answered (reset before each ping). */
  alive: boolean;
}

/** What a server mode gets besides the connection itself. */
export interface ServeContext {
  /** Every open connection (including the new one). */
  readonly connections: ReadonlySet<Connection>;
  /** The server log. */
  readonly logger: Logger;
  /** Maximum message size in bytes (also bounds line buffers of `--exec`). */
  readonly maxPayload: number;
  /** Whether the server speaks TLS (wss). */
  readonly tls: boolean;
}

/**
 * A server mode (`--echo`, `--broadcast`, `--exec`, `--proxy`): called once per accepted connection,
 * it installs its listeners. It must never throw for peer input; the caller already handles the
 * socket's `error` and `close` events for logging.
 */
export type ModeHandler = (conn: Connection, ctx: ServeContext) => void;

/** Normalizes a received message (Buffer, ArrayBuffer or Buffer[] per binaryType) to one Buffer. */
export function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(String(data));
}

/** WebSocket readyState OPEN (the ws/WHATWG constant). */
export const OPEN = 1;

/**
 * Sends `data` to `conn` if it is open, counting it. Errors are reported through the socket's own
 * `error`/`close` events, so the callback only swallows them here.
 */
export function sendTo(
  conn: Connection,
  data: Buffer | string,
  binary: boolean,
  cb?: (err?: Error | null) => void,
): void {
  if (conn.ws.readyState !== OPEN) return;
  conn.messagesOut++;
  conn.ws.send(data, { binary }, cb ?? noop);
}

function noop(): void {}

/** Truncates a close reason so that it fits the 123-byte limit of a close frame. */
export function closeReason(text: string): string {
  let r = text;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}
