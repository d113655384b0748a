/**
 * The server: accepts WebSocket upgrades on an HTTP(S) server of its own or of the caller's,
 * compatible with the `ws` package's `WebSocketServer`.
 * @module
 */
import { EventEmitter } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Defaults } from '../protocol/constants.js';
import { acceptDeflateOffer, checkDeflateConfig, type DeflateConfig } from '../protocol/deflate.js';
import { formatExtensions } from '../protocol/extensions.js';
import { upgradeResponseLines, validateUpgradeRequest } from '../protocol/handshake.js';
import { encodeBroadcast } from './broadcast.js';
import { PerMessageDeflate, type PerMessageDeflateOptions } from './deflate.js';
import type { ServerOptions, VerifyClientAsync, VerifyClientSync } from './options.js';
import { type SendData, type SocketSettings, WebSocket } from './websocket.js';

enum State {
  Running = 0,
  Closing = 1,
  Closed = 2,
}

/** Listener signatures of the `WebSocketServer` events, as `@types/ws` declares them. */
export interface WebSocketServerEventListeners {
  connection: (this: WebSocketServer, socket: WebSocket, request: http.IncomingMessage) => void;
  headers: (this: WebSocketServer, headers: string[], request: http.IncomingMessage) => void;
  listening: (this: WebSocketServer) => void;
  error: (this: WebSocketServer, error: Error) => void;
  close: (this: WebSocketServer) => void;
  wsClientError: (this: WebSocketServer, error: Error, socket: Duplex, request: http.IncomingMessage) => void;
}

// Typed listeners for the known events (declaration merging with the class below).
export interface WebSocketServer {
  on<K extends keyof WebSocketServerEventListeners>(
    event: K,
    listener: WebSocketServerEventListeners[K],
  ): this;
  on(event: string | symbol, listener: (...args: never[]) => void): this;
  once<K extends keyof WebSocketServerEventListeners>(
    event: K,
    listener: WebSocketServerEventListeners[K],
  ): this;
  once(event: string | symbol, listener: (...args: never[]) => void): this;
  off<K extends keyof WebSocketServerEventListeners>(
    event: K,
    listener: WebSocketServerEventListeners[K],
  ): this;
  off(event: string | symbol, listener: (...args: never[]) => void): this;
}

