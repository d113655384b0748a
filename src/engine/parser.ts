/**
 * Engine.IO v4 packet and payload codec (protocol text, "Packet encoding"). Pure functions, no I/O,
 * no Node-only imports: the same code runs in browsers (where `Buffer` is absent) and in Node.
 *
 * Wire forms:
 * - a packet is `<type digit>[<data>]`; a binary message is sent as-is over WebSocket, and as
 *   `b<base64>` over HTTP long-polling;
 * - a polling payload joins packets with the record separator `\x1e`.
 *
 * Every decoder is bounded: payload decoding stops with {@link EngineProtocolError} as soon as the
 * number of packets passes `maxPackets`, and callers bound the byte size before decoding.
 *
 * @module
 */
import { EngineErrorCodes, EngineProtocolError, EngineUsageError } from './errors.js';

/** The protocol revision implemented here. */
export const protocol = 4;

/** Packet types, indexed by their wire digit. */
export const PACKET_TYPES = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'] as const;

/** Name of an Engine.IO packet type. */
export type PacketType = (typeof PACKET_TYPES)[number];

/** The record separator joining packets in a polling payload. */
export const SEPARATOR = '\x1e';

/** Data accepted for sending: text, or bytes in any of the usual containers. */
export type RawData = string | ArrayBuffer | ArrayBufferView;

/**
 * How decoded binary data is exposed: `nodebuffer` gives a `Buffer` (Node only), `arraybuffer` an
 * `ArrayBuffer`, `uint8array` a `Uint8Array`.
 */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'uint8array';

/** Per-packet options. `compress` is forwarded to the WebSocket transport. */
export interface PacketOptions {
  compress?: boolean;
}

/** An Engine.IO packet. `data` is a string for text packets and bytes for binary messages. */
export interface Packet {
  type: PacketType;
  data?: RawData;
  options?: PacketOptions;
}

const TYPE_INDEX: Record<PacketType, number> = {
  open: 0,
  close: 1,
  ping: 2,
  pong: 3,
  message: 4,
  upgrade: 5,
  noop: 6,
};

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

interface BufferLike extends Uint8Array {
  toString(encoding?: string): string;
}
interface BufferCtor {
  from(
    data: ArrayBuffer | Uint8Array | string,
    offsetOrEncoding?: number | string,
    length?: number,
  ): BufferLike;
  isBuffer(v: unknown): boolean;
}
/** Node's Buffer when present (never imported, so the module stays browser-safe). */
const NodeBuffer: BufferCtor | undefined = (globalThis as { Buffer?: BufferCtor }).Buffer;

/** Returns true when `data` is binary (anything but a string). */
export function isBinary(data: unknown): data is ArrayBuffer | ArrayBufferView {
  return data instanceof ArrayBuffer || ArrayBuffer.isView(data);
}

