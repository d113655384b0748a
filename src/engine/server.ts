/**
 * The Engine.IO v4 server (engine.io's `Server`): request verification, handshake, routing of
 * long-polling requests and WebSocket upgrades to sessions, `attach` to an existing `http.Server`
 * and `listen` on a port of its own.
 *
 * @module
 */

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from '../index.js';
import { EngineErrorCodes, EngineUsageError } from './errors.js';
import { DeadlineQueue } from './heartbeat.js';
import { applyCors, type CookieOptions, type CorsOptions, serializeCookie } from './http-util.js';
import { type EngineRequest, type SessionConfig, Socket } from './server-socket.js';
import {
  PollingTransport,
  type Transport,
  type TransportName,
  WebSocketTransport,
} from './server-transport.js';
import type { ListenerArgs } from './typed-emitter.js';

/** Error codes sent in `{code, message}` error responses, as engine.io numbers them. */
export const ServerErrors = {
  UNKNOWN_TRANSPORT: 0,
  UNKNOWN_SID: 1,
  BAD_HANDSHAKE_METHOD: 2,
  BAD_REQUEST: 3,
  FORBIDDEN: 4,
  UNSUPPORTED_PROTOCOL_VERSION: 5,
} as const;

/** A numeric code of {@link ServerErrors}. */
export type ServerErrorCode = (typeof ServerErrors)[keyof typeof ServerErrors];

/** Messages matching {@link ServerErrors}. */
export const ServerErrorMessages: Record<ServerErrorCode, string> = {
  0: 'Transport unknown',
  1: 'Session ID unknown',
  2: 'Bad handshake method',
  3: 'Bad request',
  4: 'Forbidden',
  5: 'Unsupported protocol version',
};

/** `allowRequest` verdict callback: `success` false rejects with 403 and `err` as the message. */
export type AllowRequestCallback = (err: string | null | undefined, success: boolean) => void;

/** Options of the WebSocket compression extension, as parley's `WebSocketServer` takes them. */
export type PerMessageDeflateOption = NonNullable<
  ConstructorParameters<typeof WebSocketServer>[0]
>['perMessageDeflate'];

/** Server options (engine.io's `ServerOptions`). Every limit has a default. */
export interface ServerOptions {
  /** Milliseconds between server pings (default 25000). */
  pingInterval?: number;
  /** Milliseconds the client has to answer a ping (default 20000). */
  pingTimeout?: number;
  /** Milliseconds an upgrade may take before the WebSocket is dropped (default 10000). */
  upgradeTimeout?: number;
  /**
   * Largest POST body or WebSocket message in bytes (default 1e6). Also announced to clients as
   * `maxPayload`.
   */
  maxHttpBufferSize?: number;
  /** Largest number of packets in one polling payload (default 16384). */
  maxPacketsPerPayload?: number;
  /** Transports accepted, in order of preference (default `['polling', 'websocket']`). */
  transports?: TransportName[];
  /** Whether polling sessions may upgrade to WebSocket (default true). */
  allowUpgrades?: boolean;
  /** Decides whether a handshake or upgrade request is accepted (rejected ones get 403). */
  allowRequest?: (req: IncomingMessage, fn: AllowRequestCallback) => void;
  /** CORS for polling requests (off unless set). */
  cors?: CorsOptions;
  /** Sets a cookie holding the sid on the handshake (`true` for defaults: `io`, `Path=/`, `HttpOnly`, `SameSite=Lax`). */
  cookie?: boolean | CookieOptions;
  /** WebSocket compression (default false, as in engine.io). */
  perMessageDeflate?: PerMessageDeflateOption;
}

