/**
 * `parley/engine`: an Engine.IO v4 server and client, wire-compatible with engine.io and
 * engine.io-client, with the same public API shape.
 *
 * @module
 */

export {
  type ClientCloseReason,
  ClientSocket,
  type ClientSocketEvents,
  type ClientSocketOptions,
  type ClientSocketState,
  type HandshakeData,
} from './client.js';
export {
  ClientTransport,
  type ClientTransportName,
  type CloseDetails,
  PollingClientTransport,
  WebSocketClientTransport,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client-transport.js';
export { Emitter, type EventsMap } from './emitter.js';
export * from './errors.js';
export type { CookieOptions, CorsOptions, StaticOrigin } from './http-util.js';
export * from './parser.js';
export * from './reference.js';
export * from './server.js';
export * from './server-socket.js';
export {
  PollingTransport,
  Transport,
  type TransportEvents,
  type TransportName,
  WebSocketTransport,
} from './server-transport.js';
