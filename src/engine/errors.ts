/**
 * Errors of the Engine.IO layer. Every error carries a stable `code`. Peer violations
 * ({@link EngineProtocolError}) are kept apart from caller mistakes ({@link EngineUsageError}) and from
 * transport failures seen by the client ({@link EngineTransportError}).
 *
 * @module
 */

/** Stable codes of the errors raised by `parley/engine`. */
export const EngineErrorCodes = {
  /** A packet or payload could not be decoded (unknown type, bad base64, empty packet, bad UTF-8). */
  INVALID_PACKET: 'ENGINE_ERR_INVALID_PACKET',
  /** A payload holds more packets than the configured bound. */
  TOO_MANY_PACKETS: 'ENGINE_ERR_TOO_MANY_PACKETS',
  /** A body or message is larger than the configured bound (`maxHttpBufferSize`). */
  PAYLOAD_TOO_LARGE: 'ENGINE_ERR_PAYLOAD_TOO_LARGE',
  /** The handshake (`open` packet) was missing or malformed. */
  INVALID_HANDSHAKE: 'ENGINE_ERR_INVALID_HANDSHAKE',
  /** A client broke the transport rules (overlapping GET/POST, binary body in v4, aborted poll). */
  TRANSPORT_MISUSE: 'ENGINE_ERR_TRANSPORT_MISUSE',
  /** A transport failed (network error, unexpected HTTP status, WebSocket error). */
  TRANSPORT_FAILURE: 'ENGINE_ERR_TRANSPORT_FAILURE',
  /** An option had an invalid value or an invalid combination. */
  INVALID_OPTION: 'ENGINE_ERR_INVALID_OPTION',
  /** An API was called in a state where it cannot work (e.g. sending on a closed socket). */
  INVALID_STATE: 'ENGINE_ERR_INVALID_STATE',
} as const;

/** Union of the stable error codes in {@link EngineErrorCodes}. */
export type EngineErrorCode = (typeof EngineErrorCodes)[keyof typeof EngineErrorCodes];

/** The peer sent something that breaks the Engine.IO protocol. The session that received it is closed. */
export class EngineProtocolError extends Error {
  /** Stable machine-readable code. */
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string) {
    super(message);
    this.name = 'EngineProtocolError';
    this.code = code;
  }
}

/** The caller misused the API (bad option, wrong state). Never caused by peer input. */
export class EngineUsageError extends Error {
  /** Stable machine-readable code. */
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string) {
    super(message);
    this.name = 'EngineUsageError';
    this.code = code;
  }
}

/**
 * A client transport failed. `description` carries the underlying cause (an HTTP status, a
 * WebSocket close code or the original error) and `context` optional details such as the response.
 */
export class EngineTransportError extends Error {
  /** Stable machine-readable code. */
  readonly code: EngineErrorCode;
  /** Underlying cause: an HTTP status code, an `Error`, or a close description. */
  readonly description: unknown;
  /** The transport that failed. */
  readonly transport: string;
  /** Always `'TransportError'`, as engine.io-client reports it. */
  readonly type = 'TransportError';
  constructor(message: string, transport: string, description?: unknown) {
    super(message);
    this.name = 'EngineTransportError';
    this.code = EngineErrorCodes.TRANSPORT_FAILURE;
    this.transport = transport;
    this.description = description;
  }
}
