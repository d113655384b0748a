import { connect } from 'node:net';
import {
  type Connection,
  closeReason,
  type ModeHandler,
  OPEN,
  type ServeContext,
  sendTo,
  toBuffer,
} from './connection.js';
import { describeNetError, usageError } from './errors.js';

/** Where `--proxy` connects. */
export interface ProxyTarget {
  readonly host: string;
  readonly port: number;
}

/** Unsent WebSocket bytes above which the TCP side is paused until the socket drains. */
const WS_HIGH_WATER = 1024 * 1024;

/** Parses `tcp://HOST:PORT` (or `HOST:PORT`, `[v6]:PORT`); throws a usage error otherwise. */
export function parseProxyTarget(text: string): ProxyTarget {
  const m = /^(?:tcp:\/\/)?(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})\/?$/.exec(text);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw usageError(`--proxy: expected tcp://HOST:PORT, got '${text}'`);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/**
 * `--proxy tcp://HOST:PORT` (websockify): each WebSocket connection gets its own TCP connection to
 * the target. Message payloads (text or binary) are written to TCP as bytes; TCP data is sent back as
 * binary messages, chunk by chunk. Either side ending ends the other (1000 when TCP closes cleanly,
 * 1011 on a TCP error or refused connection). Backpressure flows both ways.
 */
export function proxyMode(target: ProxyTarget): ModeHandler {
  return (conn: Connection, ctx: ServeContext) => {
    const { ws } = conn;
    const tcp = connect({ host: target.host, port: target.port });
    let tcpError: string | undefined;
    let connected = false;
    tcp.on('connect', () => {
      connected = true;
    });
    tcp.on('error', (err) => {
      tcpError = describeNetError(err);
      ctx.logger.warn(`#${conn.id} upstream ${target.host}:${target.port}: ${tcpError}`);
    });
    tcp.on('close', () => {
      if (ws.readyState !== OPEN) return;
      if (tcpError === undefined) ws.close(1000);
      else ws.close(1011, closeReason(connected ? 'upstream error' : `upstream unavailable: ${tcpError}`));
    });
    tcp.on('drain', () => ws.resume());
    let inFlight = 0;
    tcp.on('data', (chunk: Buffer) => {
      inFlight++;
      sendTo(conn, chunk, true, () => {
        inFlight--;
        if (tcp.isPaused() && ws.bufferedAmount < WS_HIGH_WATER) tcp.resume();
      });
      if (ws.bufferedAmount >= WS_HIGH_WATER && inFlight > 0) tcp.pause();
    });
    ws.on('message', (data: unknown) => {
      conn.messagesIn++;
      if (!tcp.writable) return;
      if (!tcp.write(toBuffer(data))) ws.pause();
    });
    ws.on('close', () => {
      if (tcp.destroyed) return;
      tcp.end();
      // Do not wait forever for the upstream to close its side.
      setTimeout(() => tcp.destroy(), 5000).unref();
    });
  };
}
