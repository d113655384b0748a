/**
 * `BroadcastOperator`: an immutable, chainable description of a broadcast
 * (`io.to('a').except('b').timeout(500).emit(...)`), and `RemoteSocket`, the handle returned by
 * `fetchSockets()` for a socket that may live on another node.
 *
 * @module
 */

import type {
  Adapter,
  BroadcastFlags,
  BroadcastOptions,
  Handshake,
  Room,
  SocketDetails,
  SocketId,
} from './adapter.js';
import type { DefaultEventsMap, EventNames, EventParams, EventsMap } from './emitter.js';
import { AckTimeoutError, RealtimeUsageError } from './errors.js';
import { type Packet, PacketType, RESERVED_EVENTS } from './parser.js';
import type {
  DecorateAcknowledgements,
  DecorateAcknowledgementsWithMultipleResponses,
  EmitWithAckParams,
  EmitWithAckResult,
} from './types.js';

/** Throws if `ev` is a reserved event name (caller misuse). */
export function assertNotReserved(ev: string): void {
  if (RESERVED_EVENTS.has(ev)) {
    throw new RealtimeUsageError('IO_ERR_RESERVED_EVENT_EMIT', `"${ev}" is a reserved event name`);
  }
}

function toRoomSet(current: ReadonlySet<Room>, room: Room | Room[]): Set<Room> {
  const out = new Set(current);
  if (Array.isArray(room)) for (const r of room) out.add(r);
  else out.add(room);
  return out;
}

/**
 * An immutable broadcast description. Every modifier returns a new operator; `emit` sends. Cost:
 * `emit` encodes the packet once per node and writes it to every targeted socket.
 */
export class BroadcastOperator<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = unknown> {
  readonly #adapter: Adapter;
  readonly #rooms: ReadonlySet<Room>;
  readonly #except: ReadonlySet<Room>;
  readonly #flags: Readonly<BroadcastFlags>;

  /** @internal Use `io.to()`, `socket.broadcast`, etc. */
  constructor(
    adapter: Adapter,
    rooms: ReadonlySet<Room> = new Set(),
    except: ReadonlySet<Room> = new Set(),
    flags: BroadcastFlags = {},
  ) {
    this.#adapter = adapter;
    this.#rooms = rooms;
    this.#except = except;
    this.#flags = flags;
  }

