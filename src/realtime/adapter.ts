/**
 * The adapter contract: where a namespace keeps its rooms and how it reaches sockets, locally and on
 * other nodes.
 *
 * - {@link Adapter} is the in-memory default: rooms -> socket ids, socket id -> rooms, broadcast with
 *   flags (rooms, except, local, volatile, compress), `fetchSockets`, `addSockets`/`delSockets`,
 *   `disconnectSockets`, `serverSideEmit`.
 * - {@link SessionAwareAdapter} adds the session persistence that connection state recovery needs:
 *   every non-volatile, ack-less event broadcast gets an offset (appended as its last argument, as the
 *   protocol's recovery scheme expects) and is kept for `maxDisconnectionDuration`; a disconnected
 *   socket's session (id, rooms, data) is kept as long.
 * - `ClusterAdapter` (./cluster-adapter.ts) forwards all of this between nodes; a backend implements
 *   only publish/subscribe and request/response.
 *
 * @module
 */

import { Emitter } from './emitter.js';
import { RealtimeUsageError } from './errors.js';
import { type EncodedChunk, encode, type Packet, PacketType } from './parser.js';

/** A room name. Every socket is in the room named after its own id. */
export type Room = string;
/** A Socket.IO socket id (not the engine session id). */
export type SocketId = string;
/** The private session id given to a client for connection state recovery. */
export type PrivateSessionId = string;

/** Flags of a broadcast. */
export interface BroadcastFlags {
  /** Drop the packet for a socket whose transport is not writable right now. */
  volatile?: boolean;
  /** Compress the packet (permessage-deflate / HTTP compression), when supported. */
  compress?: boolean;
  /** Only reach sockets of this node. */
  local?: boolean;
  /** Acknowledgement timeout in ms. */
  timeout?: number;
  /** `emitWithAck`/`timeout().emit` on a single socket: the callback receives one response. */
  expectSingleResponse?: boolean;
}

/** Which sockets a broadcast reaches: the union of `rooms` (all sockets if empty) minus `except`. */
export interface BroadcastOptions {
  rooms: Set<Room>;
  except?: Set<Room>;
  flags?: BroadcastFlags;
}

/** Options of a write to one engine connection. */
export interface WriteOptions {
  volatile?: boolean;
  compress?: boolean;
}

/** The handshake details of a socket. */
export interface Handshake {
  /** Request headers of the first HTTP request. */
  headers: Record<string, string | string[] | undefined>;
  /** Creation date, `Date#toString()`. */
  time: string;
  /** Peer address. */
  address: string;
  /** Whether the request had an `Origin` header (cross-domain). */
  xdomain: boolean;
  /** Whether the connection is TLS. */
  secure: boolean;
  /** Creation date in ms since the epoch. */
  issued: number;
  /** Request URL. */
  url: string;
  /** Parsed query string. */
  query: Record<string, string | string[]>;
  /** The `auth` payload of the CONNECT packet. */
  auth: Record<string, unknown>;
}

/** What the adapter needs from a local socket. Implemented by the server `Socket`. */
export interface AdapterSocket {
  readonly id: SocketId;
  readonly handshake: Handshake;
  readonly data: unknown;
  /** Writes pre-encoded chunks to the socket's engine connection. */
  writeEncoded(chunks: EncodedChunk[], options: WriteOptions): void;
  /** Lets `onAnyOutgoing` listeners see a broadcast packet. */
  notifyOutgoing(packet: Packet): void;
  /** Registers an acknowledgement callback for packet id `id`. */
  registerAck(id: number, ack: (...args: unknown[]) => void): void;
  /** Disconnects the socket from the namespace (and the whole connection if `close`). */
  disconnect(close?: boolean): unknown;
}

/** What the adapter needs from its namespace. Implemented by `Namespace`. */
export interface AdapterNamespace {
  readonly name: string;
  readonly sockets: ReadonlyMap<SocketId, AdapterSocket>;
  /** Allocates an acknowledgement id (unique within the namespace). */
  nextAckId(): number;
  /** Delivers a server-side event (from another node) to local listeners. */
  onServerSideEmit(args: unknown[]): void;
  /** Connection state recovery settings, when enabled. */
  readonly recovery?: { maxDisconnectionDuration: number } | undefined;
}

