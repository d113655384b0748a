/**
 * Errors. Two kinds are kept apart (as wsproto does): a {@link ProtocolError} is the peer's fault and
 * carries the close code to fail the connection with; a {@link UsageError} is the caller's mistake.
 * Each error has a stable `code` to branch on; messages are for people and may change.
 * @module
 */
import { CloseCode } from './constants.js';

/** Stable codes of {@link ProtocolError}; the same strings as the `ws` package uses where it has one. */
export type ProtocolErrorCode =
  | 'WS_ERR_INVALID_OPCODE'
  | 'WS_ERR_UNEXPECTED_RSV_1'
  | 'WS_ERR_UNEXPECTED_RSV_2_3'
  | 'WS_ERR_EXPECTED_FIN'
  | 'WS_ERR_EXPECTED_MASK'
  | 'WS_ERR_UNEXPECTED_MASK'
  | 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH'
  | 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH'
  | 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
  | 'WS_ERR_TOO_MANY_FRAGMENTS'
  | 'WS_ERR_UNEXPECTED_CONTINUATION'
  | 'WS_ERR_EXPECTED_CONTINUATION'
  | 'WS_ERR_INVALID_UTF8'
  | 'WS_ERR_INVALID_CLOSE_CODE'
  | 'WS_ERR_INVALID_CLOSE_PAYLOAD'
  | 'WS_ERR_INVALID_COMPRESSED_DATA';

/** The peer violated the protocol; the connection fails with {@link ProtocolError.closeCode}. */
export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
  /** Stable identifier of the violation. */
  readonly code: ProtocolErrorCode;
  /** The close code to send the peer (1002, 1007, 1009, ...). */
  readonly closeCode: number;

  constructor(code: ProtocolErrorCode, message: string, closeCode: number = CloseCode.ProtocolError) {
    super(message);
    this.code = code;
    this.closeCode = closeCode;
  }
}

/** Stable codes of {@link UsageError}. */
export type UsageErrorCode =
  | 'ERR_INVALID_CLOSE_CODE'
  | 'ERR_CLOSE_REASON_TOO_LONG'
  | 'ERR_CONTROL_PAYLOAD_TOO_LONG'
  | 'ERR_NOT_OPEN'
  | 'ERR_INVALID_OPTION'
  | 'ERR_INVALID_URL'
  | 'ERR_INVALID_PROTOCOL'
  | 'ERR_INVALID_DATA';

/** The caller misused the API (a bad argument, an operation in the wrong state). */
export class UsageError extends TypeError {
  override readonly name = 'UsageError';
  /** Stable identifier of the mistake. */
  readonly code: UsageErrorCode;

  constructor(code: UsageErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
