/**
 * Server-side transports: the abstract {@link Transport} and its two drivers, HTTP long-polling
 * ({@link PollingTransport}) and WebSocket ({@link WebSocketTransport}). Transports only move
 * packets; the session logic (heartbeat, upgrade, buffering) lives in `server-socket.ts`.
 *
 * Events (all transports): `packet(packet)` for each decoded packet except `close`, `error(err)` on a
 * peer violation or I/O failure, `close()` when the peer closed the transport, `ready()` when the
 * transport became writable, `drain()` when a batch given to `send` has been written.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { WebSocket } from '../index.js';
import { releaseListeners } from '../node/listeners.js';
import type { WebSocketOwner } from '../node/websocket.js';
import { EngineErrorCodes, EngineProtocolError } from './errors.js';
import { decodePacket, decodePayload, encodePacket, encodePayload, type Packet } from './parser.js';
import type { ListenerArgs } from './typed-emitter.js';

/** Name of a server transport. */
export type TransportName = 'polling' | 'websocket';

/** Events emitted by a {@link Transport}. */
export interface TransportEvents {
  packet: (packet: Packet) => void;
  error: (err: Error) => void;
  close: () => void;
  ready: () => void;
  drain: () => void;
}

/**
 * Base of the server transports, shaped like engine.io's `Transport`: `name`, `sid`, `writable`,
 * `readyState`, `protocol`, `send(packets)`, `close()`.
 */
export abstract class Transport extends EventEmitter<ListenerArgs<TransportEvents>> {
  /** Transport name as used in the `transport` query parameter. */
  abstract readonly name: TransportName;
  /** The Engine.IO protocol revision spoken (always 4). A getter: no field per transport. */
  get protocol(): 4 {
    return 4;
  }
  /** Session id, set once the session exists. */
  sid = '';
  /** Whether `send` may be called now. */
  writable = false;
  /** `open` until closed by either side. */
  readyState: 'open' | 'closing' | 'closed' = 'open';
  /** Set when the transport was replaced by an upgrade: it no longer carries the session. */
  discarded = false;
  /**
   * @internal The session this transport carries. It is told of every event by a direct call
   * rather than through listeners: five listener closures per session add up with thousands of
   * idle sessions. Other listeners (`on`) still get every event, after the owner.
   */
  owner: TransportOwner | undefined;

  constructor() {
    super();
    // Nothing inside parley listens to a transport (see `owner`): no table until somebody does.
    releaseListeners(this);
  }

  /**
   * Reports an event to the owner, then to listeners. An `error` nobody listens to is dropped
   * rather than thrown: the owner has handled it, or the transport no longer carries a session.
   */
  protected signal<E extends keyof TransportEvents>(event: E, ...args: Parameters<TransportEvents[E]>): void {
    this.owner?.onTransportEvent(this, event, args[0]);
    if (event === 'error' && this.listenerCount('error') === 0) return;
    (this.emit as (e: E, ...a: Parameters<TransportEvents[E]>) => boolean)(event, ...args);
  }

  /** Writes a batch of packets. Only call when {@link Transport.writable}. */
  abstract send(packets: Packet[]): void;
  /**
   * Closes the transport from the server side, sending a `close` packet where the transport can;
   * emits no `close` event. `onClosed` runs once the close is done (polling: once the close packet
   * went out on the client's next GET, which may be never: the caller bounds the wait).
   */
  abstract close(onClosed?: () => void): void;

  /** Marks the transport as replaced by an upgrade. */
  discard(): void {
    this.discarded = true;
  }
}

/** What a transport reports its events to (the session it carries). */
export interface TransportOwner {
  /** `arg` is the packet for `packet`, the error for `error`, undefined otherwise. */
  onTransportEvent(transport: Transport, event: keyof TransportEvents, arg: Packet | Error | undefined): void;
}

/** Bounds and hooks given to a {@link PollingTransport} by its server. */
export interface PollingOptions {
  /** Largest POST body in bytes (`maxHttpBufferSize`). */
  maxHttpBufferSize: number;
  /** Largest number of packets in one POST payload. */
  maxPacketsPerPayload: number;
  /**
   * Lets the server add headers to a response (`initial_headers`/`headers` events, cookie).
   * `initial` is true for the response carrying the handshake.
   */
  decorateHeaders: (req: IncomingMessage, headers: OutgoingHttpHeaders, initial: boolean) => void;
}

const TEXT_TYPE = 'text/plain; charset=UTF-8';
/** Decodes POST bodies, refusing bytes that are not UTF-8 (one decoder: `decode` keeps no state between calls). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * HTTP long-polling. One `GET` may be pending (it is answered when packets are sent); one `POST` may
 * be in flight (its body is bounded, decoded and emitted packet by packet). Overlapping requests,
 * binary bodies, oversized bodies and undecodable payloads are answered with 400/413 and reported
 * as `error`, which closes the session.
 */
