/**
 * `ClusterAdapter`: the adapter contract stretched across several nodes. It owns every typed
 * node-to-node message (broadcast, room changes, disconnects, `fetchSockets`, `serverSideEmit`,
 * broadcast acknowledgements, heartbeats); a backend (Redis, NATS, a message bus...) subclasses it and
 * implements only two transports:
 *
 * - publish/subscribe: {@link ClusterAdapter.doPublish} sends a message to every other node; the
 *   backend calls {@link ClusterAdapter.onMessage} for each message it receives;
 * - request/response: {@link ClusterAdapter.doPublishResponse} sends a response to one node; the
 *   backend calls {@link ClusterAdapter.onResponse} for each response addressed to this node.
 *
 * Messages are plain data (sets become arrays), except that packets may hold binary values: the
 * backend must serialize those (e.g. MessagePack) or only run in-process.
 *
 * Node membership is tracked with heartbeats, so `serverCount()` (hence broadcasts with acks,
 * `fetchSockets` and `serverSideEmit` with acks) knows how many answers to wait for.
 *
 * Connection state recovery is node-local: a session restored on another node than the one the
 * client left is not found (the client then connects as new).
 *
 * @module
 */

import {
  Adapter,
  type AdapterNamespace,
  type BroadcastFlags,
  type BroadcastOptions,
  type Handshake,
  type Room,
  type ServerSideAck,
  type SocketDetails,
} from './adapter.js';
import type { Packet } from './parser.js';

/** A node's unique id. */
export type ServerId = string;

/** Broadcast options as they travel between nodes. */
export interface SerializedBroadcastOptions {
  rooms: Room[];
  except: Room[];
  flags: BroadcastFlags;
}

/** A socket's description as it travels between nodes. */
export interface SerializedSocket {
  id: string;
  handshake: Handshake;
  rooms: Room[];
  data: unknown;
}

/** Messages published to every node. `uid` is the sender, `nsp` the namespace. */
export type ClusterMessage = { uid: ServerId; nsp: string } & (
  | { type: 'INITIAL_HEARTBEAT' }
  | { type: 'HEARTBEAT' }
  | { type: 'ADAPTER_CLOSE' }
  | { type: 'BROADCAST'; opts: SerializedBroadcastOptions; packet: Packet; requestId?: string }
  | { type: 'SOCKETS_JOIN'; opts: SerializedBroadcastOptions; rooms: Room[] }
  | { type: 'SOCKETS_LEAVE'; opts: SerializedBroadcastOptions; rooms: Room[] }
  | { type: 'DISCONNECT_SOCKETS'; opts: SerializedBroadcastOptions; close: boolean }
  | { type: 'FETCH_SOCKETS'; opts: SerializedBroadcastOptions; requestId: string }
  | { type: 'SERVER_SIDE_EMIT'; packet: unknown[]; requestId?: string }
);

/** Responses sent to the node that asked. `uid` is the responder. */
export type ClusterResponse = { uid: ServerId; nsp: string; requestId: string } & (
  | { type: 'FETCH_SOCKETS_RESPONSE'; sockets: SerializedSocket[] }
  | { type: 'SERVER_SIDE_EMIT_RESPONSE'; packet: unknown }
  | { type: 'BROADCAST_CLIENT_COUNT'; clientCount: number }
  | { type: 'BROADCAST_ACK'; packet: unknown }
);

/** Options of {@link ClusterAdapter}. */
export interface ClusterAdapterOptions {
  /** Ms between heartbeats (default 5000). */
  heartbeatInterval?: number;
  /** Ms without heartbeat after which a node is considered gone (default 10000). */
  heartbeatTimeout?: number;
  /** Ms to wait for the answers of `fetchSockets` and `serverSideEmit` (default 5000). */
  requestsTimeout?: number;
}

/** Error of a cluster request that did not get every answer in time. */
export class ClusterTimeoutError extends Error {
  /** Always `'IO_ERR_CLUSTER_TIMEOUT'`. */
  readonly code = 'IO_ERR_CLUSTER_TIMEOUT' as const;
  /** The responses received before the timeout. */
  readonly responses: unknown[];
  constructor(responses: unknown[], expected: number) {
    super(`timeout reached: only ${responses.length} responses received out of ${expected}`);
    this.name = 'ClusterTimeoutError';
    this.responses = responses;
  }
}

