/**
 * The server-side `Socket`: one client's presence in one namespace.
 *
 * @module
 */

import type {
  AdapterSocket,
  BroadcastFlags,
  Handshake,
  PrivateSessionId,
  RestoredSession,
  Room,
  SocketId,
  WriteOptions,
} from './adapter.js';
import { assertNotReserved, BroadcastOperator } from './broadcast.js';
import type { Connection } from './connection.js';
import {
  type AnyListener,
  type DefaultEventsMap,
  Emitter,
  type EventNames,
  type EventParams,
  type EventsMap,
} from './emitter.js';
import type { EngineSocket } from './engine.js';
import { AckTimeoutError } from './errors.js';
import type { Namespace } from './namespace.js';
import { type EncodedChunk, encode, type Packet, PacketType } from './parser.js';
import type {
  DecorateAcknowledgements,
  EmitWithAckParams,
  EmitWithAckResult,
  ListenerOf,
  ListenNames,
} from './types.js';

/** Why a server-side socket was disconnected. */
export type DisconnectReason =
  | 'transport error'
  | 'transport close'
  | 'forced close'
  | 'ping timeout'
  | 'parse error'
  | 'server shutting down'
  | 'forced server close'
  | 'client namespace disconnect'
  | 'server namespace disconnect';

/** Reasons after which a session is kept for connection state recovery. */
const RECOVERABLE_REASONS: ReadonlySet<DisconnectReason> = new Set([
  'transport error',
  'transport close',
  'forced close',
  'ping timeout',
  'server shutting down',
  'forced server close',
]);

/** Events the server socket emits locally (cannot be emitted to the peer). */
export interface SocketReservedEvents {
  disconnect: (reason: DisconnectReason, description?: unknown) => void;
  disconnecting: (reason: DisconnectReason, description?: unknown) => void;
  error: (err: Error) => void;
}

/** An event middleware: `fn([event, ...args], next)`. Passing an error to `next` emits `error`. */
export type EventMiddleware = (event: unknown[], next: (err?: Error) => void) => void;

type AckFn = ((...args: unknown[]) => void) & { withError?: boolean };

let socketIdCounter = 0;
/** A socket id: random, URL-safe, 20 characters. */
export function generateId(): string {
  const bytes = new Uint8Array(15);
  crypto.getRandomValues(bytes);
  socketIdCounter = (socketIdCounter + 1) & 0xffff;
  bytes[13] = socketIdCounter >> 8;
  bytes[14] = socketIdCounter & 0xff;
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_');
}

function hasOwnKeys(object: object): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

function parseQuery(url: string): Record<string, string | string[]> {
  // A plain object (fast properties); `__proto__` keys are skipped so no prototype can be set.
  const out: Record<string, string | string[]> = {};
  const q = url.indexOf('?');
  if (q === -1) return out;
  for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
    if (key === '__proto__') continue;
    const existing = out[key];
    if (existing === undefined) out[key] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[key] = [existing, value];
  }
  return out;
}

/**
 * A client's socket in one namespace. Typed like socket.io's: `ListenEvents` are the events the client
 * sends, `EmitEvents` the ones the server sends, `SocketData` the type of {@link Socket.data}.
 */
