/**
 * The frame parser (RFC 6455, sections 5 and 6.2): bytes in, messages and control frames out.
 *
 * Sans-I/O: the caller pushes whatever bytes arrived ({@link Receiver.push}), split at any byte, and
 * receives calls on its {@link ReceiverHandler}. Payloads are views of the pushed chunks (no copy)
 * and are unmasked in place, so pushed chunks must belong to the receiver from then on.
 *
 * Every rule of the RFC that a receiver can check is checked here; the first violation is reported
 * once through {@link ReceiverHandler.onError} with the close code to fail the connection with, and
 * all later input is discarded.
 * @module
 */
import { CloseCode, Defaults, isValidCloseCode, MAX_CONTROL_PAYLOAD, Opcode } from './constants.js';
import { ProtocolError, type ProtocolErrorCode } from './errors.js';
import { applyMask } from './mask.js';
import { isValidUtf8, Utf8Validator } from './utf8.js';

/** What a {@link Receiver} reports. Called synchronously from `push` (and `resume`). */
export interface ReceiverHandler {
  /** A whole data message. `data` is an array of the frames' payloads only in fragments mode. */
  onMessage(data: Buffer | Buffer[], isBinary: boolean): void;
  /** A ping; the RFC asks for a pong with the same payload. */
  onPing(data: Buffer): void;
  /** A pong. */
  onPong(data: Buffer): void;
  /** A close frame: `code` is 1005 when it had no payload. Nothing is parsed after it. */
  onClose(code: number, reason: Buffer): void;
  /** The peer broke the protocol; fail the connection with `error.closeCode`. */
  onError(error: ProtocolError): void;
  /**
   * A whole compressed message (RSV1, permessage-deflate). The receiver holds all further input
   * until the caller hands back the inflated bytes with {@link Receiver.inflated} (or calls
   * {@link Receiver.fail}): inflation is the I/O layer's job.
   */
  onCompressedMessage(parts: Buffer[], isBinary: boolean): void;
}

/** Settings of a {@link Receiver}. */
export interface ReceiverOptions {
  /** True on the server side: frames must be masked. On the client side they must not be. */
  isServer: boolean;
  /** Largest message in bytes (0: no limit). Checked on each frame header, before the payload arrives. */
  maxPayload?: number;
  /** Most frames one message may span. */
  maxFragments?: number;
  /** Whether permessage-deflate was negotiated, so RSV1 may mark a compressed message. */
  compression?: boolean;
  /** Skip UTF-8 validation of text messages and close reasons (only for a trusted peer). */
  skipUtf8Validation?: boolean;
}

enum State {
  Header = 0,
  Payload = 1,
  Waiting = 2,
  Done = 3,
}

const EMPTY = Buffer.alloc(0);
/** The key of the frame being unmasked, spelled out for applyMask (used at once, never held). */
const maskScratch = new Uint8Array(4);

/** An incremental, zero-copy parser of one direction of a WebSocket connection. */
export class Receiver {
  /** When true, binary messages are delivered as the array of their frames' payloads. */
  fragments = false;

  readonly #handler: ReceiverHandler;
  readonly #isServer: boolean;
  readonly #maxPayload: number;
  readonly #maxFragments: number;
  readonly #compression: boolean;
  readonly #skipUtf8: boolean;

  #state = State.Header;
  #paused = false;
  /** No more input will come ({@link Receiver.end}): pausing no longer holds anything back. */
  #ended = false;
  /**
   * Input that arrived while waiting or paused, oldest first; null when there is none, so that an
   * idle connection holds no array (never an empty array).
   */
  #pending: Buffer[] | null = null;
  /** True while a chunk is being parsed: a handler that resumes re-entrantly leaves the rest to that loop. */
  #busy = false;
  /** A message inflated while paused, delivered by {@link Receiver.resume}. */
  #held: { data: Buffer; isBinary: boolean } | null = null;