/** A socket as seen by `fetchSockets`: a plain, serializable description. */
export interface SocketDetails {
  id: SocketId;
  handshake: Handshake;
  rooms: Set<Room>;
  data: unknown;
}

/** A persisted session, restored on reconnection. */
export interface Session {
  sid: SocketId;
  pid: PrivateSessionId;
  rooms: Room[];
  data: unknown;
}

/** A restored session with the packets the client missed. */
export interface RestoredSession extends Session {
  /** Event payloads (`[eventName, ...args, offset]`) to replay, in order. */
  missedPackets: unknown[][];
}

/** Callback of a server-side emit with ack: `(err, responses)`. */
export type ServerSideAck = (err: Error | null, responses: unknown[]) => void;

/** Constructor of an adapter, as passed in the server's `adapter` option. */
export type AdapterConstructor = new (nsp: AdapterNamespace) => Adapter;

/**
 * In-memory adapter, the default. All costs are local: `broadcast` encodes the packet once and walks
 * the union of the target rooms (O(targeted sockets)); `addAll`/`del` are O(rooms).
 *
 * Emits, as socket.io's adapter does: `create-room(room)`, `delete-room(room)`,
 * `join-room(room, id)`, `leave-room(room, id)`.
 */
export class Adapter extends Emitter {
  /** The namespace this adapter serves. */
  readonly nsp: AdapterNamespace;
  /** Room -> socket ids. */
  readonly rooms = new Map<Room, Set<SocketId>>();
  /** Socket id -> rooms. */
  readonly sids = new Map<SocketId, Set<Room>>();

  constructor(nsp: AdapterNamespace) {
    super();
    this.nsp = nsp;
  }

  /** Called once by the namespace; backends connect here. */
  init(): Promise<void> | void {}

  /** Called by `io.close()`; backends disconnect here. */
  close(): Promise<void> | void {}

  /** Number of nodes in the cluster (1 for the in-memory adapter). */
  serverCount(): Promise<number> {
    return Promise.resolve(1);
  }

  /**
   * Adds socket `id` to `rooms`.
   *
   * Every socket first joins its own room, `id`, and most never join another. For those, one Set
   * `{id}` is both `sids.get(id)` (its rooms) and `rooms.get(id)` (the room's members): a Set and
   * its table less per idle socket (issue 5). The two are split again, by {@link Adapter.#unshare},
   * before either is changed; while shared, the Set holds exactly `id`.
   */
  addAll(id: SocketId, rooms: Iterable<Room>): Promise<void> | void {
    let own = this.sids.get(id);
    for (const room of rooms) {
      if (own === undefined && room === id && !this.rooms.has(id)) {
        own = new Set([id]);
        this.sids.set(id, own);
        this.rooms.set(id, own);
        this.emitReserved('create-room', room);
        this.emitReserved('join-room', room, id);
        continue;
      }
      if (own === undefined) {
        own = new Set();
        this.sids.set(id, own);
      }
      this.#unshare(id);
      own.add(room);
      let members = this.#unshare(room);
      if (!members) {
        members = new Set();
        this.rooms.set(room, members);
        this.emitReserved('create-room', room);
      }
      if (!members.has(id)) {
        members.add(id);
        this.emitReserved('join-room', room, id);
      }
    }
  }

