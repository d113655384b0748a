/**
 * The client `Socket` (socket.io-client's): one namespace over a {@link Manager}'s connection.
 * Emits are buffered while disconnected (unless `volatile`), acknowledgements can time out, and with
 * `retries` every emit is delivered at least once (queued, one in flight at a time).
 *
 * @module
 */

import {
  type AnyListener,
  type DefaultEventsMap,
  Emitter,
  type EventNames,
  type EventParams,
  type EventsMap,
} from '../realtime/emitter.js';
import { AckTimeoutError, RealtimeUsageError } from '../realtime/errors.js';
import { type Packet, PacketType, RESERVED_EVENTS } from '../realtime/parser.js';
import type {
  DecorateAcknowledgements,
  EmitWithAckParams,
  EmitWithAckResult,
  ListenerOf,
  ListenNames,
} from '../realtime/types.js';
import type { Manager } from './manager.js';

/** Why a client socket disconnected. */
export type DisconnectReason =
  | 'io server disconnect'
  | 'io client disconnect'
  | 'ping timeout'
  | 'transport close'
  | 'transport error'
  | 'parse error'
  | 'forced close';

/** Options of a client socket. */
export interface SocketOptions {
  /** CONNECT payload: an object, or a function that calls back with one (called on every connect). */
  auth?: Record<string, unknown> | ((cb: (data: Record<string, unknown>) => void) => void);
  /** Retries of each emit until acknowledged (enables the at-least-once queue). */
  retries?: number;
  /** Default acknowledgement timeout in ms. */
  ackTimeout?: number;
}

/** An error delivered by `connect_error`; `data` comes from the server's middleware. */
export interface ConnectError extends Error {
  data?: unknown;
}

/** Events the client socket emits locally. */
export interface SocketReservedEvents {
  connect: () => void;
  connect_error: (err: ConnectError) => void;
  disconnect: (reason: DisconnectReason, description?: unknown) => void;
}

type AckFn = ((...args: unknown[]) => void) & { withError?: boolean };

/** Bound on events kept while the namespace is not connected (they are replayed on `connect`). */
const MAX_RECEIVE_BUFFER = 1024;

interface Flags {
  compress?: boolean;
  volatile?: boolean;
  timeout?: number;
  fromQueue?: boolean;
}

interface QueuedPacket {
  id: number;
  args: unknown[];
  flags: Flags;
  pending: boolean;
  tryCount: number;
}

/**
 * A namespace socket. Typed like socket.io-client's: `ListenEvents` (server -> client) and
 * `EmitEvents` (client -> server).
 */
