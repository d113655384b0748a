/**
 * The Engine.IO v4 client (engine.io-client's `Socket`): handshake, heartbeat timeout detection,
 * write buffering split at the server's `maxPayload`, and the polling -> WebSocket upgrade.
 * Browser-safe: imports only the parser, the emitter and the client transports. In Node the
 * WebSocket transport uses parley's client (so `extraHeaders` apply to it too) and polling uses
 * the global `fetch`.
 *
 * @module
 */
import {
  type ClientTransport,
  type ClientTransportName,
  type CloseDetails,
  isNode,
  PollingClientTransport,
  type TransportSettings,
  WebSocketClientTransport,
  type WebSocketConstructor,
} from './client-transport.js';
import { Emitter } from './emitter.js';
import { EngineErrorCodes, EngineProtocolError, EngineUsageError } from './errors.js';
import {
  type BinaryType,
  encodedPayloadLength,
  type Packet,
  type PacketOptions,
  type PacketType,
  protocol,
  type RawData,
} from './parser.js';

/** Options of {@link ClientSocket} (engine.io-client's `SocketOptions`, plus parley's bounds). */
export interface ClientSocketOptions {
  /** Host name (from the URI when given). */
  hostname?: string;
  /** `host[:port]`, an alternative to `hostname` + `port`. */
  host?: string;
  /** Use https/wss (from the URI scheme when given). */
  secure?: boolean;
  /** Port (from the URI when given; default 443/80). */
  port?: string | number;
  /** Request path (default `/engine.io/`). */
  path?: string;
  /** Append a trailing slash to `path` (default true). */
  addTrailingSlash?: boolean;
  /** Extra query parameters sent on every request (merged over the URI's query). */
  query?: Record<string, string | number | boolean>;
  /** Transports to use, in order (default `['polling', 'websocket']`). */
  transports?: ClientTransportName[];
  /** Try to upgrade from polling to WebSocket after the handshake (default true). */
  upgrade?: boolean;
  /** Start with WebSocket if a previous connection upgraded to it (default false). */
  rememberUpgrade?: boolean;
  /** Headers added to every HTTP request and (in Node) to the WebSocket handshake. */
  extraHeaders?: Record<string, string>;
  /** Add a cache-busting timestamp to polling requests (default true). */
  timestampRequests?: boolean;
  /** Name of the timestamp parameter (default `t`). */
  timestampParam?: string;
  /** Milliseconds before a polling request is abandoned (default 0: none). */
  requestTimeout?: number;
  /** Send cookies on cross-site polling requests (browser `credentials: 'include'`). */
  withCredentials?: boolean;
  /** WebSocket subprotocols. */
  protocols?: string | string[];
  /** How binary messages are delivered (default `nodebuffer` in Node, `arraybuffer` in browsers). */
  binaryType?: BinaryType;
  /** parley: largest poll response or WebSocket message accepted, in bytes (default 100 MiB). */
  maxIncomingPayload?: number;
  /** parley: the WebSocket constructor to use instead of the default. */
  WebSocket?: WebSocketConstructor;
}

/** The handshake the server sends in its `open` packet. */
export interface HandshakeData {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** Why a client socket closed: as engine.io-client names it. */
export type ClientCloseReason =
  | 'transport close'
  | 'transport error'
  | 'ping timeout'
  | 'forced close'
  | 'parse error';

/** Events of {@link ClientSocket} (engine.io-client's `SocketReservedEvents`). */
export type ClientSocketEvents = {
  open: () => void;
  handshake: (data: HandshakeData) => void;
  packet: (packet: Packet) => void;
  packetCreate: (packet: Packet) => void;
  data: (data: string | ArrayBuffer | Uint8Array) => void;
  message: (data: string | ArrayBuffer | Uint8Array) => void;
  drain: () => void;
  flush: () => void;
  heartbeat: () => void;
  ping: () => void;
  pong: () => void;
  error: (err: Error) => void;
  upgrading: (transport: ClientTransport) => void;
  upgrade: (transport: ClientTransport) => void;
  upgradeError: (err: Error) => void;
  close: (reason: ClientCloseReason, description?: CloseDetails | Error) => void;
};

/** State of a {@link ClientSocket}. */
export type ClientSocketState = 'opening' | 'open' | 'closing' | 'closed';

function parseHandshake(data: Packet['data']): HandshakeData {
  const bad = (): never => {
    throw new EngineProtocolError(EngineErrorCodes.INVALID_HANDSHAKE, 'invalid handshake');
  };
  if (typeof data !== 'string') return bad();
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return bad();
  }
  const v = value as Partial<Record<keyof HandshakeData, unknown>>;
  const num = (x: unknown): x is number =>
    typeof x === 'number' && Number.isFinite(x) && x > 0 && x < 2 ** 31;
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof v.sid !== 'string' ||
    v.sid.length === 0 ||
    !Array.isArray(v.upgrades) ||
    !v.upgrades.every((u) => typeof u === 'string') ||
    !num(v.pingInterval) ||
    !num(v.pingTimeout)
  ) {
    return bad();
  }
  return {
    sid: v.sid,
    upgrades: v.upgrades as string[],
    pingInterval: v.pingInterval,
    pingTimeout: v.pingTimeout,
    maxPayload: typeof v.maxPayload === 'number' && v.maxPayload > 0 ? v.maxPayload : 0,
  };
}

