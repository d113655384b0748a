/**
 * `parley/client`: a Socket.IO v5 client for Node and browsers, API-compatible with socket.io-client.
 *
 * ```ts
 * import { io } from 'parley/client';
 * const socket = io('http://localhost:3000', { auth: { token } });
 * socket.on('connect', () => socket.emit('hello', 'world', (reply) => console.log(reply)));
 * ```
 *
 * The Engine.IO client defaults to parley's own (`parley/engine`); pass `engine` to use another with
 * engine.io-client's `Socket` shape.
 *
 * @module
 */

import { ClientSocket as ParleyEngineClient } from '../engine/client.js';
import { RealtimeUsageError } from '../realtime/errors.js';
import type { EngineClientConstructor } from './engine.js';
import { Manager, type ManagerOptions, setDefaultEngine } from './manager.js';
import type { Socket, SocketOptions } from './socket.js';

const parleyEngine: EngineClientConstructor = ParleyEngineClient;
setDefaultEngine(parleyEngine);

/** Options of {@link io}: manager options, socket options, and the multiplexing switches. */
export interface ClientOptions extends ManagerOptions, SocketOptions {
  /** Always create a new manager (connection). */
  forceNew?: boolean;
  /** Share managers between sockets of the same origin (default true). */
  multiplex?: boolean;
}

interface ParsedUri {
  /** `scheme://host[:port]` for the engine. */
  source: string;
  /** Cache key of the manager. */
  id: string;
  /** Namespace (URL path). */
  nsp: string;
  /** Query parameters of the URL. */
  query: Record<string, string>;
}

function parseUri(uri: string | undefined): ParsedUri {
  const loc = (globalThis as { location?: { protocol: string; host: string; href: string } }).location;
  let input = uri;
  if (input === undefined || input === '') {
    if (!loc) throw new RealtimeUsageError('IO_ERR_INVALID_OPTION', 'io() needs a URL outside of browsers');
    input = loc.protocol + '//' + loc.host;
  }
  if (input.startsWith('//')) input = (loc?.protocol ?? 'https:') + input;
  else if (input.startsWith('/') && loc) input = loc.protocol + '//' + loc.host + input;
  else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) input = (loc?.protocol ?? 'http:') + '//' + input;
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new RealtimeUsageError('IO_ERR_INVALID_OPTION', `invalid URL: ${String(uri)}`);
  }
  const protocol = url.protocol === 'wss:' ? 'https:' : url.protocol === 'ws:' ? 'http:' : url.protocol;
  const port = url.port || (protocol === 'https:' ? '443' : '80');
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  return {
    source: `${protocol}//${url.host}`,
    id: `${protocol}//${url.hostname}:${port}`,
    nsp: url.pathname || '/',
    query,
  };
}

const cache = new Map<string, Manager>();

/**
 * Creates (or reuses) a manager for the URL's origin and returns the socket of the URL's namespace.
 * A new manager is created with `forceNew`, `multiplex: false`, or when the namespace is already
 * open on the cached one. Cost: one engine connection per manager.
 */
export function io(uri?: string | ClientOptions, opts: ClientOptions = {}): Socket {
  if (typeof uri === 'object') {
    opts = uri;
    uri = undefined;
  }
  const parsed = parseUri(uri);
  const path = opts.path ?? '/socket.io';
  const cacheId = parsed.id + '|' + path;
  const cached = cache.get(cacheId);
  const sameNamespace = cached?.nsps.has(parsed.nsp) === true;
  const newConnection = opts.forceNew === true || opts.multiplex === false || sameNamespace;
  const managerOptions: ClientOptions = { ...opts };
  if (!opts.query && Object.keys(parsed.query).length > 0) managerOptions.query = parsed.query;
  let manager: Manager;
  if (newConnection || !cached) {
    manager = new Manager(parsed.source, managerOptions);
    if (!newConnection) cache.set(cacheId, manager);
  } else {
    manager = cached;
  }
  return manager.socket(parsed.nsp, managerOptions);
}

export { io as connect };
export default io;
export type { DefaultEventsMap, EventsMap } from '../realtime/emitter.js';
export { AckTimeoutError, RealtimeUsageError } from '../realtime/errors.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export type {
  EngineClientConstructor,
  EngineClientData,
  EngineClientOptions,
  EngineClientSocket,
} from './engine.js';
export { Manager, type ManagerOptions, setDefaultEngine } from './manager.js';
export {
  type ConnectError,
  type DisconnectReason,
  Socket,
  type SocketOptions,
  type SocketReservedEvents,
} from './socket.js';

/** The Socket.IO protocol revision spoken (5). */
export const protocol = 5;
