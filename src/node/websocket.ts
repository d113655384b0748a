/**
 * The WebSocket connection, compatible with the `ws` package's `WebSocket`: the same constructor,
 * methods, events and properties, so code written for `ws` runs unchanged. Both sides use it: a
 * server makes one per accepted connection, a client makes one with `new WebSocket(url)`.
 *
 * Hot-path design: no stream object between the socket and the parser; frames are written into
 * one buffer per connection and flushed once per input chunk (or once per tick for sends made
 * outside a read), so a burst of messages costs one socket write.
 * @module
 */
import { EventEmitter } from 'node:events';
import type { ClientRequest, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, Defaults, Opcode } from '../protocol/constants.js';
import { type ProtocolError, UsageError } from '../protocol/errors.js';
import {
  checkControlPayload,
  encodeClosePayload,
  headerSize,
  randomMask,
  writeHeader,
} from '../protocol/frame.js';
import { applyMask } from '../protocol/mask.js';
import { Receiver, type ReceiverHandler, takeWholeMessages } from '../protocol/receiver.js';
import { connect } from './client.js';
import type { PerMessageDeflate } from './deflate.js';
import { compactListeners, releaseListeners } from './listeners.js';
import type { ClientOptions } from './options.js';
import type { WebSocketServer } from './server.js';
import type { createWebSocketStream } from './stream.js';

/** How binary messages are handed to `message` listeners. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments';

/** The data of a `message` event: a Buffer, an ArrayBuffer or an array of Buffers, per `binaryType`. */
export type RawData = Buffer | ArrayBuffer | Buffer[];

/** What `send` accepts. */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView | number | readonly Buffer[];

/** Called once the data was handed to the operating system, or with the error that prevented it. */
export type SendCallback = (error?: Error | null) => void;

/** Options of one `send`. */
export interface SendOptions {
  /** Binary (true) or text frame. Default: binary unless `data` is a string. */
  binary?: boolean;
  /** Compress when permessage-deflate is in force and the message reaches the threshold. Default true. */
  compress?: boolean;
  /** Whether this is the last fragment of the message. Default true. */
  fin?: boolean;
  /** Mask the frame. Default: true for clients, false for servers. */
  mask?: boolean;
}

/** What the server (or client code) hands a WebSocket when its handshake is complete. */
export interface SocketSettings {
  maxPayload: number;
  maxFragments: number;
  skipUTF8Validation: boolean;
  autoPong: boolean;
  closeTimeout: number;
  deflate: PerMessageDeflate | null;
}

const kWebSocket = Symbol('parley.websocket');
type Attached = Duplex & { [kWebSocket]?: WebSocket };

const EMPTY = Buffer.alloc(0);
/** Frames up to this size are copied into one pooled buffer with their header; larger ones are not copied. */
const COPY_LIMIT = 16 * 1024;
/** Output up to this size is joined into one buffer before the write. */
const JOIN_LIMIT = 64 * 1024;

/*
 * Small frames are written straight into a shared slab rather than into a Buffer each. The frames
 * one connection writes one after another, with no other connection's in between, form one region
 * of the slab, and a region goes to the socket as one Buffer: in an echo, a whole read's replies
 * leave in one write with no Buffer per frame and no concatenation. A slab is only ever appended
 * to, and a fresh one is started when it is full, so bytes handed to a socket are never written
 * again (the socket may hold them until the kernel takes them). At most one region is open, the
 * one ending at `slabUsed`; its owner's `#packStart` says where it starts.
 */
/** Size of a slab, as Node's own Buffer pool: what one small write held by a slow peer keeps alive. */
const SLAB_SIZE = 8 * 1024;
/** Frames (header included) up to this size are packed. */
const PACK_LIMIT = 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabUsed = 0;
let slabOwner: WebSocket | null = null;

const READY_STATES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;

/**
 * Automatic pongs not yet handed to the operating system past which the peer is cut off: one that
 * pings without reading would otherwise pile its pongs up in memory (ws 8.23's maxPendingAutoPongs).
 */
const MAX_PENDING_AUTO_PONGS = 60;

// Connections with output waiting for the end of the tick.
/** Scratch for the masking key of the frame being written (used at once, never held). */
const maskKey = new Uint8Array(4);
let flushQueue: WebSocket[] = [];
let flushScheduled = false;

type Listener = (...args: unknown[]) => void;
type EventHandler = ((event: WebSocketEvent) => void) | { handleEvent(event: WebSocketEvent): void };

/**
 * @internal A layer that a connection carries, such as an Engine.IO transport, told of the
 * connection's events by direct calls (before any listener), so that thousands of idle connections
 * hold no listener table and no map from connection to owner. `data` is as the receiver delivers
 * it, whatever `binaryType` says.
 */
export interface WebSocketOwner {
  onSocketMessage(data: Buffer | Buffer[], isBinary: boolean): void;
  onSocketClose(): void;
  onSocketError(error: Error): void;
}

/** The event object given to `addEventListener` and `on<event>` listeners (as `ws` gives them). */
export interface WebSocketEvent {
  readonly type: string;
  readonly target: WebSocket;
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
  readonly wasClean?: boolean;
  readonly error?: unknown;
  readonly message?: string;
}

const kOnAttribute = Symbol('parley.onAttribute');
const kHandler = Symbol('parley.handler');
type WrappedListener = Listener & { [kOnAttribute]?: boolean; [kHandler]?: EventHandler };

/** Listener signatures of the `WebSocket` events, as `@types/ws` declares them. */
export interface WebSocketEventListeners {
  open: (this: WebSocket) => void;
  message: (this: WebSocket, data: RawData, isBinary: boolean) => void;
  close: (this: WebSocket, code: number, reason: Buffer) => void;
  error: (this: WebSocket, error: Error) => void;
  ping: (this: WebSocket, data: Buffer) => void;
  pong: (this: WebSocket, data: Buffer) => void;
  drain: (this: WebSocket) => void;
  upgrade: (this: WebSocket, response: IncomingMessage) => void;
  'unexpected-response': (this: WebSocket, request: ClientRequest, response: IncomingMessage) => void;
  redirect: (this: WebSocket, url: string, request: ClientRequest) => void;
}

