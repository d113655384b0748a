// parley/web: the WHATWG WebSocket API (https://websockets.spec.whatwg.org/) on parley's engine.
//
//   import { WebSocket } from 'parley/web';
//   const ws = new WebSocket('ws://127.0.0.1:8080', ['chat']);
//   ws.onmessage = (event) => console.log(event.data);
//
// See docs/web.md for the Node-only options and the differences from browsers.

export {
  CloseEvent,
  type CloseEventConstructor,
  type CloseEventInit,
  CloseEventPolyfill,
  MessageEvent,
} from './events.js';
export type { SendData } from './webidl.js';
export {
  type BinaryType,
  type PerMessageDeflateOptions,
  WebSocket,
  WebSocket as default,
  type WebSocketEventHandler,
  type WebSocketEventMap,
  type WebSocketOptions,
} from './websocket.js';