  // The frame header, when it arrives split across chunks.
  // Allocated on first use: most connections never see a header split across reads.
  #head: Buffer | null = null;
  #headLength = 0;

  // The current frame.
  #fin = false;
  #opcode = 0;
  #masked = false;
  /** The frame's masking key as one int32 (a typed array per connection costs ~200 heap bytes). */
  #maskKey = 0;
  #frameLength = 0;
  #remaining = 0;
  #framePart: Buffer | null = null;
  #frameParts: Buffer[] | null = null;
  /** Whether this text frame's payload is being UTF-8 checked piece by piece as it arrives. */
  #frameStreamed = false;

  // The current data message (between its first frame and the one with FIN).
  #messageOpcode = 0;
  #compressed = false;
  #messageLength = 0;
  #fragmentCount = 0;
  #messagePart: Buffer | null = null;
  #messageParts: Buffer[] | null = null;
  #utf8: Utf8Validator | null = null;

  constructor(handler: ReceiverHandler, options: ReceiverOptions) {
    this.#handler = handler;
    this.#isServer = options.isServer;
    this.#maxPayload = options.maxPayload ?? Defaults.maxPayload;
    this.#maxFragments = options.maxFragments ?? Defaults.maxFragments;
    this.#compression = options.compression ?? false;
    this.#skipUtf8 = options.skipUtf8Validation ?? false;
  }

  /** True once a close frame or a violation ended parsing. */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /**
   * True between messages when nothing is held: no partial frame or message, no input waiting, not
   * paused, parsing not ended. A receiver in this state can be dropped and replaced by a new one
   * (same options) with nothing lost: what the connection layer does to keep idle connections small.
   */
  get idle(): boolean {
    return (
      this.#state === State.Header &&
      this.#messageOpcode === 0 &&
      this.#headLength === 0 &&
      this.#pending === null &&
      this.#held === null &&
      !this.#paused &&
      !this.#busy
    );
  }

  /** True while a compressed message is out for inflation (until {@link Receiver.inflated}). */
  get inflating(): boolean {
    return this.#state === State.Waiting;
  }