export class Socket<
    ListenEvents extends EventsMap = DefaultEventsMap,
    EmitEvents extends EventsMap = DefaultEventsMap,
    ServerSideEvents extends EventsMap = DefaultEventsMap,
    SocketData = unknown,
  >
  extends Emitter
  implements AdapterSocket
{
  /** Socket id (also a room this socket is always in). */
  readonly id: SocketId;
  /** Private session id for connection state recovery (sent to the client only). */
  readonly pid: PrivateSessionId | undefined;
  // The handshake details are built on first read (most sockets of an idle server are never asked);
  // what they are made of is kept: the time, and the CONNECT packet's auth unless it was empty.
  #handshake: Handshake | undefined;
  readonly #issued = Date.now();
  readonly #auth: Record<string, unknown> | undefined;
  /** Whether this socket's session was restored (connection state recovery). */
  readonly recovered: boolean;
  // Created on first read: many sockets never use it.
  #data: SocketData | undefined;
  /** Whether the socket is connected to its namespace. */
  connected = false;
  /** The namespace. */
  readonly nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** @internal The engine connection wrapper. */
  readonly client: Connection;

  // Created on first use: most sockets of an idle server never wait for an ack.
  #acks: Map<number, AckFn> | undefined;
  #ackTimers: Map<number, ReturnType<typeof setTimeout>> | undefined;
  #fns: EventMiddleware[] | undefined;
  // Flags of the next emit, set by modifiers (`volatile`, `timeout`...); none on an idle socket.
  #flags: BroadcastFlags | undefined;
  #anyIncoming: AnyListener[] | undefined;
  #anyOutgoing: AnyListener[] | undefined;

  /** @internal Created by the namespace on CONNECT. */
  constructor(
    nsp: Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    client: Connection,
    auth: Record<string, unknown>,
    previous?: RestoredSession,
  ) {
    super();
    this.nsp = nsp;
    this.client = client;
    const recovery = nsp.recovery !== undefined;
    if (previous) {
      this.id = previous.sid;
      this.pid = previous.pid;
      this.data = previous.data as SocketData;
      this.recovered = true;
    } else {
      // Never the engine session id: socket ids are shared with other clients, and a known engine
      // sid would let anyone post into that session (protocol v5: the two ids differ).
      this.id = generateId();
      this.pid = recovery ? generateId() : undefined;
      this.recovered = false;
    }
    this.#auth = hasOwnKeys(auth) ? auth : undefined;
  }

  /** Handshake details, as of the connection (built on first read, then the same object). */
  get handshake(): Handshake {
    if (this.#handshake !== undefined) return this.#handshake;
    const req = this.client.conn.request;
    const url = req.url ?? '/';
    const transportSocket = req.socket ?? req.connection;
    this.#handshake = {
      headers: req.headers,
      time: new Date(this.#issued).toString(),
      address: this.client.conn.remoteAddress ?? transportSocket?.remoteAddress ?? '',
      xdomain: req.headers.origin !== undefined,
      secure: transportSocket?.encrypted === true,
      issued: this.#issued,
      url,
      // As socket.io does: the engine's parsed query, one object for the connection's sockets
      // rather than a parse per socket (repeated keys: the last one wins, as in engine.io).
      query: req._query ?? parseQuery(url),
      auth: this.#auth ?? {},
    };
    return this.#handshake;
  }

  /** Arbitrary application data (an empty object until set), visible to `fetchSockets()`. */
  get data(): SocketData {
    return (this.#data ??= {} as SocketData);
  }

  set data(value: SocketData) {
    this.#data = value;
  }

  /** Whether the socket is disconnected from its namespace. */
  get disconnected(): boolean {
    return !this.connected;
  }

  /** The underlying engine session. */
  get conn(): EngineSocket {
    return this.client.conn;
  }

  /** The first HTTP request of the session. */
  get request(): EngineSocket['request'] {
    return this.client.conn.request;
  }

  /** The namespace's adapter. */
  get adapter(): Namespace['adapter'] {
    return this.nsp.adapter;
  }

  /** The rooms this socket is in (a copy). */
  get rooms(): Set<Room> {
    return new Set(this.nsp.adapter.socketRooms(this.id) ?? []);
  }

  // ---- typed listener API ----

  /** Listens to an event sent by the client, or to a reserved event (`disconnect`, ...). */
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

  /** Removes a listener (or all of an event, or all). */
  override off<Ev extends ListenNames<SocketReservedEvents, ListenEvents>>(
    ev?: Ev,
    listener?: ListenerOf<SocketReservedEvents, ListenEvents, Ev>,
  ): this {
    return super.off(ev, listener as AnyListener | undefined);
  }

  // ---- emitting ----

  /**
   * Emits an event to the client. A trailing function is an acknowledgement callback; after
   * {@link Socket.timeout} it receives `(err, ...response)`. Returns `true`.
   *
   * @throws {RealtimeUsageError} `IO_ERR_RESERVED_EVENT_EMIT` for a reserved event name.
   */
  override emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    assertNotReserved(ev);
    const data: unknown[] = [ev, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: this.nsp.name, data };
    const flags = this.#flags ?? {};
    this.#flags = undefined;
    const last = data[data.length - 1];
    if (typeof last === 'function') {
      data.pop();
      const id = this.nsp.nextAckId();
      packet.id = id;
      this.#registerAck(id, last as AckFn, flags.timeout);
    }
    if (this.nsp.recovery !== undefined && packet.id === undefined && flags.volatile !== true) {
      // Through the adapter, so the packet gets an offset and is kept for recovery.
      this.nsp.adapter.broadcast(packet, { rooms: new Set([this.id]), except: new Set(), flags });
    } else {
      this.notifyOutgoing(packet);
      this.#packet(packet, flags);
    }
    return true;
  }

  /** Emits and resolves with the client's first acknowledgement argument. */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: EmitWithAckParams<EmitEvents, Ev>
  ): Promise<EmitWithAckResult<EmitEvents, Ev>> {
    const withErr = this.#flags?.timeout !== undefined;
    return new Promise((resolve, reject) => {
      const cb = withErr
        ? (err: Error | null, response: unknown) => (err ? reject(err) : resolve(response as never))
        : (response: unknown) => resolve(response as never);
      (this.emit as (ev: string, ...rest: unknown[]) => boolean)(ev, ...(args as unknown[]), cb);
    });
  }

  /** Sends a `message` event. */
  send(...args: unknown[]): this {
    (this.emit as (ev: string, ...rest: unknown[]) => boolean)('message', ...(args as unknown[]));
    return this;
  }

  /** Alias of {@link Socket.send}. */
  write(...args: unknown[]): this {
    return this.send(...args);
  }

  #registerAck(id: number, ack: AckFn, timeout: number | undefined): void {
    const acks = (this.#acks ??= new Map());
    if (timeout === undefined) {
      acks.set(id, ack);
      return;
    }
    const timers = (this.#ackTimers ??= new Map());
    const timer = setTimeout(() => {
      acks.delete(id);
      timers.delete(id);
      ack.call(this, new AckTimeoutError());
    }, timeout);
    const wrapped: AckFn = (...args: unknown[]) => {
      clearTimeout(timer);
      timers.delete(id);
      ack.apply(this, [null, ...args]);
    };
    wrapped.withError = true;
    acks.set(id, wrapped);
    timers.set(id, timer);
  }

  /** @internal Adapter hook. */
  registerAck(id: number, ack: (...args: unknown[]) => void): void {
    (this.#acks ??= new Map()).set(id, ack);
  }

  /** @internal Adapter hook: lets `onAnyOutgoing` listeners see a packet. */
  notifyOutgoing(packet: Packet): void {
    if (!this.#anyOutgoing?.length || !Array.isArray(packet.data)) return;
    for (const listener of this.#anyOutgoing.slice()) listener.apply(this, packet.data);
  }

  #packet(packet: Packet, flags: BroadcastFlags = {}): void {
    packet.nsp = this.nsp.name;
    this.writeEncoded(encode(packet), {
      volatile: flags.volatile === true,
      compress: flags.compress !== false,
    });
  }

  /** @internal Adapter hook: writes pre-encoded chunks. */
  writeEncoded(chunks: EncodedChunk[], options: WriteOptions): void {
    this.client.writeToEngine(chunks, options);
  }

  // ---- modifiers ----

  /** The next emit is sent compressed or not. */
  compress(compress: boolean): this {
    (this.#flags ??= {}).compress = compress;
    return this;
  }

  /** The next emit may be dropped if the transport is not writable. */
  get volatile(): this {
    (this.#flags ??= {}).volatile = true;
    return this;
  }

  /** The next emit expects an ack within `timeout` ms; the callback gets `(err, ...response)`. */
  timeout(
    timeout: number,
  ): Socket<ListenEvents, DecorateAcknowledgements<EmitEvents>, ServerSideEvents, SocketData> {
    (this.#flags ??= {}).timeout = timeout;
    return this as unknown as Socket<
      ListenEvents,
      DecorateAcknowledgements<EmitEvents>,
      ServerSideEvents,
      SocketData
    >;
  }

  #operator(): BroadcastOperator<EmitEvents, SocketData> {
    const flags = this.#flags ?? {};
    this.#flags = undefined;
    return new BroadcastOperator<EmitEvents, SocketData>(
      this.nsp.adapter,
      new Set(),
      new Set([this.id]),
      flags,
    );
  }

  /** Broadcasts to every other socket of the namespace. */
  get broadcast(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator();
  }

  /** Broadcasts to this node only. */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().local;
  }

  /** Broadcasts to `room`, excluding this socket. */
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().to(room);
  }

  /** Alias of {@link Socket.to}. */
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Broadcasts to every other socket except those of `room`. */
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().except(room);
  }

  // ---- rooms ----

  /** Joins `rooms`. */
  join(rooms: Room | Room[]): Promise<void> | void {
    return this.nsp.adapter.addAll(this.id, Array.isArray(rooms) ? rooms : [rooms]);
  }

  /** Leaves `room`. */
  leave(room: Room): Promise<void> | void {
    return this.nsp.adapter.del(this.id, room);
  }

  // ---- middleware and catch-all listeners ----

  /** Registers an event middleware, run for every incoming event before its listeners. */
  use(fn: EventMiddleware): this {
    (this.#fns ??= []).push(fn);
    return this;
  }

  /** Listens to every incoming event: `listener(event, ...args)`. */
  onAny(listener: (event: string, ...args: unknown[]) => void): this {
    (this.#anyIncoming ??= []).push(listener as AnyListener);
    return this;
  }

  /** Like {@link Socket.onAny}, first in line. */
  prependAny(listener: (event: string, ...args: unknown[]) => void): this {
    (this.#anyIncoming ??= []).unshift(listener as AnyListener);
    return this;
  }

  /** Removes a catch-all listener, or all of them. */
  offAny(listener?: (event: string, ...args: unknown[]) => void): this {
    this.#anyIncoming = listener ? this.#anyIncoming?.filter((l) => l !== listener) : undefined;
    return this;
  }

  /** The catch-all listeners. */
  listenersAny(): AnyListener[] {
    return this.#anyIncoming?.slice() ?? [];
  }

  /** Listens to every outgoing event (including broadcasts reaching this socket). */
  onAnyOutgoing(listener: (event: string, ...args: unknown[]) => void): this {
    (this.#anyOutgoing ??= []).push(listener as AnyListener);
    return this;
  }

  /** Like {@link Socket.onAnyOutgoing}, first in line. */
  prependAnyOutgoing(listener: (event: string, ...args: unknown[]) => void): this {
    (this.#anyOutgoing ??= []).unshift(listener as AnyListener);
    return this;
  }

  /** Removes an outgoing catch-all listener, or all of them. */
  offAnyOutgoing(listener?: (event: string, ...args: unknown[]) => void): this {
    this.#anyOutgoing = listener ? this.#anyOutgoing?.filter((l) => l !== listener) : undefined;
    return this;
  }

  /** The outgoing catch-all listeners. */
  listenersAnyOutgoing(): AnyListener[] {
    return this.#anyOutgoing?.slice() ?? [];
  }

  // ---- lifecycle ----

  /** @internal Called by the namespace once middlewares accepted the socket. */
  onconnect(missedPackets: unknown[][]): void {
    this.connected = true;
    void this.join(this.id);
    const data: Record<string, unknown> = { sid: this.id };
    if (this.pid !== undefined) data.pid = this.pid;
    this.#packet({ type: PacketType.CONNECT, nsp: this.nsp.name, data });
    for (const args of missedPackets)
      this.#packet({ type: PacketType.EVENT, nsp: this.nsp.name, data: args });
  }

  /** @internal Sends CONNECT_ERROR (middleware refusal). */
  connectError(message: string, data: unknown): void {
    const payload: Record<string, unknown> = { message };
    if (data !== undefined) payload.data = data;
    this.#packet({ type: PacketType.CONNECT_ERROR, nsp: this.nsp.name, data: payload });
  }

  /** @internal Dispatches a packet from the client. */
  onpacket(packet: Packet): void {
    if (!this.connected) return;
    switch (packet.type) {
      case PacketType.EVENT:
      case PacketType.BINARY_EVENT:
        this.#onevent(packet);
        break;
      case PacketType.ACK:
      case PacketType.BINARY_ACK:
        this.#onack(packet);
        break;
      case PacketType.DISCONNECT:
        this.onclose('client namespace disconnect');
        break;
    }
  }

  #onevent(packet: Packet): void {
    // The decoder produced this array for this packet alone: it can be extended in place.
    const args = packet.data as unknown[];
    if (packet.id !== undefined) args.push(this.#ack(packet.id));
    if (this.#anyIncoming?.length) {
      for (const listener of this.#anyIncoming.slice()) listener.apply(this, args);
    }
    this.#run(args, (err) => {
      if (err) {
        this.#onerror(err);
        return;
      }
      if (this.connected) this.emitReserved(String(args[0]), ...args.slice(1));
    });
  }

  #run(event: unknown[], done: (err?: Error) => void): void {
    if (!this.#fns?.length) {
      done();
      return;
    }
    const fns = this.#fns.slice();
    const step = (i: number): void => {
      fns[i]!(event, (err) => {
        if (err) done(err);
        else if (i + 1 < fns.length) step(i + 1);
        else done();
      });
    };
    step(0);
  }

  #onerror(err: Error): void {
    // Like socket.io: without an `error` listener the error is dropped rather than thrown,
    // because it originates from peer-triggered middleware.
    if (this.listenerCount('error') > 0) this.emitReserved('error', err);
  }

  #ack(id: number): (...args: unknown[]) => void {
    let sent = false;
    return (...args: unknown[]) => {
      if (sent || !this.connected) return;
      sent = true;
      this.#packet({ type: PacketType.ACK, nsp: this.nsp.name, id, data: args });
    };
  }

  #onack(packet: Packet): void {
    const id = packet.id as number;
    const ack = this.#acks?.get(id);
    if (typeof ack !== 'function') return;
    this.#acks!.delete(id);
    ack.apply(this, packet.data as unknown[]);
  }

  /** @internal Closes the socket's presence in the namespace. */
  onclose(reason: DisconnectReason, description?: unknown): void {
    if (!this.connected) return;
    this.emitReserved('disconnecting', reason, description);
    if (this.pid !== undefined && RECOVERABLE_REASONS.has(reason)) {
      void this.nsp.adapter.persistSession({
        sid: this.id,
        pid: this.pid,
        rooms: [...this.rooms],
        data: this.data,
      });
    }
    this.nsp.adapter.delAll(this.id);
    this.nsp.removeSocket(this);
    this.client.removeSocket(this);
    this.connected = false;
    for (const [id, timer] of this.#ackTimers ?? []) {
      clearTimeout(timer);
      const ack = this.#acks?.get(id);
      this.#acks?.delete(id);
      ack?.call(this, new AckTimeoutError('socket has been disconnected'));
    }
    this.#ackTimers = undefined;
    this.#acks = undefined;
    this.emitReserved('disconnect', reason, description);
  }

  /**
   * Disconnects from the namespace (sends DISCONNECT). With `close`, closes the whole underlying
   * connection (every namespace of this client).
   */
  disconnect(close = false): this {
    if (!this.connected) return this;
    if (close) {
      this.client.disconnectAll();
    } else {
      this.#packet({ type: PacketType.DISCONNECT, nsp: this.nsp.name });
      this.onclose('server namespace disconnect');
    }
    return this;
  }
}
