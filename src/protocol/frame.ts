/**
 * Frame serialization (RFC 6455, section 5.2). Pure functions over caller-provided buffers: the
 * I/O layer decides where bytes go and when they are written.
 * @module
 */
import { randomFillSync } from 'node:crypto';
import { CloseCode, isValidCloseCode, MAX_CLOSE_REASON, MAX_CONTROL_PAYLOAD, Opcode } from './constants.js';
import { UsageError } from './errors.js';
import { applyMask } from './mask.js';

/** Bytes of the header of a frame with a payload of `length` bytes (2 to 14). */
export function headerSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/** Options of one frame. */
export interface FrameOptions {
  /** Whether this is the last frame of its message. */
  fin: boolean;
  /** RSV1: set on the first frame of a compressed message (permessage-deflate). */
  rsv1: boolean;
  /** The masking key (clients mask every frame), or null for an unmasked (server) frame. */
  mask: Uint8Array | null;
}

/**
 * Writes a frame header for a payload of `length` bytes into `target` at `offset`; returns the
 * offset just past it. The caller writes (and, when masking, masks) the payload after it.
 */
export function writeHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  length: number,
  fin: boolean,
  rsv1: boolean,
  mask: Uint8Array | null,
): number {
  target[offset++] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = mask === null ? 0 : 0x80;
  if (length < 126) {
    target[offset++] = maskBit | length;
  } else if (length < 65536) {
    target[offset++] = maskBit | 126;
    target[offset++] = length >>> 8;
    target[offset++] = length & 0xff;
  } else {
    target[offset++] = maskBit | 127;
    // The top bit of the 64-bit length must be 0; JS lengths stay below 2^53.
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    target[offset++] = 0;
    target[offset++] = (high >>> 16) & 0xff;
    target[offset++] = (high >>> 8) & 0xff;
    target[offset++] = high & 0xff;
    target[offset++] = low >>> 24;
    target[offset++] = (low >>> 16) & 0xff;
    target[offset++] = (low >>> 8) & 0xff;
    target[offset++] = low & 0xff;
  }
  if (mask !== null) {
    target[offset++] = mask[0];
    target[offset++] = mask[1];
    target[offset++] = mask[2];
    target[offset++] = mask[3];
  }
  return offset;
}

const maskPool = Buffer.allocUnsafe(4096);
let maskPoolOffset = maskPool.length;

/**
 * A fresh random 4-byte masking key (RFC 6455, section 5.3), drawn from a pooled CSPRNG buffer and
 * copied into `into` (a new array by default), which is returned. Passing a scratch array lets a
 * hot path mask without allocating.
 */
export function randomMask(into: Uint8Array = new Uint8Array(4)): Uint8Array {
  if (maskPoolOffset === maskPool.length) {
    randomFillSync(maskPool);
    maskPoolOffset = 0;
  }
  into[0] = maskPool[maskPoolOffset];
  into[1] = maskPool[maskPoolOffset + 1];
  into[2] = maskPool[maskPoolOffset + 2];
  into[3] = maskPool[maskPoolOffset + 3];
  maskPoolOffset += 4;
  return into;
}

/**
 * One whole frame in a new buffer: header and payload (masked when `options.mask` is set; the
 * source payload is not modified). Cost: one allocation and one copy of the payload.
 */
export function encodeFrame(opcode: number, payload: Uint8Array, options: FrameOptions): Buffer {
  const masked = options.mask !== null;
  const size = headerSize(payload.length, masked);
  const frame = Buffer.allocUnsafe(size + payload.length);
  writeHeader(frame, 0, opcode, payload.length, options.fin, options.rsv1, options.mask);
  frame.set(payload, size);
  if (masked) applyMask(frame, options.mask as Uint8Array, size, frame.length);
  return frame;
}

/**
 * The payload of a close frame: the 2-byte code and a UTF-8 reason (section 5.5.1). `code`
 * undefined gives an empty payload. Throws {@link UsageError} for a code that may not be sent or a
 * reason over 123 bytes.
 */
export function encodeClosePayload(code?: number, reason: string | Uint8Array = ''): Buffer {
  if (code === undefined) {
    if (reason.length > 0)
      throw new UsageError('ERR_INVALID_CLOSE_CODE', 'a close reason needs a close code');
    return Buffer.alloc(0);
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw new UsageError('ERR_INVALID_CLOSE_CODE', `invalid close code: ${code}`);
  }
  const reasonBytes = typeof reason === 'string' ? Buffer.from(reason) : reason;
  if (reasonBytes.length > MAX_CLOSE_REASON) {
    throw new UsageError(
      'ERR_CLOSE_REASON_TOO_LONG',
      `close reason is ${reasonBytes.length} bytes; at most 123`,
    );
  }
  const payload = Buffer.allocUnsafe(2 + reasonBytes.length);
  payload.writeUInt16BE(code, 0);
  payload.set(reasonBytes, 2);
  return payload;
}

/** Throws {@link UsageError} unless `payload` fits a control frame (125 bytes). */
export function checkControlPayload(payload: Uint8Array): void {
  if (payload.length > MAX_CONTROL_PAYLOAD) {
    throw new UsageError(
      'ERR_CONTROL_PAYLOAD_TOO_LONG',
      `control frame payload is ${payload.length} bytes; at most 125`,
    );
  }
}

export { CloseCode, Opcode };