/**
 * A WebSocket server. Events: `connection(ws, req)`, `headers(headers, req)` (the response
 * header lines, to add to), `listening`, `error`, `close`, `wsClientError(error, socket, req)`.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class WebSocketServer extends EventEmitter {
  /** The open connections, when `clientTracking` is on (the default). */
  readonly clients: Set<WebSocket> | undefined;
  readonly options: Readonly<ServerOptions>;
  #server: http.Server | null = null;
  #ownServer = false;
  #state = State.Running;
  #removeListeners: (() => void) | null = null;
  #deflateConfig: (DeflateConfig & PerMessageDeflateOptions) | null;
  #heartbeatTimer: NodeJS.Timeout | null = null;
  #shouldEmitClose = false;
  /** The settings of connections without compression: the same for all, so shared. */
  #plainSettings: SocketSettings | null = null;
  /**
   * One 'close' listener for every tracked client (`this` is the client): a closure per
   * connection would keep a function and its context alive per idle connection.
   */
  readonly #onClientClose = ((server: WebSocketServer) =>
    function onClientClose(this: WebSocket): void {
      server.#clientClosed(this);
    })(this);

  /** Validates `options` up front (one and only one of `port`, `server`, `noServer`). */
  constructor(options: ServerOptions, callback?: () => void) {
    super();
    const modes =
      Number(options.port !== undefined) +
      Number(options.server !== undefined) +
      Number(options.noServer === true);
    if (modes !== 1) {
      throw new TypeError(
        'One and only one of the "port", "server", or "noServer" options must be specified',
      );
    }
    for (const name of [
      'maxPayload',
      'maxFragments',
      'closeTimeout',
      'maxHeaderSize',
      'maxHeaderCount',
    ] as const) {
      const value = options[name];
      if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
        throw new TypeError(`The "${name}" option must be a non-negative integer`);
      }
    }
    if (
      options.heartbeat !== undefined &&
      !(options.heartbeat.interval > 0 && options.heartbeat.timeout > 0)
    ) {
      throw new TypeError('The "heartbeat" option needs a positive interval and timeout');
    }
    this.options = { clientTracking: true, maxPayload: Defaults.maxPayload, ...options };
    const pmd = options.perMessageDeflate;
    this.#deflateConfig = pmd === undefined || pmd === false ? null : pmd === true ? {} : pmd;
    // Bad window bits are the caller's mistake: refuse them now, not at the first handshake.
    if (this.#deflateConfig !== null) checkDeflateConfig(this.#deflateConfig);
    this.clients = this.options.clientTracking ? new Set() : undefined;

    let server: http.Server | undefined;
    if (options.port !== undefined) {
      server = http.createServer(
        { maxHeaderSize: options.maxHeaderSize ?? Defaults.maxHeaderSize },
        (_req, res) => {
          const body = http.STATUS_CODES[426] as string;
          res.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
          res.end(body);
        },
      );
      server.maxHeadersCount = options.maxHeaderCount ?? Defaults.maxHeaderCount;
      server.listen(options.port, options.host, options.backlog, callback);
      this.#ownServer = true;
    } else if (options.server !== undefined) {
      server = options.server as http.Server;
    }
    if (server !== undefined) {
      this.#server = server;
      const onListening = (): void => {
        this.emit('listening');
      };
      const onError = (error: Error): void => {
        this.emit('error', error);
      };
      const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
        this.handleUpgrade(req, socket, head, (ws) => this.emit('connection', ws, req));
      };
      server.on('listening', onListening);
      server.on('error', onError);
      server.on('upgrade', onUpgrade);
      this.#removeListeners = () => {
        server.removeListener('listening', onListening);
        server.removeListener('error', onError);
        server.removeListener('upgrade', onUpgrade);
      };
    }
  }

  /** The bound address of the server (not in `noServer` mode). */
  address(): ReturnType<http.Server['address']> {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    // null once closed, even when the HTTP server was the caller's and still listens (as in ws).
    return this.#server === null || this.#state !== State.Running ? null : this.#server.address();
  }

  /** Whether `req` is for this server (its path, when the `path` option is set). */
  shouldHandle(req: IncomingMessage): boolean {
    const path = this.options.path;
    if (path === undefined) return true;
    const url = req.url ?? '';
    const q = url.indexOf('?');
    return (q === -1 ? url : url.slice(0, q)) === path;
  }

  /**
   * Completes the opening handshake of `req` on `socket` and calls back with the connection, or
   * answers with the RFC's HTTP status and closes the socket. `head` is what followed the request.
   */
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    callback: (ws: WebSocket, req: IncomingMessage) => void,
  ): void {
    socket.on('error', onHandshakeSocketError);
    const fail = (status: number, message: string, headers?: Record<string, string>): void => {
      if (this.listenerCount('wsClientError') > 0 && status !== 503) {
        const error = Object.assign(new Error(message), { code: 'WS_ERR_HANDSHAKE', statusCode: status });
        this.emit('wsClientError', error, socket, req);
      } else {
        abortHandshake(socket, status, message, headers);
      }
    };

    const maxHeaderCount = this.options.maxHeaderCount ?? Defaults.maxHeaderCount;
    if (req.rawHeaders.length / 2 > maxHeaderCount) return fail(431, 'Too many headers');
    const checked = validateUpgradeRequest(req);
    if (!checked.ok) return fail(checked.status, checked.message, checked.headers);
    if (!this.shouldHandle(req)) return abortHandshake(socket, 400, 'Invalid path');

    let deflate: { params: PerMessageDeflate['params']; header: string } | null = null;
    if (this.#deflateConfig !== null && checked.extensions.length > 0) {
      const accepted = acceptDeflateOffer(checked.extensions, this.#deflateConfig);
      if (accepted !== null)
        deflate = { params: accepted.params, header: formatExtensions([accepted.response]) };
    }

    const complete = (): void =>
      this.#completeUpgrade(req, socket, head, checked.key, checked.protocols, deflate, callback);
    const verify = this.options.verifyClient;
    if (verify === undefined) return complete();
    const info = {
      origin: req.headers.origin,
      secure: Boolean((req.socket as { encrypted?: boolean; authorized?: boolean }).encrypted),
      req,
    };
    if (verify.length === 2) {
      (verify as VerifyClientAsync)(info, (verified, code = 401, message, headers) => {
        if (!verified) return abortHandshake(socket, code, message, headers);
        complete();
      });
      return;
    }
    if (!(verify as VerifyClientSync)(info)) return abortHandshake(socket, 401);
    complete();
  }

  #completeUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    key: string,
    offered: string[],
    deflate: { params: PerMessageDeflate['params']; header: string } | null,
    callback: (ws: WebSocket, req: IncomingMessage) => void,
  ): void {
    if (!socket.readable || !socket.writable) {
      socket.destroy();
      return;
    }
    if (this.#state !== State.Running) return abortHandshake(socket, 503);
    // Chosen after verifyClient (as in ws), which may have put what the choice needs on `req`.
    let protocol: string | undefined;
    if (offered.length > 0) {
      const handle = this.options.handleProtocols;
      const chosen = handle === undefined ? offered[0] : handle(new Set(offered), req);
      if (chosen !== false) protocol = chosen;
    }
    const headers = upgradeResponseLines(key, protocol, deflate?.header);
    this.emit('headers', headers, req);
    socket.write(headers.concat('\r\n').join('\r\n'));
    socket.removeListener('error', onHandshakeSocketError);

    const options = this.options;
    const Class = options.WebSocket ?? WebSocket;
    const ws = new Class(null);
    const maxPayload = options.maxPayload ?? Defaults.maxPayload;
    const settings = (compression: PerMessageDeflate | null): SocketSettings => ({
      maxPayload,
      maxFragments: options.maxFragments ?? Defaults.maxFragments,
      skipUTF8Validation: options.skipUTF8Validation ?? false,
      autoPong: options.autoPong ?? true,
      closeTimeout: options.closeTimeout ?? Defaults.closeTimeout,
      deflate: compression,
    });
    ws.setSocket(
      socket,
      head,
      deflate === null
        ? (this.#plainSettings ??= settings(null))
        : settings(new PerMessageDeflate(deflate.params, true, maxPayload, this.#deflateConfig ?? {})),
      protocol ?? '',
      deflate?.header ?? '',
    );
    const clients = this.clients;
    if (clients !== undefined) {
      clients.add(ws);
      ws.on('close', this.#onClientClose);
      if (options.heartbeat !== undefined) this.#startHeartbeat();
    } else if (options.heartbeat !== undefined) {
      // Without the set of clients there is no shared timer to walk it: each connection beats alone.
      ws._startHeartbeat(options.heartbeat.interval, options.heartbeat.timeout);
    }
    callback(ws, req);
  }

  #clientClosed(ws: WebSocket): void {
    const clients = this.clients as Set<WebSocket>;
    clients.delete(ws);
    if (this.#shouldEmitClose && clients.size === 0) {
      this.#shouldEmitClose = false;
      process.nextTick(() => this.#emitClose());
    }
  }

  /**
   * parley: sends one message to every open client (`clients` must be tracked), but `except`.
   * The frame is built once and the same bytes are written to every socket; with
   * permessage-deflate it is compressed once, for the clients that can take it.
   * Cost: O(clients) writes, one encode (and at most one compression) per call.
   */
  broadcast(
    data: SendData,
    options: { binary?: boolean; compress?: boolean; except?: WebSocket } = {},
  ): void {
    const clients = this.clients;
    if (clients === undefined) throw new Error('broadcast needs clientTracking');
    encodeBroadcast(clients, data, options);
  }

  /**
   * Stops accepting connections; closes the HTTP server if this server created it. Open
   * connections are left alone (as in ws); `close` is emitted once they have all closed.
   */
  close(callback?: (error?: Error) => void): void {
    if (this.#state === State.Closed) {
      if (callback !== undefined) {
        this.once('close', () => callback(new Error('The server is not running')));
        process.nextTick(() => this.#emitClose());
      }
      return;
    }
    if (callback !== undefined) this.once('close', () => callback());
    if (this.#state === State.Closing) return;
    this.#state = State.Closing;
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
    this.#removeListeners?.();
    this.#removeListeners = null;
    const finish = (): void => {
      if (this.clients !== undefined && this.clients.size > 0) this.#shouldEmitClose = true;
      else process.nextTick(() => this.#emitClose());
    };
    if (this.#ownServer && this.#server !== null) {
      const server = this.#server;
      server.close(() => finish());
    } else {
      finish();
    }
  }

  #emitClose(): void {
    this.#state = State.Closed;
    this.emit('close');
  }

  #startHeartbeat(): void {
    const heartbeat = this.options.heartbeat;
    if (heartbeat === undefined || this.#heartbeatTimer !== null) return;
    const clients = this.clients as Set<WebSocket>;
    const tick = Math.max(1, Math.min(heartbeat.interval, heartbeat.timeout));
    this.#heartbeatTimer = setInterval(() => {
      if (clients.size === 0) {
        clearInterval(this.#heartbeatTimer as NodeJS.Timeout);
        this.#heartbeatTimer = null;
        return;
      }
      const now = Date.now();
      for (const ws of clients) ws._heartbeat(now, heartbeat.interval, heartbeat.timeout);
    }, tick);
    this.#heartbeatTimer.unref();
  }
}

WebSocket.Server = WebSocketServer;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.WebSocket = WebSocket;

function onHandshakeSocketError(this: Duplex): void {
  this.destroy();
}

/** Answers a refused handshake with an HTTP response and closes the socket. */
function abortHandshake(
  socket: Duplex,
  status: number,
  message?: string,
  headers?: Record<string, string>,
): void {
  const body = message ?? http.STATUS_CODES[status] ?? '';
  const lines = [
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: text/html',
    `Content-Length: ${Buffer.byteLength(body)}`,
  ];
  for (const [name, value] of Object.entries(headers ?? {})) lines.push(`${name}: ${value}`);
  socket.once('finish', () => socket.destroy());
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}