  /** Bytes held back while waiting for inflation or paused. */
  get bufferedAmount(): number {
    let n = 0;
    if (this.#pending !== null) for (const chunk of this.#pending) n += chunk.length;
    return n;
  }

  /** Parses `chunk`. The receiver owns it from now on (payloads are unmasked in place). */
  push(chunk: Buffer): void {
    if (this.#busy || this.#holding()) {
      (this.#pending ??= []).push(chunk);
      return;
    }
    this.#busy = true;
    try {
      this.#parseChunk(chunk);
    } finally {
      this.#busy = false;
    }
    if (this.#pending !== null && !this.#holding()) this.#drainPending();
  }

  /** Parses `chunk`; what is left of it when parsing must hold goes to the front of the queue. */
  #parseChunk(chunk: Buffer): void {
    const offset = this.#parse(chunk);
    if (offset < chunk.length && this.#holding()) (this.#pending ??= []).unshift(chunk.subarray(offset));
  }

  /** Parses from the start of `chunk` until it is used up or parsing must stop; returns the offset reached. */
  #parse(chunk: Buffer): number {
    const end = chunk.length;
    let offset = 0;
    while (offset < end && !this.#paused) {
      const state = this.#state;
      if (state === State.Header) offset = this.#readHeader(chunk, offset);
      else if (state === State.Payload) offset = this.#readPayload(chunk, offset);
      else break;
    }
    return offset;
  }

  /** Stops delivering events (input is kept) until {@link Receiver.resume}. Ignored after {@link Receiver.end}. */
  pause(): void {
    if (!this.#ended) this.#paused = true;
  }

  /**
   * No more input will come (the connection's TCP has ended): what a pause held back is parsed and
   * delivered now, since nothing would be left to resume it for, and later pauses are ignored. A
   * message out for inflation is delivered, with what follows it, when {@link Receiver.inflated}
   * hands it back.
   */
  end(): void {
    this.#ended = true;
    this.resume();
  }

  /** Delivers what was held back by {@link Receiver.pause}, and goes on. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    const held = this.#held;
    if (held !== null) {
      this.#held = null;
      this.#deliverInflated(held.data, held.isBinary);
    } else {
      this.#drainPending();
    }
  }

  /**
   * Hands back the inflated bytes of the message announced by `onCompressedMessage`; the receiver
   * validates it (UTF-8 for text), delivers it, and parses the input it held meanwhile. While
   * paused, the message is kept and delivered by {@link Receiver.resume}.
   */
  inflated(data: Buffer, isBinary: boolean): void {
    if (this.#state !== State.Waiting || this.#held !== null) return;
    if (this.#paused) this.#held = { data, isBinary };
    else this.#deliverInflated(data, isBinary);
  }

  #deliverInflated(data: Buffer, isBinary: boolean): void {
    this.#state = State.Header;
    if (!isBinary && !this.#skipUtf8 && !isValidUtf8(data)) {
      this.fail(
        new ProtocolError('WS_ERR_INVALID_UTF8', 'invalid UTF-8 in a text message', CloseCode.InvalidPayload),
      );
      return;
    }
    this.#handler.onMessage(isBinary && this.fragments ? [data] : data, isBinary);
    this.#drainPending();
  }

  /** Ends parsing with `error` (reported through `onError` unless parsing had already ended). */
  fail(error: ProtocolError): void {
    if (this.#state === State.Done) return;
    this.#finish();
    this.#messagePart = this.#framePart = null;
    this.#messageParts = this.#frameParts = null;
    this.#handler.onError(error);
  }

  /** Whether input is being held back (waiting for inflation, or paused), rather than parsed or dropped. */
  #holding(): boolean {
    return this.#state === State.Waiting || (this.#paused && this.#state !== State.Done);
  }

  /** Parsing has ended (a close frame or a violation): what is held back is dropped. */
  #finish(): void {
    this.#state = State.Done;
    this.#pending = null;
    this.#held = null;
  }

  /** Parses held input in order. A call from a handler inside this loop (or inside `push`) is a no-op: the outer loop goes on. */
  #drainPending(): void {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#pending !== null && !this.#holding() && this.#state !== State.Done) {
        const chunk = this.#pending.shift() as Buffer;
        if (this.#pending.length === 0) this.#pending = null;
        this.#parseChunk(chunk);
      }
    } finally {
      this.#busy = false;
    }
  }

  #error(code: ProtocolErrorCode, message: string, closeCode: number = CloseCode.ProtocolError): number {
    this.fail(new ProtocolError(code, message, closeCode));
    return Number.MAX_SAFE_INTEGER;
  }