/**
 * Connect-style middleware run by {@link Server.use} on every Engine.IO request (polling requests and
 * WebSocket upgrades) before verification. Call `next()` to continue or `next(err)` to refuse the
 * request (400 `{code: 3}`). For an upgrade, `res` is detached from the socket: headers set on it are
 * added to the WebSocket handshake response, and ending it refuses the upgrade with its status.
 */
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Options of `attach` and `listen` (engine.io's `AttachOptions`). */
export interface AttachOptions {
  /** Request path (default `/engine.io/`). */
  path?: string;
  /** Append a trailing slash to `path` (default true). */
  addTrailingSlash?: boolean;
  /**
   * When this server is the `http.Server`'s only `upgrade` listener, end upgrade requests for other
   * paths that nobody answered within `destroyUpgradeTimeout` ms (default true, 1000 ms).
   */
  destroyUpgrade?: boolean;
  destroyUpgradeTimeout?: number;
}

/** What the `connection_error` event reports about a rejected request. */
export interface ConnectionError {
  req: IncomingMessage;
  code: ServerErrorCode;
  message: string;
  context: Record<string, unknown>;
}

/** Events of {@link Server}. */
export interface ServerEvents {
  /** A new session was opened. */
  connection: (socket: Socket) => void;
  /** A request was rejected (bad parameters, unknown sid, `allowRequest` refusal). */
  connection_error: (err: ConnectionError) => void;
  /** Headers of a handshake response, mutable before they are written. */
  initial_headers: (headers: OutgoingHttpHeaders, req: IncomingMessage) => void;
  /** Headers of every polling response and WebSocket handshake, mutable before they are written. */
  headers: (headers: OutgoingHttpHeaders, req: IncomingMessage) => void;
}

type Verdict =
  | { ok: true; id?: string }
  | { ok: false; code: ServerErrorCode; context: Record<string, unknown> };

interface Resolved {
  pingInterval: number;
  pingTimeout: number;
  upgradeTimeout: number;
  maxHttpBufferSize: number;
  maxPacketsPerPayload: number;
  transports: TransportName[];
  allowUpgrades: boolean;
  cookie: CookieOptions | undefined;
}

const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new EngineUsageError(EngineErrorCodes.INVALID_OPTION, `${name} must be a positive number`);
  }
  return value;
}

/**
 * An Engine.IO v4 server. Works standalone (`handleRequest`/`handleUpgrade` called by your own
 * HTTP server), attached to an `http.Server` (`attach`), or on its own port (`listen`).
 *
 * Cost per session: one {@link Socket} (its heartbeat runs on two timers per server, see heartbeat.ts); a WebSocket session also holds the socket
 * of parley's `WebSocketServer` (created with `noServer: true`).
 */
export class Server extends EventEmitter<ListenerArgs<ServerEvents>> {
  /** engine.io's error codes, for compatibility (`Server.errors.UNKNOWN_SID`). */
  static readonly errors = ServerErrors;
  /** engine.io's error messages, for compatibility. */
  static readonly errorMessages = ServerErrorMessages;

  /** The options given to the constructor. */
  readonly opts: ServerOptions;
  /** Open sessions by id. */
  readonly clients = new Map<string, Socket>();
  /** The http server given to `attach` (or created by `listen`). */
  httpServer: HttpServer | undefined;

  #o: Resolved;
  #wss: WebSocketServer;
  #pendingIds = new WeakMap<IncomingMessage, string>();
  #middlewares: Middleware[] = [];
  #upgradeHeaders = new WeakMap<IncomingMessage, OutgoingHttpHeaders>();
  #ownsHttpServer = false;
  #closed = false;
  /** Shared by every session (see SessionConfig). */
  #sessionConfig: SessionConfig;