// Typed listeners for the known events (declaration merging with the class below); any other
// event name falls through to EventEmitter's own signature.
export interface WebSocket {
  on<K extends keyof WebSocketEventListeners>(event: K, listener: WebSocketEventListeners[K]): this;
  on(event: string | symbol, listener: (...args: never[]) => void): this;
  once<K extends keyof WebSocketEventListeners>(event: K, listener: WebSocketEventListeners[K]): this;
  once(event: string | symbol, listener: (...args: never[]) => void): this;
  off<K extends keyof WebSocketEventListeners>(event: K, listener: WebSocketEventListeners[K]): this;
  off(event: string | symbol, listener: (...args: never[]) => void): this;
  addListener<K extends keyof WebSocketEventListeners>(event: K, listener: WebSocketEventListeners[K]): this;
  addListener(event: string | symbol, listener: (...args: never[]) => void): this;
}

/** The boolean state of a {@link WebSocket}, one bit each in its `#flags`. */
enum Flag {
  IsServer = 1 << 0,
  Paused = 1 << 1,
  Reading = 1 << 2,
  FlushQueued = 1 << 3,
  Busy = 1 << 4,
  FragmentCompressed = 1 << 5,
  CloseFrameSent = 1 << 6,
  CloseFrameReceived = 1 << 7,
  ErrorEmitted = 1 << 8,
  AwaitingPong = 1 << 9,
  /** The socket has closed; `close` waits for a message still being inflated. */
  CloseWaitsInflate = 1 << 10,
  /**
   * Events go through `emit` even to a sole listener: made when `emit` had more to do than call it
   * (rejections captured, domains in use; see `#emitMessage`).
   */
  EmitOnly = 1 << 11,
}

/** EventEmitter's own `emit`: while a connection's `emit` is this one, `#emitMessage` may go around it. */
const nativeEmit = EventEmitter.prototype.emit;

