/**
 * The Socket.IO v5 `Server`, API-compatible with socket.io's. It sits on an Engine.IO server (see
 * ./engine.ts) and owns the namespaces.
 *
 * ```ts
 * import { createServer } from 'node:http';
 * import { Server } from 'parley/realtime';
 * const io = new Server(createServer().listen(3000), { engine: SomeEngineServer });
 * io.on('connection', (socket) => socket.on('hello', (name, ack) => ack(`hi ${name}`)));
 * ```
 *
 * @module
 */

import { createServer, type Server as HttpServer } from 'node:http';
import { Server as ParleyEngineServer } from '../engine/index.js';
import { Adapter, type AdapterConstructor, type Room, SessionAwareAdapter } from './adapter.js';
import type { BroadcastOperator, RemoteSocket } from './broadcast.js';
import { Connection } from './connection.js';
import type { AnyListener, DefaultEventsMap, EventNames, EventParams, EventsMap } from './emitter.js';
import type { EngineServer, EngineServerConstructor, EngineServerOptions, EngineSocket } from './engine.js';
import { RealtimeUsageError } from './errors.js';
import { type Middleware, Namespace, ParentNamespace } from './namespace.js';
import { Decoder } from './parser.js';
import type { Socket } from './socket.js';
import type {
  DecorateAcknowledgementsWithMultipleResponses,
  EmitWithAckParams,
  EmitWithAckResult,
  ListenerOf,
  ListenNames,
} from './types.js';

/** The default engine: parley's own Engine.IO v4 server (`parley/engine`). */
const defaultEngine: EngineServerConstructor = ParleyEngineServer;

/** Connection state recovery options. */
export interface ConnectionStateRecoveryOptions {
  /** How long a disconnected session can be restored, in ms (default 120000). */
  maxDisconnectionDuration?: number;
  /** Whether a restored socket skips the connection middlewares (default true). */
  skipMiddlewares?: boolean;
}

/** Options of {@link Server}: Socket.IO options plus the engine options, passed through. */
export interface ServerOptions extends EngineServerOptions {
  /** Endpoint path (default `'/socket.io'`). */
  path?: string;
  /** Adapter constructor (default: in-memory; session-aware when recovery is on). */
  adapter?: AdapterConstructor;
  /** Time (ms) a client has to connect to a namespace before the connection is closed (default 45000). */
  connectTimeout?: number;
  /** Enables connection state recovery. */
  connectionStateRecovery?: ConnectionStateRecoveryOptions;
  /** Whether child namespaces of a dynamic namespace are removed once empty (default false). */
  cleanupEmptyChildNamespaces?: boolean;
  /** Maximum binary attachments per packet (default 32). */
  maxAttachments?: number;
  /**
   * The Engine.IO server constructor to use (default: parley's engine, `parley/engine`). Any
   * constructor with engine.io's `Server` shape works, e.g. `import { Server } from 'engine.io'`.
   */
  engine?: EngineServerConstructor;
  /** Not supported (parley does not serve the client bundle); accepted for compatibility. */
  serveClient?: boolean;
}

/** Events the server emits locally (on its main namespace). */
export interface ServerReservedEvents<
  ListenEvents extends EventsMap,
  EmitEvents extends EventsMap,
  ServerSideEvents extends EventsMap,
  SocketData,