export class PollingTransport extends Transport {
  get name(): 'polling' {
    return 'polling';
  }
  #opts: PollingOptions;
  #getReq: IncomingMessage | undefined;
  #getRes: ServerResponse | undefined;
  #postActive = false;
  #noopMode = false;
  #initial = true;
  #closePending: (() => void) | undefined;

  constructor(opts: PollingOptions) {
    super();
    this.#opts = opts;
  }

  /**
   * While an upgrade is being probed the polling transport answers every `GET` with a `noop` packet
   * so the client can pause it (protocol text, "Upgrade").
   */
  setNoopMode(on: boolean): void {
    this.#noopMode = on;
    if (on && this.#getRes !== undefined) this.#respond([{ type: 'noop' }]);
  }

  /** Routes a request of this session (`GET` polls, `POST` sends). */
  onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (req.method === 'GET') this.#onPoll(req, res);
    else if (req.method === 'POST') this.#onData(req, res);
    else this.#reject(req, res, 400);
  }

  override send(packets: Packet[]): void {
    if (this.#getRes === undefined) return;
    this.#respond(packets);
  }

  override close(onClosed?: () => void): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    if (this.#getRes !== undefined) {
      this.#respond([{ type: 'close' }], false);
      onClosed?.();
    } else {
      this.#closePending = onClosed;
    }
  }

  override discard(): void {
    super.discard();
    this.readyState = 'closed';
    if (this.#getRes !== undefined) this.#respond([{ type: 'noop' }], false);
  }

  #onPoll(req: IncomingMessage, res: ServerResponse): void {
    if (this.#getRes !== undefined) {
      this.#reject(req, res, 400);
      this.signal(
        'error',
        new EngineProtocolError(EngineErrorCodes.TRANSPORT_MISUSE, 'overlapping GET from client'),
      );
      return;
    }
    this.#getReq = req;
    this.#getRes = res;
    if (this.discarded || (this.readyState === 'closed' && this.#closePending === undefined)) {
      // routed here in the instant the session was upgraded or closed: end the poll at once
      this.#respond([{ type: this.discarded ? 'noop' : 'close' }], false);
      return;
    }
    const onClose = (): void => {
      if (this.#getRes === res && !res.writableEnded) {
        this.#getReq = undefined;
        this.#getRes = undefined;
        this.writable = false;
        this.signal(
          'error',
          new EngineProtocolError(EngineErrorCodes.TRANSPORT_MISUSE, 'poll closed prematurely'),
        );
      }
    };
    res.once('close', onClose);
    if (this.#closePending !== undefined) {
      const done = this.#closePending;
      this.#closePending = undefined;
      this.#respond([{ type: 'close' }], false);
      done();
      return;
    }
    if (this.#noopMode) {
      this.#respond([{ type: 'noop' }]);
      return;
    }
    this.writable = true;
    this.signal('ready');
  }

  #respond(packets: Packet[], emitDrain = true): void {
    const req = this.#getReq!;
    const res = this.#getRes!;
    this.#getReq = undefined;
    this.#getRes = undefined;
    this.writable = false;
    const body = encodePayload(packets);
    const headers: OutgoingHttpHeaders = {
      'Content-Type': TEXT_TYPE,
      'Content-Length': Buffer.byteLength(body),
    };
    this.#opts.decorateHeaders(req, headers, this.#initial);
    this.#initial = false;
    res.writeHead(200, headers);
    res.end(body, () => {
      if (emitDrain && !this.discarded && this.readyState === 'open') this.signal('drain');
    });
  }