  /** Validates `opts` (throws {@link EngineUsageError} on bad values) and creates the server. */
  constructor(opts: ServerOptions = {}) {
    super();
    this.opts = opts;
    const transports = opts.transports ?? ['polling', 'websocket'];
    if (
      !Array.isArray(transports) ||
      transports.length === 0 ||
      transports.some((t) => t !== 'polling' && t !== 'websocket')
    ) {
      throw new EngineUsageError(
        EngineErrorCodes.INVALID_OPTION,
        'transports must be a non-empty list of "polling" and "websocket"',
      );
    }
    this.#o = {
      pingInterval: positive('pingInterval', opts.pingInterval, 25000),
      pingTimeout: positive('pingTimeout', opts.pingTimeout, 20000),
      upgradeTimeout: positive('upgradeTimeout', opts.upgradeTimeout, 10000),
      maxHttpBufferSize: positive('maxHttpBufferSize', opts.maxHttpBufferSize, 1e6),
      maxPacketsPerPayload: positive('maxPacketsPerPayload', opts.maxPacketsPerPayload, 16384),
      transports: [...transports],
      allowUpgrades: opts.allowUpgrades ?? true,
      cookie:
        opts.cookie === true
          ? {}
          : typeof opts.cookie === 'object' && opts.cookie !== null
            ? opts.cookie
            : undefined,
    };
    if (this.#o.cookie !== undefined) serializeCookie('x', this.#o.cookie); // validate up front
    this.#sessionConfig = {
      pingInterval: this.#o.pingInterval,
      pingTimeout: this.#o.pingTimeout,
      upgradeTimeout: this.#o.upgradeTimeout,
      maxPayload: this.#o.maxHttpBufferSize,
      onClosed: (s) => {
        if (this.clients.get(s.id) === s) this.clients.delete(s.id);
      },
      pings: new DeadlineQueue<Socket>(this.#o.pingInterval, (s) => s.pingDue()),
      pongs: new DeadlineQueue<Socket>(this.#o.pingTimeout, (s) => s.pongOverdue()),
    };
    this.#wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.#o.maxHttpBufferSize,
      perMessageDeflate: opts.perMessageDeflate ?? false,
      clientTracking: false,
    });
    this.#wss.on('headers', (lines: string[], req: IncomingMessage) => {
      // Taken out, not just read: the request lives on as `socket.request`, and with it would live
      // its entries in these WeakMaps (about 30 bytes each per connection).
      const extra: OutgoingHttpHeaders = { ...this.#upgradeHeaders.get(req) };
      const id = this.#pendingIds.get(req);
      this.#upgradeHeaders.delete(req);
      this.#pendingIds.delete(req);
      if (id !== undefined) this.#initialHeaders(extra, req, id);
      this.emit('headers', extra, req);
      for (const [key, value] of Object.entries(extra)) {
        if (value === undefined) continue;
        for (const v of Array.isArray(value) ? value : [value]) lines.push(`${key}: ${v}`);
      }
    });
    this.#wss.on('error', () => {});
  }

  /** Number of open sessions. */
  get clientsCount(): number {
    return this.clients.size;
  }

  /** Transports a session on `transport` may upgrade to. */
  upgrades(transport: TransportName): string[] {
    if (!this.#o.allowUpgrades || transport !== 'polling') return [];
    return this.#o.transports.includes('websocket') ? ['websocket'] : [];
  }

  /** Makes a new session id: 20 URL-safe characters from 15 random bytes. Override to customize. */
  generateId(_req: IncomingMessage): string {
    return randomBytes(15).toString('base64url');
  }

  /**
   * Adds a middleware (engine.io's `use`, e.g. `engine.use(sessionMiddleware)`), run in order on every
   * Engine.IO request after CORS and before verification.
   */
  use(fn: Middleware): this {
    this.#middlewares.push(fn);
    return this;
  }

  /**
   * Runs the middlewares; resolves to the first error, or undefined when all called `next()` or one
   * ended the response (the caller checks `res.writableEnded`).
   */
  #applyMiddlewares(req: IncomingMessage, res: ServerResponse): Promise<{ error: unknown } | undefined> {
    const list = this.#middlewares;
    if (list.length === 0) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      // A middleware that answers does not call next(): notice the end of the response instead.
      // (A detached upgrade response never emits 'finish', so `end` itself is observed.)
      const end = res.end;
      res.end = function (this: ServerResponse, ...args: unknown[]) {
        const result = (end as (...a: unknown[]) => ServerResponse).apply(this, args);
        res.end = end;
        resolve(undefined);
        return result;
      } as typeof res.end;
      const run = (i: number): void => {
        if (res.writableEnded) return;
        if (i === list.length) {
          res.end = end;
          resolve(undefined);
          return;
        }
        let called = false;
        const next = (err?: unknown): void => {
          if (called) return;
          called = true;
          if (err !== undefined && err !== null) {
            res.end = end;
            resolve({ error: err });
          } else run(i + 1);
        };
        try {
          list[i]!(req, res, next);
        } catch (err) {
          next(err ?? new Error('middleware failure'));
        }
      };
      run(0);
    });
  }

  /**
   * Handles an Engine.IO HTTP request (long-polling GET/POST, CORS preflight). Answers every request
   * itself; errors are `{code, message}` JSON with status 400 (403 for `allowRequest` refusals).
   */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    this.#handleRequest(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  }

  async #handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.opts.cors !== undefined && (await applyCors(this.opts.cors, req, res))) return;
    const query = parseQuery(req.url) ?? new URLSearchParams();
    (req as EngineRequest)._query = Object.fromEntries(query);
    const failed = await this.#applyMiddlewares(req, res);
    if (res.writableEnded) return; // a middleware answered
    const verdict: Verdict =
      failed === undefined
        ? await this.#verify(req, query, false)
        : {
            ok: false,
            code: ServerErrors.BAD_REQUEST,
            context: { name: 'MIDDLEWARE_FAILURE', error: failed.error },
          };
    if (!verdict.ok) {
      this.#emitError(req, verdict.code, verdict.context);
      const body = JSON.stringify({ code: verdict.code, message: messageOf(verdict) });
      res.writeHead(verdict.code === ServerErrors.FORBIDDEN ? 403 : 400, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    const sid = query.get('sid');
    if (sid !== null) {
      const socket = this.clients.get(sid);
      if (socket === undefined || !(socket.transport instanceof PollingTransport)) {
        // closed or upgraded while allowRequest ran
        this.#emitError(req, ServerErrors.UNKNOWN_SID, { sid });
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ code: ServerErrors.UNKNOWN_SID, message: ServerErrorMessages[1] }));
        return;
      }
      socket.transport.onRequest(req, res);
      return;
    }
    const transport = new PollingTransport({
      maxHttpBufferSize: this.#o.maxHttpBufferSize,
      maxPacketsPerPayload: this.#o.maxPacketsPerPayload,
      decorateHeaders: (r, headers, initial) => {
        if (initial) this.#initialHeaders(headers, r, transport.sid);
        this.emit('headers', headers, r);
      },
    });
    const socket = this.#open(verdict.id ?? this.generateId(req), req, transport);
    transport.onRequest(req, res);
    this.emit('connection', socket);
  }

  /**
   * Handles an HTTP upgrade request for Engine.IO: a WebSocket handshake (no `sid`) or an upgrade of
   * a polling session. Rejected requests get an HTTP error response and the socket is destroyed.
   */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', destroySelf);
    this.#handleUpgrade(req, socket, head).catch(() => socket.destroy());
  }

  async #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const query = parseQuery(req.url) ?? new URLSearchParams();
    (req as EngineRequest)._query = Object.fromEntries(query);
    let failed: { error: unknown } | undefined;
    if (this.#middlewares.length > 0) {
      const res = new ServerResponse(req); // detached: collects headers for the handshake
      failed = await this.#applyMiddlewares(req, res);
      if (res.writableEnded) {
        abortUpgradeWith(socket, res.statusCode, res.getHeaders());
        return;
      }
      this.#upgradeHeaders.set(req, res.getHeaders());
    }
    const verdict: Verdict =
      failed === undefined
        ? await this.#verify(req, query, true)
        : {
            ok: false,
            code: ServerErrors.BAD_REQUEST,
            context: { name: 'MIDDLEWARE_FAILURE', error: failed.error },
          };
    if (!verdict.ok) {
      this.#emitError(req, verdict.code, verdict.context);
      abortUpgrade(socket, verdict.code, messageOf(verdict));
      return;
    }
    if (verdict.id !== undefined) this.#pendingIds.set(req, verdict.id);
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      // The WebSocket handles the socket's errors from now on.
      socket.removeListener('error', destroySelf);
      this.#onWebSocket(req, query, ws, verdict.id);
    });
  }

  #onWebSocket(req: IncomingMessage, query: URLSearchParams, ws: WebSocket, id: string | undefined): void {
    // (an error without owner or listener is dropped: see Transport.signal)
    const transport = new WebSocketTransport(ws);
    const sid = query.get('sid');
    if (sid !== null) {
      const session = this.clients.get(sid);
      if (session === undefined || this.#closed || !this.#o.allowUpgrades) transport.close();
      else session.maybeUpgrade(transport);
      return;
    }
    if (this.#closed) {
      transport.close();
      return;
    }
    const socket = this.#open(id ?? this.generateId(req), req, transport);
    this.emit('connection', socket);
  }

  #open(id: string, req: IncomingMessage, transport: Transport): Socket {
    const socket = new Socket({
      id,
      request: req as EngineRequest,
      transport,
      upgrades: this.upgrades(transport.name),
      config: this.#sessionConfig,
    });
    this.clients.set(id, socket);
    return socket;
  }

  #initialHeaders(headers: OutgoingHttpHeaders, req: IncomingMessage, sid: string): void {
    if (this.#o.cookie !== undefined) headers['Set-Cookie'] = [serializeCookie(sid, this.#o.cookie)];
    this.emit('initial_headers', headers, req);
  }

  async #verify(req: IncomingMessage, query: URLSearchParams, upgrade: boolean): Promise<Verdict> {
    const transport = query.get('transport');
    if (transport === null || !this.#o.transports.includes(transport as TransportName)) {
      return { ok: false, code: ServerErrors.UNKNOWN_TRANSPORT, context: { transport } };
    }
    const origin = req.headers.origin;
    if (origin !== undefined && INVALID_HEADER_CHAR.test(origin)) {
      return { ok: false, code: ServerErrors.BAD_REQUEST, context: { name: 'INVALID_ORIGIN', origin } };
    }
    const eio = query.get('EIO');
    if (eio !== '4') {
      return { ok: false, code: ServerErrors.UNSUPPORTED_PROTOCOL_VERSION, context: { protocol: eio } };
    }
    if (upgrade !== (transport === 'websocket')) {
      return {
        ok: false,
        code: ServerErrors.BAD_REQUEST,
        context: { name: 'TRANSPORT_MISMATCH', transport },
      };
    }
    const sid = query.get('sid');
    if (sid !== null) {
      const socket = this.clients.get(sid);
      if (socket === undefined || socket.checkExpired()) {
        return { ok: false, code: ServerErrors.UNKNOWN_SID, context: { sid } };
      }
      if (!upgrade && socket.transport.name !== transport) {
        return {
          ok: false,
          code: ServerErrors.BAD_REQUEST,
          context: { name: 'TRANSPORT_MISMATCH', transport },
        };
      }
      // An upgrade that cannot proceed (already upgraded, upgrading, upgrades off) still completes the
      // WebSocket handshake and is then closed, as the protocol text says ("the server MUST close the
      // WebSocket connection"); see #onWebSocket and Socket.maybeUpgrade.
      return { ok: true };
    }
    if (req.method !== 'GET') {
      return { ok: false, code: ServerErrors.BAD_HANDSHAKE_METHOD, context: { method: req.method } };
    }
    if (this.#closed)
      return { ok: false, code: ServerErrors.FORBIDDEN, context: { message: 'server closed' } };
    const allow = this.opts.allowRequest;
    if (allow !== undefined) {
      const result = await new Promise<{ err: string | null | undefined; success: boolean }>((resolve) => {
        try {
          allow(req, (err, success) => resolve({ err, success }));
        } catch (err) {
          resolve({ err: err instanceof Error ? err.message : String(err), success: false });
        }
      });
      if (!result.success) {
        return { ok: false, code: ServerErrors.FORBIDDEN, context: { message: result.err ?? undefined } };
      }
    }
    return { ok: true, id: this.generateId(req) };
  }

  #emitError(req: IncomingMessage, code: ServerErrorCode, context: Record<string, unknown>): void {
    this.emit('connection_error', { req, code, message: ServerErrorMessages[code], context });
  }

  /**
   * Serves Engine.IO on `server` at `options.path`: requests and upgrades for that path are handled
   * here; everything else still reaches the server's other listeners (existing `request` listeners
   * are wrapped, so they keep working for other paths).
   */
  attach(server: HttpServer, options: AttachOptions = {}): this {
    let path = options.path ?? '/engine.io';
    if (options.addTrailingSlash !== false) path = `${path.replace(/\/$/, '')}/`;
    const matchesPath = (req: IncomingMessage): boolean =>
      req.url !== undefined && req.url.slice(0, path.length) === path;
    this.httpServer = server;

    const previous = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (matchesPath(req)) this.handleRequest(req, res);
      else for (const listener of previous) listener.call(server, req, res);
    });

    const destroyUpgrade = options.destroyUpgrade ?? true;
    const destroyTimeout = options.destroyUpgradeTimeout ?? 1000;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (matchesPath(req)) {
        this.handleUpgrade(req, socket, head);
        return;
      }
      if (destroyUpgrade && server.listenerCount('upgrade') === 1) {
        // nobody else can answer: do not leave the connection hanging forever
        const timer = setTimeout(() => {
          const s = socket as Duplex & { bytesWritten?: number };
          if (s.writable && (s.bytesWritten ?? 0) <= 0) s.end();
        }, destroyTimeout);
        socket.once('close', () => clearTimeout(timer));
      }
    });
    server.once('close', () => this.close());
    return this;
  }

  /**
   * Closes every session (without flushing) and stops accepting new ones. Also closes the
   * `http.Server` when it was created by {@link listen}.
   */
  close(): this {
    if (this.#closed) return this;
    this.#closed = true;
    for (const socket of [...this.clients.values()]) socket.close(true);
    this.#wss.close();
    if (this.#ownsHttpServer && this.httpServer?.listening) {
      this.httpServer.close();
      this.httpServer.closeAllConnections();
    }
    return this;
  }

  /** @internal marks the http server as created by `listen`, so `close` closes it. */
  ownHttpServer(): void {
    this.#ownsHttpServer = true;
  }
}