> {
  connect: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  connection: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
  new_namespace: (nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void;
}

/** A dynamic namespace matcher: `next(err, allow)`. */
export type NamespaceMatcher = (
  name: string,
  auth: Record<string, unknown>,
  next: (err: Error | null, allow: boolean) => void,
) => void;

function isHttpServer(value: unknown): value is HttpServer {
  return typeof value === 'object' && value !== null && typeof (value as HttpServer).listen === 'function';
}

/**
 * Socket.IO server. Generic parameters as in socket.io: events the clients send, events the server
 * sends, events between servers, and the type of `socket.data`. Emitter methods (`on`, `once`, `off`,
 * ...) and broadcast methods apply to the main namespace `/`.
 */
export class Server<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
> {
  /** The main namespace `/`. */
  readonly sockets: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** @internal */
  readonly adapterConstructor: AdapterConstructor;
  /** @internal */
  readonly connectTimeout: number;
  /** @internal */
  readonly recovery: { maxDisconnectionDuration: number; skipMiddlewares: boolean } | undefined;
  /** @internal */
  readonly cleanupEmptyChildNamespaces: boolean;
  readonly #opts: ServerOptions;
  readonly #nsps = new Map<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  readonly #parents = new Map<
    NamespaceMatcher,
    ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>
  >();
  /** Decodes whole text packets for every connection (see Connection). */
  readonly #decoder: Decoder;
  #engine: EngineServer | undefined;
  #httpServer: HttpServer | undefined;

  /**
   * @param srv an HTTP server to attach to, a port to listen on, or nothing (attach later).
   * @throws {RealtimeUsageError} `IO_ERR_INVALID_OPTION` on invalid options.
   */
  constructor(srv?: HttpServer | number | ServerOptions, opts: ServerOptions = {}) {
    if (srv !== undefined && typeof srv === 'object' && !isHttpServer(srv)) {
      opts = srv;
      srv = undefined;
    }
    this.#opts = { path: '/socket.io', ...opts };
    this.connectTimeout = opts.connectTimeout ?? 45_000;
    if (!(this.connectTimeout > 0)) {
      throw new RealtimeUsageError('IO_ERR_INVALID_OPTION', 'connectTimeout must be > 0');
    }
    // Throws IO_ERR_INVALID_OPTION for a maxAttachments that is not a non-negative integer.
    this.#decoder = new Decoder({ maxAttachments: opts.maxAttachments });
    const csr = opts.connectionStateRecovery;
    this.recovery = csr
      ? {
          maxDisconnectionDuration: csr.maxDisconnectionDuration ?? 120_000,
          skipMiddlewares: csr.skipMiddlewares ?? true,
        }
      : undefined;
    this.adapterConstructor = opts.adapter ?? (this.recovery ? SessionAwareAdapter : Adapter);
    this.cleanupEmptyChildNamespaces = opts.cleanupEmptyChildNamespaces === true;
    this.sockets = this.of('/');
    if (srv !== undefined) this.attach(srv as HttpServer | number);
  }

  /** The engine server, once attached. */
  get engine(): EngineServer | undefined {
    return this.#engine;
  }

  /** The HTTP server, once attached. */
  get httpServer(): HttpServer | undefined {
    return this.#httpServer;
  }

  /** The endpoint path. */
  path(): string {
    return this.#opts.path ?? '/socket.io';
  }

  /**
   * Attaches to an HTTP server (or creates one listening on `port`) through a new engine server.
   *
   * @throws {RealtimeUsageError} on invalid options.
   */
  attach(srv: HttpServer | number, opts: ServerOptions = {}): this {
    const options: ServerOptions = { ...this.#opts, ...opts };
    let server: HttpServer;
    if (typeof srv === 'number') {
      server = createServer();
      server.listen(srv);
    } else {
      server = srv;
    }
    const Engine = options.engine ?? defaultEngine;
    const engineOptions: Record<string, unknown> = { ...options };
    for (const key of [
      'adapter',
      'connectTimeout',
      'connectionStateRecovery',
      'cleanupEmptyChildNamespaces',
      'maxAttachments',
      'engine',
      'serveClient',
    ]) {
      delete engineOptions[key];
    }
    const engine = new Engine(engineOptions as never);
    engine.attach(server, engineOptions as EngineServerOptions);
    this.#httpServer = server;
    this.bind(engine);
    return this;
  }

  /** Alias of {@link Server.attach}. */
  listen(srv: HttpServer | number, opts: ServerOptions = {}): this {
    return this.attach(srv, opts);
  }

  /** Binds to an engine server created by the caller (its `connection` events feed this server). */
  bind(engine: EngineServer): this {
    this.#engine = engine;
    engine.on('connection', (conn: EngineSocket) => this.#onconnection(conn));
    return this;
  }

  #onconnection(conn: EngineSocket): void {
    new Connection(this as unknown as Server<never, never, never, unknown>, conn, this.#decoder);
  }

  /**
   * Returns the namespace `name` (created on first use), or registers a dynamic namespace for a regex
   * or matcher function and returns its parent namespace.
   */
  of(
    name: string | RegExp | NamespaceMatcher,
    fn?: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) => void,
  ): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    if (typeof name === 'function' || name instanceof RegExp) {
      const parent = new ParentNamespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this);
      const matcher: NamespaceMatcher =
        typeof name === 'function' ? name : (n, _auth, next) => next(null, (name as RegExp).test(n));
      this.#parents.set(matcher, parent);
      if (fn) parent.on('connect', fn);
      return parent;
    }
    const normalized = name.startsWith('/') ? name : '/' + name;
    let nsp = this.#nsps.get(normalized);
    if (!nsp) {
      nsp = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this, normalized);
      this.#nsps.set(normalized, nsp);
      if (normalized !== '/') this.sockets?.emitReserved('new_namespace', nsp);
    }
    if (fn) nsp.on('connect', fn);
    return nsp;
  }

  /** @internal Finds or creates (dynamic) the namespace for a CONNECT. */
  resolveNamespace(
    name: string,
    auth: Record<string, unknown>,
  ): Promise<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | null> {
    const existing = this.#nsps.get(name);
    if (existing) return Promise.resolve(existing);
    const entries = [...this.#parents];
    return new Promise((resolve) => {
      const next = (i: number): void => {
        if (i >= entries.length) {
          resolve(null);
          return;
        }
        const [matcher, parent] = entries[i]!;
        let answered = false;
        try {
          matcher(name, auth, (err, allow) => {
            if (answered) return;
            answered = true;
            if (err || !allow) {
              next(i + 1);
              return;
            }
            const again = this.#nsps.get(name);
            if (again) {
              resolve(again);
              return;
            }
            const child = parent.createChild(name);
            this.#nsps.set(name, child);
            this.sockets.emitReserved('new_namespace', child);
            resolve(child);
          });
        } catch {
          if (!answered) {
            answered = true;
            next(i + 1);
          }
        }
      };
      next(0);
    });
  }

  /** @internal */
  forgetNamespace(nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>): void {
    if (this.#nsps.get(nsp.name) === nsp) this.#nsps.delete(nsp.name);
  }

  /** The existing namespaces by name. */
  get namespaces(): ReadonlyMap<string, Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>> {
    return this.#nsps;
  }

  // ---- emitter methods, applied to the main namespace ----

  /** Listens on the main namespace (`connection`, `connect`, `new_namespace`, server-side events). */
  on<
    Ev extends ListenNames<
      ServerReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents
    >,
  >(
    ev: Ev,
    listener: ListenerOf<
      ServerReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents,
      Ev
    >,
  ): this {
    this.sockets.on(ev as 'connection', listener as AnyListener);
    return this;
  }

  /** Listens once on the main namespace. */
  once<
    Ev extends ListenNames<
      ServerReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents
    >,
  >(
    ev: Ev,
    listener: ListenerOf<
      ServerReservedEvents<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
      ServerSideEvents,
      Ev
    >,
  ): this {
    this.sockets.once(ev, listener as AnyListener);
    return this;
  }

  /** Removes a listener from the main namespace. */
  off(ev?: string, listener?: AnyListener): this {
    this.sockets.off(ev as 'connection', listener);
    return this;
  }

  /** Listeners of the main namespace. */
  listeners(ev: string): AnyListener[] {
    return this.sockets.listeners(ev);
  }

  /** Registers a connection middleware on the main namespace. */
  use(fn: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>): this {
    this.sockets.use(fn);
    return this;
  }

  // ---- broadcast, applied to the main namespace ----

  /** Targets `room`. */
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.to(room);
  }

  /** Alias of {@link Server.to}. */
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.in(room);
  }

  /** Excludes `room`. */
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.except(room);
  }

  /** Emits to every socket of the main namespace. */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.sockets.emit(ev, ...args);
  }

  /** Emits to every socket of the main namespace and collects acknowledgements. */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: EmitWithAckParams<EmitEvents, Ev>
  ): Promise<EmitWithAckResult<EmitEvents, Ev>> {
    return this.sockets.emitWithAck(ev, ...args);
  }

  /** Sends a `message` event to every socket of the main namespace. */
  send(...args: unknown[]): this {
    this.sockets.send(...args);
    return this;
  }

  /** Alias of {@link Server.send}. */
  write(...args: unknown[]): this {
    return this.send(...args);
  }

  /** Compression flag for the next broadcast. */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.compress(compress);
  }

  /** Volatile broadcast. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.volatile;
  }

  /** Local broadcast. */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.sockets.local;
  }

  /** Broadcast with acknowledgements awaited for `timeout` ms. */
  timeout(
    timeout: number,
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.sockets.timeout(timeout);
  }

  /** Describes the sockets of the main namespace. */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.sockets.fetchSockets();
  }

  /** Ids of the sockets of the main namespace. */
  allSockets(): Promise<Set<string>> {
    return this.sockets.allSockets();
  }

  /** Makes the sockets of the main namespace join `room`. */
  socketsJoin(room: Room | Room[]): void {
    this.sockets.socketsJoin(room);
  }

  /** Makes the sockets of the main namespace leave `room`. */
  socketsLeave(room: Room | Room[]): void {
    this.sockets.socketsLeave(room);
  }

  /** Disconnects the sockets of the main namespace. */
  disconnectSockets(close = false): void {
    this.sockets.disconnectSockets(close);
  }

  /** Emits to the other nodes (main namespace). */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<DecorateAcknowledgementsWithMultipleResponses<ServerSideEvents>, Ev>
  ): boolean {
    return this.sockets.serverSideEmit(ev, ...args);
  }

  /** Emits to the other nodes and resolves with their responses. */
  serverSideEmitWithAck<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EmitWithAckParams<ServerSideEvents, Ev>
  ): Promise<EmitWithAckResult<DecorateAcknowledgementsWithMultipleResponses<ServerSideEvents>, Ev>> {
    return this.sockets.serverSideEmitWithAck(ev, ...args);
  }

  /**
   * Closes every socket (reason `server shutting down`, so sessions stay recoverable), the adapters,
   * the engine, and the HTTP server if one was attached. `fn` gets the HTTP server's close error.
   */
  async close(fn?: (err?: Error) => void): Promise<void> {
    for (const nsp of this.#nsps.values()) {
      for (const socket of [...nsp.sockets.values()]) socket.onclose('server shutting down');
      await nsp.adapter.close();
    }
    for (const parent of this.#parents.values()) await parent.adapter.close();
    this.#engine?.close();
    const http = this.#httpServer;
    if (http) {
      await new Promise<void>((resolve) => {
        http.close((err) => {
          fn?.(err);
          resolve();
        });
        http.closeAllConnections?.();
      });
    } else {
      fn?.();
    }
  }
}
