/**
 * Constants of RFC 6455 (The WebSocket Protocol) and RFC 7692 (permessage-deflate).
 * @module
 */

/** The GUID concatenated with Sec-WebSocket-Key to form Sec-WebSocket-Accept (RFC 6455, section 1.3). */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Frame opcodes (RFC 6455, section 5.2). */
export const Opcode = {
  /** A continuation frame of a fragmented message. */
  Continuation: 0x0,
  /** The first frame of a text message (UTF-8). */
  Text: 0x1,
  /** The first frame of a binary message. */
  Binary: 0x2,
  /** Starts or answers the closing handshake. */
  Close: 0x8,
  /** Asks the peer for a pong. */
  Ping: 0x9,
  /** Answers a ping, or an unsolicited heartbeat. */
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/**
 * Close status codes (RFC 6455, section 7.4.1, and the IANA registry).
 * Codes 1005, 1006 and 1015 are never sent on the wire: they only report what happened locally.
 */
export const CloseCode = {
  /** The purpose for which the connection was established has been fulfilled. */
  Normal: 1000,
  /** An endpoint is going away: a server shutting down, a browser leaving the page. */
  GoingAway: 1001,
  /** The peer broke the protocol. */
  ProtocolError: 1002,
  /** The peer sent a type of data the endpoint cannot accept. */
  UnsupportedData: 1003,
  /** Reported when a close frame carried no status code. Never sent. */
  NoStatusReceived: 1005,
  /** Reported when the connection closed without a close frame. Never sent. */
  Abnormal: 1006,
  /** Data in a message was not consistent with its type (e.g. invalid UTF-8 in a text message). */
  InvalidPayload: 1007,
  /** A message violated the endpoint's policy. */
  PolicyViolation: 1008,
  /** A message was too big to process. */
  MessageTooBig: 1009,
  /** The client expected the server to negotiate an extension it did not. */
  MandatoryExtension: 1010,
  /** The server met an unexpected condition. */
  InternalError: 1011,
  /** The service is restarting. */
  ServiceRestart: 1012,
  /** The service is overloaded: try again later. */
  TryAgainLater: 1013,
  /** A gateway got an invalid response from upstream. */
  BadGateway: 1014,
  /** Reported when the TLS handshake failed. Never sent. */
  TlsHandshakeFailed: 1015,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Whether `code` may appear in a close frame on the wire (RFC 6455, section 7.4): the registered
 * codes that are not reserved for local use, and the 3000-4999 range for libraries and applications.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
      (code >= 3000 && code <= 4999))
  );
}

/** The largest payload a control frame may carry (RFC 6455, section 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** The largest UTF-8 reason a close frame can carry: 125 bytes less the 2-byte code. */
export const MAX_CLOSE_REASON = 123;

/** Defaults of every limit; each can be changed by an option of the same name. */
export const Defaults = {
  /** Largest message accepted (after inflation): 100 MiB, as in the `ws` package. */
  maxPayload: 100 * 1024 * 1024,
  /**
   * Most frames one message may be split into. Autobahn case 9.3.1 sends 65,536; a message in many
   * tiny fragments costs an object each, so the count is bounded too.
   */
  maxFragments: 1 << 17,
  /** Milliseconds a client waits for the opening handshake. */
  handshakeTimeout: 30_000,
  /** Milliseconds to wait for the peer's close frame (or TCP close) after sending ours. */
  closeTimeout: 30_000,
  /** Largest upgrade request head (request line + headers), bytes. */
  maxHeaderSize: 16 * 1024,
  /** Most headers in an upgrade request. */
  maxHeaderCount: 100,
} as const;
