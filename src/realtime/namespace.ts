/**
 * `Namespace`: a communication channel multiplexed over the engine connections, with its own
 * middlewares, sockets, rooms (through its adapter) and event handlers. `ParentNamespace` is the
 * dynamic form (`io.of(/regex/)` or `io.of(fn)`): matching names create child namespaces on demand.
 *
 * @module
 */

import {
  Adapter,
  type AdapterConstructor,
  type AdapterNamespace,
  type BroadcastOptions,
  type RestoredSession,
  type Room,
  type ServerSideAck,
  type SocketDetails,
  type SocketId,
} from './adapter.js';
import { assertNotReserved, BroadcastOperator, type RemoteSocket } from './broadcast.js';
import type { Connection } from './connection.js';
import {
  type AnyListener,
  type DefaultEventsMap,
  Emitter,
  type EventNames,
  type EventParams,
  type EventsMap,
} from './emitter.js';
import { RealtimeUsageError } from './errors.js';
import type { Packet } from './parser.js';
import type { Server } from './server.js';
import { Socket } from './socket.js';
import type {
  DecorateAcknowledgementsWithMultipleResponses,
  EmitWithAckParams,
  EmitWithAckResult,
  ListenerOf,
  ListenNames,
} from './types.js';

/** An error a connection middleware may pass to `next`; `data` reaches the client's `connect_error`. */
export interface MiddlewareError extends Error {
  data?: unknown;
}

/** A connection middleware: `fn(socket, next)`; `next(err)` refuses the connection. */
export type Middleware<S> = (socket: S, next: (err?: MiddlewareError) => void) => void;

/** Events a namespace emits locally. */
export interface NamespaceReservedEvents<S> {
  connect: (socket: S) => void;
  connection: (socket: S) => void;
}

/**
 * A namespace. Typed like socket.io's: `ListenEvents` (client -> server), `EmitEvents`
 * (server -> client), `ServerSideEvents` (server <-> server), `SocketData`.
 */
