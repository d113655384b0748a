/**
 * parley: a WebSocket server and client for Node.js, compatible with the `ws` package's API.
 * `import { WebSocket, WebSocketServer } from 'parley'` where code imported them from 'ws'.
 * @module
 */
import { WebSocket } from './node/websocket.js';

export type { PerMessageDeflateOptions } from './node/deflate.js';
export type {
  ClientOptions,
  HeartbeatOptions,
  ServerOptions,
  VerifyClientAsync,
  VerifyClientInfo,
  VerifyClientSync,
} from './node/options.js';
export { WebSocketServer, WebSocketServer as Server } from './node/server.js';
export { createWebSocketStream } from './node/stream.js';
export type {
  BinaryType,
  RawData,
  SendCallback,
  SendData,
  SendOptions,
  WebSocketEvent,
} from './node/websocket.js';
export { CloseCode, Opcode } from './protocol/constants.js';
export { ProtocolError, UsageError } from './protocol/errors.js';
export { WebSocket };
export default WebSocket;
