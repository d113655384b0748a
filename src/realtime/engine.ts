/**
 * The Engine.IO contract the Socket.IO layer is written against. It is typed to the public API of the
 * `engine.io` package (server side) so that parley's own engine (`parley/engine`) and the `engine.io`
 * package are interchangeable behind it:
 *
 * ```ts
 * import { Server as EngineIoServer } from 'engine.io';
 * new Server(httpServer, { engine: EngineIoServer }); // any constructor of this shape
 * ```
 *
 * @module
 */

import type { Server as HttpServer, IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/** Data an engine message may carry: text, or binary (a Node `Buffer` on the server). */
export type EngineData = string | Uint8Array | ArrayBuffer;

/** Options passed to {@link EngineSocket.send}. */
export interface EngineSendOptions {
  /** Whether to compress the message (permessage-deflate), when the transport supports it. */
  compress?: boolean;
}

/** The HTTP request that opened an engine session, as the Socket.IO layer reads it. */
export interface EngineRequest {
  readonly headers: IncomingHttpHeaders;
  readonly url?: string | undefined;
  /** The query of `url`, parsed by the engine (engine.io and parley's engine set it). */
  readonly _query?: Record<string, string>;
  readonly socket?: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean } | null;
  readonly connection?: { readonly remoteAddress?: string | undefined; readonly encrypted?: boolean } | null;
}

/** One Engine.IO session on the server (engine.io's `Socket`). */
export interface EngineSocket {
  /** Engine session id (`sid`). */
  readonly id: string;
  /** The first HTTP request of the session. */
  readonly request: EngineRequest;
  /** Peer address, when the engine exposes it. */
  readonly remoteAddress?: string;
  /** Current transport; `writable` is consulted for volatile packets. */
  readonly transport?: { readonly name: string; readonly writable: boolean } | undefined;
  /** `'opening' | 'open' | 'closing' | 'closed'`. */
  readonly readyState: string;
  /** Queues one message. */
  send(data: EngineData, options?: EngineSendOptions, callback?: (...args: never[]) => void): unknown;
  /** Closes the session (reason `'forced close'` on the server side). */
  close(discard?: boolean): unknown;
  on(event: 'message', listener: (data: EngineData) => void): unknown;
  on(event: 'close', listener: (reason: string, description?: unknown) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  /**
   * @internal parley's engine only: makes `owner` the session's one carried layer, told of its
   * messages and close directly instead of through listeners.
   */
  _setOwner?(owner: EngineSessionOwner): void;
}

/** @internal What {@link EngineSocket._setOwner} tells. */
export interface EngineSessionOwner {
  ondata(data: EngineData): void;
  onclose(reason: string, description?: unknown): void;
}

/** Options the Socket.IO server forwards to the engine (engine.io's `ServerOptions` + `AttachOptions`). */
export interface EngineServerOptions {
  /** Path of the endpoint (default `'/socket.io/'` for Socket.IO). */
  path?: string;
  /** Heartbeat interval in ms. */
  pingInterval?: number;
  /** Heartbeat timeout in ms. */
  pingTimeout?: number;
  /** Upgrade timeout in ms. */
  upgradeTimeout?: number;
  /** Maximum message size in bytes. */
  maxHttpBufferSize?: number;
  /** Allowed transports. */
  transports?: ('polling' | 'websocket')[];
  /** Whether upgrades are allowed. */
  allowUpgrades?: boolean;
  /** Request gate. */
  allowRequest?: (
    req: IncomingMessage,
    fn: (err: string | null | undefined, success: boolean) => void,
  ) => void;
  /** CORS options, passed through. */
  cors?: unknown;
  /** Cookie options, passed through. */
  cookie?: unknown;
  /** Per-message deflate options, passed through. */
  perMessageDeflate?: unknown;
  /** HTTP compression options, passed through. */
  httpCompression?: unknown;
  /** Append a trailing slash to `path` (engine.io attach option). */
  addTrailingSlash?: boolean;
}

/** An Engine.IO server (engine.io's `Server`). */
export interface EngineServer {
  on(event: 'connection', listener: (socket: EngineSocket) => void): unknown;
  on(event: 'connection_error', listener: (err: unknown) => void): unknown;
  /** Attaches to an HTTP server: intercepts its requests/upgrades on `options.path`. */
  attach(server: HttpServer, options?: EngineServerOptions): unknown;
  /** Handles a plain HTTP request for the endpoint. */
  handleRequest(req: IncomingMessage, res: ServerResponse): unknown;
  /** Handles an HTTP upgrade request for the endpoint. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): unknown;
  /** Closes every session. */
  close(): unknown;
  /** Number of open sessions. */
  readonly clientsCount?: number;
}

/**
 * A constructor of {@link EngineServer}s, such as engine.io's `Server` or parley's. It is called with
 * an {@link EngineServerOptions} object; the parameter is typed `never` so that constructors whose
 * option types are narrower (e.g. a `cors` option of their own shape) are accepted.
 */
export type EngineServerConstructor = new (options?: never) => EngineServer;