/** An `error` listener that destroys its emitter (shared: no closure per connection). */
function destroySelf(this: Duplex): void {
  this.destroy();
}

/** Query of a request URL; undefined when the URL cannot be parsed (verification then fails). */
function parseQuery(url: string | undefined): URLSearchParams | undefined {
  if (url === undefined) return undefined;
  try {
    return new URL(url, 'http://localhost').searchParams;
  } catch {
    return undefined;
  }
}

function messageOf(verdict: { code: ServerErrorCode; context: Record<string, unknown> }): string {
  if (verdict.code === ServerErrors.FORBIDDEN && typeof verdict.context.message === 'string') {
    return verdict.context.message;
  }
  return ServerErrorMessages[verdict.code];
}

function abortUpgrade(socket: Duplex, code: ServerErrorCode, message: string): void {
  const status = code === ServerErrors.FORBIDDEN ? '403 Forbidden' : '400 Bad Request';
  const body = JSON.stringify({ code, message });
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // end() flushes the response; destroy anyway if the peer does not let it drain
  const timer = setTimeout(() => socket.destroy(), 1000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    () => socket.destroy(),
  );
}

/** Refuses an upgrade with the status and headers a middleware set on its detached response. */
function abortUpgradeWith(socket: Duplex, status: number, headers: OutgoingHttpHeaders): void {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nConnection: close\r\nContent-Length: 0\r\n`;
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined || /^(connection|content-length)$/i.test(key)) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      const line = `${key}: ${v}`;
      if (!/[\r\n]/.test(line)) head += `${line}\r\n`;
    }
  }
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`${head}\r\n`, () => socket.destroy());
}

/**
 * Creates a server and attaches it to `server` (engine.io's `attach`).
 * Cost: wraps the server's `request` listeners and adds an `upgrade` listener.
 */
export function attach(server: HttpServer, options: AttachOptions & ServerOptions = {}): Server {
  return new Server(options).attach(server, options);
}

/**
 * Creates an `http.Server` answering 501 outside `options.path`, attaches an Engine.IO server and
 * listens on `port` (engine.io's `listen`). `server.close()` also closes the http server.
 */
export function listen(
  port: number,
  options: AttachOptions & ServerOptions = {},
  callback?: () => void,
): Server {
  const http = createServer((_req, res) => {
    res.writeHead(501);
    res.end('Not Implemented');
  });
  const engine = attach(http, options);
  engine.ownHttpServer();
  http.listen(port, callback);
  return engine;
}
