// The WHATWG `WebSocket` interface (https://websockets.spec.whatwg.org/, the copy this file follows
// is ../../../shared/specs/whatwg-websockets.bs) as a thin layer over parley's ws-compatible client.
//
// The engine (`WebSocket` from src/index.ts) does the RFC 6455 work: the opening handshake, framing,
// masking, permessage-deflate, the closing handshake. This file only turns the engine's events into
// the standard's "feedback from the protocol" tasks and its methods into the standard's steps. The
// steps are quoted, numbered as in the standard, where they are applied; where Node has no
// equivalent of a browser concept (a document's base URL, the Fetch request) the comment says so.

import type { Agent, IncomingMessage } from 'node:http';
import type { SecureContextOptions } from 'node:tls';
import { WebSocket as EngineWebSocket } from '../index.js';
import { CloseEvent, MessageEvent } from './events.js';
import {
  domException,
  type SendData,
  toClampedUnsignedShort,
  toDOMString,
  toProtocolList,
  toSendData,
  toUSVString,
} from './webidl.js';

/** The `BinaryType` enum: how binary messages are exposed in `MessageEvent.data`. */
export type BinaryType = 'blob' | 'arraybuffer';

/** A value `onopen`, `onmessage`, `onerror` or `onclose` holds: a callback, or null. */
export type WebSocketEventHandler<E extends Event> = ((this: WebSocket, event: E) => unknown) | null;

/** The events a WebSocket dispatches, by type. */
export interface WebSocketEventMap {
  open: Event;
  message: MessageEvent<string | Blob | ArrayBuffer>;
  error: Event;
  close: CloseEvent;
}

/** Options of permessage-deflate (RFC 7692) as the engine takes them. */
export interface PerMessageDeflateOptions {
  /** Ask the server not to keep its compression context between messages. */
  serverNoContextTakeover?: boolean;
  /** Tell the server this client does not keep its compression context between messages. */
  clientNoContextTakeover?: boolean;
  /** The server's LZ77 window size (8 to 15) to ask for. */
  serverMaxWindowBits?: number;
  /** The client's LZ77 window size (8 to 15) to offer. */
  clientMaxWindowBits?: number;
  /** Messages smaller than this many bytes are not compressed (engine default 1024). */
  threshold?: number;
  /** How many zlib operations may run at once (engine default 10). */
  concurrencyLimit?: number;
}

/**
 * Node-only, non-standard options, passed to the engine's client as they are. A browser has no
 * such argument: every option here is a difference from the standard that the caller opts into.
 */
export interface WebSocketOptions
  extends Pick<
    SecureContextOptions,
    'ca' | 'cert' | 'key' | 'passphrase' | 'pfx' | 'ciphers' | 'minVersion' | 'maxVersion'
  > {
  /** Subprotocols, as the constructor's second argument gives them (use one or the other). */
  protocols?: string | string[];
  /** Extra request headers of the opening handshake (e.g. `Authorization`, `Cookie`). */
  headers?: Record<string, string>;
  /** The `Origin` header to send; a browser always sends its page's origin, Node sends none by default. */
  origin?: string;
  /** permessage-deflate: offered by default (like browsers); `false` turns it off. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Milliseconds the opening handshake may take before the connection fails (engine default 30 s). */
  handshakeTimeout?: number;
  /** The largest message, in bytes, accepted from the server (engine default 100 MiB). */
  maxPayload?: number;
  /** Follow HTTP redirects during the handshake. The standard forbids it (redirect mode "error"); default false. */
  followRedirects?: boolean;
  /** How many redirects to follow when `followRedirects` is true (engine default 10). */
  maxRedirects?: number;
  /** The http(s) Agent for the handshake request. */
  agent?: Agent;
  /** Verify the server's TLS certificate for wss:// (default true). */
  rejectUnauthorized?: boolean;
  /** The TLS SNI server name for wss:// (default: the URL's host). */
  servername?: string;
}

// The option names copied to the engine; anything else in a caller's object is ignored, so that
// nothing can change what this layer relies on (the engine's binaryType, protocols, UTF-8 checks).
const ENGINE_OPTION_KEYS = [
  'headers',
  'origin',
  'perMessageDeflate',
  'handshakeTimeout',
  'maxPayload',
  'followRedirects',
  'maxRedirects',
  'agent',
  'rejectUnauthorized',
  'servername',
  'ca',
  'cert',
  'key',
  'passphrase',
  'pfx',
  'ciphers',
  'minVersion',
  'maxVersion',
] as const satisfies readonly (keyof WebSocketOptions)[];