  /** Targets `room` (or several); sockets in any targeted room are reached once. */
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.#adapter, toRoomSet(this.#rooms, room), this.#except, this.#flags);
  }

  /** Alias of {@link BroadcastOperator.to}. */
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Excludes the sockets of `room` (or several). */
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.#adapter, this.#rooms, toRoomSet(this.#except, room), this.#flags);
  }

  /** Sets whether the packet is compressed. */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.#adapter, this.#rooms, this.#except, { ...this.#flags, compress });
  }

  /** The packet may be dropped for sockets that are not ready to receive it. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.#adapter, this.#rooms, this.#except, {
      ...this.#flags,
      volatile: true,
    });
  }

  /** Only sockets of this node are reached. */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.#adapter, this.#rooms, this.#except, { ...this.#flags, local: true });
  }

  /** Every targeted socket must acknowledge within `timeout` ms; the callback gets `(err, responses)`. */
  timeout(
    timeout: number,
  ): BroadcastOperator<DecorateAcknowledgementsWithMultipleResponses<EmitEvents>, SocketData> {
    if (!(timeout >= 0)) throw new RealtimeUsageError('IO_ERR_INVALID_OPTION', 'timeout must be >= 0');
    return new BroadcastOperator(this.#adapter, this.#rooms, this.#except, { ...this.#flags, timeout });
  }

  #options(): BroadcastOptions {
    return { rooms: new Set(this.#rooms), except: new Set(this.#except), flags: { ...this.#flags } };
  }

  /**
   * Emits to every targeted socket. With a trailing callback, acknowledgements are collected: the
   * callback gets `(null, responses)` once every socket answered, or `(AckTimeoutError, responses)`
   * after the timeout (a timeout is required for broadcasts with acks).
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    assertNotReserved(ev);
    const data: unknown[] = [ev, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: '/', data };
    const last = data[data.length - 1];
    if (typeof last !== 'function') {
      this.#adapter.broadcast(packet, this.#options());
      return true;
    }
    data.pop();
    const ack = last as (err: Error | null, responses: unknown) => void;
    const timeout = this.#flags.timeout;
    if (timeout === undefined) {
      throw new RealtimeUsageError(
        'IO_ERR_ACK_UNSUPPORTED',
        'broadcasting with an acknowledgement requires a timeout: use .timeout(ms).emit(...)',
      );
    }
    const single = this.#flags.expectSingleResponse === true;
    let timedOut = false;
    const responses: unknown[] = [];
    let expectedServerCount = -1;
    let actualServerCount = 0;
    let expectedClientCount = 0;
    const timer = setTimeout(() => {
      timedOut = true;
      ack(new AckTimeoutError(), single ? null : responses);
    }, timeout);
    const check = (): void => {
      if (
        !timedOut &&
        expectedServerCount === actualServerCount &&
        responses.length === expectedClientCount
      ) {
        clearTimeout(timer);
        timedOut = true;
        ack(null, single ? responses[0] : responses);
      }
    };
    this.#adapter.broadcastWithAck(
      packet,
      this.#options(),
      (count) => {
        expectedClientCount += count;
        actualServerCount++;
        check();
      },
      (...response: unknown[]) => {
        responses.push(response[0]);
        check();
      },
    );
    // A local broadcast only reaches this node, so only this node's count is awaited.
    const serverCount = this.#flags.local === true ? Promise.resolve(1) : this.#adapter.serverCount();
    serverCount.then(
      (count) => {
        expectedServerCount = count;
        check();
      },
      () => {},
    );
    return true;
  }

  /**
   * Emits and resolves with the responses of every targeted socket; rejects with
   * {@link AckTimeoutError} after the timeout.
   */
  emitWithAck<Ev extends EventNames<EmitEvents>>(
    ev: Ev,
    ...args: EmitWithAckParams<EmitEvents, Ev>
  ): Promise<EmitWithAckResult<EmitEvents, Ev>> {
    return new Promise((resolve, reject) => {
      const cb = (err: Error | null, responses: unknown): void => {
        if (err) reject(err);
        else resolve(responses as EmitWithAckResult<EmitEvents, Ev>);
      };
      (this.emit as (ev: string, ...rest: unknown[]) => boolean)(ev, ...(args as unknown[]), cb);
    });
  }

  /** Describes the targeted sockets (on every node unless `local`). */
  async fetchSockets(): Promise<RemoteSocket<EmitEvents, SocketData>[]> {
    const details = await this.#adapter.fetchSockets(this.#options());
    return details.map((d) => new RemoteSocket<EmitEvents, SocketData>(this.#adapter, d));
  }

  /** Ids of the targeted sockets (every node unless `local`); prefer {@link BroadcastOperator.fetchSockets}. */
  async allSockets(): Promise<Set<SocketId>> {
    const details = await this.#adapter.fetchSockets(this.#options());
    return new Set(details.map((d) => d.id));
  }

  /** Makes the targeted sockets join `room`. */
  socketsJoin(room: Room | Room[]): void {
    this.#adapter.addSockets(this.#options(), Array.isArray(room) ? room : [room]);
  }

  /** Makes the targeted sockets leave `room`. */
  socketsLeave(room: Room | Room[]): void {
    this.#adapter.delSockets(this.#options(), Array.isArray(room) ? room : [room]);
  }

  /** Disconnects the targeted sockets; with `close`, their whole connection. */
  disconnectSockets(close = false): void {
    this.#adapter.disconnectSockets(this.#options(), close);
  }
}

/**
 * A socket found by `fetchSockets()`, possibly on another node: its details, plus the operations that
 * work through the adapter (`emit`, `join`, `leave`, `disconnect`, `timeout`).
 */
export class RemoteSocket<EmitEvents extends EventsMap = DefaultEventsMap, SocketData = unknown> {
  /** Socket id. */
  readonly id: SocketId;
  /** Handshake details. */
  readonly handshake: Handshake;
  /** Rooms at the time of the fetch. */
  readonly rooms: Set<Room>;
  /** `socket.data` at the time of the fetch (the same object for a local socket). */
  readonly data: SocketData;
  readonly #operator: BroadcastOperator<EmitEvents, SocketData>;

  /** @internal */
  constructor(adapter: Adapter, details: SocketDetails) {
    this.id = details.id;
    this.handshake = details.handshake;
    this.rooms = details.rooms;
    this.data = details.data as SocketData;
    this.#operator = new BroadcastOperator<EmitEvents, SocketData>(adapter, new Set([this.id]), new Set(), {
      expectSingleResponse: true,
    });
  }

  /** Emits to this socket. */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    return this.#operator.emit(ev, ...args);
  }

  /** Sets an ack timeout for the next emit; the callback gets `(err, response)`. */
  timeout(timeout: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return this.#operator.timeout(timeout) as unknown as BroadcastOperator<
      DecorateAcknowledgements<EmitEvents>,
      SocketData
    >;
  }

  /** Joins `room`. */
  join(room: Room | Room[]): void {
    this.#operator.socketsJoin(room);
  }

  /** Leaves `room`. */
  leave(room: Room): void {
    this.#operator.socketsLeave(room);
  }

  /** Disconnects this socket; with `close`, its whole connection. */
  disconnect(close = false): this {
    this.#operator.disconnectSockets(close);
    return this;
  }
}