  /** Gives room `id` a Set of its own if it shares socket `id`'s (see addAll); returns the room's. */
  #unshare(id: string): Set<SocketId> | undefined {
    const members = this.rooms.get(id);
    if (members === undefined || members !== this.sids.get(id)) return members;
    const copy = new Set(members);
    this.rooms.set(id, copy);
    return copy;
  }

  /** Removes socket `id` from `room`. */
  del(id: SocketId, room: Room): Promise<void> | void {
    this.#unshare(id);
    this.sids.get(id)?.delete(room);
    this.#leaveRoom(id, room);
  }

  /** Removes socket `id` from every room. */
  delAll(id: SocketId): void {
    const own = this.sids.get(id);
    if (!own) return;
    // A shared `{id}` needs no split: leaving room `id` empties it, and the entry goes below.
    for (const room of own) this.#leaveRoom(id, room);
    this.sids.delete(id);
  }

  #leaveRoom(id: SocketId, room: Room): void {
    const members = this.rooms.get(room);
    if (!members?.delete(id)) return;
    this.emitReserved('leave-room', room, id);
    if (members.size === 0 && this.rooms.delete(room)) this.emitReserved('delete-room', room);
  }

  /** The rooms of socket `id`, or `undefined` if unknown. */
  socketRooms(id: SocketId): Set<Room> | undefined {
    return this.sids.get(id);
  }

  /** Local socket ids matching `opts` (rooms union, minus except). */
  sockets(rooms: Set<Room>): Promise<Set<SocketId>> {
    const ids = new Set<SocketId>();
    this.apply({ rooms }, (socket) => ids.add(socket.id));
    return Promise.resolve(ids);
  }

  /** Calls `fn` for every local socket matched by `opts`. */
  apply(opts: BroadcastOptions, fn: (socket: AdapterSocket) => void): void {
    const except = this.#computeExcept(opts.except);
    const sockets = this.nsp.sockets;
    if (opts.rooms.size > 0) {
      const seen = new Set<SocketId>();
      for (const room of opts.rooms) {
        const members = this.rooms.get(room);
        if (!members) continue;
        for (const id of members) {
          if (seen.has(id) || except.has(id)) continue;
          const socket = sockets.get(id);
          if (socket) {
            seen.add(id);
            fn(socket);
          }
        }
      }
    } else {
      for (const [id, socket] of sockets) {
        if (!except.has(id)) fn(socket);
      }
    }
  }

  #computeExcept(except: Set<Room> | undefined): Set<SocketId> {
    const out = new Set<SocketId>();
    if (!except || except.size === 0) return out;
    for (const room of except) {
      const members = this.rooms.get(room);
      if (members) for (const id of members) out.add(id);
    }
    return out;
  }

  /** Encodes `packet` once and writes it to every local socket matched by `opts`. */
  broadcast(packet: Packet, opts: BroadcastOptions): void {
    const flags = opts.flags ?? {};
    const writeOptions: WriteOptions = {
      volatile: flags.volatile === true,
      compress: flags.compress !== false,
    };
    packet.nsp = this.nsp.name;
    const chunks = encode(packet);
    this.apply(opts, (socket) => {
      socket.notifyOutgoing(packet);
      socket.writeEncoded(chunks, writeOptions);
    });
  }

  /**
   * Like {@link Adapter.broadcast}, but each socket must acknowledge: `clientCountCallback` receives how
   * many sockets were reached on this node, `ack` each response.
   */
  broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (count: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    const flags = opts.flags ?? {};
    const writeOptions: WriteOptions = {
      volatile: flags.volatile === true,
      compress: flags.compress !== false,
    };
    packet.nsp = this.nsp.name;
    // One id for every socket: ids come from the namespace's counter, so they never collide.
    const id = this.nsp.nextAckId();
    packet.id = id;
    const chunks = encode(packet);
    let count = 0;
    this.apply(opts, (socket) => {
      count++;
      socket.registerAck(id, ack);
      socket.notifyOutgoing(packet);
      socket.writeEncoded(chunks, writeOptions);
    });
    clientCountCallback(count);
  }

  /** Describes the sockets matched by `opts`. */
  fetchSockets(opts: BroadcastOptions): Promise<SocketDetails[]> {
    const out: SocketDetails[] = [];
    this.apply(opts, (socket) => {
      out.push({
        id: socket.id,
        handshake: socket.handshake,
        rooms: new Set(this.sids.get(socket.id) ?? []),
        data: socket.data,
      });
    });
    return Promise.resolve(out);
  }

  /** Makes the sockets matched by `opts` join `rooms`. */
  addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    this.apply(opts, (socket) => {
      void this.addAll(socket.id, rooms);
    });
  }

  /** Makes the sockets matched by `opts` leave `rooms`. */
  delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    this.apply(opts, (socket) => {
      for (const room of rooms) void this.del(socket.id, room);
    });
  }

  /** Disconnects the sockets matched by `opts`. */
  disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    const targets: AdapterSocket[] = [];
    this.apply(opts, (socket) => targets.push(socket));
    for (const socket of targets) socket.disconnect(close);
  }

  /**
   * Sends a server-side event to the other nodes (never to this one). With a trailing callback
   * `(err, responses)`, it is called once every other node answered; with no other node, at once
   * with `[]`.
   */
  serverSideEmit(args: unknown[]): void {
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      (last as ServerSideAck)(null, []);
    }
  }

  /** Persists a session for recovery. The plain adapter keeps nothing. */
  persistSession(_session: Session): Promise<void> | void {}

  /** Restores a session, or `null`. The plain adapter keeps nothing. */
  restoreSession(_pid: PrivateSessionId, _offset: string): Promise<RestoredSession | null> {
    return Promise.resolve(null);
  }
}