  /** Reads a frame header from `chunk` at `offset`; returns the offset after what it used. */
  #readHeader(chunk: Buffer, offset: number): number {
    let source: Buffer = chunk;
    let at = offset;
    const available = chunk.length - offset;
    if (this.#headLength === 0 && available >= 2 && available >= headerLength(chunk[offset + 1])) {
      offset += headerLength(chunk[offset + 1]);
    } else {
      // The header is split across chunks: gather it in #head.
      const head = (this.#head ??= Buffer.allocUnsafe(14));
      while (offset < chunk.length && (this.#headLength < 2 || this.#headLength < headerLength(head[1]))) {
        head[this.#headLength++] = chunk[offset++];
      }
      if (this.#headLength < 2 || this.#headLength < headerLength(head[1])) return offset;
      this.#headLength = 0;
      source = head;
      at = 0;
    }

    const b0 = source[at];
    const b1 = source[at + 1];
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;

    if ((b0 & 0x30) !== 0) return this.#error('WS_ERR_UNEXPECTED_RSV_2_3', 'RSV2 and RSV3 must be clear');
    if (opcode >= 0x8) {
      if (opcode > Opcode.Pong) return this.#error('WS_ERR_INVALID_OPCODE', `invalid opcode ${opcode}`);
      if (!fin) return this.#error('WS_ERR_EXPECTED_FIN', 'control frames must not be fragmented');
      if (rsv1) return this.#error('WS_ERR_UNEXPECTED_RSV_1', 'RSV1 must be clear on a control frame');
      if (length > MAX_CONTROL_PAYLOAD) {
        return this.#error('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 'control frame payload over 125 bytes');
      }
    } else if (opcode === Opcode.Continuation) {
      if (this.#messageOpcode === 0) {
        return this.#error(
          'WS_ERR_UNEXPECTED_CONTINUATION',
          'continuation frame without a message to continue',
        );
      }
      if (rsv1)
        return this.#error('WS_ERR_UNEXPECTED_RSV_1', 'RSV1 is only set on the first frame of a message');
    } else if (opcode === Opcode.Text || opcode === Opcode.Binary) {
      if (this.#messageOpcode !== 0) {
        return this.#error('WS_ERR_EXPECTED_CONTINUATION', 'a new message started before the last one ended');
      }
      if (rsv1 && !this.#compression) {
        return this.#error('WS_ERR_UNEXPECTED_RSV_1', 'RSV1 must be clear: no extension was negotiated');
      }
    } else {
      return this.#error('WS_ERR_INVALID_OPCODE', `invalid opcode ${opcode}`);
    }
    if (masked !== this.#isServer) {
      return this.#isServer
        ? this.#error('WS_ERR_EXPECTED_MASK', 'client frames must be masked')
        : this.#error('WS_ERR_UNEXPECTED_MASK', 'server frames must not be masked');
    }

    let p = at + 2;
    if (length === 126) {
      length = (source[p] << 8) | source[p + 1];
      p += 2;
    } else if (length === 127) {
      const high = source.readUInt32BE(p);
      if (high > 0x1fffff) {
        // Over 2^53 - 1 (and a set top bit, which the RFC forbids) cannot be a real payload.
        return (high & 0x80000000) !== 0
          ? this.#error('WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 'the top bit of a 64-bit length must be 0')
          : this.#error(
              'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
              'payload length over 2^53 - 1',
              CloseCode.MessageTooBig,
            );
      }
      length = high * 0x100000000 + source.readUInt32BE(p + 4);
      p += 8;
    }
    if (masked) this.#maskKey = source.readInt32BE(p);

    if (opcode < 0x8) {
      if (opcode !== Opcode.Continuation) {
        this.#messageOpcode = opcode;
        this.#compressed = rsv1;
        this.#messageLength = 0;
        this.#fragmentCount = 0;
        this.#utf8?.reset();
      }
      this.#messageLength += length;
      if (this.#maxPayload > 0 && this.#messageLength > this.#maxPayload) {
        return this.#error(
          'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
          `message over the ${this.#maxPayload}-byte limit`,
          CloseCode.MessageTooBig,
        );
      }
      if (++this.#fragmentCount > this.#maxFragments) {
        return this.#error(
          'WS_ERR_TOO_MANY_FRAGMENTS',
          `message in over ${this.#maxFragments} frames`,
          CloseCode.MessageTooBig,
        );
      }
    }