/** Views any binary container as a `Uint8Array` without copying. */
export function toUint8Array(data: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Converts bytes to the requested {@link BinaryType}. `nodebuffer` falls back to `Uint8Array` where
 * `Buffer` does not exist. Costs a copy only for `arraybuffer` when the view does not span its buffer.
 */
export function toBinaryType(bytes: Uint8Array, binaryType: BinaryType): ArrayBuffer | Uint8Array {
  if (binaryType === 'arraybuffer') {
    if (
      bytes.byteOffset === 0 &&
      bytes.byteLength === bytes.buffer.byteLength &&
      bytes.buffer instanceof ArrayBuffer
    ) {
      return bytes.buffer;
    }
    // copy (Buffer#slice would return a view on the shared pool)
    return new Uint8Array(bytes).buffer as ArrayBuffer;
  }
  if (binaryType === 'nodebuffer' && NodeBuffer !== undefined) {
    return NodeBuffer.isBuffer(bytes)
      ? bytes
      : NodeBuffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  }
  return bytes;
}

/** Base64-encodes bytes (standard alphabet, padded). */
export function encodeBase64(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) {
    return NodeBuffer.from(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength).toString(
      'base64',
    );
  }
  let binary = '';
  const CHUNK = 0x8000; // keeps String.fromCharCode's argument list small
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/** Decodes standard, padded or unpadded base64. Throws {@link EngineProtocolError} on bad input. */
export function decodeBase64(text: string): Uint8Array {
  if (!BASE64_RE.test(text) || text.length % 4 === 1) {
    throw new EngineProtocolError(EngineErrorCodes.INVALID_PACKET, 'invalid base64 in binary packet');
  }
  if (NodeBuffer !== undefined) return NodeBuffer.from(text, 'base64');
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/** UTF-8 byte length of a string, computed without allocating. */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Encodes one packet.
 *
 * With `supportsBinary` (WebSocket) a binary message is returned as its bytes; otherwise (polling) it
 * becomes `b<base64>`. Text packets become `<digit><data>`. Only `message` packets may carry binary.
 * Cost: one string concatenation, or one base64 pass for binary over polling.
 */
export function encodePacket(packet: Packet, supportsBinary: boolean): string | Uint8Array {
  const { data } = packet;
  if (data !== undefined && typeof data !== 'string') {
    if (packet.type !== 'message') {
      throw new EngineUsageError(
        EngineErrorCodes.INVALID_PACKET,
        `binary data is only allowed in message packets`,
      );
    }
    const bytes = toUint8Array(data);
    return supportsBinary ? bytes : `b${encodeBase64(bytes)}`;
  }
  const index = TYPE_INDEX[packet.type];
  if (index === undefined) {
    throw new EngineUsageError(EngineErrorCodes.INVALID_PACKET, `unknown packet type ${String(packet.type)}`);
  }
  return data === undefined ? String(index) : `${index}${data}`;
}

/**
 * Decodes one packet: a WebSocket frame (string or bytes) or one record of a polling payload.
 * Binary input is always a `message`. Throws {@link EngineProtocolError} for an empty packet, an
 * unknown type digit, or bad base64.
 */
export function decodePacket(data: string | ArrayBuffer | ArrayBufferView, binaryType: BinaryType): Packet {
  if (typeof data !== 'string') {
    return { type: 'message', data: toBinaryType(toUint8Array(data), binaryType) };
  }
  if (data.length === 0) {
    throw new EngineProtocolError(EngineErrorCodes.INVALID_PACKET, 'empty packet');
  }
  const first = data.charCodeAt(0);
  if (first === 0x62 /* b */) {
    return { type: 'message', data: toBinaryType(decodeBase64(data.slice(1)), binaryType) };
  }
  const index = first - 0x30;
  const type = PACKET_TYPES[index];
  if (type === undefined) {
    throw new EngineProtocolError(EngineErrorCodes.INVALID_PACKET, 'unknown packet type');
  }
  return data.length > 1 ? { type, data: data.slice(1) } : { type };
}

/**
 * Encodes packets into one polling payload (binary as base64, joined with `\x1e`).
 * Cost: one pass over the packets plus the base64 of binary ones.
 */
export function encodePayload(packets: readonly Packet[]): string {
  let out = '';
  for (let i = 0; i < packets.length; i++) {
    if (i > 0) out += SEPARATOR;
    out += encodePacket(packets[i]!, false) as string;
  }
  return out;
}

/** Bounds applied by {@link decodePayload}. */
export interface DecodePayloadOptions {
  /** Largest number of packets accepted in one payload. */
  maxPackets: number;
  /** How binary packets are exposed. */
  binaryType: BinaryType;
}

/**
 * Decodes a polling payload. Throws {@link EngineProtocolError} when any record is invalid or when
 * the payload holds more than `maxPackets` packets (checked before any packet is decoded).
 * The caller must already have bounded the payload's byte size.
 */
export function decodePayload(payload: string, options: DecodePayloadOptions): Packet[] {
  let count = 1;
  for (let i = payload.indexOf(SEPARATOR); i !== -1; i = payload.indexOf(SEPARATOR, i + 1)) {
    if (++count > options.maxPackets) {
      throw new EngineProtocolError(
        EngineErrorCodes.TOO_MANY_PACKETS,
        `payload holds more than ${options.maxPackets} packets`,
      );
    }
  }
  const records = payload.split(SEPARATOR);
  const packets: Packet[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) packets[i] = decodePacket(records[i]!, options.binaryType);
  return packets;
}

/**
 * Bytes that `packet` adds to a polling payload (including its separator). Used by clients to split
 * their write buffer at the server's `maxPayload`.
 */
export function encodedPayloadLength(packet: Packet): number {
  const { data } = packet;
  if (data === undefined) return 2;
  if (typeof data === 'string') return 2 + utf8Length(data);
  return 2 + Math.ceil(toUint8Array(data).byteLength / 3) * 4;
}
