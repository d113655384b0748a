/**
 * The Engine.IO client contract the Socket.IO client is written against, typed to the public API of
 * `engine.io-client`'s `Socket`, so that parley's engine client and engine.io-client are
 * interchangeable:
 *
 * ```ts
 * import { Socket as EngineIoSocket } from 'engine.io-client';
 * io(url, { engine: EngineIoSocket });
 * ```
 *
 * @module
 */

/** Data of an engine message. */
export type EngineClientData = string | ArrayBuffer | ArrayBufferView | Blob;

/** Engine client events the Socket.IO client listens to. */
export type EngineClientEvent = 'open' | 'message' | 'close' | 'error' | 'ping';

/** An Engine.IO client connection (engine.io-client's `Socket`). Opens on construction. */
export interface EngineClientSocket {
  /** Engine session id, once open. */
  readonly id?: string | null | undefined;
  /** Current transport; `writable` is consulted for volatile packets. */
  readonly transport?: { readonly name: string; readonly writable?: boolean } | null | undefined;
  /** Queues one message. */
  send(data: EngineClientData, options?: { compress?: boolean }, callback?: () => void): unknown;
  /** Closes the connection (reason `forced close`). */
  close(): unknown;
  on(event: EngineClientEvent, listener: (...args: never[]) => void): unknown;
  off(event: EngineClientEvent, listener?: (...args: never[]) => void): unknown;
}

/** Options the Socket.IO client forwards to the engine client (engine.io-client's `SocketOptions`). */
export interface EngineClientOptions {
  /** Endpoint path (default `'/socket.io'`). */
  path?: string;
  /** Query parameters sent on every request. */
  query?: Record<string, string>;
  /** Transports to use, in order. */
  transports?: string[];
  /** Whether to upgrade from polling to WebSocket. */
  upgrade?: boolean;
  /** Start with WebSocket if a previous connection upgraded to it. */
  rememberUpgrade?: boolean;
  /** Headers added to every HTTP request (Node). */
  extraHeaders?: Record<string, string>;
  /** Send cookies on cross-site requests (browsers). */
  withCredentials?: boolean;
  /** Other options are passed through untouched. */
  [option: string]: unknown;
}

/**
 * A constructor of {@link EngineClientSocket}s, such as engine.io-client's `Socket` or parley's. It is
 * called as `new Engine(uri, options)` with an {@link EngineClientOptions}; the parameter is typed
 * `never` so that constructors with narrower option types are accepted.
 */
export type EngineClientConstructor = new (uri: string, options?: never) => EngineClientSocket;