  #reject(req: IncomingMessage, res: ServerResponse, status: number): void {
    const headers: OutgoingHttpHeaders = { 'Content-Type': TEXT_TYPE, Connection: 'close' };
    this.#opts.decorateHeaders(req, headers, false);
    res.writeHead(status, headers);
    res.end();
  }

  #onData(req: IncomingMessage, res: ServerResponse): void {
    if (this.#postActive) {
      this.#reject(req, res, 400);
      req.resume();
      this.signal(
        'error',
        new EngineProtocolError(EngineErrorCodes.TRANSPORT_MISUSE, 'overlapping POST from client'),
      );
      return;
    }
    // Engine.IO v4 sends binary as base64 inside a text payload; a binary body is a v3 client or a lie.
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (contentType === 'application/octet-stream') {
      this.#reject(req, res, 400);
      req.resume();
      this.signal(
        'error',
        new EngineProtocolError(EngineErrorCodes.TRANSPORT_MISUSE, 'binary POST body in v4'),
      );
      return;
    }
    const max = this.#opts.maxHttpBufferSize;
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > max) {
      this.#tooLarge(req, res);
      return;
    }
    this.#postActive = true;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (): void => {
      done = true;
      this.#postActive = false;
      req.off('data', onData);
      req.off('end', onEnd);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        finish();
        this.#tooLarge(req, res);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      finish();
      let packets: Packet[];
      try {
        const text = strictUtf8.decode(Buffer.concat(chunks, size));
        packets = decodePayload(text, {
          maxPackets: this.#opts.maxPacketsPerPayload,
          binaryType: 'nodebuffer',
        });
      } catch (err) {
        this.#reject(req, res, 400);
        this.signal(
          'error',
          err instanceof EngineProtocolError
            ? err
            : new EngineProtocolError(EngineErrorCodes.INVALID_PACKET, 'POST body is not valid UTF-8'),
        );
        return;
      }
      const headers: OutgoingHttpHeaders = { 'Content-Type': TEXT_TYPE, 'Content-Length': 2 };
      this.#opts.decorateHeaders(req, headers, false);
      res.writeHead(200, headers);
      res.end('ok');
      for (const packet of packets) {
        if (this.readyState !== 'open' && !this.discarded) break;
        this.#onPacket(packet);
      }
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.once('close', () => {
      if (!done) finish();
    });
    req.on('error', () => {
      if (!done) finish();
    });
  }

  #tooLarge(req: IncomingMessage, res: ServerResponse): void {
    const headers: OutgoingHttpHeaders = { 'Content-Type': TEXT_TYPE, Connection: 'close' };
    this.#opts.decorateHeaders(req, headers, false);
    res.writeHead(413, headers);
    // Stop reading the body: the connection is dropped once the response is out.
    res.end(() => req.destroy());
    this.signal('error', new EngineProtocolError(EngineErrorCodes.PAYLOAD_TOO_LARGE, 'POST body too large'));
  }

  #onPacket(packet: Packet): void {
    if (packet.type === 'close') {
      // The client closes: a pending GET ends cleanly with a noop, then the session ends.
      if (this.readyState === 'closed') return;
      this.readyState = 'closed';
      if (this.#getRes !== undefined) this.#respond([{ type: 'noop' }], false);
      this.signal('close');
      return;
    }
    this.signal('packet', packet);
  }
}

/**
 * WebSocket transport over a ws-compatible socket from parley's `WebSocketServer`. Each packet is one
 * frame; binary messages go as binary frames. Message size is bounded by the server's `maxPayload`.
 */
export class WebSocketTransport extends Transport implements WebSocketOwner {
  get name(): 'websocket' {
    return 'websocket';
  }
  readonly socket: WebSocket;

  constructor(socket: WebSocket) {
    super();
    this.socket = socket;
    this.writable = true;
    // Told by direct calls: no listeners, closures or map entries per connection.
    socket._setOwner(this);
  }

  /** @internal the WebSocket closed */
  onSocketClose(): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.writable = false;
    this.signal('close');
  }

  /** @internal the WebSocket failed */
  onSocketError(err: Error): void {
    if (this.readyState === 'closed') return;
    this.signal('error', err);
  }

  /** @internal a message arrived on the WebSocket */
  onSocketMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    if (this.readyState === 'closed') return;
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data;
    let packet: Packet;
    try {
      // A text message is valid UTF-8 already: the engine's WebSocket server checks every one
      // (it never sets skipUTF8Validation) and fails the connection with 1007 otherwise.
      packet = decodePacket(isBinary ? bytes : bytes.toString(), 'nodebuffer');
    } catch (err) {
      this.signal(
        'error',
        err instanceof EngineProtocolError
          ? err
          : new EngineProtocolError(EngineErrorCodes.INVALID_PACKET, 'bad UTF-8'),
      );
      return;
    }
    if (packet.type === 'close') {
      this.readyState = 'closed';
      this.writable = false;
      this.socket.close();
      this.signal('close');
      return;
    }
    this.signal('packet', packet);
  }

  override send(packets: Packet[]): void {
    if (this.readyState === 'closed' || this.socket.readyState !== this.socket.OPEN) return;
    this.writable = false;
    let pending = packets.length;
    const done = (err?: Error | null): void => {
      if (err !== undefined && err !== null) {
        if (this.readyState !== 'closed') this.signal('error', err);
        return;
      }
      if (--pending === 0 && this.readyState !== 'closed') {
        this.writable = true;
        this.signal('drain');
      }
    };
    for (const packet of packets) {
      const encoded = encodePacket(packet, true);
      this.socket.send(encoded, { compress: packet.options?.compress ?? true }, done);
    }
  }

  override close(onClosed?: () => void): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.writable = false;
    this.socket.close();
    onClosed?.();
  }
}
