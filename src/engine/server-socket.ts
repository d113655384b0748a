/**
 * A server-side Engine.IO session (engine.io's `Socket`): owns the write buffer, the server-driven
 * heartbeat, and the polling -> WebSocket upgrade. Transports only move packets.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { compactListeners, releaseListeners } from '../node/listeners.js';
import { EngineErrorCodes, EngineProtocolError } from './errors.js';
import { DeadlineEntry, type DeadlineQueue } from './heartbeat.js';
import type { Packet, PacketOptions, PacketType } from './parser.js';
import type { PollingTransport, Transport, TransportEvents, TransportOwner } from './server-transport.js';
import type { ListenerArgs } from './typed-emitter.js';

/**
 * The opening request of a session, with its parsed query in `_query` (as engine.io provides it;
 * Socket.IO reads the handshake query from there).
 */
export type EngineRequest = IncomingMessage & { _query: Record<string, string> };

/** Lifecycle of a session. */
export type SocketState = 'opening' | 'open' | 'closing' | 'closed';

/**
 * Why a session closed, as engine.io names it: `transport close` (the client closed or went away),
 * `transport error` (I/O failure or transport misuse such as overlapping polls), `parse error` (an
 * undecodable packet or payload), `ping timeout` (no pong in time), `forced close` (`close()` called).
 */
export type CloseReason =
  | 'transport close'
  | 'transport error'
  | 'parse error'
  | 'ping timeout'
  | 'forced close';

/** Options accepted by {@link Socket.send}. */
export interface SendOptions {
  /** Ask the WebSocket transport to compress this message (when permessage-deflate is enabled). */
  compress?: boolean;
}

/** Called once the data given to {@link Socket.send} has been written to the transport. */
export type SendCallback = (transport: Transport) => void;

/** Events of a server {@link Socket}. */
export interface SocketEvents {
  /** A message from the client: a string, or a `Buffer` for binary. */
  message: (data: string | Buffer) => void;
  /** Alias of `message` (engine.io emits both). */
  data: (data: string | Buffer) => void;
  /** Any packet received (before interpretation). */
  packet: (packet: Packet) => void;
  /** A packet about to be buffered for sending. */
  packetCreate: (packet: Packet) => void;
  /** The write buffer is about to be handed to the transport. */
  flush: (buffer: Packet[]) => void;
  /** The transport wrote everything it was given. */
  drain: () => void;
  /** A pong arrived: the client is alive. */
  heartbeat: () => void;
  /** The client probed an upgrade to `transport`. */
  upgrading: (transport: Transport) => void;
  /** The session now runs on `transport`. */
  upgrade: (transport: Transport) => void;
  /** The session ended. */
  close: (reason: CloseReason, description?: Error) => void;
}

/**
 * Settings and hooks every session of a server shares (one object per server, not per session).
 * Built by the server; not part of the public API.
 */
export interface SessionConfig {
  pingInterval: number;
  pingTimeout: number;
  upgradeTimeout: number;
  maxPayload: number;
  onClosed: (socket: Socket) => void;
  /** Sessions waiting to send a ping (`pingInterval`); due ones get {@link Socket.pingDue}. */
  pings: DeadlineQueue<Socket>;
  /** Sessions waiting for a pong (`pingTimeout`); due ones get {@link Socket.pongOverdue}. */
  pongs: DeadlineQueue<Socket>;
}

/** What a {@link Socket} is created with. Built by the server; not part of the public API. */
export interface SocketInit {
  id: string;
  request: EngineRequest;
  transport: Transport;
  upgrades: string[];
  config: SessionConfig;
}

/**
 * @internal The layer a session carries (a Socket.IO connection), told of the session's messages
 * and of its close by direct calls, before any listener: thousands of idle sessions then hold no
 * listener table and no map from session to connection.
 */
export interface SessionOwner {
  ondata(data: string | Buffer): void;
  onclose(reason: CloseReason, description?: Error): void;
}

/**
 * One Engine.IO session. Created by the server and handed out through its `connection` event.
 * Memory: the write buffer grows with unsent packets (bounded by the heartbeat: a client that stops
 * polling is closed after `pingInterval + pingTimeout`).
 */
export class Socket extends EventEmitter<ListenerArgs<SocketEvents>> implements TransportOwner {
  /** Session id (the `sid`). */
  readonly id: string;
  /** The HTTP request that opened the session (a GET or a WebSocket upgrade). */
  readonly request: EngineRequest;
  /** The peer's address as seen on the opening request. */
  readonly remoteAddress: string;
  /** The Engine.IO protocol revision (always 4). A getter: no field per session. */
  get protocol(): 4 {
    return 4;
  }
  /** The transport currently carrying the session. */
  transport: Transport;
  /** Current state. */
  readyState: SocketState = 'opening';
  /** True while a WebSocket upgrade is being negotiated. */
  upgrading = false;
  /** True once the session moved to WebSocket by an upgrade. */
  upgraded = false;

