/**
 * `parley/realtime`: a Socket.IO v5 server, wire-compatible with every socket.io client, on an
 * Engine.IO v4 engine (see {@link EngineServer}).
 *
 * @module
 */

export {
  Adapter,
  type AdapterConstructor,
  type AdapterNamespace,
  type AdapterSocket,
  type BroadcastFlags,
  type BroadcastOptions,
  type Handshake,
  type PrivateSessionId,
  type RestoredSession,
  type Room,
  type ServerSideAck,
  type Session,
  SessionAwareAdapter,
  type SessionAwareOptions,
  type SocketDetails,
  type SocketId,
  type WriteOptions,
} from './adapter.js';
export { BroadcastOperator, RemoteSocket } from './broadcast.js';
export {
  ClusterAdapter,
  type ClusterAdapterOptions,
  type ClusterMessage,
  type ClusterResponse,
  ClusterTimeoutError,
  type SerializedBroadcastOptions,
  type SerializedSocket,
  type ServerId,
} from './cluster-adapter.js';
export type { Connection } from './connection.js';
export {
  type AnyListener,
  type DefaultEventsMap,
  Emitter,
  type EventNames,
  type EventParams,
  type EventsMap,
} from './emitter.js';
export type {
  EngineData,
  EngineRequest,
  EngineSendOptions,
  EngineServer,
  EngineServerConstructor,
  EngineServerOptions,
  EngineSocket,
} from './engine.js';
export {
  AckTimeoutError,
  RealtimeProtocolError,
  type RealtimeProtocolErrorCode,
  RealtimeUsageError,
  type RealtimeUsageErrorCode,
} from './errors.js';
export { type Middleware, type MiddlewareError, Namespace, ParentNamespace } from './namespace.js';
export * as parser from './parser.js';
export {
  createReferenceServer,
  REFERENCE_SETTINGS,
  type ReferenceServer,
  type ReferenceServerOptions,
} from './reference.js';
export {
  type ConnectionStateRecoveryOptions,
  type NamespaceMatcher,
  Server,
  type ServerOptions,
  type ServerReservedEvents,
} from './server.js';
export { type DisconnectReason, type EventMiddleware, Socket, type SocketReservedEvents } from './socket.js';
export type {
  AllButLast,
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  EmitWithAckParams,
  EmitWithAckResult,
  FirstArg,
  Last,
} from './types.js';