export class Namespace<
    ListenEvents extends EventsMap = DefaultEventsMap,
    EmitEvents extends EventsMap = DefaultEventsMap,
    ServerSideEvents extends EventsMap = DefaultEventsMap,
    SocketData = unknown,
  >
  extends Emitter
  implements AdapterNamespace
{
  /** Namespace name, starting with `/`. */
  readonly name: string;
  /** The server. */
  readonly server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>;
  /** Connected sockets by id. */
  readonly sockets = new Map<SocketId, Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  /** The adapter (rooms and broadcast). */
  readonly adapter: Adapter;
  /** @internal */
  fns: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>[] = [];
  #ids = 0;

  /** @internal Use `io.of(name)`. */
  constructor(
    server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    name: string,
    adapterConstructor: AdapterConstructor = server.adapterConstructor,
  ) {
    super();
    this.server = server;
    this.name = name;
    this.adapter = new adapterConstructor(this);
    void this.adapter.init();
  }

  /** Connection state recovery settings of the server, if enabled. */
  get recovery(): { maxDisconnectionDuration: number; skipMiddlewares: boolean } | undefined {
    return this.server.recovery;
  }

  /** @internal Allocates an acknowledgement id. */
  nextAckId(): number {
    const id = this.#ids;
    this.#ids = (this.#ids + 1) % Number.MAX_SAFE_INTEGER;
    return id;
  }

  /** Listens to `connection`/`connect` or to server-side events from other nodes. */
  override on<
    Ev extends ListenNames<
      NamespaceReservedEvents<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>,
      ServerSideEvents
    >,
  >(
    ev: Ev,
    listener: ListenerOf<
      NamespaceReservedEvents<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>,
      ServerSideEvents,
      Ev
    >,
  ): this {
    return super.on(ev, listener as AnyListener);
  }

  /** Registers a connection middleware. */
  use(fn: Middleware<Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>): this {
    this.fns.push(fn);
    return this;
  }

  #run(
    socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>,
    done: (err?: MiddlewareError) => void,
  ) {
    const fns = this.fns.slice();
    if (fns.length === 0) {
      done();
      return;
    }
    const step = (i: number): void => {
      let called = false;
      try {
        fns[i]!(socket, (err) => {
          if (called) return;
          called = true;
          if (err) done(err);
          else if (i + 1 < fns.length) step(i + 1);
          else done();
        });
      } catch (err) {
        if (!called) {
          called = true;
          done(err as MiddlewareError);
        }
      }
    };
    step(0);
  }

  /**
   * @internal Handles a CONNECT for this namespace: restores the session if asked, runs middlewares,
   * and answers CONNECT or CONNECT_ERROR. `done` receives the socket, or `null` if refused.
   */
  addSocket(
    client: Connection,
    auth: Record<string, unknown>,
    done: (socket: Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData> | null) => void,
  ): void {
    const pid = auth.pid;
    const offset = auth.offset;
    const restore: Promise<RestoredSession | null> =
      this.recovery && typeof pid === 'string' && typeof offset === 'string'
        ? this.adapter.restoreSession(pid, offset).catch(() => null)
        : Promise.resolve(null);
    void restore.then((session) => {
      if (!client.open) {
        done(null);
        return;
      }
      const cleanAuth = { ...auth };
      if (this.recovery) {
        delete cleanAuth.pid;
        delete cleanAuth.offset;
      }
      const socket = new Socket<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(
        this,
        client,
        cleanAuth,
        session ?? undefined,
      );
      const finish = (): void => {
        this.sockets.set(socket.id, socket);
        if (session) void this.adapter.addAll(socket.id, session.rooms);
        done(socket);
        socket.onconnect(session?.missedPackets ?? []);
        this.emitReserved('connect', socket);
        this.emitReserved('connection', socket);
      };
      if (session && this.recovery?.skipMiddlewares) {
        finish();
        return;
      }
      this.#run(socket, (err) => {
        if (!client.open) {
          done(null);
          return;
        }
        if (err) {
          socket.connectError(err.message ?? String(err), err.data);
          done(null);
          return;
        }
        finish();
      });
    });
  }

  /** @internal */
  removeSocket(socket: { id: SocketId }): void {
    this.sockets.delete(socket.id);
    if (this.sockets.size === 0) this.onEmpty?.();
  }

  /** @internal Called when the last socket left (used to clean up empty child namespaces). */
  onEmpty: (() => void) | undefined;

  /** @internal A server-side event from another node. */
  onServerSideEmit(args: unknown[]): void {
    this.emitReserved(String(args[0]), ...args.slice(1));
  }

  // ---- broadcast shortcuts ----

  #operator(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator<EmitEvents, SocketData>(this.adapter);
  }

  /** Targets `room`. */
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().to(room);
  }

  /** Alias of {@link Namespace.to}. */
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().to(room);
  }

  /** Excludes `room`. */
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().except(room);
  }

  /** Emits to every socket of the namespace. */
  override emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.#operator().emit(ev, ...args);
  }

  /** Emits to every socket and collects their acknowledgements. */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: EmitWithAckParams<EmitEvents, Ev>
  ): Promise<EmitWithAckResult<EmitEvents, Ev>> {
    return this.#operator().emitWithAck(ev, ...args);
  }

  /** Sends a `message` event to every socket. */
  send(...args: unknown[]): this {
    (this.emit as (ev: string, ...rest: unknown[]) => boolean)('message', ...(args as unknown[]));
    return this;
  }

  /** Alias of {@link Namespace.send}. */
  write(...args: unknown[]): this {
    return this.send(...args);
  }

  /** Compression flag for the next broadcast. */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().compress(compress);
  }

  /** Volatile broadcast. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().volatile;
  }

  /** Local (this node only) broadcast. */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#operator().local;
  }

  /** Broadcast whose acknowledgements are awaited for `timeout` ms. */
  timeout(
    timeout: number,
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    return this.#operator().timeout(timeout);
  }

  /** Describes the sockets of the namespace (every node). */
  fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    return this.#operator().fetchSockets();
  }

  /** Ids of every socket of the namespace (every node). */
  allSockets(): Promise<Set<SocketId>> {
    return this.#operator().allSockets();
  }

  /** Makes every socket join `room`. */
  socketsJoin(room: Room | Room[]): void {
    this.#operator().socketsJoin(room);
  }

  /** Makes every socket leave `room`. */
  socketsLeave(room: Room | Room[]): void {
    this.#operator().socketsLeave(room);
  }

  /** Disconnects every socket. */
  disconnectSockets(close = false): void {
    this.#operator().disconnectSockets(close);
  }

  /**
   * Emits an event to the other nodes of the cluster (not to this one). A trailing callback gets
   * `(err, responses)` once every other node answered (at once with `[]` on a single node).
   */
  serverSideEmit<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EventParams<DecorateAcknowledgementsWithMultipleResponses<ServerSideEvents>, Ev>
  ): boolean {
    assertNotReserved(ev);
    if (ev === 'connection' || ev === 'new_namespace') {
      throw new RealtimeUsageError('IO_ERR_RESERVED_EVENT_EMIT', `"${ev}" is a reserved event name`);
    }
    this.adapter.serverSideEmit([ev, ...args]);
    return true;
  }

  /** Promise form of {@link Namespace.serverSideEmit} with an acknowledgement. */
  serverSideEmitWithAck<Ev extends EventNames<ServerSideEvents>>(
    ev: Ev,
    ...args: EmitWithAckParams<ServerSideEvents, Ev>
  ): Promise<EmitWithAckResult<DecorateAcknowledgementsWithMultipleResponses<ServerSideEvents>, Ev>> {
    return new Promise((resolve, reject) => {
      const cb: ServerSideAck = (err, responses) => (err ? reject(err) : resolve(responses as never));
      (this.serverSideEmit as (ev: string, ...rest: unknown[]) => boolean)(ev, ...(args as unknown[]), cb);
    });
  }
}