/**
 * A WebSocket connection. Events: `open`, `message(data, isBinary)`, `close(code, reason)`,
 * `error(err)`, `ping(data)`, `pong(data)`, `drain`; on clients also `upgrade(res)`,
 * `unexpected-response(req, res)` and `redirect(url, req)`.
 *
 * Unlike `ws`, an `error` with no listener is not thrown: the failure still shows in the `close`
 * event's code, and the peer cannot crash the process.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class WebSocket extends EventEmitter implements ReceiverHandler {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  // As on ws's default export, for code written `new WebSocket.Server(...)`; server.ts and
  // stream.ts set them (declared here to keep this module free of import cycles).
  declare static Server: typeof WebSocketServer;
  declare static WebSocketServer: typeof WebSocketServer;
  declare static createWebSocketStream: typeof createWebSocketStream;
  declare static WebSocket: typeof WebSocket;
  // On the prototype (see the end of this module), as in ws: not four fields on every connection.
  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  #readyState = 0;
  #socket: Attached | null = null;
  #receiver: Receiver | null = null;
  #settings: SocketSettings | null = null;
  #binaryType: BinaryType = 'nodebuffer';
  #url = '';
  #protocol = '';
  #extensions = '';

  // Output not yet handed to the socket: `#out`, then this connection's open region of the slab if
  // it has one (from `#packStart` to `slabUsed`); `#outLength` counts both.
  #out: Buffer[] | null = null;
  #outLength = 0;
  #packStart = -1;
  #outCallbacks: SendCallback[] | null = null;
  /** Sends waiting for a compression in flight, in order. */
  #queue: Array<() => boolean> | null = null;
  /** Opcode of a message being sent in fragments (`fin: false`), 0 if none. */
  #fragmentOpcode = 0;
  /** Broadcast frames held until the fragmented message being sent ends (section 5.4). */
  #heldBroadcasts: Array<() => void> | null = null;
  /** Bytes of sends made after the connection left OPEN, as the WHATWG API counts them. */
  #lateBytes = 0;

  // The closing handshake.
  #closeCode: number = CloseCode.Abnormal;
  #closeReason: Buffer = EMPTY;
  #closeTimer: NodeJS.Timeout | null = null;
  #pendingAutoPongs = 0;

  // The heartbeat.
  #pingSentAt = 0;
  #heartbeatTimer: NodeJS.Timeout | null = null;

  // The connection's booleans, one bit each: with thousands of idle connections, ten boolean
  // fields would cost 80 bytes per connection. Private accessors keep them readable as fields.
  #flags: number = Flag.IsServer;
  #set(flag: Flag, on: boolean): void {
    this.#flags = on ? this.#flags | flag : this.#flags & ~flag;
  }
  get #isServer(): boolean {
    return (this.#flags & Flag.IsServer) !== 0;
  }
  set #isServer(on: boolean) {
    this.#set(Flag.IsServer, on);
  }
  get #paused(): boolean {
    return (this.#flags & Flag.Paused) !== 0;
  }
  set #paused(on: boolean) {
    this.#set(Flag.Paused, on);
  }
  get #reading(): boolean {
    return (this.#flags & Flag.Reading) !== 0;
  }
  set #reading(on: boolean) {
    this.#set(Flag.Reading, on);
  }
  get #flushQueued(): boolean {
    return (this.#flags & Flag.FlushQueued) !== 0;
  }
  set #flushQueued(on: boolean) {
    this.#set(Flag.FlushQueued, on);
  }
  get #busy(): boolean {
    return (this.#flags & Flag.Busy) !== 0;
  }
  set #busy(on: boolean) {
    this.#set(Flag.Busy, on);
  }
  get #fragmentCompressed(): boolean {
    return (this.#flags & Flag.FragmentCompressed) !== 0;
  }
  set #fragmentCompressed(on: boolean) {
    this.#set(Flag.FragmentCompressed, on);
  }
  get #closeFrameSent(): boolean {
    return (this.#flags & Flag.CloseFrameSent) !== 0;
  }
  set #closeFrameSent(on: boolean) {
    this.#set(Flag.CloseFrameSent, on);
  }
  get #closeFrameReceived(): boolean {
    return (this.#flags & Flag.CloseFrameReceived) !== 0;
  }
  set #closeFrameReceived(on: boolean) {
    this.#set(Flag.CloseFrameReceived, on);
  }
  get #errorEmitted(): boolean {
    return (this.#flags & Flag.ErrorEmitted) !== 0;
  }
  set #errorEmitted(on: boolean) {
    this.#set(Flag.ErrorEmitted, on);
  }
  get #awaitingPong(): boolean {
    return (this.#flags & Flag.AwaitingPong) !== 0;
  }
  set #awaitingPong(on: boolean) {
    this.#set(Flag.AwaitingPong, on);
  }
  get #closeWaitsInflate(): boolean {
    return (this.#flags & Flag.CloseWaitsInflate) !== 0;
  }
  set #closeWaitsInflate(on: boolean) {
    this.#set(Flag.CloseWaitsInflate, on);
  }

  /** @internal The client's handshake request while CONNECTING. */
  _request: ClientRequest | null = null;
  /** The layer this connection carries (see {@link WebSocketOwner}), told of events before listeners. */
  #owner: WebSocketOwner | null = null;

  /**
   * Opens a client connection to `address` (`ws:`, `wss:`, `http:`, `https:` or
   * `ws+unix:/path/to.sock:/request-path`). Throws a `SyntaxError` for a URL it cannot use.
   * Servers make their connections internally (pass `null`).
   */
  constructor(
    address: string | URL | null,
    protocols?: string | string[] | ClientOptions,
    options?: ClientOptions,
  ) {
    super();
    compactListeners(this);
    if (
      EventEmitter.captureRejections ||
      (EventEmitter as { usingDomains?: boolean }).usingDomains === true
    ) {
      this.#flags |= Flag.EmitOnly;
    }
    if (address === null) return;
    this.#isServer = false;
    let protocolList: string[] = [];
    let opts = options;
    if (typeof protocols === 'string') protocolList = [protocols];
    else if (Array.isArray(protocols)) protocolList = protocols;
    else if (protocols !== undefined && protocols !== null) opts = protocols;
    this.#url = connect(this, address, protocolList, opts ?? {});
  }

  /** The connection's state: CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): number {
    return this.#readyState;
  }

  /** The URL the client connected to (the last one, after redirects); '' on the server side. */
  get url(): string {
    return this.#url;
  }

  /** The subprotocol the server selected, or ''. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The negotiated extensions as the Sec-WebSocket-Extensions header value, or ''. */
  get extensions(): string {
    return this.#extensions;
  }

  /** Whether `pause()` is in effect. */
  get isPaused(): boolean {
    return this.#paused;
  }

  /**
   * How binary messages are delivered: 'nodebuffer' (default), 'arraybuffer' (a copy), or
   * 'fragments' (an array of the frames' payloads). Other values are ignored.
   */
  get binaryType(): BinaryType {
    return this.#binaryType;
  }

  set binaryType(type: BinaryType) {
    if (type !== 'nodebuffer' && type !== 'arraybuffer' && type !== 'fragments') return;
    this.#binaryType = type;
    if (this.#receiver !== null) this.#receiver.fragments = type === 'fragments';
  }

  /** Bytes accepted by `send` and not yet handed to the operating system. */
  get bufferedAmount(): number {
    const socket = this.#socket;
    return this.#outLength + this.#lateBytes + (socket === null ? 0 : socket.writableLength);
  }

  /**
   * @internal Takes over `socket` once the opening handshake is complete; `head` is what
   * arrived after the handshake.
   */
  setSocket(
    socket: Duplex,
    head: Buffer,
    settings: SocketSettings,
    protocol: string,
    extensions: string,
  ): void {
    const attached = socket as Attached;
    attached[kWebSocket] = this;
    this.#socket = attached;
    this.#settings = settings;
    this.#protocol = protocol;
    this.#extensions = extensions;
    const net = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
    net.setTimeout?.(0);
    net.setNoDelay?.(true);
    if (head.length > 0) socket.unshift(head);
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.on('error', onSocketError);
    socket.on('drain', onSocketDrain);
    // The TCP socket lives as long as the connection: give it the small listener table too.
    compactListeners(socket);
    this.#readyState = WebSocket.OPEN;
  }

  #getReceiver(): Receiver {
    const settings = this.#settings as SocketSettings;
    const receiver = new Receiver(this, {
      isServer: this.#isServer,
      maxPayload: settings.maxPayload,
      maxFragments: settings.maxFragments,
      compression: settings.deflate !== null,
      skipUtf8Validation: settings.skipUTF8Validation,
    });
    receiver.fragments = this.#binaryType === 'fragments';
    if (this.#paused) receiver.pause();
    this.#receiver = receiver;
    return receiver;
  }

  /**
   * @internal Makes `owner` the layer this connection carries. A connection has one owner, for its
   * whole life; its listener table, empty until someone listens, is dropped.
   */
  _setOwner(owner: WebSocketOwner): void {
    this.#owner = owner;
    releaseListeners(this);
  }

  /** @internal Input from the socket. */
  _onData(chunk: Buffer): void {
    this.#reading = true;
    let offset = 0;
    if (this.#receiver === null && !this.#paused && this.#binaryType !== 'fragments') {
      // Between messages: the whole single-frame messages at the start of the chunk need no receiver.
      const settings = this.#settings as SocketSettings;
      if (settings.maxFragments > 0) {
        offset = takeWholeMessages(
          chunk,
          this,
          this.#isServer,
          settings.maxPayload,
          settings.skipUTF8Validation,
        );
      }
    }
    if (offset < chunk.length) {
      const receiver = this.#receiver ?? this.#getReceiver();
      receiver.push(offset === 0 ? chunk : chunk.subarray(offset));
      // Between messages the receiver holds nothing: an idle connection keeps none (a receiver is
      // about 270 bytes), and the next input makes a new one.
      if (receiver.idle) this.#receiver = null;
    }
    this.#reading = false;
    if (this.#outLength > 0) this.#flush();
  }

  // --- ReceiverHandler -----------------------------------------------------------------------

  /** @internal */
  onMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    const owner = this.#owner;
    if (owner !== null) {
      owner.onSocketMessage(data, isBinary);
      if (this.listenerCount('message') === 0) return;
    }
    if (!isBinary || this.#binaryType === 'nodebuffer') {
      this.#emitMessage(Array.isArray(data) ? Buffer.concat(data) : data, isBinary);
    } else if (this.#binaryType === 'arraybuffer') {
      const buf = Array.isArray(data) ? Buffer.concat(data) : data;
      this.#emitMessage(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length), true);
    } else {
      this.#emitMessage(Array.isArray(data) ? data : [data], true);
    }
  }

  /**
   * Emits `message`. A sole listener is called directly, with what `emit` would pass it: that saves
   * emit's array of arguments, on the path of every message. `emit` does the call when there are
   * several listeners, when a subclass or a patch replaced it, or when it has more to do
   * (rejections captured, domains: {@link Flag.EmitOnly}).
   */
  #emitMessage(data: unknown, isBinary: boolean): void {
    const listener = (this as unknown as { _events?: Record<string, unknown> })._events?.message;
    if (typeof listener === 'function' && this.emit === nativeEmit && (this.#flags & Flag.EmitOnly) === 0) {
      listener.call(this, data, isBinary);
    } else {
      this.emit('message', data, isBinary);
    }
  }

  /** @internal */
  onPing(data: Buffer): void {
    if ((this.#settings as SocketSettings).autoPong && this.#readyState === WebSocket.OPEN) {
      if (this.#pendingAutoPongs >= MAX_PENDING_AUTO_PONGS) {
        this.terminate();
      } else {
        this.#pendingAutoPongs++;
        this.#sendControl(Opcode.Pong, data, () => {
          this.#pendingAutoPongs--;
        });
      }
    }
    this.emit('ping', data);
  }

  /** @internal */
  onPong(data: Buffer): void {
    this.#awaitingPong = false;
    this.emit('pong', data);
  }

  /** @internal */
  onClose(code: number, reason: Buffer): void {
    this.#closeFrameReceived = true;
    this.#closeCode = code;
    this.#closeReason = reason;
    if (this.#readyState === WebSocket.OPEN) {
      // Echo the code (section 5.5.1); 1005 means the peer sent none, so neither do we.
      this.#startClose(code === CloseCode.NoStatusReceived ? EMPTY : encodeClosePayload(code, reason));
    } else {
      this.#afterCloseFrames();
    }
  }

  /** @internal */
  onError(error: ProtocolError): void {
    // Fail the connection (section 7.1.7): our close frame with the code, then close TCP.
    this.#closeCode = error.closeCode;
    if (this.#readyState === WebSocket.OPEN) {
      this.#startClose(encodeClosePayload(error.closeCode));
    }
    // Close TCP only after the close frame, which may be queued behind a message being compressed.
    this.#endAfterQueue();
    this.#emitError(error);
  }

  /** @internal */
  onCompressedMessage(parts: Buffer[], isBinary: boolean): void {
    const deflate = (this.#settings as SocketSettings).deflate as PerMessageDeflate;
    // Small messages inflate at once (see deflate.ts): no closure, no thread-pool round trip.
    const inflated = deflate.decompressSync(parts);
    if (inflated !== null) {
      const receiver = this.#receiver as Receiver;
      if (Buffer.isBuffer(inflated)) receiver.inflated(inflated, isBinary);
      else receiver.fail(inflated);
      return;
    }
    // Stop reading while the message inflates off the event loop (ws gets this from its stream's
    // backpressure): what the peer sends meanwhile would otherwise pile up in the receiver.
    const socket = this.#socket;
    socket?.pause();
    deflate.decompress(parts, (error, data) => {
      const receiver = this.#receiver as Receiver;
      if (error !== null) receiver.fail(error);
      else receiver.inflated(data, isBinary);
      if (this.#closeWaitsInflate) {
        if (!receiver.inflating) this.#closed();
        return;
      }
      if (!this.#paused) socket?.resume();
      if (this.#outLength > 0) this.#flush();
    });
  }

  // --- Sending -------------------------------------------------------------------------------

  /**
   * Sends a message (or, with `fin: false`, a fragment of one). Strings are sent as text, the
   * rest as binary, unless `options.binary` says otherwise. Throws while CONNECTING; after the
   * connection left OPEN the callback gets an error. Returns false when the output buffered for
   * this connection passes the socket's high-water mark: wait for `drain` before sending more.
   */
  send(data: SendData, options?: SendOptions | SendCallback, callback?: SendCallback): boolean {
    let cb = callback;
    let opts: SendOptions | undefined;
    if (typeof options === 'function') cb = options;
    else opts = options;
    if (
      this.#readyState === WebSocket.OPEN &&
      this.#fragmentOpcode === 0 &&
      this.#isServer &&
      !this.#busy &&
      (this.#settings as SocketSettings).deflate === null &&
      opts?.fin !== false &&
      opts?.mask !== true
    ) {
      // The usual message on its own short path: a server's whole message of up to 125 bytes, one
      // Uint8Array or a string, with no compression negotiated and nothing queued ahead of it. Its
      // frame is the 2-byte header and the payload, written straight into the slab (as #frame
      // would); a string is encoded there, with no Buffer of its own in between.
      if (data instanceof Uint8Array) {
        if (data.length < 126) {
          const at = this.#pushPacked(2 + data.length, cb);
          const opcode = (opts?.binary ?? true) ? Opcode.Binary : Opcode.Text;
          writeHeader(slab, at, opcode, data.length, true, false, null);
          slab.set(data, at + 2);
          return this.#belowHighWaterMark();
        }
      } else if (typeof data === 'string' && data.length < 126) {
        // (126 UTF-16 code units are at least 126 bytes of UTF-8.)
        const length = Buffer.byteLength(data);
        if (length < 126) {
          const at = this.#pushPacked(2 + length, cb);
          const opcode = opts?.binary === true ? Opcode.Binary : Opcode.Text;
          writeHeader(slab, at, opcode, length, true, false, null);
          slab.write(data, at + 2, length);
          return this.#belowHighWaterMark();
        }
      }
    }
    return this.#send(data, opts, cb);
  }

  /**
   * `send` for every other message. A method of its own because its closures (the send queue's
   * steps) make V8 allocate a context for their variables on entry: in `send` itself, every
   * message paid for one, the short path's included.
   */
  #send(data: SendData, opts: SendOptions | undefined, cb: SendCallback | undefined): boolean {
    if (this.#readyState === WebSocket.CONNECTING) {
      throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    const payload = toBuffer(data);
    if (this.#readyState !== WebSocket.OPEN) {
      this.#sendAfterClose(payload, cb);
      return false;
    }
    const binary = opts?.binary ?? typeof data !== 'string';
    const fin = opts?.fin ?? true;
    const mask = opts?.mask ?? !this.#isServer;
    let opcode: number = binary ? Opcode.Binary : Opcode.Text;
    const first = this.#fragmentOpcode === 0;
    if (!first) opcode = Opcode.Continuation;
    const deflate = (this.#settings as SocketSettings).deflate;
    let compress = false;
    if (deflate !== null && opts?.compress !== false) {
      compress = first ? payload.length >= deflate.threshold || !fin : this.#fragmentCompressed;
    }
    if (first) {
      this.#fragmentCompressed = compress;
      if (!fin) this.#fragmentOpcode = opcode;
    }
    if (fin) this.#fragmentOpcode = 0;

    // A small message compresses at once when nothing is queued ahead of it (see deflate.ts).
    const compressed =
      compress && !this.#busy ? (deflate as PerMessageDeflate).compressSync(payload, fin) : null;
    if (compressed !== null) {
      this.#frame(opcode, compressed, fin, first, mask, cb);
    } else if (compress) {
      this.#run(() => {
        (deflate as PerMessageDeflate).compress(payload, fin, (error, out) => {
          if (error !== null) {
            cb?.(error);
          } else if (this.#socket !== null && !this.#closeFrameSent) {
            this.#frame(opcode, out, fin, first, mask, cb);
          } else {
            cb?.(new Error('WebSocket is not open'));
          }
          this.#resumeQueue();
        });
        return true;
      });
    } else if (!this.#busy) {
      this.#frame(opcode, payload, fin, false, mask, cb);
    } else {
      this.#run(() => {
        this.#frame(opcode, payload, fin, false, mask, cb);
        return false;
      });
    }
    if (fin && this.#heldBroadcasts !== null) {
      const held = this.#heldBroadcasts;
      this.#heldBroadcasts = null;
      for (const release of held) release();
    }
    return this.#belowHighWaterMark();
  }

  /** What `send` returns: whether the output buffered for this connection is below the socket's high-water mark. */
  #belowHighWaterMark(): boolean {
    const socket = this.#socket;
    return socket === null || this.#outLength + socket.writableLength < socket.writableHighWaterMark;
  }

  /** @internal The connection's permessage-deflate, if negotiated. */
  get _deflate(): PerMessageDeflate | null {
    return this.#settings?.deflate ?? null;
  }

  /**
   * @internal Writes a frame prepared for many connections (a broadcast). `compressed` frames
   * were made with a fresh context, so this connection's compressor starts afresh after it.
   */
  _sendPrepared(frame: Buffer, compressed: boolean, payload: Buffer, opcode: number): void {
    if (this.#fragmentOpcode !== 0) {
      // Frames of another message may not go between a message's fragments: wait for its end.
      (this.#heldBroadcasts ??= []).push(() => this._sendPrepared(frame, compressed, payload, opcode));
      return;
    }
    if (this.#isServer === false) {
      // Clients mask every frame: send normally.
      this.send(payload, { binary: opcode === Opcode.Binary });
      return;
    }
    const job = (): boolean => {
      if (compressed) this._deflate?.resetDeflate();
      this.#push(frame, undefined);
      return false;
    };
    if (!this.#busy) job();
    else this.#run(job);
  }

  /** Sends a ping (payload at most 125 bytes). Throws while CONNECTING. */
  ping(data?: SendData, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.#control(Opcode.Ping, data, mask, callback);
  }

  /** Sends a pong (payload at most 125 bytes); an unsolicited pong is a one-way heartbeat. */
  pong(data?: SendData, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.#control(Opcode.Pong, data, mask, callback);
  }

  #control(
    opcode: number,
    data: SendData | undefined,
    mask: boolean | SendCallback | undefined,
    cb?: SendCallback,
  ): void {
    const callback = typeof mask === 'function' ? mask : cb;
    if (this.#readyState === WebSocket.CONNECTING) {
      throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    }
    const payload = data === undefined ? EMPTY : toBuffer(data);
    checkControlPayload(payload);
    if (this.#readyState !== WebSocket.OPEN) {
      this.#sendAfterClose(payload, callback);
      return;
    }
    this.#sendControl(opcode, payload, callback);
  }

  #sendControl(opcode: number, payload: Buffer, cb: SendCallback | undefined): void {
    const mask = !this.#isServer;
    if (!this.#busy) this.#frame(opcode, payload, true, false, mask, cb);
    else {
      this.#run(() => {
        this.#frame(opcode, payload, true, false, mask, cb);
        return false;
      });
    }
  }

  #sendAfterClose(payload: Buffer, cb: SendCallback | undefined): void {
    this.#lateBytes += payload.length;
    if (cb !== undefined) {
      const error = new Error(
        `WebSocket is not open: readyState ${this.#readyState} (${READY_STATES[this.#readyState]})`,
      );
      process.nextTick(cb, error);
    }
  }

  /** Runs `job` now, or after the jobs ahead of it; a job returns true when it finishes later. */
  #run(job: () => boolean): void {
    if (this.#busy) (this.#queue ??= []).push(job);
    else this.#busy = job();
  }

  #resumeQueue(): void {
    this.#busy = false;
    const queue = this.#queue;
    while (queue !== null && queue.length > 0) {
      if ((queue.shift() as () => boolean)()) {
        this.#busy = true;
        return;
      }
    }
    this.#queue = null;
    if (this.#outLength > 0) this.#schedule();
  }

  /** Frames `payload` into the output. */
  #frame(
    opcode: number,
    payload: Buffer,
    fin: boolean,
    rsv1: boolean,
    mask: boolean,
    cb: SendCallback | undefined,
  ): void {
    const key = mask ? randomMask(maskKey) : null;
    const length = payload.length;
    const size = headerSize(length, mask);
    if (size + length <= PACK_LIMIT) {
      const at = this.#pushPacked(size + length, cb);
      writeHeader(slab, at, opcode, length, fin, rsv1, key);
      slab.set(payload, at + size);
      if (key !== null) applyMask(slab, key, at + size, at + size + length);
    } else if (length <= COPY_LIMIT) {
      const frame = Buffer.allocUnsafe(size + length);
      writeHeader(frame, 0, opcode, length, fin, rsv1, key);
      frame.set(payload, size);
      if (key !== null) applyMask(frame, key, size, frame.length);
      this.#push(frame, cb);
    } else {
      const header = Buffer.allocUnsafe(size);
      writeHeader(header, 0, opcode, length, fin, rsv1, key);
      let body = payload;
      if (key !== null) {
        body = Buffer.allocUnsafe(length);
        body.set(payload);
        applyMask(body, key);
      }
      this.#push(header, undefined);
      this.#push(body, cb);
    }
  }

  #push(buf: Buffer, cb: SendCallback | undefined): void {
    this.#closeRegion();
    if (this.#out === null) this.#out = [buf];
    else this.#out.push(buf);
    this.#outLength += buf.length;
    if (cb !== undefined) (this.#outCallbacks ??= []).push(cb);
    if (!this.#reading) this.#schedule();
  }

  /**
   * Reserves `total` bytes at the end of this connection's open region of the slab (opening one,
   * and closing another connection's, as needed) for a frame the caller writes there; returns
   * where they start.
   */
  #pushPacked(total: number, cb: SendCallback | undefined): number {
    if (slabOwner !== this || slabUsed + total > SLAB_SIZE) {
      // The open region, this connection's or another's, goes to its owner's queue.
      if (slabOwner !== null) slabOwner.#closeRegion();
      if (slabUsed + total > SLAB_SIZE) {
        slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
        slabUsed = 0;
      }
      slabOwner = this;
      this.#packStart = slabUsed;
    }
    const at = slabUsed;
    slabUsed += total;
    this.#outLength += total;
    if (cb !== undefined) (this.#outCallbacks ??= []).push(cb);
    if (!this.#reading) this.#schedule();
    return at;
  }

  /** Moves this connection's open region of the slab, if any, to the end of `#out`. */
  #closeRegion(): void {
    if (slabOwner !== this) return;
    const region = slab.subarray(this.#packStart, slabUsed);
    if (this.#out === null) this.#out = [region];
    else this.#out.push(region);
    slabOwner = null;
    this.#packStart = -1;
  }

  #schedule(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    flushQueue.push(this);
    if (!flushScheduled) {
      flushScheduled = true;
      process.nextTick(flushAll);
    }
  }

  /** @internal Hands the output to the socket in one write when it is small. */
  _flush(): void {
    this.#flushQueued = false;
    this.#flush();
  }

  #flush(): void {
    this.#closeRegion();
    const out = this.#out;
    if (out === null) return;
    const callbacks = this.#outCallbacks;
    const length = this.#outLength;
    this.#out = null;
    this.#outCallbacks = null;
    this.#outLength = 0;
    const socket = this.#socket;
    const done = callbacks === null ? undefined : callbacks.length === 1 ? callbacks[0] : callEach(callbacks);
    if (socket === null || socket.destroyed || !socket.writable) {
      if (done !== undefined) process.nextTick(done, new Error('WebSocket is not open'));
      return;
    }
    if (out.length === 1) socket.write(out[0], done);
    else if (length <= JOIN_LIMIT) socket.write(Buffer.concat(out, length), done);
    else {
      const cork = (socket as Duplex & { cork(): void; uncork(): void }).cork !== undefined;
      if (cork) socket.cork();
      const last = out.length - 1;
      for (let i = 0; i < last; i++) socket.write(out[i]);
      socket.write(out[last], done);
      if (cork) socket.uncork();
    }
  }

  // --- Closing -------------------------------------------------------------------------------

  /**
   * Starts the closing handshake with `code` (1000, 1001-1003, 1007-1014 or 3000-4999) and a
   * reason of at most 123 UTF-8 bytes; `close()` sends a close frame with no code. While
   * CONNECTING it aborts the handshake. Throws a {@link UsageError} for an invalid code or reason.
   */
  close(code?: number, reason?: string | Buffer): void {
    if (this.#readyState === WebSocket.CLOSED) return;
    if (this.#readyState === WebSocket.CONNECTING) {
      this.abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    if (this.#readyState === WebSocket.CLOSING) {
      if (this.#closeFrameSent && this.#closeFrameReceived) this.#endAfterWrites();
      return;
    }
    this.#startClose(encodeClosePayload(code, reason));
  }

  #startClose(payload: Buffer): void {
    this.#readyState = WebSocket.CLOSING;
    this.#stopHeartbeat();
    this.#run(() => {
      this.#frame(Opcode.Close, payload, true, false, !this.#isServer, undefined);
      this.#closeFrameSent = true;
      this.#afterCloseFrames();
      return false;
    });
    const timeout = this.#settings?.closeTimeout ?? Defaults.closeTimeout;
    this.#closeTimer ??= setTimeout(() => this.#socket?.destroy(), timeout);
  }

  /** Both close frames are through: the server closes TCP (section 7.1.1); a client waits for it. */
  #afterCloseFrames(): void {
    if (this.#closeFrameSent && this.#closeFrameReceived && this.#isServer) this.#endAfterWrites();
  }

  /** Ends TCP once the send queue (a message being compressed, frames behind it) has been written. */
  #endAfterQueue(): void {
    this.#run(() => {
      this.#endAfterWrites();
      return false;
    });
  }

  #endAfterWrites(): void {
    const socket = this.#socket;
    if (socket === null) return;
    this.#flush();
    socket.end();
  }

  /**
   * Destroys the connection at once, without the closing handshake (the peer sees 1006).
   * While CONNECTING it aborts the handshake.
   */
  terminate(): void {
    if (this.#readyState === WebSocket.CLOSED) return;
    if (this.#readyState === WebSocket.CONNECTING) {
      this.abortHandshake(new Error('WebSocket was closed before the connection was established'));
      return;
    }
    this.#readyState = WebSocket.CLOSING;
    this.#flush();
    this.#socket?.destroy();
  }

  /** Stops reading from the socket (and delivering messages) until `resume()`. */
  pause(): void {
    if (this.#readyState === WebSocket.CONNECTING || this.#readyState === WebSocket.CLOSED) return;
    this.#paused = true;
    this.#receiver?.pause();
    this.#socket?.pause();
  }

  /** Resumes reading after `pause()`. */
  resume(): void {
    if (this.#readyState === WebSocket.CONNECTING || this.#readyState === WebSocket.CLOSED) return;
    this.#paused = false;
    this.#socket?.resume();
    this.#reading = true;
    this.#receiver?.resume();
    this.#reading = false;
    if (this.#outLength > 0) this.#flush();
  }

  /**
   * @internal The socket closed: the connection is over once what the peer sent before is delivered.
   * As with ws, a pause does not hold it back: input still in the socket (paused) or in the receiver
   * is parsed now, then `close` follows; after a message still being inflated, when it is delivered.
   */
  _onSocketClose(): void {
    this.#readyState = WebSocket.CLOSING;
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    this.#stopHeartbeat();
    this.#dropOutput();
    const socket = this.#socket as Attached;
    if (!this.#closeFrameReceived && socket.readableLength > 0) {
      socket.removeListener('data', onSocketData);
      const rest = socket.read() as Buffer | null;
      if (rest !== null) (this.#receiver ?? this.#getReceiver()).push(rest);
    }
    this.#endInput();
    if (this.#receiver?.inflating === true) this.#closeWaitsInflate = true;
    else this.#closed();
  }

  /** The connection is over and everything received has been delivered. */
  #closed(): void {
    this.#readyState = WebSocket.CLOSED;
    this.#closeWaitsInflate = false;
    (this.#settings as SocketSettings).deflate?.close();
    this.#owner?.onSocketClose();
    this.emit('close', this.#closeCode, this.#closeReason);
  }

  /** No more input will come: what a pause held in the receiver is delivered now. */
  #endInput(): void {
    const receiver = this.#receiver;
    if (receiver === null) return;
    this.#reading = true;
    receiver.end();
    this.#reading = false;
  }

  /** Fails the callbacks of unsent messages and frees the output buffers. */
  #dropOutput(): void {
    if (this.#outCallbacks !== null) {
      const error = new Error('WebSocket is not open');
      for (const cb of this.#outCallbacks) process.nextTick(cb, error);
    }
    this.#out = null;
    this.#outCallbacks = null;
    this.#outLength = 0;
    if (slabOwner === this) slabOwner = null;
    this.#packStart = -1;
    this.#queue = null;
  }

  /** @internal The peer ended its side of TCP. */
  _onSocketEnd(): void {
    // What a pause held (the peer's last messages, its close frame, which is still answered) is
    // delivered now: nothing more will come to resume it for.
    this.#endInput();
    this.#readyState = WebSocket.CLOSING;
    // Our side ends after what is queued: a message being compressed, a close frame behind it.
    this.#endAfterQueue();
  }

  /**
   * @internal Client side: the handshake failed or was aborted. Emits `error`, then `close`
   * (1006), on the next tick as ws does: listeners added just after `close()` still see them.
   */
  abortHandshake(error: Error): void {
    if (this.#readyState !== WebSocket.CONNECTING) return;
    this.#readyState = WebSocket.CLOSING;
    const request = this._request;
    this._request = null;
    if (request !== null) {
      request.destroy();
      request.on('error', noop);
    }
    this.#socket?.destroy();
    process.nextTick(() => {
      this.#emitError(error);
      this.#readyState = WebSocket.CLOSED;
      this.emit('close', CloseCode.Abnormal, EMPTY);
    });
  }

  #emitError(error: Error): void {
    if (this.#errorEmitted) return;
    this.#errorEmitted = true;
    this.#owner?.onSocketError(error);
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  /** @internal Client side: the handshake succeeded. */
  _opened(url: string): void {
    this.#url = url;
    this._request = null;
    this.emit('open');
  }

  // --- Heartbeat ---------------------------------------------------------------------------

  /**
   * @internal One beat of the heartbeat (beats come every min(interval, timeout) ms): terminate
   * if the last ping went unanswered for `timeout` ms, else ping once `interval` ms have passed
   * since the last one (the first beat starts the count). Returns false once the connection is over.
   */
  _heartbeat(now: number, interval: number, timeout: number): boolean {
    if (this.#readyState !== WebSocket.OPEN) return this.#readyState !== WebSocket.CLOSED;
    if (this.#awaitingPong) {
      if (now - this.#pingSentAt >= timeout) this.terminate();
      return true;
    }
    if (this.#pingSentAt === 0) this.#pingSentAt = now;
    // A timer may fire a millisecond "early" by Date.now(): allow for it, or a beat is skipped.
    if (now - this.#pingSentAt < interval - 1) return true;
    this.#awaitingPong = true;
    this.#pingSentAt = now;
    this.#sendControl(Opcode.Ping, EMPTY, undefined);
    return true;
  }

  /** @internal Beats for this connection alone (clients, and servers without client tracking). */
  _startHeartbeat(interval: number, timeout: number): void {
    const tick = Math.max(1, Math.min(interval, timeout));
    this.#heartbeatTimer = setInterval(() => this._heartbeat(Date.now(), interval, timeout), tick);
    this.#heartbeatTimer.unref();
  }

  #stopHeartbeat(): void {
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = null;
  }

  // --- EventTarget-style listeners (as `ws` offers them) ------------------------------------

  /** Adds `handler` for `type` ('open', 'message', 'close' or 'error') with a DOM-like event. */
  addEventListener(type: string, handler: EventHandler, options?: { once?: boolean }): void {
    this.#addEventListener(type, handler, options?.once === true, false);
  }

  /** Removes a handler added with `addEventListener`. */
  removeEventListener(type: string, handler: EventHandler): void {
    for (const listener of this.listeners(type) as WrappedListener[]) {
      if (listener[kHandler] === handler && !listener[kOnAttribute]) {
        this.removeListener(type, listener);
        return;
      }
    }
  }

  #addEventListener(type: string, handler: EventHandler, once: boolean, attribute: boolean): void {
    for (const listener of this.listeners(type) as WrappedListener[]) {
      if (!attribute && listener[kHandler] === handler && !listener[kOnAttribute]) return;
    }
    const call = (event: WebSocketEvent): void => {
      if (typeof handler === 'function') handler.call(this, event);
      else handler.handleEvent(event);
    };
    let wrapped: WrappedListener;
    if (type === 'message') {
      wrapped = (data, isBinary) =>
        call({ type, target: this, data: isBinary ? data : (data as Buffer).toString() });
    } else if (type === 'close') {
      wrapped = (code, reason) =>
        call({
          type,
          target: this,
          code: code as number,
          reason: (reason as Buffer).toString(),
          wasClean: this.#closeFrameReceived && this.#closeFrameSent,
        });
    } else if (type === 'error') {
      wrapped = (error) => call({ type, target: this, error, message: (error as Error).message });
    } else {
      wrapped = () => call({ type, target: this });
    }
    wrapped[kHandler] = handler;
    wrapped[kOnAttribute] = attribute;
    if (once) this.once(type, wrapped);
    else this.on(type, wrapped);
  }

  #getAttribute(type: string): EventHandler | null {
    for (const listener of this.listeners(type) as WrappedListener[]) {
      if (listener[kOnAttribute]) return listener[kHandler] ?? null;
    }
    return null;
  }

  #setAttribute(type: string, handler: EventHandler | null): void {
    for (const listener of this.listeners(type) as WrappedListener[]) {
      if (listener[kOnAttribute]) {
        this.removeListener(type, listener);
        break;
      }
    }
    if (typeof handler === 'function') this.#addEventListener(type, handler, false, true);
  }

  get onopen(): EventHandler | null {
    return this.#getAttribute('open');
  }
  set onopen(handler: EventHandler | null) {
    this.#setAttribute('open', handler);
  }
  get onmessage(): EventHandler | null {
    return this.#getAttribute('message');
  }
  set onmessage(handler: EventHandler | null) {
    this.#setAttribute('message', handler);
  }
  get onclose(): EventHandler | null {
    return this.#getAttribute('close');
  }
  set onclose(handler: EventHandler | null) {
    this.#setAttribute('close', handler);
  }
  get onerror(): EventHandler | null {
    return this.#getAttribute('error');
  }
  set onerror(handler: EventHandler | null) {
    this.#setAttribute('error', handler);
  }

  /** @internal */
  static _flushAll(): void {
    flushAll();
  }
}

for (const [name, value] of [
  ['CONNECTING', 0],
  ['OPEN', 1],
  ['CLOSING', 2],
  ['CLOSED', 3],
] as const) {
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}

/** Whether `ws` was given a response by a server that speaks the WebSocket protocol. */
export type UpgradeResponse = IncomingMessage;

function flushAll(): void {
  const queue = flushQueue;
  flushQueue = [];
  flushScheduled = false;
  for (const ws of queue) ws._flush();
}

function noop(): void {}

/**
 * One callback for the callbacks of the messages in one write. Made here rather than in `#flush`,
 * whose every call would otherwise allocate the closure's context, needed or not.
 */
function callEach(callbacks: SendCallback[]): SendCallback {
  return (error) => {
    for (const cb of callbacks) cb(error);
  };
}

/** @internal The bytes `send` sends for `data`. */
export function toBuffer(data: SendData): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'number') return Buffer.from(String(data));
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // The fragments of a message received with binaryType 'fragments': sent as one message.
  if (Array.isArray(data) && data.every((part) => Buffer.isBuffer(part))) return Buffer.concat(data);
  throw new UsageError(
    'ERR_INVALID_DATA',
    'data must be a string, Buffer, ArrayBuffer, ArrayBufferView or an array of Buffers',
  );
}

function onSocketData(this: Attached, chunk: Buffer): void {
  (this[kWebSocket] as WebSocket)._onData(chunk);
}

function onSocketEnd(this: Attached): void {
  (this[kWebSocket] as WebSocket)._onSocketEnd();
}

function onSocketClose(this: Attached): void {
  (this[kWebSocket] as WebSocket)._onSocketClose();
}

function onSocketError(this: Attached): void {
  // The 'close' event that follows reports the end of the connection (1006 without a close frame).
  this.destroy();
}

function onSocketDrain(this: Attached): void {
  const ws = this[kWebSocket] as WebSocket;
  if (ws.listenerCount('drain') > 0) ws.emit('drain');
}