/**
 * An Engine.IO client connection. Opens on construction; listen for `open`, `message`, `close`.
 *
 * Memory: the write buffer holds messages sent while the transport is busy or upgrading.
 */
export class ClientSocket extends Emitter<ClientSocketEvents> {
  /** Whether a previous socket (with `rememberUpgrade`) reached WebSocket. Shared by all sockets. */
  static priorWebsocketSuccess = false;
  /** The Engine.IO protocol revision (4). */
  static readonly protocol = protocol;

  /** Session id, once the handshake is done. */
  id: string | null = null;
  /** The transport in use. */
  transport: ClientTransport | null = null;
  /** Connection state. */
  readyState: ClientSocketState = 'opening';
  /** Packets waiting to be written. */
  writeBuffer: Packet[] = [];
  /** How binary messages are delivered. */
  binaryType: BinaryType;

  #callbacks: ((() => void) | undefined)[] = [];
  #prevBufferLen = 0;
  #settings: TransportSettings;
  #transports: ClientTransportName[];
  #upgrade: boolean;
  #rememberUpgrade: boolean;
  #upgrades: string[] = [];
  #pingInterval = 0;
  #pingTimeout = 0;
  #maxPayload = 0;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  #pingDeadline = 0;
  #pendingBlobs = new Set<Packet>();
  #upgrading = false;
  #flushScheduled = false;
  #detach: (() => void) | undefined;
  #abortProbe: (() => void) | undefined;