function randomId(): string {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function serializeOptions(opts: BroadcastOptions): SerializedBroadcastOptions {
  return { rooms: [...opts.rooms], except: [...(opts.except ?? [])], flags: { ...(opts.flags ?? {}) } };
}

function deserializeOptions(opts: SerializedBroadcastOptions): BroadcastOptions {
  return { rooms: new Set(opts.rooms), except: new Set(opts.except), flags: opts.flags };
}

interface PendingRequest {
  type: 'FETCH_SOCKETS' | 'SERVER_SIDE_EMIT';
  expected: number;
  responses: unknown[];
  timer: ReturnType<typeof setTimeout>;
  resolve: (responses: unknown[]) => void;
  reject: (err: Error) => void;
}

interface PendingAck {
  clientCountCallback: (count: number) => void;
  ack: (...args: unknown[]) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * A multi-node adapter; subclass it and implement {@link ClusterAdapter.doPublish} and
 * {@link ClusterAdapter.doPublishResponse}. Memory: one entry per known node and per request in
 * flight (each dropped at its timeout).
 */
export abstract class ClusterAdapter extends Adapter {
  /** This node's id. */
  readonly uid: ServerId = randomId();
  readonly #nodes = new Map<ServerId, number>();
  readonly #requests = new Map<string, PendingRequest>();
  readonly #acks = new Map<string, PendingAck>();
  readonly #heartbeatInterval: number;
  readonly #heartbeatTimeout: number;
  readonly #requestsTimeout: number;
  #heartbeatTimer: ReturnType<typeof setInterval> | undefined;

  constructor(nsp: AdapterNamespace, options: ClusterAdapterOptions = {}) {
    super(nsp);
    this.#heartbeatInterval = options.heartbeatInterval ?? 5000;
    this.#heartbeatTimeout = options.heartbeatTimeout ?? 10_000;
    this.#requestsTimeout = options.requestsTimeout ?? 5000;
  }

  /** Publishes `message` to every other node (the backend's publish). */
  protected abstract doPublish(message: ClusterMessage): Promise<void>;

  /** Sends `response` to node `requesterUid` (the backend's request/response channel). */
  protected abstract doPublishResponse(requesterUid: ServerId, response: ClusterResponse): Promise<void>;

  #publish(message: ClusterMessage): void {
    this.doPublish(message).catch(() => {
      // A lost message is equivalent to a slow node: requests time out, broadcasts miss it.
    });
  }

  #respond(to: ServerId, response: ClusterResponse): void {
    this.doPublishResponse(to, response).catch(() => {});
  }

  override init(): void {
    this.#publish({ type: 'INITIAL_HEARTBEAT', uid: this.uid, nsp: this.nsp.name });
    this.#heartbeatTimer = setInterval(() => {
      this.#publish({ type: 'HEARTBEAT', uid: this.uid, nsp: this.nsp.name });
      const threshold = Date.now() - this.#heartbeatTimeout;
      for (const [uid, seen] of this.#nodes) if (seen < threshold) this.#nodes.delete(uid);
    }, this.#heartbeatInterval);
    (this.#heartbeatTimer as { unref?: () => void }).unref?.();
  }

  override close(): void {
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
    this.#publish({ type: 'ADAPTER_CLOSE', uid: this.uid, nsp: this.nsp.name });
    for (const request of this.#requests.values()) clearTimeout(request.timer);
    this.#requests.clear();
    for (const pending of this.#acks.values()) clearTimeout(pending.timer);
    this.#acks.clear();
  }

  override serverCount(): Promise<number> {
    return Promise.resolve(this.#nodes.size + 1);
  }

  /**
   * Handles a message published by another node. Backends call it for every message received on
   * the namespace's channel; messages from this node are ignored.
   */
  onMessage(message: ClusterMessage): void {
    if (message.uid === this.uid || message.nsp !== this.nsp.name) return;
    if (message.type !== 'ADAPTER_CLOSE') this.#nodes.set(message.uid, Date.now());
    switch (message.type) {
      case 'INITIAL_HEARTBEAT':
        this.#publish({ type: 'HEARTBEAT', uid: this.uid, nsp: this.nsp.name });
        break;
      case 'HEARTBEAT':
        break;
      case 'ADAPTER_CLOSE':
        this.#nodes.delete(message.uid);
        break;
      case 'BROADCAST': {
        const opts = deserializeOptions(message.opts);
        if (message.requestId === undefined) {
          super.broadcast(message.packet, opts);
          break;
        }
        const requestId = message.requestId;
        const base = { uid: this.uid, nsp: this.nsp.name, requestId };
        super.broadcastWithAck(
          message.packet,
          opts,
          (clientCount) =>
            this.#respond(message.uid, { ...base, type: 'BROADCAST_CLIENT_COUNT', clientCount }),
          (arg) => this.#respond(message.uid, { ...base, type: 'BROADCAST_ACK', packet: arg }),
        );
        break;
      }
      case 'SOCKETS_JOIN':
        super.addSockets(deserializeOptions(message.opts), message.rooms);
        break;
      case 'SOCKETS_LEAVE':
        super.delSockets(deserializeOptions(message.opts), message.rooms);
        break;
      case 'DISCONNECT_SOCKETS':
        super.disconnectSockets(deserializeOptions(message.opts), message.close);
        break;
      case 'FETCH_SOCKETS': {
        const requestId = message.requestId;
        void super.fetchSockets(deserializeOptions(message.opts)).then((sockets) => {
          this.#respond(message.uid, {
            uid: this.uid,
            nsp: this.nsp.name,
            requestId,
            type: 'FETCH_SOCKETS_RESPONSE',
            sockets: sockets.map((s) => ({
              id: s.id,
              handshake: s.handshake,
              rooms: [...s.rooms],
              data: s.data,
            })),
          });
        });
        break;
      }
      case 'SERVER_SIDE_EMIT': {
        const requestId = message.requestId;
        if (requestId === undefined) {
          this.nsp.onServerSideEmit(message.packet);
          break;
        }
        let answered = false;
        const reply = (arg: unknown): void => {
          if (answered) return;
          answered = true;
          this.#respond(message.uid, {
            uid: this.uid,
            nsp: this.nsp.name,
            requestId,
            type: 'SERVER_SIDE_EMIT_RESPONSE',
            packet: arg,
          });
        };
        this.nsp.onServerSideEmit([...message.packet, reply]);
        break;
      }
    }
  }

  /** Handles a response addressed to this node. Backends call it for every response received. */
  onResponse(response: ClusterResponse): void {
    if (response.nsp !== this.nsp.name) return;
    switch (response.type) {
      case 'FETCH_SOCKETS_RESPONSE':
      case 'SERVER_SIDE_EMIT_RESPONSE': {
        const request = this.#requests.get(response.requestId);
        if (!request) return;
        request.responses.push(
          response.type === 'FETCH_SOCKETS_RESPONSE' ? response.sockets : response.packet,
        );
        if (request.responses.length >= request.expected) {
          clearTimeout(request.timer);
          this.#requests.delete(response.requestId);
          request.resolve(request.responses);
        }
        break;
      }
      case 'BROADCAST_CLIENT_COUNT':
        this.#acks.get(response.requestId)?.clientCountCallback(response.clientCount);
        break;
      case 'BROADCAST_ACK':
        this.#acks.get(response.requestId)?.ack(response.packet);
        break;
    }
  }

  #request(
    type: PendingRequest['type'],
    expected: number,
    publish: (requestId: string) => void,
  ): Promise<unknown[]> {
    if (expected <= 0) return Promise.resolve([]);
    const requestId = randomId();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const request = this.#requests.get(requestId);
        this.#requests.delete(requestId);
        reject(new ClusterTimeoutError(request?.responses ?? [], expected));
      }, this.#requestsTimeout);
      (timer as { unref?: () => void }).unref?.();
      this.#requests.set(requestId, { type, expected, responses: [], timer, resolve, reject });
      publish(requestId);
    });
  }

  override broadcast(packet: Packet, opts: BroadcastOptions): void {
    if (opts.flags?.local !== true) {
      this.#publish({
        type: 'BROADCAST',
        uid: this.uid,
        nsp: this.nsp.name,
        opts: serializeOptions(opts),
        packet,
      });
    }
    super.broadcast(packet, opts);
  }

  override broadcastWithAck(
    packet: Packet,
    opts: BroadcastOptions,
    clientCountCallback: (count: number) => void,
    ack: (...args: unknown[]) => void,
  ): void {
    if (opts.flags?.local !== true) {
      const requestId = randomId();
      const timer = setTimeout(
        () => this.#acks.delete(requestId),
        opts.flags?.timeout ?? this.#requestsTimeout,
      );
      (timer as { unref?: () => void }).unref?.();
      this.#acks.set(requestId, { clientCountCallback, ack, timer });
      // The packet travels without this node's ack id; each node allocates its own.
      const remotePacket: Packet = { type: packet.type, nsp: packet.nsp, data: packet.data };
      this.#publish({
        type: 'BROADCAST',
        uid: this.uid,
        nsp: this.nsp.name,
        opts: serializeOptions(opts),
        packet: remotePacket,
        requestId,
      });
    }
    super.broadcastWithAck(packet, opts, clientCountCallback, ack);
  }

  override addSockets(opts: BroadcastOptions, rooms: Room[]): void {
    if (opts.flags?.local !== true) {
      this.#publish({
        type: 'SOCKETS_JOIN',
        uid: this.uid,
        nsp: this.nsp.name,
        opts: serializeOptions(opts),
        rooms,
      });
    }
    super.addSockets(opts, rooms);
  }

  override delSockets(opts: BroadcastOptions, rooms: Room[]): void {
    if (opts.flags?.local !== true) {
      this.#publish({
        type: 'SOCKETS_LEAVE',
        uid: this.uid,
        nsp: this.nsp.name,
        opts: serializeOptions(opts),
        rooms,
      });
    }
    super.delSockets(opts, rooms);
  }

  override disconnectSockets(opts: BroadcastOptions, close: boolean): void {
    if (opts.flags?.local !== true) {
      this.#publish({
        type: 'DISCONNECT_SOCKETS',
        uid: this.uid,
        nsp: this.nsp.name,
        opts: serializeOptions(opts),
        close,
      });
    }
    super.disconnectSockets(opts, close);
  }

  override async fetchSockets(opts: BroadcastOptions): Promise<SocketDetails[]> {
    const local = await super.fetchSockets(opts);
    if (opts.flags?.local === true) return local;
    const expected = this.#nodes.size;
    const responses = (await this.#request('FETCH_SOCKETS', expected, (requestId) =>
      this.#publish({
        type: 'FETCH_SOCKETS',
        uid: this.uid,
        nsp: this.nsp.name,
        opts: serializeOptions(opts),
        requestId,
      }),
    )) as SerializedSocket[][];
    for (const sockets of responses) {
      for (const s of sockets)
        local.push({ id: s.id, handshake: s.handshake, rooms: new Set(s.rooms), data: s.data });
    }
    return local;
  }

  override serverSideEmit(args: unknown[]): void {
    const last = args[args.length - 1];
    if (typeof last !== 'function') {
      this.#publish({ type: 'SERVER_SIDE_EMIT', uid: this.uid, nsp: this.nsp.name, packet: args });
      return;
    }
    const ack = last as ServerSideAck;
    const packet = args.slice(0, -1);
    const expected = this.#nodes.size;
    this.#request('SERVER_SIDE_EMIT', expected, (requestId) =>
      this.#publish({ type: 'SERVER_SIDE_EMIT', uid: this.uid, nsp: this.nsp.name, packet, requestId }),
    ).then(
      (responses) => ack(null, responses),
      (err: ClusterTimeoutError) => ack(err, err.responses),
    );
  }
}