export class Socket<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
> extends Emitter {
  /** The manager. */
  readonly io: Manager;
  /** Namespace name. */
  readonly nsp: string;
  /** Socket id given by the server, while connected. */
  id: string | undefined;
  /** Whether connected to the namespace. */
  connected = false;
  /** Whether the last connection restored the previous session (connection state recovery). */
  recovered = false;
  /** CONNECT payload. */
  auth: SocketOptions['auth'];
  /** Events received before `connect` was handled. */
  receiveBuffer: unknown[][] = [];
  /** Packets emitted while disconnected. */
  sendBuffer: Packet[] = [];
  readonly #opts: SocketOptions;
  #ids = 0;
  #acks = new Map<number, AckFn>();
  #flags: Flags = {};
  #subs: Array<() => void> | undefined;
  #anyIncoming: AnyListener[] = [];
  #anyOutgoing: AnyListener[] = [];
  #pid: string | undefined;
  #lastOffset: string | undefined;
  #queue: QueuedPacket[] = [];
  #queueSeq = 0;

  /** @internal Use `io()` or `manager.socket()`. */
  constructor(io: Manager, nsp: string, opts: SocketOptions = {}) {
    super();
    this.io = io;
    this.nsp = nsp;
    this.#opts = { ...opts };
    this.auth = opts.auth;
    if (io.autoConnect) this.open();
  }

  /** Whether the socket is connected to the manager's events (connecting or connected). */
  get active(): boolean {
    return this.#subs !== undefined;
  }

  /** Whether the socket has been disconnected. */
  get disconnected(): boolean {
    return !this.connected;
  }

  #subEvents(): void {
    if (this.#subs) return;
    const io = this.io;
    const onOpen = (): void => this.#onopen();
    const onPacket = (packet: Packet): void => this.#onpacket(packet);
    const onError = (err: Error): void => this.#onerror(err);
    const onClose = (reason: DisconnectReason, description?: unknown): void =>
      this.#onclose(reason, description);
    io.on('open', onOpen);
    io.on('packet', onPacket as AnyListener);
    io.on('error', onError as AnyListener);
    io.on('close', onClose as AnyListener);
    this.#subs = [
      () => io.off('open', onOpen),
      () => io.off('packet', onPacket as AnyListener),
      () => io.off('error', onError as AnyListener),
      () => io.off('close', onClose as AnyListener),
    ];
  }

  /** Connects (or reconnects) the socket. */
  connect(): this {
    if (this.connected) return this;
    this.#subEvents();
    if (!this.io.reconnectingNow) this.io.open();
    if (this.io.readyState === 'open') this.#onopen();
    return this;
  }

  /** Alias of {@link Socket.connect}. */
  open(): this {
    return this.connect();
  }

  #onopen(): void {
    const auth = this.auth;
    if (typeof auth === 'function') auth((data) => this.#sendConnectPacket(data));
    else this.#sendConnectPacket(auth);
  }

  #sendConnectPacket(data: Record<string, unknown> | undefined): void {
    const payload = this.#pid !== undefined ? { pid: this.#pid, offset: this.#lastOffset, ...data } : data;
    const packet: Packet = { type: PacketType.CONNECT, nsp: this.nsp };
    if (payload !== undefined) packet.data = payload;
    this.io.packet(packet);
  }

  #onerror(err: Error): void {
    if (!this.connected) this.emitReserved('connect_error', err);
  }

  #onclose(reason: DisconnectReason, description?: unknown): void {
    const was = this.connected;
    this.connected = false;
    this.id = undefined;
    if (was) this.emitReserved('disconnect', reason, description);
    this.#clearAcks();
  }

  #clearAcks(): void {
    for (const [id, ack] of [...this.#acks]) {
      const buffered = this.sendBuffer.some((p) => p.id === id);
      if (!buffered && ack.withError) {
        this.#acks.delete(id);
        ack.call(this, new AckTimeoutError('socket has been disconnected'));
      }
    }
  }

  #onpacket(packet: Packet): void {
    if (packet.nsp !== this.nsp) return;
    switch (packet.type) {
      case PacketType.CONNECT: {
        const data = packet.data as { sid?: unknown; pid?: unknown } | undefined;
        if (data && typeof data.sid === 'string') {
          this.#onconnect(data.sid, typeof data.pid === 'string' ? data.pid : undefined);
        } else {
          this.emitReserved('connect_error', new Error('invalid CONNECT packet from the server'));
        }
        break;
      }
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.#onevent(packet);
        break;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        this.#onack(packet);
        break;
      case PacketType.DISCONNECT:
        this.#destroy();
        this.#onclose('io server disconnect');
        break;
      case PacketType.CONNECT_ERROR: {
        this.#destroy();
        const data = packet.data as { message?: unknown; data?: unknown } | string | undefined;
        const err: ConnectError = new Error(
          typeof data === 'string'
            ? data
            : String((data as { message?: unknown })?.message ?? 'connect error'),
        );
        if (typeof data === 'object' && data !== null && 'data' in data) err.data = data.data;
        this.emitReserved('connect_error', err);
        break;
      }
    }
  }

  #onevent(packet: Packet): void {
    const args = (packet.data as unknown[]).slice();
    if (packet.id !== undefined) args.push(this.#ack(packet.id));
    if (this.connected) this.#emitEvent(args);
    else if (this.receiveBuffer.length < MAX_RECEIVE_BUFFER) this.receiveBuffer.push(args);
    // Beyond the bound, events for a namespace not (yet) connected are dropped: a server never
    // needs to send more than that before its CONNECT answer.
  }

  #emitEvent(args: unknown[]): void {
    for (const listener of this.#anyIncoming.slice()) listener.apply(this, args);
    this.emitReserved(String(args[0]), ...args.slice(1));
    const last = args[args.length - 1];
    if (this.#pid !== undefined && typeof last === 'string') this.#lastOffset = last;
  }

  #ack(id: number): (...args: unknown[]) => void {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent) return;
      sent = true;
      this.#packet({ type: PacketType.ACK, nsp: this.nsp, id, data: args });
    };
  }

  #onack(packet: Packet): void {
    const ack = this.#acks.get(packet.id as number);
    if (typeof ack !== 'function') return;
    this.#acks.delete(packet.id as number);
    const args = (packet.data as unknown[]).slice();
    if (ack.withError) args.unshift(null);
    ack.apply(this, args);
  }

  #onconnect(id: string, pid: string | undefined): void {
    this.id = id;
    this.recovered = pid !== undefined && this.#pid === pid;
    this.#pid = pid;
    this.connected = true;
    for (const args of this.receiveBuffer) this.#emitEvent(args);
    this.receiveBuffer = [];
    const buffered = this.sendBuffer;
    this.sendBuffer = [];
    for (const packet of buffered) {
      this.#notifyOutgoing(packet);
      this.#packet(packet);
    }
    this.emitReserved('connect');
    this.#drainQueue(true);
  }

  #destroy(): void {
    if (this.#subs) {
      for (const sub of this.#subs) sub();
      this.#subs = undefined;
    }
    this.io.destroySocket(this);
  }

  /** Disconnects from the namespace (and closes the connection if no other namespace uses it). */
  disconnect(): this {
    if (this.connected) this.#packet({ type: PacketType.DISCONNECT, nsp: this.nsp });
    this.#destroy();
    if (this.connected) this.#onclose('io client disconnect');
    return this;
  }

  /** Alias of {@link Socket.disconnect}. */
  close(): this {
    return this.disconnect();
  }

  #packet(packet: Packet, flags: Flags = {}): void {
    packet.nsp = this.nsp;
    this.io.packet(packet, { compress: flags.compress !== false });
  }

  // ---- typed listener API ----

  /** Listens to a server event, or a reserved one (`connect`, `connect_error`, `disconnect`). */
  override on<Ev extends ListenNames<SocketReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ListenerOf<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.on(ev, listener as AnyListener);
  }

  /** Listens once. */
  override once<Ev extends ListenNames<SocketReservedEvents, ListenEvents>>(
    ev: Ev,
    listener: ListenerOf<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.once(ev, listener as AnyListener);
  }

  /** Removes a listener. */
  override off<Ev extends ListenNames<SocketReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ListenerOf<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.off(ev, listener as AnyListener | undefined);
  }

  // ---- emitting ----

  /**
   * Emits an event. A trailing function is an acknowledgement callback (`(err, ...response)` after
   * {@link Socket.timeout} or with `ackTimeout`). While disconnected the packet is buffered, unless
   * volatile. With `retries`, the emit is queued and retried until acknowledged.
   *
   * @throws {RealtimeUsageError} `IO_ERR_RESERVED_EVENT_EMIT` for a reserved event name.
   */
  override emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): this {
    if (RESERVED_EVENTS.has(ev)) {
      throw new RealtimeUsageError('IO_ERR_RESERVED_EVENT_EMIT', `"${ev}" is a reserved event name`);
    }
    const all: unknown[] = [ev, ...args];
    if (this.#opts.retries !== undefined && !this.#flags.fromQueue && !this.#flags.volatile) {
      this.#addToQueue(all);
      return this;
    }
    const packet: Packet = { type: PacketType.EVENT, nsp: this.nsp, data: all };
    const last = all[all.length - 1];
    if (typeof last === 'function') {
      all.pop();
      const id = this.#ids++;
      this.#registerAck(id, last as AckFn);
      packet.id = id;
    }
    const flags = this.#flags;
    this.#flags = {};
    const writable = this.io.engine?.transport?.writable !== false;
    const discard = flags.volatile === true && (!writable || !this.connected);
    if (discard) {
      // Dropped, as asked: volatile packets are not buffered.
    } else if (this.connected) {
      this.#notifyOutgoing(packet);
      this.#packet(packet, flags);
    } else {
      this.sendBuffer.push(packet);
    }
    return this;
  }

  #registerAck(id: number, ack: AckFn): void {
    const timeout = this.#flags.timeout ?? this.#opts.ackTimeout;
    if (timeout === undefined) {
      this.#acks.set(id, ack);
      return;
    }
    const timer = setTimeout(() => {
      this.#acks.delete(id);
      this.sendBuffer = this.sendBuffer.filter((p) => p.id !== id);
      ack.call(this, new AckTimeoutError());
    }, timeout);
    const wrapped: AckFn = (...args: unknown[]) => {
      clearTimeout(timer);
      ack.apply(this, args);
    };
    wrapped.withError = true;
    this.#acks.set(id, wrapped);
  }

  /** Emits and resolves with the server's first acknowledgement argument. */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: EmitWithAckParams<EmitEvents, Ev>
  ): Promise<EmitWithAckResult<EmitEvents, Ev>> {
    const withErr = this.#flags.timeout !== undefined || this.#opts.ackTimeout !== undefined;
    return new Promise((resolve, reject) => {
      const cb = (a: unknown, b: unknown): void => {
        if (withErr) {
          if (a) reject(a);
          else resolve(b as never);
        } else {
          resolve(a as never);
        }
      };
      (this.emit as (ev: string, ...rest: unknown[]) => this)(ev, ...(args as unknown[]), cb);
    });
  }

  #addToQueue(args: unknown[]): void {
    let ack: AckFn | undefined;
    if (typeof args[args.length - 1] === 'function') ack = args.pop() as AckFn;
    const packet: QueuedPacket = {
      id: this.#queueSeq++,
      tryCount: 0,
      pending: false,
      args,
      flags: { fromQueue: true, ...this.#flags },
    };
    this.#flags = {};
    args.push((err: unknown, ...response: unknown[]) => {
      if (packet !== this.#queue[0]) return;
      if (err !== null) {
        if (packet.tryCount > (this.#opts.retries ?? 0)) {
          this.#queue.shift();
          ack?.call(this, err);
        }
      } else {
        this.#queue.shift();
        ack?.call(this, null, ...response);
      }
      packet.pending = false;
      this.#drainQueue();
    });
    this.#queue.push(packet);
    this.#drainQueue();
  }

  #drainQueue(force = false): void {
    if (!this.connected || this.#queue.length === 0) return;
    const packet = this.#queue[0]!;
    if (packet.pending && !force) return;
    packet.pending = true;
    packet.tryCount++;
    this.#flags = packet.flags;
    if (this.#flags.timeout === undefined && this.#opts.ackTimeout === undefined) {
      // A retry needs a deadline; without one the first attempt would wait forever.
      this.#flags.timeout = 10_000;
    }
    (this.emit as (...rest: unknown[]) => this)(...packet.args);
  }

  /** Sends a `message` event. */
  send(...args: unknown[]): this {
    (this.emit as (ev: string, ...rest: unknown[]) => this)('message', ...args);
    return this;
  }

  /** Alias of {@link Socket.send}. */
  write(...args: unknown[]): this {
    return this.send(...args);
  }

  // ---- modifiers ----

  /** The next emit is compressed or not. */
  compress(compress: boolean): this {
    this.#flags.compress = compress;
    return this;
  }

  /** The next emit is dropped if it cannot be sent right now (never buffered). */
  get volatile(): this {
    this.#flags.volatile = true;
    return this;
  }

  /** The next emit expects an ack within `timeout` ms; the callback gets `(err, ...response)`. */
  timeout(timeout: number): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>> {
    this.#flags.timeout = timeout;
    return this as unknown as Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>>;
  }

  // ---- catch-all listeners ----

  /** Listens to every incoming event. */
  onAny(listener: (event: string, ...args: unknown[]) => void): this {
    this.#anyIncoming.push(listener as AnyListener);
    return this;
  }

  /** Like {@link Socket.onAny}, first in line. */
  prependAny(listener: (event: string, ...args: unknown[]) => void): this {
    this.#anyIncoming.unshift(listener as AnyListener);
    return this;
  }

  /** Removes a catch-all listener, or all. */
  offAny(listener?: (event: string, ...args: unknown[]) => void): this {
    this.#anyIncoming = listener ? this.#anyIncoming.filter((l) => l !== listener) : [];
    return this;
  }

  /** The catch-all listeners. */
  listenersAny(): AnyListener[] {
    return this.#anyIncoming.slice();
  }

  /** Listens to every outgoing event. */
  onAnyOutgoing(listener: (event: string, ...args: unknown[]) => void): this {
    this.#anyOutgoing.push(listener as AnyListener);
    return this;
  }

  /** Like {@link Socket.onAnyOutgoing}, first in line. */
  prependAnyOutgoing(listener: (event: string, ...args: unknown[]) => void): this {
    this.#anyOutgoing.unshift(listener as AnyListener);
    return this;
  }

  /** Removes an outgoing catch-all listener, or all. */
  offAnyOutgoing(listener?: (event: string, ...args: unknown[]) => void): this {
    this.#anyOutgoing = listener ? this.#anyOutgoing.filter((l) => l !== listener) : [];
    return this;
  }

  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing(): AnyListener[] {
    return this.#anyOutgoing.slice();
  }

  #notifyOutgoing(packet: Packet): void {
    if (this.#anyOutgoing.length === 0 || !Array.isArray(packet.data)) return;
    for (const listener of this.#anyOutgoing.slice()) listener.apply(this, packet.data);
  }
}