/**
 * Adapter of a parent (dynamic) namespace: it has no sockets of its own; broadcasts, room changes,
 * fetches and disconnects apply to every child namespace's adapter.
 */
class ParentAdapter extends Adapter {
  #children(): Adapter[] {
    const parent = this.nsp as unknown as { children?: Set<{ adapter: Adapter }> };
    return [...(parent.children ?? [])].map((c) => c.adapter);
  }

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    for (const child of this.#children()) child.broadcast({ ...packet, data: copyData(packet.data) }, opts);
  }

  override broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (count: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    // Children on this node answer their counts synchronously; report their sum once for this node.
    let total = 0;
    for (const child of this.#children()) {
      child.broadcastWithAck({ ...packet, data: copyData(packet.data) }, opts, (n) => (total += n), ack);
    }
    clientCountCallback(total);
  }

  override async fetchSockets(opts: BroadcastOptions): Promise<SocketDetails[]> {
    const all = await Promise.all(this.#children().map((c) => c.fetchSockets(opts)));
    return all.flat();
  }

  override addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const child of this.#children()) child.addSockets(opts, rooms);
  }

  override delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    for (const child of this.#children()) child.delSockets(opts, rooms);
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    for (const child of this.#children()) child.disconnectSockets(opts, close);
  }
}

function copyData(data: unknown): unknown {
  // Each child's adapter may append a recovery offset to the array: give each its own copy.
  return Array.isArray(data) ? data.slice() : data;
}

/**
 * A dynamic namespace: `io.of(/^\/room-\d+$/)` or `io.of((name, auth, next) => next(null, true))`.
 * Its middlewares and `connection` listeners are copied to each child created from it; `emit` reaches
 * every child.
 */
export class ParentNamespace<
  ListenEvents extends EventsMap = DefaultEventsMap,
  EmitEvents extends EventsMap = DefaultEventsMap,
  ServerSideEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
> extends Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
  /** The child namespaces created so far. */
  readonly children = new Set<Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>>();
  static #count = 0;

  /** @internal */
  constructor(server: Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>) {
    super(server, `/_${ParentNamespace.#count++}`, ParentAdapter);
  }

  /** @internal Creates the child namespace `name`. */
  createChild(name: string): Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData> {
    const child = new Namespace<ListenEvents, EmitEvents, ServerSideEvents, SocketData>(this.server, name);
    child.fns = this.fns.slice();
    for (const ev of ['connect', 'connection']) {
      for (const listener of this.listeners(ev)) child.on(ev as 'connection', listener);
    }
    this.children.add(child);
    if (this.server.cleanupEmptyChildNamespaces) {
      child.onEmpty = () => {
        void child.adapter.close();
        this.children.delete(child);
        this.server.forgetNamespace(child);
      };
    }
    return child;
  }
}