    this.#fin = fin;
    this.#opcode = opcode;
    this.#masked = masked;
    this.#frameLength = length;
    this.#remaining = length;
    this.#frameStreamed = false;
    if (length === 0) this.#endFrame(EMPTY);
    else this.#state = State.Payload;
    return offset;
  }

  /** Takes payload bytes of the current frame from `chunk` at `offset`. */
  #readPayload(chunk: Buffer, offset: number): number {
    const take = Math.min(this.#remaining, chunk.length - offset);
    const part = offset === 0 && take === chunk.length ? chunk : chunk.subarray(offset, offset + take);
    let ascii = false;
    if (this.#masked) {
      const key = this.#maskKey;
      maskScratch[0] = key >>> 24;
      maskScratch[1] = key >>> 16;
      maskScratch[2] = key >>> 8;
      maskScratch[3] = key;
      // The chunk with the payload's range rather than `part`: its frames then share one word view.
      ascii = applyMask(chunk, maskScratch, offset, offset + take, this.#frameLength - this.#remaining);
    }
    this.#remaining -= take;
    if (this.#remaining === 0 && this.#framePart === null) {
      this.#state = State.Header;
      this.#endFrame(part, ascii);
    } else {
      // A text frame arriving in pieces: check each piece now, so invalid UTF-8 fails the connection
      // when it arrives rather than once the whole (maybe huge) frame has (Autobahn 6.4.3, 6.4.4).
      if (this.#opcode < 0x8 && this.#checksUtf8()) {
        this.#frameStreamed = true;
        if (!this.#utf8Validator().write(part)) return this.#invalidUtf8();
      }
      if (this.#framePart === null) this.#framePart = part;
      else (this.#frameParts ??= [this.#framePart]).push(part);
      if (this.#remaining === 0) {
        const payload =
          this.#frameParts === null ? this.#framePart : Buffer.concat(this.#frameParts, this.#frameLength);
        this.#framePart = null;
        this.#frameParts = null;
        this.#state = State.Header;
        this.#endFrame(payload);
      }
    }
    return offset + take;
  }

  /**
   * A whole frame's payload has arrived. `ascii`: every byte of it is known to be below 0x80
   * (found while unmasking it), so as text it is valid UTF-8.
   */
  #endFrame(payload: Buffer, ascii = false): void {
    const opcode = this.#opcode;
    if (opcode >= 0x8) {
      if (opcode === Opcode.Ping) this.#handler.onPing(payload);
      else if (opcode === Opcode.Pong) this.#handler.onPong(payload);
      else this.#endClose(payload);
      return;
    }

    const isText = this.#messageOpcode === Opcode.Text;
    if (this.#checksUtf8()) {
      let valid: boolean;
      if (this.#frameStreamed) {
        valid = !this.#fin || this.#utf8Validator().complete;
      } else if (this.#fin && this.#messagePart === null) {
        valid = ascii || isValidUtf8(payload); // a whole single-frame message: one native check
      } else {
        const utf8 = this.#utf8Validator();
        valid = utf8.write(payload) && (!this.#fin || utf8.complete);
      }
      if (!valid) {
        this.#invalidUtf8();
        return;
      }
    }

    if (this.#messagePart === null) this.#messagePart = payload;
    else if (payload.length > 0) (this.#messageParts ??= [this.#messagePart]).push(payload);
    if (!this.#fin) return;

    const first = this.#messagePart;
    const parts = this.#messageParts;
    const isBinary = !isText;
    this.#messageOpcode = 0;
    this.#messagePart = null;
    this.#messageParts = null;
    if (this.#compressed) {
      this.#state = State.Waiting;
      this.#handler.onCompressedMessage(parts ?? [first], isBinary);
    } else if (isBinary && this.fragments) {
      this.#handler.onMessage(parts ?? [first], true);
    } else {
      this.#handler.onMessage(parts === null ? first : Buffer.concat(parts, this.#messageLength), isBinary);
    }
  }

  /** Whether the current data message is text to UTF-8 check as it arrives (compressed text is checked once inflated). */
  #checksUtf8(): boolean {
    return this.#messageOpcode === Opcode.Text && !this.#compressed && !this.#skipUtf8;
  }

  /** The incremental validator, reset at the start of each message. */
  #utf8Validator(): Utf8Validator {
    this.#utf8 ??= new Utf8Validator();
    return this.#utf8;
  }

  #invalidUtf8(): number {
    return this.#error('WS_ERR_INVALID_UTF8', 'invalid UTF-8 in a text message', CloseCode.InvalidPayload);
  }

  /** A close frame (section 5.5.1): an optional 2-byte code and a UTF-8 reason. */
  #endClose(payload: Buffer): void {
    if (payload.length === 0) {
      this.#finish();
      this.#handler.onClose(CloseCode.NoStatusReceived, EMPTY);
      return;
    }
    if (payload.length === 1) {
      this.#error('WS_ERR_INVALID_CLOSE_PAYLOAD', 'a close payload of 1 byte');
      return;
    }
    const code = (payload[0] << 8) | payload[1];
    if (!isValidCloseCode(code)) {
      this.#error('WS_ERR_INVALID_CLOSE_CODE', `invalid close code ${code}`);
      return;
    }
    const reason = payload.subarray(2);
    if (!this.#skipUtf8 && !isValidUtf8(reason)) {
      this.#error('WS_ERR_INVALID_UTF8', 'invalid UTF-8 in a close reason', CloseCode.InvalidPayload);
      return;
    }
    this.#finish();
    this.#handler.onClose(code, reason);
  }
}

/** What {@link takeWholeMessages} reports to. */
export interface WholeMessageHandler {
  /** A whole data message, as {@link ReceiverHandler.onMessage} gets one. */
  onMessage(data: Buffer, isBinary: boolean): void;
  /** Read after each message: true stops delivery (the handler paused), leaving the rest to a {@link Receiver}. */
  readonly isPaused: boolean;
}

/**
 * Delivers the messages at the start of `chunk` that are the simplest case, with no {@link Receiver}:
 * each one frame (FIN, text or binary, no RSV bit, masked as `isServer` requires, a 7- or 16-bit
 * length within `maxPayload`) that lies whole in the chunk. That is nearly every message of a
 * connection that sends small ones, and a connection between messages then holds no parser at all.
 *
 * Stops at the first frame that is anything else (a control frame, a fragment, a compressed or
 * oversized message, a frame cut by the chunk's end, text that is not valid UTF-8), or once
 * `handler.isPaused` is true after a message; returns the offset reached. A new {@link Receiver} with
 * the same options takes the chunk from there and reports what that frame is, so this is only a
 * shortcut: every message it delivers is one a Receiver would deliver the same way, and it reports
 * no error itself. Must only be used between messages (when a Receiver would be {@link Receiver.idle}).
 */
export function takeWholeMessages(
  chunk: Buffer,
  handler: WholeMessageHandler,
  isServer: boolean,
  maxPayload: number,
  skipUtf8Validation: boolean,
): number {
  const end = chunk.length;
  const maskBit = isServer ? 0x80 : 0;
  let offset = 0;
  while (end - offset >= 2) {
    const b0 = chunk[offset];
    const b1 = chunk[offset + 1];
    if ((b0 !== 0x81 && b0 !== 0x82) || (b1 & 0x80) !== maskBit) break;
    let length = b1 & 0x7f;
    let at = offset + 2;
    if (length === 126) {
      if (end - at < 2) break;
      length = (chunk[at] << 8) | chunk[at + 1];
      at += 2;
    } else if (length === 127) {
      break;
    }
    const start = maskBit === 0 ? at : at + 4;
    if (end - start < length || (maxPayload > 0 && length > maxPayload)) break;
    let ascii = false;
    if (maskBit !== 0) {
      maskScratch[0] = chunk[at];
      maskScratch[1] = chunk[at + 1];
      maskScratch[2] = chunk[at + 2];
      maskScratch[3] = chunk[at + 3];
      ascii = applyMask(chunk, maskScratch, start, start + length);
    }
    const payload = chunk.subarray(start, start + length);
    if (b0 === 0x81 && !ascii && !skipUtf8Validation && !isValidUtf8(payload)) {
      // Masked back as it came, for the Receiver to fail the connection over.
      if (maskBit !== 0) applyMask(chunk, maskScratch, start, start + length);
      break;
    }
    offset = start + length;
    handler.onMessage(payload, b0 === 0x82);
    if (handler.isPaused) break;
  }
  return offset;
}

/** Bytes of the header whose second byte is `b1`. */
function headerLength(b1: number): number {
  const len = b1 & 0x7f;
  return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + ((b1 & 0x80) !== 0 ? 4 : 0);
}
