/**
 * Options of the server and the client, as the `ws` package names them, plus parley's own
 * (each marked). Every limit has a safe default (see `Defaults` in the protocol module).
 * @module
 */
import type { Agent, ClientRequest, Server as HttpServer, IncomingMessage, RequestOptions } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions, SecureContextOptions } from 'node:tls';
import type { PerMessageDeflateOptions } from './deflate.js';
import type { WebSocket } from './websocket.js';

/** parley: ping every `interval` ms, and terminate a peer whose pong has not come within `timeout` ms. */
export interface HeartbeatOptions {
  interval: number;
  timeout: number;
}

/** Options of a client `WebSocket` (ws-compatible; http/https request and TLS options pass through). */
export interface ClientOptions
  extends Omit<RequestOptions, 'timeout'>,
    SecureContextOptions,
    Pick<ConnectionOptions, 'rejectUnauthorized' | 'servername' | 'checkServerIdentity' | 'ALPNProtocols'> {
  /** Only 13 is supported. */
  protocolVersion?: number;
  /** Milliseconds to wait for the opening handshake. Default 30 s (ws: none). */
  handshakeTimeout?: number;
  /** Largest message accepted, after inflation. Default 100 MiB. */
  maxPayload?: number;
  /** parley: most frames per message. Default 131,072. */
  maxFragments?: number;
  /** parley: milliseconds to wait for the server's close after ours. Default 30 s. */
  closeTimeout?: number;
  /** Offer permessage-deflate (default true, as in ws), with these options if an object. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Follow 3xx redirects. Default false. */
  followRedirects?: boolean;
  /** Most redirects followed. Default 10. */
  maxRedirects?: number;
  /** The Origin header. */
  origin?: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** The HTTP agent. */
  agent?: Agent;
  /** Answer pings automatically. Default true. */
  autoPong?: boolean;
  /** Skip UTF-8 validation of text messages. Default false. */
  skipUTF8Validation?: boolean;
  /** parley: the built-in heartbeat. Off by default. */
  heartbeat?: HeartbeatOptions;
  /** Called with the request instead of `req.end()`, to write a body or end it later. */
  finishRequest?: (request: ClientRequest, websocket: WebSocket) => void;
}

/** The `info` argument of `verifyClient`. */
export interface VerifyClientInfo {
  origin: string | undefined;
  secure: boolean;
  req: IncomingMessage;
}

/** Synchronous `verifyClient`: return true to accept. */
export type VerifyClientSync = (info: VerifyClientInfo) => boolean;
/** Asynchronous `verifyClient`: call back with the verdict and, to refuse, an HTTP status, message and headers. */
export type VerifyClientAsync = (
  info: VerifyClientInfo,
  callback: (result: boolean, code?: number, message?: string, headers?: Record<string, string>) => void,
) => void;

/** Options of a `WebSocketServer` (ws-compatible). One and only one of `port`, `server`, `noServer`. */
export interface ServerOptions {
  /** Listen on this port (an HTTP server is created). */
  port?: number;
  /** With `port`: the address to listen on. */
  host?: string;
  /** With `port`: the listen backlog. */
  backlog?: number;
  /** Attach to this HTTP(S) server's `upgrade` event. */
  server?: HttpServer | HttpsServer;
  /** Create no server: call `handleUpgrade` yourself. */
  noServer?: boolean;
  /** Accept only this path (ignoring the query). */
  path?: string;
  /** Decide whether to accept a client; sync (1 parameter) or async (2). */
  verifyClient?: VerifyClientSync | VerifyClientAsync;
  /** Pick a subprotocol from those offered, or return false for none. Default: the first. */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
  /** Largest message accepted, after inflation. Default 100 MiB. */
  maxPayload?: number;
  /** parley: most frames per message. Default 131,072. */
  maxFragments?: number;
  /** parley: milliseconds to wait for the client's close after ours. Default 30 s. */
  closeTimeout?: number;
  /** parley: largest upgrade request head in bytes, when the server is created (`port`). Default 16 KiB. */
  maxHeaderSize?: number;
  /** parley: most headers in an upgrade request. Default 100. */
  maxHeaderCount?: number;
  /** Accept permessage-deflate (default false, as in ws), with these options if an object. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Keep the set of open connections in `clients`. Default true. */
  clientTracking?: boolean;
  /** Answer pings automatically. Default true. */
  autoPong?: boolean;
  /** Skip UTF-8 validation of text messages. Default false. */
  skipUTF8Validation?: boolean;
  /** parley: the built-in heartbeat for every connection. Off by default. */
  heartbeat?: HeartbeatOptions;
  /** Accepted for ws compatibility; parley always delivers events synchronously. */
  allowSynchronousEvents?: boolean;
  /** The class of the connections (a subclass of WebSocket). */
  WebSocket?: typeof WebSocket;
}

/** A socket handed to `handleUpgrade`. */
export type UpgradeSocket = Duplex;