  #config: SessionConfig;
  // Packets waiting for the next flush, and the send callbacks of those and of the batch in flight:
  // undefined while empty, which an idle session is nearly always (no three arrays per session).
  #writeBuffer: Packet[] | undefined;
  #callbacks: SendCallback[] | undefined;
  #inflight: SendCallback[] | undefined;
  /** This session's place in the server's heartbeat queues (see heartbeat.ts). */
  #heartbeat = new DeadlineEntry<Socket>(this);
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #flushScheduled = false;
  #expiresAt = 0;
  #cancelUpgrade: (() => void) | undefined;
  /** The layer this session carries (see {@link SessionOwner}), told before listeners. */
  #owner: SessionOwner | undefined;

  constructor(init: SocketInit) {
    super();
    compactListeners(this);
    this.#config = init.config;
    this.id = init.id;
    // The opening request is kept for the session's lifetime (`socket.request`). Usually nobody
    // listens to it any more: then it keeps no listener table at all.
    releaseListeners(init.request);
    compactListeners(init.request);
    this.request = init.request;
    this.remoteAddress = init.request.socket?.remoteAddress ?? '';
    this.transport = init.transport;
    init.transport.sid = init.id;
    init.transport.owner = this;
    this.readyState = 'open';
    this.#sendPacket(
      'open',
      JSON.stringify({
        sid: this.id,
        upgrades: init.upgrades,
        pingInterval: init.config.pingInterval,
        pingTimeout: init.config.pingTimeout,
        maxPayload: init.config.maxPayload,
      }),
    );
    this.#schedulePing();
  }

  /**
   * Queues a message. `data` is a string (text) or bytes (sent as binary over WebSocket, base64 over
   * polling). `callback` runs once the data was written to the transport. Ignored after close.
   */
  send(
    data: string | ArrayBuffer | ArrayBufferView,
    options?: SendOptions | SendCallback,
    callback?: SendCallback,
  ): this {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    this.#sendPacket('message', data, options, callback);
    return this;
  }

  /** Alias of {@link Socket.send}. */
  write(
    data: string | ArrayBuffer | ArrayBufferView,
    options?: SendOptions | SendCallback,
    callback?: SendCallback,
  ): this {
    return this.send(data, options, callback);
  }

  /**
   * Closes the session. Buffered packets are flushed first unless `discard` is true (a session whose
   * client stopped reading is closed anyway after `pingInterval + pingTimeout`).
   */
  close(discard = false): void {
    if (this.readyState !== 'open') return;
    this.readyState = 'closing';
    if (discard) {
      this.#onClose('forced close');
      return;
    }
    // Bounded: a client that stopped polling would otherwise keep the session forever.
    this.#closeTimer = setTimeout(
      () => this.#onClose('forced close'),
      this.#config.pingInterval + this.#config.pingTimeout,
    );
    // The close packet goes out after the buffer (over polling: on the client's next GET).
    const closeTransport = (): void => this.transport.close(() => this.#onClose('forced close'));
    // 'drain' may report an earlier batch while packets are still buffered: wait for an empty buffer
    const onDrain = (): void => {
      if (this.#writeBuffer === undefined) closeTransport();
      else this.once('drain', onDrain);
    };
    if (this.#writeBuffer === undefined) closeTransport();
    else {
      this.once('drain', onDrain);
      this.#flush();
    }
  }

  /**
   * @internal Makes `owner` the layer this session carries, for the session's whole life; the
   * session's listener table, empty until someone listens, is dropped.
   */
  _setOwner(owner: SessionOwner): void {
    this.#owner = owner;
    releaseListeners(this);
  }

  /**
   * Starts negotiating an upgrade to `next` (a WebSocket transport opened with this session's sid):
   * answers `2probe` with `3probe`, answers pending polls with `noop`, and switches on `5`. Gives up
   * (closing `next` only) on any other packet, on `next` closing, or after `upgradeTimeout`.
   * @internal called by the server
   */
  maybeUpgrade(next: Transport): void {
    if (this.readyState !== 'open' || this.upgrading || this.upgraded || this.transport.name !== 'polling') {
      next.close();
      return;
    }
    this.upgrading = true;
    next.sid = this.id;
    const polling = this.transport as PollingTransport;
    let probed = false;
    const timer = setTimeout(() => fail(), this.#config.upgradeTimeout);
    const cleanup = (): void => {
      clearTimeout(timer);
      next.off('packet', onPacket);
      next.off('close', fail);
      next.off('error', fail);
      releaseListeners(next);
      this.upgrading = false;
      this.#cancelUpgrade = undefined;
    };
    const fail = (): void => {
      cleanup();
      polling.setNoopMode(false);
      next.close();
      this.#flush();
    };
    const onPacket = (packet: Packet): void => {
      if (packet.type === 'ping' && packet.data === 'probe' && !probed) {
        probed = true;
        next.send([{ type: 'pong', data: 'probe' }]);
        this.emit('upgrading', next);
        polling.setNoopMode(true);
      } else if (packet.type === 'upgrade' && probed && this.readyState !== 'closed') {
        cleanup();
        polling.discard();
        // The replaced polling transport keeps its owner: a POST already in flight there still
        // delivers its packets (its other events are ignored, see onTransportEvent).
        this.upgraded = true;
        this.transport = next;
        next.owner = this;
        this.emit('upgrade', next);
        this.#flush();
      } else {
        fail();
      }
    };
    next.on('packet', onPacket);
    next.once('close', fail);
    next.once('error', fail);
    this.#cancelUpgrade = () => {
      cleanup();
      next.close();
    };
  }

  /** @internal Events of the transports this session owns (see `Transport.owner`). */
  onTransportEvent(
    transport: Transport,
    event: keyof TransportEvents,
    arg: Packet | Error | undefined,
  ): void {
    if (event === 'packet') {
      this.#onPacket(arg as Packet);
      return;
    }
    if (transport !== this.transport) return; // the polling transport replaced by an upgrade
    switch (event) {
      case 'error': {
        const err = arg as Error;
        const parse =
          err instanceof EngineProtocolError &&
          (err.code === EngineErrorCodes.INVALID_PACKET || err.code === EngineErrorCodes.TOO_MANY_PACKETS);
        this.#onClose(parse ? 'parse error' : 'transport error', err);
        break;
      }
      case 'close':
        this.#onClose('transport close');
        break;
      case 'ready':
        this.#flush();
        break;
      case 'drain':
        this.#onDrain();
        break;
    }
  }

  #onPacket(packet: Packet): void {
    if (this.readyState !== 'open') return;
    this.emit('packet', packet);
    switch (packet.type) {
      case 'pong':
        this.#schedulePing();
        this.emit('heartbeat');
        break;
      case 'message': {
        const data = (packet.data ?? '') as string | Buffer;
        this.#owner?.ondata(data);
        this.emit('data', data);
        this.emit('message', data);
        break;
      }
      case 'ping':
        // v4 heartbeats go server -> client only; a client ping outside an upgrade probe is a v3 client.
        this.#onClose(
          'parse error',
          new EngineProtocolError(EngineErrorCodes.INVALID_PACKET, 'invalid heartbeat direction'),
        );
        break;
      default:
        // open, upgrade and noop carry no meaning on an established transport
        break;
    }
  }

  /**
   * Closes the session with `ping timeout` if its heartbeat deadline has passed, even when the timer
   * has not fired yet (timers run late on a busy event loop). Returns whether the session is closed.
   * @internal called by the server before routing a request to the session
   */
  checkExpired(): boolean {
    if (this.readyState === 'open' && Date.now() >= this.#expiresAt) this.#onClose('ping timeout');
    return this.readyState === 'closed';
  }

  #schedulePing(): void {
    this.#expiresAt = Date.now() + this.#config.pingInterval + this.#config.pingTimeout;
    this.#config.pings.add(this.#heartbeat);
  }

  /** @internal `pingInterval` has passed since the last pong (or the open): ping, await the pong. */
  pingDue(): void {
    if (this.readyState === 'closed') return;
    this.#sendPacket('ping');
    this.#config.pongs.add(this.#heartbeat);
  }

  /** @internal No pong came within `pingTimeout`. */
  pongOverdue(): void {
    this.#onClose('ping timeout');
  }

  #sendPacket(
    type: PacketType,
    data?: Packet['data'],
    options?: PacketOptions,
    callback?: SendCallback,
  ): void {
    if (this.readyState !== 'open') return;
    const packet: Packet = data === undefined ? { type } : { type, data };
    if (options !== undefined) packet.options = options;
    this.emit('packetCreate', packet);
    (this.#writeBuffer ??= []).push(packet);
    if (callback !== undefined) (this.#callbacks ??= []).push(callback);
    if (type === 'open') {
      this.#flush();
      return;
    }
    // Packets sent in the same tick leave in one payload (one poll response, one burst of frames).
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => {
        this.#flushScheduled = false;
        this.#flush();
      });
    }
  }

  #flush(): void {
    const packets = this.#writeBuffer;
    if (this.readyState === 'closed' || !this.transport.writable || packets === undefined) return;
    this.emit('flush', packets);
    this.#writeBuffer = undefined;
    this.#inflight = this.#callbacks;
    this.#callbacks = undefined;
    this.transport.send(packets);
  }

  #onDrain(): void {
    const callbacks = this.#inflight;
    this.#inflight = undefined;
    if (callbacks !== undefined) for (const cb of callbacks) cb(this.transport);
    this.emit('drain');
    this.#flush();
  }

  #onClose(reason: CloseReason, description?: Error): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.#heartbeat.leave();
    clearTimeout(this.#closeTimer);
    this.#cancelUpgrade?.();
    this.transport.owner = undefined;
    this.transport.close();
    this.#writeBuffer = this.#callbacks = this.#inflight = undefined;
    this.#config.onClosed(this);
    this.#owner?.onclose(reason, description);
    this.emit('close', reason, description);
  }
}