/** Options of {@link SessionAwareAdapter}. */
export interface SessionAwareOptions {
  /** How long a session and the packets it may miss are kept, in ms (default 2 minutes). */
  maxDisconnectionDuration: number;
}

interface StoredPacket {
  id: string;
  emittedAt: number;
  opts: { rooms: Set<Room>; except: Set<Room> };
  data: unknown[];
}

let offsetCounter = 0;
/** A new offset: unique and increasing on this node (time in base 36 + counter). */
function nextOffset(): string {
  offsetCounter = (offsetCounter + 1) % 0x100000;
  return Date.now().toString(36) + '-' + offsetCounter.toString(36);
}

/**
 * In-memory adapter with session persistence for connection state recovery. Memory: every
 * non-volatile, ack-less event of the namespace is kept for `maxDisconnectionDuration` (swept every
 * minute, and on every restore), plus one record per recently disconnected socket.
 */
export class SessionAwareAdapter extends Adapter {
  readonly #maxDisconnectionDuration: number;
  readonly #sessions = new Map<PrivateSessionId, { session: Session; disconnectedAt: number }>();
  #packets: StoredPacket[] = [];
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(nsp: AdapterNamespace) {
    super(nsp);
    const duration = nsp.recovery?.maxDisconnectionDuration ?? 120_000;
    if (!(duration >= 0)) {
      throw new RealtimeUsageError('IO_ERR_INVALID_OPTION', 'maxDisconnectionDuration must be >= 0');
    }
    this.#maxDisconnectionDuration = duration;
    this.#timer = setInterval(() => this.#sweep(), Math.min(60_000, Math.max(1000, duration)));
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #sweep(): void {
    const threshold = Date.now() - this.#maxDisconnectionDuration;
    for (const [pid, entry] of this.#sessions) {
      if (entry.disconnectedAt < threshold) this.#sessions.delete(pid);
    }
    let i = 0;
    while (i < this.#packets.length && this.#packets[i]!.emittedAt < threshold) i++;
    if (i > 0) this.#packets = this.#packets.slice(i);
  }

  override close(): void {
    clearInterval(this.#timer);
  }

  override persistSession(session: Session): void {
    this.#sessions.set(session.pid, { session, disconnectedAt: Date.now() });
  }

  override restoreSession(pid: PrivateSessionId, offset: string): Promise<RestoredSession | null> {
    this.#sweep();
    const entry = this.#sessions.get(pid);
    if (!entry) return Promise.resolve(null);
    // A session is restored at most once.
    this.#sessions.delete(pid);
    const index = this.#packets.findIndex((p) => p.id === offset);
    if (index === -1) return Promise.resolve(null);
    const rooms = new Set(entry.session.rooms);
    const missedPackets: unknown[][] = [];
    for (let i = index + 1; i < this.#packets.length; i++) {
      const p = this.#packets[i]!;
      const included =
        (p.opts.rooms.size === 0 || [...p.opts.rooms].some((r) => rooms.has(r))) &&
        ![...p.opts.except].some((r) => rooms.has(r));
      if (included) missedPackets.push(p.data);
    }
    return Promise.resolve({ ...entry.session, missedPackets });
  }

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    const isEvent = packet.type === PacketType.EVENT;
    // Packets with an ack are not stored: the callback cannot be restored on reconnection.
    const withoutAck = packet.id === undefined;
    const notVolatile = opts.flags?.volatile !== true;
    if (isEvent && withoutAck && notVolatile && Array.isArray(packet.data)) {
      const id = nextOffset();
      // The offset travels as the last argument, so the client can tell which packet it saw last.
      packet.data.push(id);
      this.#packets.push({
        id,
        emittedAt: Date.now(),
        opts: { rooms: new Set(opts.rooms), except: new Set(opts.except ?? []) },
        data: packet.data,
      });
    }
    super.broadcast(packet, opts);
  }
}