// https://websockets.spec.whatwg.org/#dom-websocket-connecting and the three after it.
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

// RFC 6455 §7.4.1: 1006 is "reserved value and MUST NOT be set as a status code in a Close control
// frame by an endpoint"; it designates a connection closed abnormally (no Close frame received).
const CLOSE_ABNORMAL = 1006;
// The largest close reason close() accepts: a control frame payload is at most 125 bytes, 2 of which
// are the status code.
const MAX_CLOSE_REASON_BYTES = 123;

// RFC 2616 §2.2 separators, which a subprotocol name (RFC 6455 §4.1: "characters in the range U+0021
// to U+007E not including separator characters") must not contain.
const SUBPROTOCOL = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An entry of the send queue: a message, or the close() that must follow the messages before it. */
type Outgoing =
  | { kind: 'message'; data: Buffer | string | null; binary: boolean; size: number; ready: boolean }
  | { kind: 'close'; code: number | undefined; reason: string | undefined };

interface HandlerSlot {
  // The event handler's value: a callback object or null ([LegacyTreatNonObjectAsNull]).
  value: object | null;
  // The event handler's listener, created when the value first becomes non-null.
  listener: ((event: Event) => void) | null;
}

/**
 * The WHATWG `WebSocket` (WebSockets standard), on parley's engine.
 *
 * `new WebSocket(url, protocols)` connects at once; events (`open`, `message`, `error`, `close`) are
 * dispatched as separate tasks (each in its own `setImmediate`), never synchronously inside a
 * method, so listeners added right after construction see every event. `send()` copies
 * ArrayBuffer/view data at call time (one memcpy); a Blob is read asynchronously and later sends
 * wait for it, so messages always leave in call order. The third argument (or an options bag as the
 * second) is a Node-only extension: {@link WebSocketOptions}.
 *
 * Differences from a browser are listed in docs/web.md (no page base URL, no cookies/Origin unless
 * given, `isTrusted` false).
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface below only adds typed overloads of EventTarget's own methods.
export class WebSocket extends EventTarget {
  /** The connection has not yet been established. */
  declare static readonly CONNECTING: 0;
  /** The connection is established and communication is possible. */
  declare static readonly OPEN: 1;
  /** The connection is going through the closing handshake, or close() has been called. */
  declare static readonly CLOSING: 2;
  /** The connection has been closed or could not be opened. */
  declare static readonly CLOSED: 3;
  /** Same as {@link WebSocket.CONNECTING}. */
  declare readonly CONNECTING: 0;
  /** Same as {@link WebSocket.OPEN}. */
  declare readonly OPEN: 1;
  /** Same as {@link WebSocket.CLOSING}. */
  declare readonly CLOSING: 2;
  /** Same as {@link WebSocket.CLOSED}. */
  declare readonly CLOSED: 3;

  // Each WebSocket object has an associated url, which is a URL record (kept serialized).
  readonly #url: string;
  // The serialization of the url's origin, for MessageEvent.origin.
  readonly #origin: string;
  // Each WebSocket object has an associated binary type. Initially it must be "blob".
  #binaryType: BinaryType = 'blob';
  // Each WebSocket object has an associated ready state. Initially it must be CONNECTING (0).
  #readyState: ReadyState = CONNECTING;
  // The extensions and protocol attributes must initially return the empty string.
  #extensions = '';
  #protocol = '';
  #bufferedAmount = 0;

  readonly #engine: EngineWebSocket;
  readonly #protocols: readonly string[];
  // Whether this side was required to "fail the WebSocket connection" (RFC 6455 §7.1.7): then an
  // error event precedes close, and the close code is 1006 whatever the engine reports.
  #failed = false;
  // Whether the engine reported the connection established (the open task is then queued).
  #established = false;
  // The value of Sec-WebSocket-Extensions in the server's handshake response, if any.
  #responseExtensions: string | null = null;
  // Messages (and a pending close) waiting behind a Blob that is still being read.
  #queue: Outgoing[] = [];
  readonly #handlers: Record<keyof WebSocketEventMap, HandlerSlot> = {
    open: { value: null, listener: null },
    message: { value: null, listener: null },
    error: { value: null, listener: null },
    close: { value: null, listener: null },
  };

  /**
   * Creates a WebSocket and starts connecting to `url` in the background.
   *
   * @param url - an absolute ws:, wss:, http: or https: URL (http(s) maps to ws(s)); no fragment.
   * @param protocols - one subprotocol or a list of them, unique and each a valid token. Node-only:
   *   an options object ({@link WebSocketOptions}, with `protocols` inside) is also accepted here.
   * @param options - Node-only, non-standard: {@link WebSocketOptions} for the engine's client.
   * @throws DOMException "SyntaxError" for an invalid URL, a fragment, another scheme, or a duplicate
   *   or invalid subprotocol; TypeError when no URL is given.
   */
  constructor(
    url: string | URL,
    protocols?: string | Iterable<string> | WebSocketOptions,
    options?: WebSocketOptions,
  ) {
    // Web IDL: the url argument is required (an explicit `undefined` is the string "undefined").
    // biome-ignore lint/complexity/noArguments: Web IDL counts the arguments actually passed.
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'WebSocket': 1 argument required, but only 0 present.");
    }
    super();

    // Node-only: an object that is not iterable is an options bag (as undici also accepts). In the
    // standard such a value would become the string "[object Object]", an invalid subprotocol, so
    // nothing valid in a browser changes meaning.
    let engineOptions: WebSocketOptions | undefined = options;
    let protocolsArg: unknown = protocols;
    if (isOptionsBag(protocols)) {
      if (options !== undefined) {
        throw new TypeError(
          "Failed to construct 'WebSocket': options given both as the 2nd and the 3rd argument",
        );
      }
      engineOptions = protocols;
      protocolsArg = protocols.protocols;
    } else if (options?.protocols !== undefined) {
      // `protocols` inside a third-argument options object: accepted when the standard argument is
      // missing, refused rather than silently dropped when both are given.
      if (protocols !== undefined) {
        throw new TypeError(
          "Failed to construct 'WebSocket': protocols given both as an argument and an option",
        );
      }
      protocolsArg = options.protocols;
    }
    const urlString = toUSVString(url);
    let protocolsValue = toProtocolList(protocolsArg);

    // 1. Let baseURL be this's relevant settings object's API base URL.
    //    (Node has no document, hence no base URL: a relative URL fails to parse below.)
    // 2. Let urlRecord be the result of applying the URL parser to url with baseURL.
    let urlRecord: URL;
    try {
      urlRecord = new URL(urlString);
    } catch {
      // 3. If urlRecord is failure, then throw a "SyntaxError" DOMException.
      throw domException(`The URL '${urlString}' is invalid.`, 'SyntaxError');
    }
    // 4. If urlRecord's scheme is "http", then set urlRecord's scheme to "ws".
    if (urlRecord.protocol === 'http:') urlRecord.protocol = 'ws:';
    // 5. Otherwise, if urlRecord's scheme is "https", set urlRecord's scheme to "wss".
    else if (urlRecord.protocol === 'https:') urlRecord.protocol = 'wss:';
    // 6. If urlRecord's scheme is not "ws" or "wss", then throw a "SyntaxError" DOMException.
    if (urlRecord.protocol !== 'ws:' && urlRecord.protocol !== 'wss:') {
      throw domException(
        `The URL's scheme must be either 'http', 'https', 'ws', or 'wss'. '${urlRecord.protocol.slice(0, -1)}' is not allowed.`,
        'SyntaxError',
      );
    }
    // 7. If urlRecord's fragment is non-null, then throw a "SyntaxError" DOMException.
    //    (URL#hash is "" for both a null and an empty fragment; a serialized URL contains "#" exactly
    //    when the fragment is non-null, since "#" anywhere else is percent-encoded.)
    if (urlRecord.href.includes('#')) {
      throw domException(`The URL contains a fragment identifier ('${urlRecord.hash}').`, 'SyntaxError');
    }
    // 8. If protocols is a string, set protocols to a sequence consisting of just that string.
    if (typeof protocolsValue === 'string') protocolsValue = [protocolsValue];
    // 9. If any of the values in protocols occur more than once or otherwise fail to match the
    //    requirements for elements that comprise the value of `Sec-WebSocket-Protocol` fields as
    //    defined by The WebSocket protocol, then throw a "SyntaxError" DOMException.
    //    (Duplicates are compared ASCII case-insensitively, as browsers and the web-platform-tests
    //    "Create-protocols-repeated-case-insensitive" do.)
    const seen = new Set<string>();
    for (const protocol of protocolsValue) {
      if (!SUBPROTOCOL.test(protocol)) {
        throw domException(`The subprotocol '${protocol}' is invalid.`, 'SyntaxError');
      }
      const folded = protocol.toLowerCase();
      if (seen.has(folded)) {
        throw domException(`The subprotocol '${protocol}' is duplicated.`, 'SyntaxError');
      }
      seen.add(folded);
    }
    // 10. Set this's url to urlRecord.
    this.#url = urlRecord.href;
    this.#origin = urlRecord.origin;
    this.#protocols = protocolsValue;

    // 11. Let client be this's relevant settings object. (None in Node.)
    // 12. Run this step in parallel:
    //   1. Establish a WebSocket connection given urlRecord, protocols, and client.
    //      The engine sends the handshake of "establish a WebSocket connection" (Upgrade, Connection,
    //      a random Sec-WebSocket-Key, Sec-WebSocket-Version 13, the protocols, a permessage-deflate
    //      offer) and validates the response (status 101, RFC 6455 §4.1 checks); it does not follow
    //      redirects (redirect mode "error") unless the caller opts in with `followRedirects`.
    this.#engine = new EngineWebSocket(this.#url, [...protocolsValue], pickEngineOptions(engineOptions));
    this.#engine.binaryType = 'nodebuffer';
    this.#engine.on('upgrade', (response: IncomingMessage) => this.#onUpgrade(response));
    this.#engine.on('open', () => this.#onEstablished());
    this.#engine.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) =>
      this.#onMessage(data, isBinary),
    );
    // Every engine error (handshake failure, network error, protocol violation by the server) means
    // the connection is being failed; the engine then closes it and emits 'close'.
    this.#engine.on('error', () => {
      this.#failed = true;
    });
    this.#engine.on('close', (code: number, reason: Buffer) => this.#onClosed(code, reason));
  }

  /** The URL the connection was made to, serialized (after the http(s) -> ws(s) mapping). */
  get url(): string {
    // The url getter steps are to return this's url, serialized.
    return this.#url;
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
  get readyState(): ReadyState {
    // The readyState getter steps are to return this's ready state. When the server's Close frame
    // arrives, "the WebSocket closing handshake is started" and the state is CLOSING: the engine
    // knows that moment (it answers the Close frame at once), so it is read from there.
    if (this.#readyState === OPEN && this.#engine.readyState === EngineWebSocket.CLOSING) return CLOSING;
    return this.#readyState;
  }

  /**
   * Bytes of application data (UTF-8 text and binary) passed to send() and not yet written to the
   * network. It only grows once the connection is closing or closed (data sent then is never
   * transmitted), and does not count framing overhead or the kernel's buffers.
   */
  get bufferedAmount(): number {
    return this.#bufferedAmount;
  }

  /** The extensions the server selected (its Sec-WebSocket-Extensions value), or "". */
  get extensions(): string {
    return this.#extensions;
  }

  /** The subprotocol the server selected, or "". */
  get protocol(): string {
    return this.#protocol;
  }

  /** "blob" (default) or "arraybuffer": the type of `MessageEvent.data` for binary messages. */
  get binaryType(): BinaryType {
    // The binaryType getter steps are to return this's binary type.
    return this.#binaryType;
  }

  set binaryType(value: BinaryType) {
    // The binaryType setter steps are to set this's binary type to the given value.
    // (Web IDL enumeration attributes: "Let S be ? ToString(V). If S is not one of the
    // enumeration's values, then return." An invalid value is ignored, without an exception.)
    const type = toDOMString(value);
    if (type === 'blob' || type === 'arraybuffer') this.#binaryType = type;
  }

  /** The `open` event handler. */
  get onopen(): WebSocketEventHandler<Event> {
    return this.#getHandler('open') as WebSocketEventHandler<Event>;
  }
  set onopen(value: WebSocketEventHandler<Event>) {
    this.#setHandler('open', value);
  }

  /** The `message` event handler. */
  get onmessage(): WebSocketEventHandler<MessageEvent<string | Blob | ArrayBuffer>> {
    return this.#getHandler('message') as WebSocketEventHandler<MessageEvent<string | Blob | ArrayBuffer>>;
  }
  set onmessage(value: WebSocketEventHandler<MessageEvent<string | Blob | ArrayBuffer>>) {
    this.#setHandler('message', value);
  }

  /** The `error` event handler (a plain Event: no failure detail is given, by design). */
  get onerror(): WebSocketEventHandler<Event> {
    return this.#getHandler('error') as WebSocketEventHandler<Event>;
  }
  set onerror(value: WebSocketEventHandler<Event>) {
    this.#setHandler('error', value);
  }

  /** The `close` event handler. */
  get onclose(): WebSocketEventHandler<CloseEvent> {
    return this.#getHandler('close') as WebSocketEventHandler<CloseEvent>;
  }
  set onclose(value: WebSocketEventHandler<CloseEvent>) {
    this.#setHandler('close', value);
  }

  /**
   * Closes the connection: starts the closing handshake (with `code` and `reason` in the Close
   * frame, none if both are missing), or fails a connection still being established. Messages sent
   * before are transmitted first. The `close` event follows asynchronously.
   *
   * @throws DOMException "InvalidAccessError" if `code` is neither 1000 nor in 3000-4999;
   *   "SyntaxError" if `reason` is longer than 123 bytes in UTF-8.
   */
  close(code?: number, reason?: string): void {
    // Web IDL: optional [Clamp] unsigned short code, optional USVString reason.
    const codeValue = code === undefined ? undefined : toClampedUnsignedShort(code);
    const reasonValue = reason === undefined ? undefined : toUSVString(reason);

    // 1. If code is present, but is neither an integer equal to 1000 nor an integer in the range
    //    3000 to 4999, inclusive, throw an "InvalidAccessError" DOMException.
    if (codeValue !== undefined && codeValue !== 1000 && (codeValue < 3000 || codeValue > 4999)) {
      throw domException(
        `The code must be either 1000, or between 3000 and 4999. ${codeValue} is neither.`,
        'InvalidAccessError',
      );
    }
    // 2. If reason is present, then run these substeps:
    //   1. Let reasonBytes be the result of encoding reason.
    //   2. If reasonBytes is longer than 123 bytes, then throw a "SyntaxError" DOMException.
    if (reasonValue !== undefined && Buffer.byteLength(reasonValue, 'utf8') > MAX_CLOSE_REASON_BYTES) {
      throw domException(
        `The close reason must not be longer than ${MAX_CLOSE_REASON_BYTES} UTF-8 bytes.`,
        'SyntaxError',
      );
    }

    // 3. Run the first matching steps from the following list:
    // -> If this's ready state is CLOSING (2) or CLOSED (3): Do nothing.
    if (this.#readyState === CLOSING || this.#readyState === CLOSED) return;

    // -> If the WebSocket connection is not yet established: Fail the WebSocket connection and set
    //    this's ready state to CLOSING (2).
    //    (Until the open task has run, script sees CONNECTING; the connection counts as not yet
    //    established for it, and the queued open task will then do nothing.)
    if (this.#readyState === CONNECTING) {
      this.#fail();
      this.#readyState = CLOSING;
      return;
    }

    // -> If the WebSocket closing handshake has not yet been started: Start the WebSocket closing
    //    handshake and set this's ready state to CLOSING (2).
    //    If neither code nor reason is present, the WebSocket Close message must not have a body.
    //    If code is present, then the status code to use in the WebSocket Close message must be the
    //    integer given by code. If reason is also present, then reasonBytes must be provided in the
    //    Close message after the status code.
    //    (A reason without a code is sent with code 1000, as the current standard's "close the
    //    WebSocket" says: "If code is null and reason is not the empty string, set code to 1000".)
    // -> Otherwise: Set this's ready state to CLOSING (2).
    if (this.#engine.readyState === EngineWebSocket.OPEN) {
      const frameCode = codeValue ?? (reasonValue ? 1000 : undefined);
      const frameReason = frameCode === undefined ? undefined : reasonValue;
      // close() does not discard previously sent messages: behind a Blob still being read, the
      // closing handshake waits its turn in the send queue.
      if (this.#queue.length > 0) this.#queue.push({ kind: 'close', code: frameCode, reason: frameReason });
      else this.#startClosingHandshake(frameCode, frameReason);
    }
    this.#readyState = CLOSING;
  }

  /**
   * Sends a message: a string as a text message; an ArrayBuffer, a typed array/DataView or a Blob as
   * a binary message. Once the connection is closing or closed, the data is dropped but still added
   * to bufferedAmount, as the standard says.
   *
   * @throws DOMException "InvalidStateError" while the connection is CONNECTING; TypeError for a
   *   view on a SharedArrayBuffer or on a resizable ArrayBuffer.
   */
  send(data: SendData): void {
    // biome-ignore lint/complexity/noArguments: Web IDL counts the arguments actually passed.
    if (arguments.length === 0) {
      throw new TypeError(
        "Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.",
      );
    }
    // Web IDL: (BufferSource or Blob or USVString) data.
    const value = toSendData(data);

    // 1. If this's ready state is CONNECTING, then throw an "InvalidStateError" DOMException.
    if (this.#readyState === CONNECTING) {
      throw domException('Still in CONNECTING state.', 'InvalidStateError');
    }

    // 2. Run the appropriate set of steps from the following list. For each kind of data: "If the
    //    WebSocket connection is established and the WebSocket closing handshake has not yet
    //    started, then the user agent must send a WebSocket Message comprised of data" with the
    //    text (string) or binary frame opcode; and "Any invocation of this method ... that does not
    //    throw an exception must increase the bufferedAmount attribute by" the data's size in bytes
    //    (the UTF-8 length of a string, the Blob's size, the ArrayBuffer's or view's byte length).
    //    No data "cannot be sent" here: the engine buffers without a limit, so the WebSocket is
    //    never "flagged as full".
    const canSend = this.#readyState === OPEN && this.#engine.readyState === EngineWebSocket.OPEN;

    // -> If data is a string
    if (typeof value === 'string') {
      const size = Buffer.byteLength(value, 'utf8');
      this.#bufferedAmount += size;
      if (canSend) this.#enqueue({ kind: 'message', data: value, binary: false, size, ready: true });
      return;
    }
    // -> If data is a Blob object: "The data to be sent is the raw data represented by the Blob".
    //    Reading it is asynchronous; the entry holds its place in the queue until the bytes arrive.
    if (value instanceof Blob) {
      const size = value.size;
      this.#bufferedAmount += size;
      if (!canSend) return;
      const entry: Outgoing = { kind: 'message', data: null, binary: true, size, ready: false };
      this.#queue.push(entry);
      value.arrayBuffer().then(
        (bytes) => {
          entry.data = Buffer.from(bytes);
          entry.ready = true;
          this.#flush();
        },
        () => {
          // The Blob could not be read (e.g. a file-backed Blob whose file changed). Sending the
          // messages behind it would break their order, so the connection is failed instead.
          this.#queue = [];
          this.#fail();
        },
      );
      return;
    }
    // -> If data is an ArrayBuffer: "the data stored in the buffer described by the ArrayBuffer".
    // -> If data is an ArrayBufferView: "the data stored in the section of the buffer described by
    //    the ArrayBuffer object that data references".
    //    Both are copied now, so that changing the buffer after send() cannot change the message.
    const bytes = ArrayBuffer.isView(value)
      ? Buffer.from(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
      : Buffer.from(new Uint8Array(value));
    this.#bufferedAmount += bytes.byteLength;
    if (canSend)
      this.#enqueue({ kind: 'message', data: bytes, binary: true, size: bytes.byteLength, ready: true });
  }

  // --- Event handler IDL attributes (HTML standard, "Event handlers") ---

  #getHandler(type: keyof WebSocketEventMap): object | null {
    // The getter: return the result of getting the current value of the event handler.
    return this.#handlers[type].value;
  }

  #setHandler(type: keyof WebSocketEventMap, value: unknown): void {
    const slot = this.#handlers[type];
    // EventHandler is [LegacyTreatNonObjectAsNull]: any value that is not an object becomes null.
    const callback =
      (typeof value === 'object' && value !== null) || typeof value === 'function' ? value : null;
    // If the given value is null, deactivate the event handler: set its value to null, and remove
    // its listener from the event listener list, if any.
    if (callback === null) {
      slot.value = null;
      if (slot.listener !== null) {
        this.removeEventListener(type, slot.listener);
        slot.listener = null;
      }
      return;
    }
    // Otherwise set the value, and activate the event handler: if its listener is null, create one
    // and add it. Replacing a non-null handler keeps the listener, so the handler keeps the place in
    // the listener order where it was first set.
    slot.value = callback;
    if (slot.listener === null) {
      slot.listener = (event: Event) => {
        // The event handler processing algorithm: call the current value with the event, `this`
        // being the event's currentTarget; a non-callable object is not called (Web IDL "invoke a
        // callback function"). A return value of false cancels the event.
        const handler = slot.value;
        if (typeof handler !== 'function') return;
        const result: unknown = Reflect.apply(handler, event.currentTarget, [event]);
        if (result === false) event.preventDefault();
      };
      this.addEventListener(type, slot.listener);
    }
  }

  // --- Sending ---

  #enqueue(entry: Outgoing): void {
    if (this.#queue.length === 0) this.#transmit(entry);
    else this.#queue.push(entry);
  }

  // Transmits the queue's entries in order, up to the first Blob still being read.
  #flush(): void {
    while (this.#queue.length > 0) {
      const entry = this.#queue[0]!;
      if (entry.kind === 'message' && !entry.ready) return;
      this.#queue.shift();
      this.#transmit(entry);
    }
  }

  #transmit(entry: Outgoing): void {
    // The connection may have closed while a Blob was being read: what is left is never transmitted
    // (and stays in bufferedAmount).
    if (this.#engine.readyState !== EngineWebSocket.OPEN) return;
    if (entry.kind === 'close') {
      this.#startClosingHandshake(entry.code, entry.reason);
      return;
    }
    const size = entry.size;
    this.#engine.send(entry.data as Buffer | string, { binary: entry.binary }, (error?: Error | null) => {
      // The engine calls back once the frame is written to the socket (handed to the network), or
      // with an error if the connection closed first; only the former leaves bufferedAmount.
      if (!error) this.#bufferedAmount -= size;
    });
  }

  #startClosingHandshake(code: number | undefined, reason: string | undefined): void {
    if (code === undefined) this.#engine.close();
    else this.#engine.close(code, reason);
  }

  // Fail the WebSocket connection (RFC 6455 §7.1.7): the engine drops the connection (aborting the
  // handshake if it is still under way) and reports 'close'; the close task then fires error and
  // close with code 1006.
  #fail(): void {
    this.#failed = true;
    if (this.#engine.readyState !== EngineWebSocket.CLOSED) this.#engine.terminate();
  }

  // --- Feedback from the protocol ---

  #onUpgrade(response: IncomingMessage): void {
    const header = response.headers['sec-websocket-extensions'];
    if (typeof header === 'string') this.#responseExtensions = header;
  }

  // When the WebSocket connection is established, the user agent must queue a task to run these steps:
  #onEstablished(): void {
    // The standard's handshake check that RFC 6455 lacks: "If protocols is not the empty list and
    // extracting header list values given `Sec-WebSocket-Protocol` and response's header list
    // results in null, failure, or the empty byte sequence, then fail the WebSocket connection."
    // (RFC 6455 §4.1 itself: a subprotocol the client did not offer fails it too.) The engine
    // checks both; they are checked again here so that this layer holds whatever engine it runs on.
    const selected = this.#engine.protocol;
    if (
      (this.#protocols.length > 0 && selected === '') ||
      (selected !== '' && !this.#protocols.includes(selected))
    ) {
      this.#fail();
      return;
    }
    this.#established = true;
    const extensions = this.#responseExtensions ?? this.#engine.extensions;
    queueTask(() => {
      // Not in the standard: close() ran before this task, when script still saw CONNECTING, so
      // the connection has been failed; it is never reported open.
      if (this.#readyState !== CONNECTING) return;
      // 1. Change the ready state to OPEN (1).
      this.#readyState = OPEN;
      // 2. Change the extensions attribute's value to the extensions in use, if it is not the null value.
      this.#extensions = extensions;
      // 3. Change the protocol attribute's value to the subprotocol in use, if it is not the null value.
      this.#protocol = selected;
      // 4. Fire an event named open at the WebSocket object.
      this.dispatchEvent(new Event('open'));
    });
  }

  // When a WebSocket message has been received with type type and data data, the user agent must
  // queue a task to follow these steps:
  #onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const bytes = toBuffer(data);
    queueTask(() => {
      // 1. If ready state is not OPEN (1), then return.
      if (this.#readyState !== OPEN) return;
      // 2. Let dataForEvent be determined by switching on type and binary type:
      //    -> type indicates that the data is Text: a new DOMString containing data
      //       (the engine has validated the UTF-8).
      //    -> Binary and binary type is "blob": a new Blob object that represents data as its raw data
      //    -> Binary and binary type is "arraybuffer": a new ArrayBuffer object whose contents are data
      //    (The binary type is read now, when the task runs, not when the data arrived.)
      let dataForEvent: string | Blob | ArrayBuffer;
      if (!isBinary) dataForEvent = bytes.toString('utf8');
      else if (this.#binaryType === 'blob') dataForEvent = new Blob([bytes as Uint8Array<ArrayBuffer>]);
      else dataForEvent = toArrayBuffer(bytes);
      // 3. Fire an event named message at the WebSocket object, using MessageEvent, with the origin
      //    attribute initialized to the serialization of the WebSocket object's url's origin, and
      //    the data attribute initialized to dataForEvent.
      this.dispatchEvent(new MessageEvent('message', { data: dataForEvent, origin: this.#origin }));
    });
  }

  // When the WebSocket connection is closed, possibly cleanly, the user agent must queue a task to
  // run the following substeps:
  #onClosed(engineCode: number, engineReason: Buffer): void {
    // A connection that closes before it was established has failed, whether or not the engine
    // reported an error for it.
    const failed = this.#failed || !this.#established;
    // RFC 6455 §7.1.4-7.1.6: closed cleanly when the closing handshake completed before the TCP
    // connection closed; the engine reports 1006 exactly when no Close frame was received. A
    // connection this side failed is never clean and, per the standard's warning, reveals nothing:
    // code 1006, empty reason, whatever the cause.
    const wasClean = !failed && engineCode !== CLOSE_ABNORMAL;
    const code = failed ? CLOSE_ABNORMAL : engineCode;
    // "the result of applying UTF-8 decode without BOM to the WebSocket connection close reason"
    // (Buffer#toString keeps a leading BOM, as "without BOM" asks).
    const reason = failed ? '' : engineReason.toString('utf8');
    this.#queue = [];
    queueTask(() => {
      // 1. Change the ready state to CLOSED (3).
      this.#readyState = CLOSED;
      // 2. If the user agent was required to fail the WebSocket connection, or if the WebSocket
      //    connection was closed after being flagged as full, fire an event named error at the
      //    WebSocket object.
      if (failed) this.dispatchEvent(new Event('error'));
      // 3. Fire an event named close at the WebSocket object, using CloseEvent, with the wasClean
      //    attribute initialized to true if the connection closed cleanly and false otherwise, the
      //    code attribute initialized to the WebSocket connection close code, and the reason
      //    attribute initialized to the result of applying UTF-8 decode without BOM to the
      //    WebSocket connection close reason.
      this.dispatchEvent(new CloseEvent('close', { wasClean, code, reason }));
    });
  }
}

// Typed overloads of addEventListener/removeEventListener for the WebSocket's own events (declaration
// merging: no runtime code).
export interface WebSocket {
  addEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof WebSocketEventMap>(
    type: K,
    listener: (this: WebSocket, event: WebSocketEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
}

// Web IDL: constants are enumerable, read-only, non-configurable properties of both the interface
// object and the prototype; attributes and operations are enumerable accessors/methods of the
// prototype; the prototype's @@toStringTag is the interface name.
const constants: PropertyDescriptorMap = {
  CONNECTING: { value: CONNECTING, enumerable: true, writable: false, configurable: false },
  OPEN: { value: OPEN, enumerable: true, writable: false, configurable: false },
  CLOSING: { value: CLOSING, enumerable: true, writable: false, configurable: false },
  CLOSED: { value: CLOSED, enumerable: true, writable: false, configurable: false },
};
Object.defineProperties(WebSocket, constants);
Object.defineProperties(WebSocket.prototype, constants);
for (const name of [
  'url',
  'readyState',
  'bufferedAmount',
  'onopen',
  'onerror',
  'onclose',
  'extensions',
  'protocol',
  'close',
  'onmessage',
  'binaryType',
  'send',
]) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true });
}
Object.defineProperty(WebSocket.prototype, Symbol.toStringTag, {
  value: 'WebSocket',
  writable: false,
  enumerable: false,
  configurable: true,
});

// "Queue a task" on the WebSocket task source: setImmediate callbacks run in FIFO order, each as its
// own macrotask with microtasks drained in between, like the tasks of a browser's event loop.
function queueTask(task: () => void): void {
  setImmediate(task);
}

function isOptionsBag(value: unknown): value is WebSocketOptions {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function'
  );
}

function pickEngineOptions(options: WebSocketOptions | undefined): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  if (options === undefined || options === null) return picked;
  if (typeof options !== 'object')
    throw new TypeError("Failed to construct 'WebSocket': options must be an object");
  for (const key of ENGINE_OPTION_KEYS) {
    if (options[key] !== undefined) picked[key] = options[key];
  }
  return picked;
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

// A new ArrayBuffer with exactly the message's bytes (the Buffer may be a view into a larger one).
function toArrayBuffer(bytes: Buffer): ArrayBuffer {
  const buffer = bytes.buffer as ArrayBuffer;
  if (bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength) return buffer;
  return buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
}
