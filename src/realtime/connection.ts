/**
 * `Connection` (socket.io's `Client`): one Engine.IO session, multiplexing the client's namespace
 * sockets. It decodes engine messages, routes packets to sockets, enforces "CONNECT first" and the
 * connect timeout, and closes the session on any protocol violation.
 *
 * @module
 */

import type { WriteOptions } from './adapter.js';
import type { EngineData, EngineSessionOwner, EngineSocket } from './engine.js';
import { RealtimeProtocolError } from './errors.js';
import { Decoder, type EncodedChunk, encode, type Packet, PacketType } from './parser.js';
import type { Server } from './server.js';
import { SmallMap } from './small-map.js';
import type { DisconnectReason, Socket } from './socket.js';

type AnySocket = Socket<never, never, never, unknown>;

/**
 * Bound on CONNECT requests one connection may have pending at once (waiting for middlewares or a
 * dynamic namespace matcher), so a peer cannot pile up unbounded work.
 */
const MAX_PENDING_CONNECTS = 64;

/** One engine session and the namespace sockets it carries. */
export class Connection implements EngineSessionOwner {
  /** The engine session. */
  readonly conn: EngineSocket;
  /** Engine session id. */
  readonly id: string;
  readonly #server: Server<never, never, never, unknown>;
  /** The server's decoder of whole text packets, shared by its connections. */
  readonly #shared: Decoder;
  /** A decoder of this connection's own while a binary packet's attachments arrive; none otherwise. */
  #decoder: Decoder | undefined;
  /** Connected sockets by namespace name. */
  readonly #nsps = new SmallMap<AnySocket>();
  /** Namespaces whose CONNECT is being processed (middlewares, dynamic matchers). */
  // Created on demand and dropped when empty: an idle connection holds no set.
  #connecting: Set<string> | undefined;
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** @internal */
  constructor(server: Server<never, never, never, unknown>, conn: EngineSocket, shared: Decoder) {
    this.#server = server;
    this.conn = conn;
    this.id = conn.id;
    this.#shared = shared;
    if (conn._setOwner !== undefined) {
      // parley's engine tells its owner directly: no listeners or map entries per connection.
      conn._setOwner(this);
    } else {
      // Shared listeners finding their connection in a WeakMap: no closures per connection.
      byEngineSocket.set(conn, this);
      conn.on('message', onEngineMessage);
      conn.on('error', onEngineError);
      conn.on('close', onEngineClose);
    }
    const timeout = server.connectTimeout;
    this.#connectTimer = setTimeout(() => {
      this.#connectTimer = undefined;
      if (this.#nsps.size === 0) this.close();
    }, timeout);
  }

  /** @internal a message from the engine session */
  ondata(data: EngineData): void {
    if (this.#closed) return;
    let packet: Packet | null;
    try {
      packet = this.#decoderFor(data).add(data);
    } catch (err) {
      this.#protocolError(err as RealtimeProtocolError);
      return;
    }
    if (this.#decoder !== undefined && !this.#decoder.pending) this.#decoder = undefined;
    if (packet) this.#onpacket(packet);
  }

  /**
   * Only a binary packet's header starts state that outlives its message (the attachments to come):
   * every other text packet is decoded whole by the server's shared decoder, so that an idle
   * connection holds no decoder.
   */
  #decoderFor(data: EngineData): Decoder {
    if (this.#decoder !== undefined) return this.#decoder;
    if (typeof data === 'string' && !startsBinaryPacket(data)) return this.#shared;
    this.#decoder = new Decoder({ maxAttachments: this.#shared.maxAttachments });
    return this.#decoder;
  }

  #protocolError(_err: RealtimeProtocolError): void {
    // The peer broke the protocol: end its session only. The error is not echoed to the peer.
    this.#closeSockets('parse error');
    this.close();
  }

  #onpacket(packet: Packet): void {
    const socket = this.#nsps.get(packet.nsp);
    if (!socket && packet.type === PacketType.CONNECT) {
      if (this.#connecting?.has(packet.nsp)) {
        this.#protocolError(new RealtimeProtocolError('IO_ERR_PACKET_BEFORE_CONNECT', 'duplicate CONNECT'));
        return;
      }
      if ((this.#connecting?.size ?? 0) >= MAX_PENDING_CONNECTS) {
        this.#protocolError(
          new RealtimeProtocolError('IO_ERR_PACKET_BEFORE_CONNECT', 'too many namespace connections pending'),
        );
        return;
      }
      this.#connect(packet.nsp, (packet.data as Record<string, unknown> | undefined) ?? {});
    } else if (socket && packet.type !== PacketType.CONNECT && packet.type !== PacketType.CONNECT_ERROR) {
      socket.onpacket(packet);
    } else {
      this.#protocolError(
        new RealtimeProtocolError('IO_ERR_PACKET_BEFORE_CONNECT', 'packet for a namespace not connected'),
      );
    }
  }

  #connect(name: string, auth: Record<string, unknown>): void {
    (this.#connecting ??= new Set()).add(name);
    this.#server.resolveNamespace(name, auth).then(
      (nsp) => {
        if (this.#closed) return;
        if (!nsp) {
          this.#doneConnecting(name);
          const refusal: Packet = {
            type: PacketType.CONNECT_ERROR,
            nsp: name,
            data: { message: 'Invalid namespace' },
          };
          this.writeToEngine(encode(refusal), {});
          return;
        }
        nsp.addSocket(this, auth, (socket) => {
          this.#doneConnecting(name);
          if (!socket) return;
          this.#nsps.set(name, socket as AnySocket);
          if (this.#connectTimer) {
            clearTimeout(this.#connectTimer);
            this.#connectTimer = undefined;
          }
        });
      },
      () => {
        this.#doneConnecting(name);
      },
    );
  }

  #doneConnecting(name: string): void {
    this.#connecting?.delete(name);
    if (this.#connecting?.size === 0) this.#connecting = undefined;
  }

  /** Whether the engine session is open. */
  get open(): boolean {
    return !this.#closed && this.conn.readyState === 'open';
  }

  /** @internal Writes encoded chunks to the engine; volatile chunks are dropped if not writable. */
  writeToEngine(chunks: EncodedChunk[], options: WriteOptions): void {
    if (!this.open) return;
    if (options.volatile && this.conn.transport && !this.conn.transport.writable) return;
    const sendOptions = { compress: options.compress !== false };
    for (const chunk of chunks) {
      this.conn.send(chunk as EngineData, sendOptions);
    }
  }

  /** @internal */
  removeSocket(socket: { id: string; nsp: { name: string } }): void {
    if (this.#nsps.get(socket.nsp.name) === (socket as unknown)) this.#nsps.delete(socket.nsp.name);
  }

  /** @internal Disconnects every socket and closes the engine session. */
  disconnectAll(): void {
    for (const socket of this.#nsps.values()) socket.disconnect();
    this.#nsps.clear();
    this.close();
  }

  /** Closes the engine session (sockets see `forced server close`). */
  close(): void {
    if (this.#closed) return;
    if (this.conn.readyState === 'open') {
      this.conn.close();
    }
    this.onclose('forced server close');
  }

  #closeSockets(reason: DisconnectReason, description?: unknown): void {
    for (const socket of this.#nsps.values()) socket.onclose(reason, description);
    this.#nsps.clear();
  }

  /** @internal the engine session closed (or `close` was called) */
  onclose(reason: string, description?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.conn.removeListener('message', onEngineMessage);
    this.conn.removeListener('close', onEngineClose);
    // Keep the error listener: an engine error after close must not become an uncaught 'error'.
    this.#closeSockets(reason as DisconnectReason, description);
    this.#decoder = undefined;
    if (this.#connectTimer) clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
  }
}

const byEngineSocket = new WeakMap<EngineSocket, Connection>();

// Engines are EventEmitters: listeners run with `this` set to the engine session.
function onEngineMessage(this: EngineSocket, data: EngineData): void {
  byEngineSocket.get(this)?.ondata(data);
}
function onEngineError(): void {
  // The engine reports the error and then closes the session; `close` does the cleanup.
}
function onEngineClose(this: EngineSocket, reason: string, description?: unknown): void {
  byEngineSocket.get(this)?.onclose(reason as DisconnectReason, description);
}

/** Whether a text message is the header of a binary packet (`5` BINARY_EVENT, `6` BINARY_ACK). */
function startsBinaryPacket(text: string): boolean {
  const type = text.charCodeAt(0) - 48;
  return type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK;
}
