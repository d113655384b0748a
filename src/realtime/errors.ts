/**
 * Typed errors of the realtime layer. Every error carries a stable `code`.
 *
 * Two families, kept apart as the style guide asks:
 * - {@link RealtimeProtocolError}: the peer sent something the Socket.IO v5 protocol forbids
 *   (malformed packet, placeholder abuse, too many attachments, reserved event name...). The
 *   offending session is closed; the process and the other sessions carry on.
 * - {@link RealtimeUsageError}: the local caller misused the API (bad option, emitting a reserved
 *   event name, ack on a broadcast without timeout...). Thrown synchronously to the caller.
 *
 * @module
 */

/** Stable codes of {@link RealtimeProtocolError}. */
export type RealtimeProtocolErrorCode =
  | 'IO_ERR_INVALID_PACKET_TYPE'
  | 'IO_ERR_INVALID_ATTACHMENTS'
  | 'IO_ERR_TOO_MANY_ATTACHMENTS'
  | 'IO_ERR_INVALID_ACK_ID'
  | 'IO_ERR_INVALID_JSON'
  | 'IO_ERR_INVALID_PAYLOAD'
  | 'IO_ERR_RESERVED_EVENT'
  | 'IO_ERR_INVALID_PLACEHOLDER'
  | 'IO_ERR_UNEXPECTED_BINARY'
  | 'IO_ERR_UNEXPECTED_TEXT'
  | 'IO_ERR_PACKET_BEFORE_CONNECT';

/** Stable codes of {@link RealtimeUsageError}. */
export type RealtimeUsageErrorCode =
  | 'IO_ERR_RESERVED_EVENT_EMIT'
  | 'IO_ERR_INVALID_OPTION'
  | 'IO_ERR_ACK_UNSUPPORTED'
  | 'IO_ERR_NO_ENGINE'
  | 'IO_ERR_ENCODE';

/** The peer violated the Socket.IO v5 protocol. Never thrown to user code from a network path. */
export class RealtimeProtocolError extends Error {
  /** Stable machine-readable code. */
  readonly code: RealtimeProtocolErrorCode;
  constructor(code: RealtimeProtocolErrorCode, message: string) {
    super(message);
    this.name = 'RealtimeProtocolError';
    this.code = code;
  }
}

/** The local caller misused the API. */
export class RealtimeUsageError extends Error {
  /** Stable machine-readable code. */
  readonly code: RealtimeUsageErrorCode;
  constructor(code: RealtimeUsageErrorCode, message: string) {
    super(message);
    this.name = 'RealtimeUsageError';
    this.code = code;
  }
}

/**
 * Error delivered to acknowledgement callbacks (and rejected by `emitWithAck`) when the peer did not
 * answer in time. `message` is `'operation has timed out'`, as in socket.io.
 */
export class AckTimeoutError extends Error {
  /** Always `'IO_ERR_ACK_TIMEOUT'`. */
  readonly code = 'IO_ERR_ACK_TIMEOUT' as const;
  constructor(message = 'operation has timed out') {
    super(message);
    this.name = 'AckTimeoutError';
  }
}