  /** Connects to `uri` (`http(s)://` or `ws(s)://`), or to `opts.hostname`/`opts.port` when omitted. */
  constructor(uri?: string | ClientSocketOptions, opts: ClientSocketOptions = {}) {
    super();
    if (typeof uri === 'object') {
      opts = uri;
      uri = undefined;
    }
    let secure = opts.secure;
    let hostname = opts.hostname;
    let port = opts.port === undefined ? undefined : String(opts.port);
    const query: Record<string, string> = {};
    if (uri !== undefined) {
      let url: URL;
      try {
        url = new URL(uri, (globalThis as { location?: { href: string } }).location?.href);
      } catch {
        throw new EngineUsageError(EngineErrorCodes.INVALID_OPTION, `invalid URI: ${uri}`);
      }
      secure ??= url.protocol === 'https:' || url.protocol === 'wss:';
      hostname ??= url.hostname.replace(/^\[|\]$/g, '');
      port ??= url.port;
      for (const [k, v] of url.searchParams) query[k] = v;
    } else if (opts.host !== undefined) {
      const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(opts.host);
      hostname ??= match?.[1]?.replace(/^\[|\]$/g, '') ?? opts.host;
      port ??= match?.[2];
    }
    const location = (globalThis as { location?: { hostname: string; port: string; protocol: string } })
      .location;
    secure ??= location?.protocol === 'https:';
    hostname ??= location?.hostname ?? 'localhost';
    port ??= location?.port ?? '';
    if (port === '') port = secure ? '443' : '80';
    for (const [k, v] of Object.entries(opts.query ?? {})) query[k] = String(v);
    let path = opts.path ?? '/engine.io';
    if (opts.addTrailingSlash !== false) path = `${path.replace(/\/$/, '')}/`;
    this.#transports = [...(opts.transports ?? ['polling', 'websocket'])];
    if (this.#transports.some((t) => t !== 'polling' && t !== 'websocket')) {
      throw new EngineUsageError(
        EngineErrorCodes.INVALID_OPTION,
        'transports must be "polling" and/or "websocket"',
      );
    }
    this.#upgrade = opts.upgrade ?? true;
    this.#rememberUpgrade = opts.rememberUpgrade ?? false;
    this.binaryType = opts.binaryType ?? (isNode ? 'nodebuffer' : 'arraybuffer');
    this.#settings = {
      secure,
      hostname,
      port,
      path,
      query,
      extraHeaders: { ...(opts.extraHeaders ?? {}) },
      timestampRequests: opts.timestampRequests ?? true,
      timestampParam: opts.timestampParam ?? 't',
      requestTimeout: opts.requestTimeout ?? 0,
      withCredentials: opts.withCredentials ?? false,
      protocols: opts.protocols,
      binaryType: this.binaryType,
      maxIncomingPayload: opts.maxIncomingPayload ?? 100 * 1024 * 1024,
      webSocket: opts.WebSocket,
      cookies: isNode ? new Map() : undefined,
    };
    this.#open();
  }

  /** The handshake's transports this socket may upgrade to (filtered by `transports`). */
  get upgrades(): readonly string[] {
    return this.#upgrades;
  }

  /**
   * Queues a message (string, bytes, or a `Blob`, read asynchronously without reordering). `fn`
   * runs once the transport has written it. Ignored while closing or closed.
   */
  send(msg: RawData | Blob, options?: PacketOptions | (() => void), fn?: () => void): this {
    if (typeof options === 'function') {
      fn = options;
      options = undefined;
    }
    this.#sendPacket('message', msg, options, fn);
    return this;
  }

  /** Alias of {@link ClientSocket.send}. */
  write(msg: RawData | Blob, options?: PacketOptions | (() => void), fn?: () => void): this {
    return this.send(msg, options, fn);
  }

  /** Closes the connection after flushing buffered messages (and after an ongoing upgrade). */
  close(): this {
    if (this.readyState !== 'opening' && this.readyState !== 'open') return this;
    this.readyState = 'closing';
    const close = (): void => {
      const transport = this.transport;
      this.#onClose('forced close');
      transport?.close();
    };
    const waitForUpgrade = (): void => {
      const done = (): void => {
        this.off('upgrade', done);
        this.off('upgradeError', done);
        close();
      };
      this.once('upgrade', done);
      this.once('upgradeError', done);
    };
    if (this.writeBuffer.length > 0) {
      this.once('drain', () => (this.#upgrading ? waitForUpgrade() : close()));
    } else if (this.#upgrading) waitForUpgrade();
    else close();
    return this;
  }

  #createTransport(name: ClientTransportName, sid?: string): ClientTransport {
    return name === 'websocket'
      ? new WebSocketClientTransport(this.#settings, sid)
      : new PollingClientTransport(this.#settings, sid);
  }

  #open(): void {
    if (this.#transports.length === 0) {
      setTimeout(
        () => this.#onError(new EngineUsageError(EngineErrorCodes.INVALID_OPTION, 'no transports')),
        0,
      );
      return;
    }
    const name =
      this.#rememberUpgrade && ClientSocket.priorWebsocketSuccess && this.#transports.includes('websocket')
        ? 'websocket'
        : this.#transports[0]!;
    this.readyState = 'opening';
    const transport = this.#createTransport(name);
    this.#setTransport(transport);
    transport.open();
  }

  #setTransport(transport: ClientTransport): void {
    this.#detach?.();
    this.transport = transport;
    const onDrain = (): void => this.#onDrain();
    const onPacket = (packet: Packet): void => this.#onPacket(packet);
    const onError = (err: Error): void => this.#onError(err);
    const onClose = (details?: CloseDetails): void => this.#onClose('transport close', details);
    transport.on('drain', onDrain);
    transport.on('packet', onPacket);
    transport.on('error', onError);
    transport.on('close', onClose);
    this.#detach = () => {
      transport.off('drain', onDrain);
      transport.off('packet', onPacket);
      transport.off('error', onError);
      transport.off('close', onClose);
    };
  }

  #onPacket(packet: Packet): void {
    if (this.readyState !== 'opening' && this.readyState !== 'open' && this.readyState !== 'closing') return;
    this.emit('packet', packet);
    this.emit('heartbeat');
    switch (packet.type) {
      case 'open': {
        if (this.id !== null) return; // a second handshake means nothing
        let data: HandshakeData;
        try {
          data = parseHandshake(packet.data);
        } catch (err) {
          this.#onError(err as Error);
          return;
        }
        this.#onHandshake(data);
        break;
      }
      case 'ping':
        this.#resetPingTimeout();
        this.#sendPacket('pong');
        this.emit('ping');
        this.emit('pong');
        break;
      case 'message': {
        const data = (packet.data ?? '') as string | ArrayBuffer | Uint8Array;
        this.emit('data', data);
        this.emit('message', data);
        break;
      }
      default:
        break;
    }
  }

  #onHandshake(data: HandshakeData): void {
    this.emit('handshake', data);
    this.id = data.sid;
    this.transport!.sid = data.sid;
    this.#upgrades = data.upgrades.filter((u) => this.#transports.includes(u as ClientTransportName));
    this.#pingInterval = data.pingInterval;
    this.#pingTimeout = data.pingTimeout;
    this.#maxPayload = data.maxPayload;
    this.readyState = 'open';
    ClientSocket.priorWebsocketSuccess = this.transport!.name === 'websocket';
    this.emit('open');
    this.#flush();
    if (this.readyState !== 'open') return;
    this.#resetPingTimeout();
    if (this.#upgrade && this.transport!.name === 'polling') {
      for (const name of this.#upgrades) this.#probe(name as ClientTransportName);
    }
  }

  /**
   * Whether the heartbeat deadline (`pingInterval + pingTimeout` after the last ping) has passed,
   * even if the timer has not fired yet (suspended devices run timers late). Lets layers above skip
   * volatile sends on a dead connection.
   */
  hasPingExpired(): boolean {
    return this.readyState === 'open' && this.#pingDeadline > 0 && Date.now() > this.#pingDeadline;
  }

  #resetPingTimeout(): void {
    this.#pingDeadline = Date.now() + this.#pingInterval + this.#pingTimeout;
    clearTimeout(this.#pingTimer);
    // The server pings every pingInterval; no ping within pingInterval + pingTimeout means it is gone.
    this.#pingTimer = setTimeout(() => this.#onClose('ping timeout'), this.#pingInterval + this.#pingTimeout);
  }

  #probe(name: ClientTransportName): void {
    if (this.#abortProbe !== undefined) return;
    const probe = this.#createTransport(name, this.id!);
    let failed = false;
    ClientSocket.priorWebsocketSuccess = false;
    const cleanup = (): void => {
      probe.off('open', onOpen);
      probe.off('error', onError);
      probe.off('close', onTransportClose);
      probe.off('packet', onPacket);
      this.#abortProbe = undefined;
    };
    const freeze = (): void => {
      if (failed) return;
      failed = true;
      cleanup();
      probe.close();
    };
    const onError = (err: unknown): void => {
      const error = new Error(`probe error: ${err instanceof Error ? err.message : String(err)}`);
      const wasUpgrading = this.#upgrading;
      freeze();
      this.#upgrading = false;
      this.emit('upgradeError', error);
      if (wasUpgrading && this.readyState === 'open') {
        // polling was paused for this probe: resume it
        this.#resumePolling();
      }
    };
    const onTransportClose = (): void => onError(new Error('transport closed'));
    const onOpen = (): void => {
      if (failed) return;
      probe.send([{ type: 'ping', data: 'probe' }]);
    };
    const onPacket = (packet: Packet): void => {
      if (failed) return;
      if (packet.type !== 'pong' || packet.data !== 'probe') {
        onError(new Error('probe error'));
        return;
      }
      probe.off('packet', onPacket);
      this.#upgrading = true;
      this.emit('upgrading', probe);
      ClientSocket.priorWebsocketSuccess = probe.name === 'websocket';
      this.transport!.pause(() => {
        if (failed) return;
        if (this.readyState === 'closed') {
          freeze();
          return;
        }
        cleanup();
        const old = this.transport!;
        this.#setTransport(probe);
        old.readyState = 'closed';
        probe.send([{ type: 'upgrade' }]);
        this.#upgrading = false;
        this.emit('upgrade', probe);
        this.#flush();
      });
    };
    probe.on('open', onOpen);
    probe.on('error', onError);
    probe.on('close', onTransportClose);
    probe.on('packet', onPacket);
    this.#abortProbe = () => onError(new Error('socket closed'));
    probe.open();
  }

  #resumePolling(): void {
    const transport = this.transport;
    if (transport instanceof PollingClientTransport) transport.resume();
    this.#flush();
  }

  #sendPacket(type: PacketType, data?: RawData | Blob, options?: PacketOptions, fn?: () => void): void {
    if (this.readyState === 'closing' || this.readyState === 'closed') return;
    let packet: Packet;
    if (typeof Blob !== 'undefined' && data instanceof Blob) {
      // bytes arrive later; packets behind it wait so order is kept
      packet = { type };
      this.#pendingBlobs.add(packet);
      data.arrayBuffer().then(
        (bytes) => {
          packet.data = new Uint8Array(bytes);
          this.#pendingBlobs.delete(packet);
          this.#flush();
        },
        () => this.#onError(new EngineUsageError(EngineErrorCodes.INVALID_STATE, 'could not read Blob')),
      );
    } else {
      packet = data === undefined ? { type } : { type, data: data as RawData };
    }
    packet.options = { compress: options?.compress ?? true };
    this.emit('packetCreate', packet);
    this.writeBuffer.push(packet);
    this.#callbacks.push(fn);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    const t = this.transport;
    if (
      this.readyState === 'closed' ||
      t === null ||
      !t.writable ||
      this.#upgrading ||
      this.#prevBufferLen > 0 ||
      this.writeBuffer.length === 0 ||
      (this.readyState === 'opening' && this.id === null)
    ) {
      return;
    }
    const packets = this.#writablePackets(t);
    if (packets.length === 0) return;
    this.#prevBufferLen = packets.length;
    t.send(packets);
    this.emit('flush');
  }

  /** Splits the buffer so a polling payload stays within the server's `maxPayload`. */
  #writablePackets(t: ClientTransport): Packet[] {
    let end = this.writeBuffer.length;
    if (this.#pendingBlobs.size > 0) {
      const blocked = this.writeBuffer.findIndex((p) => this.#pendingBlobs.has(p));
      if (blocked !== -1) end = blocked;
    }
    if (t.name !== 'polling' || this.#maxPayload <= 0 || end < 2) return this.writeBuffer.slice(0, end);
    let size = 0;
    for (let i = 0; i < end; i++) {
      size += encodedPayloadLength(this.writeBuffer[i]!);
      if (i > 0 && size > this.#maxPayload) return this.writeBuffer.slice(0, i);
    }
    return this.writeBuffer.slice(0, end);
  }

  #onDrain(): void {
    const n = this.#prevBufferLen;
    this.writeBuffer.splice(0, n);
    const callbacks = this.#callbacks.splice(0, n);
    this.#prevBufferLen = 0;
    for (const cb of callbacks) cb?.();
    if (this.writeBuffer.length === 0) this.emit('drain');
    else this.#flush();
  }

  #onError(err: Error): void {
    ClientSocket.priorWebsocketSuccess = false;
    if (this.readyState === 'closed') return;
    this.emit('error', err);
    const parse = err instanceof EngineProtocolError;
    this.#onClose(parse ? 'parse error' : 'transport error', err);
  }

  #onClose(reason: ClientCloseReason, description?: CloseDetails | Error): void {
    if (this.readyState === 'closed') return;
    clearTimeout(this.#pingTimer);
    this.#abortProbe?.();
    const transport = this.transport;
    this.#detach?.();
    this.#detach = undefined;
    transport?.close();
    this.readyState = 'closed';
    this.id = null;
    this.writeBuffer = [];
    this.#callbacks = [];
    this.#pendingBlobs.clear();
    this.#prevBufferLen = 0;
    this.emit('close', reason, description);
  }
}
