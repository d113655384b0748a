/**
 * Socket.IO v5 packet encoder and decoder (the default parser of the protocol text, section
 * "Packet encoding"). Sans-I/O: the encoder returns the strings/binary chunks to hand to the engine,
 * the decoder is fed engine messages one by one and returns complete packets.
 *
 * Wire format (one Engine.IO message per chunk):
 *
 * ```
 * <packet type>[<# of binary attachments>-][<namespace>,][<acknowledgment id>][JSON payload]
 * + binary attachments, one engine message each
 * ```
 *
 * Browser-safe: no Node built-ins.
 *
 * @module
 */

import { RealtimeProtocolError, RealtimeUsageError } from './errors.js';

/** Socket.IO packet types (protocol text, "Exchange protocol"). */
export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

/** One of the {@link PacketType} values. */
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

/** A decoded (or to-be-encoded) Socket.IO packet. */
export interface Packet {
  /** Packet type. `EVENT`/`ACK` are upgraded to their `BINARY_*` forms by the encoder when needed. */
  type: PacketType;
  /** Namespace, `'/'` for the main one. */
  nsp: string;
  /** Payload: array for events/acks, object for CONNECT, object or string for CONNECT_ERROR. */
  data?: unknown;
  /** Acknowledgement id. */
  id?: number;
}

/**
 * Event names that the protocol layer reserves on the receiving side; a peer that sends one is
 * violating the protocol, and a local `emit` of one is refused.
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  'connect',
  'connect_error',
  'disconnect',
  'disconnecting',
  'newListener',
  'removeListener',
]);

/** Binary values the encoder moves into attachments. */
export type BinaryData = ArrayBuffer | ArrayBufferView | Blob;

/** One chunk to hand to the engine: a text message or a binary message. */
export type EncodedChunk = string | BinaryData;

/** Default bound on the number of binary attachments a single packet may announce. */
export const DEFAULT_MAX_ATTACHMENTS = 32;

/** Bound on the number of decimal digits in an ack id (2^53 has 16 digits). */
const MAX_ID_DIGITS = 15;

const hasBlob = typeof Blob === 'function';

/** Whether `value` is binary data that travels as an attachment. */
export function isBinary(value: unknown): value is BinaryData {
  return (
    value instanceof ArrayBuffer ||
    ArrayBuffer.isView(value) ||
    (hasBlob && value instanceof Blob) ||
    (typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer)
  );
}

/** Depth beyond which {@link hasBinary} stops looking (a cycle or absurd nesting; JSON would fail). */
const MAX_BINARY_SEARCH_DEPTH = 1000;

/**
 * Whether `value` contains binary data at any depth (follows `toJSON`, like JSON.stringify).
 * Allocation-free: called for every packet sent.
 */
export function hasBinary(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (isBinary(value)) return true;
  if (depth >= MAX_BINARY_SEARCH_DEPTH) return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== null && typeof item === 'object' && hasBinary(item, depth + 1)) return true;
    }
    return false;
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return hasBinary(toJSON.call(value), depth + 1);
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const item = (value as Record<string, unknown>)[key];
    if (item !== null && typeof item === 'object' && hasBinary(item, depth + 1)) return true;
  }
  return false;
}

/**
 * Replaces every binary value of `data` with `{ _placeholder: true, num: n }`, collecting the
 * binaries in order. Returns a copy; `data` is not modified. Throws {@link RealtimeUsageError}
 * (`IO_ERR_ENCODE`) on a circular structure.
 */
function deconstruct(data: unknown, buffers: BinaryData[], ancestors: Set<object>): unknown {
  if (data === null || typeof data !== 'object') return data;
  if (isBinary(data)) {
    const placeholder = { _placeholder: true, num: buffers.length };
    buffers.push(data);
    return placeholder;
  }
  if (ancestors.has(data))
    throw new RealtimeUsageError('IO_ERR_ENCODE', 'cannot encode a circular structure');
  ancestors.add(data);
  let out: unknown;
  if (Array.isArray(data)) {
    out = data.map((item) => deconstruct(item, buffers, ancestors));
  } else {
    const toJSON = (data as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      out = deconstruct(toJSON.call(data), buffers, ancestors);
    } else {
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(data)) {
        // defineProperty, not assignment: an own "__proto__" key (JSON.parse makes them) must stay
        // a key, not become the copy's prototype and take its placeholder out of the JSON.
        Object.defineProperty(copy, key, {
          value: deconstruct((data as Record<string, unknown>)[key], buffers, ancestors),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      out = copy;
    }
  }
  ancestors.delete(data);
  return out;
}

/**
 * Encodes a packet into the chunks to send, in order: one string, then one binary chunk per
 * attachment. `EVENT`/`ACK` packets whose data contains binary (at any depth) become
 * `BINARY_EVENT`/`BINARY_ACK`. Cost: one walk of the payload to look for binary, one
 * `JSON.stringify`; binary payloads are copied structurally (not their bytes).
 *
 * @throws {RealtimeUsageError} `IO_ERR_ENCODE` if the payload cannot be serialized.
 */
export function encode(packet: Packet): EncodedChunk[] {
  let type = packet.type;
  let data = packet.data;
  const buffers: BinaryData[] = [];
  if ((type === PacketType.EVENT || type === PacketType.ACK) && hasBinary(data)) {
    type = type === PacketType.EVENT ? PacketType.BINARY_EVENT : PacketType.BINARY_ACK;
  }
  if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
    data = deconstruct(data, buffers, new Set());
  }
  let str = String(type);
  if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) str += buffers.length + '-';
  if (packet.nsp && packet.nsp !== '/') str += packet.nsp + ',';
  if (packet.id !== undefined) str += String(packet.id);
  if (data !== undefined) {
    let json: string;
    try {
      json = JSON.stringify(data);
    } catch (err) {
      throw new RealtimeUsageError('IO_ERR_ENCODE', `cannot encode payload: ${(err as Error).message}`);
    }
    if (json !== undefined) str += json;
  }
  return buffers.length > 0 ? [str, ...buffers] : [str];
}

/** Options of {@link Decoder}. */
export interface DecoderOptions {
  /**
   * Maximum number of binary attachments one packet may announce (default
   * {@link DEFAULT_MAX_ATTACHMENTS}). Larger counts are a protocol error, so a peer cannot make the
   * decoder hold an unbounded number of buffers.
   */
  maxAttachments?: number;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a packet's payload against the protocol text's rules. Returns an error message or `null`.
 */
function validatePayload(packet: Packet): RealtimeProtocolError | null {
  const { type, data } = packet;
  switch (type) {
    case PacketType.CONNECT:
      return data === undefined || isPlainObject(data)
        ? null
        : new RealtimeProtocolError('IO_ERR_INVALID_PAYLOAD', 'CONNECT payload must be an object');
    case PacketType.DISCONNECT:
      return data === undefined
        ? null
        : new RealtimeProtocolError('IO_ERR_INVALID_PAYLOAD', 'DISCONNECT carries no payload');
    case PacketType.CONNECT_ERROR:
      return typeof data === 'string' || isPlainObject(data)
        ? null
        : new RealtimeProtocolError('IO_ERR_INVALID_PAYLOAD', 'CONNECT_ERROR payload must be an object');
    case PacketType.EVENT:
    case PacketType.BINARY_EVENT: {
      if (!Array.isArray(data) || data.length === 0) {
        return new RealtimeProtocolError('IO_ERR_INVALID_PAYLOAD', 'EVENT payload must be a non-empty array');
      }
      const name = data[0];
      if (typeof name !== 'string' && typeof name !== 'number') {
        return new RealtimeProtocolError('IO_ERR_INVALID_PAYLOAD', 'event name must be a string');
      }
      if (typeof name === 'string' && RESERVED_EVENTS.has(name)) {
        return new RealtimeProtocolError('IO_ERR_RESERVED_EVENT', `reserved event name "${name}"`);
      }
      return null;
    }
    case PacketType.ACK:
    case PacketType.BINARY_ACK:
      if (packet.id === undefined)
        return new RealtimeProtocolError('IO_ERR_INVALID_ACK_ID', 'ACK without id');
      return Array.isArray(data)
        ? null
        : new RealtimeProtocolError('IO_ERR_INVALID_PAYLOAD', 'ACK payload must be an array');
  }
  return null;
}

/**
 * Replaces placeholders with attachments, walking the payload iteratively (no recursion, so a deeply
 * nested hostile payload cannot overflow the stack). Every placeholder must be exactly
 * `{ _placeholder: true, num: <integer in range> }` and every attachment used at most once.
 */
function reconstruct(data: unknown, attachments: readonly unknown[]): unknown {
  const used = new Uint8Array(attachments.length);
  const resolve = (value: unknown): { ok: true; value: unknown } | { ok: false } => {
    if (!isPlainObject(value) || !Object.hasOwn(value, '_placeholder')) return { ok: false };
    const num = value.num;
    const keys = Object.keys(value);
    if (
      value._placeholder !== true ||
      keys.length !== 2 ||
      typeof num !== 'number' ||
      !Number.isInteger(num) ||
      num < 0 ||
      num >= attachments.length ||
      used[num] === 1
    ) {
      throw new RealtimeProtocolError('IO_ERR_INVALID_PLACEHOLDER', 'illegal attachment placeholder');
    }
    used[num] = 1;
    return { ok: true, value: attachments[num] };
  };
  const root = resolve(data);
  if (root.ok) return root.value;
  const stack: unknown[] = [data];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const r = resolve(node[i]);
        if (r.ok) node[i] = r.value;
        else if (typeof node[i] === 'object' && node[i] !== null) stack.push(node[i]);
      }
    } else if (isPlainObject(node)) {
      for (const key of Object.keys(node)) {
        const r = resolve(node[key]);
        if (r.ok)
          Object.defineProperty(node, key, {
            value: r.value,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        else if (typeof node[key] === 'object' && node[key] !== null) stack.push(node[key]);
      }
    }
  }
  for (let i = 0; i < used.length; i++) {
    if (used[i] !== 1) {
      throw new RealtimeProtocolError('IO_ERR_INVALID_ATTACHMENTS', 'attachment without placeholder');
    }
  }
  return data;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/**
 * Incremental decoder. Feed it each engine message with {@link Decoder.add}: it returns the complete
 * packet, or `null` while it waits for the binary attachments announced by a `BINARY_*` header.
 *
 * On a protocol violation `add` throws {@link RealtimeProtocolError}; the caller must then close the
 * session (the decoder is left reset). Memory bound: at most `maxAttachments` buffers, each bounded
 * by the engine's `maxPayload`.
 */
export class Decoder {
  readonly #maxAttachments: number;
  #pending: Packet | null = null;
  #expected = 0;
  // The attachments of the binary packet being received; null between packets.
  #buffers: unknown[] | null = null;

  constructor(options: DecoderOptions = {}) {
    const max = options.maxAttachments ?? DEFAULT_MAX_ATTACHMENTS;
    if (!Number.isInteger(max) || max < 0) {
      throw new RealtimeUsageError('IO_ERR_INVALID_OPTION', 'maxAttachments must be a non-negative integer');
    }
    this.#maxAttachments = max;
  }

  /** The most attachments a binary packet may announce. */
  get maxAttachments(): number {
    return this.#maxAttachments;
  }

  /** Whether the decoder is waiting for binary attachments. */
  get pending(): boolean {
    return this.#pending !== null;
  }

  /**
   * Decodes one engine message. Text messages start a packet; binary messages complete the pending
   * binary packet.
   *
   * @throws {RealtimeProtocolError} on any protocol violation.
   */
  add(chunk: unknown): Packet | null {
    if (typeof chunk === 'string') {
      if (this.#pending) {
        this.reset();
        throw new RealtimeProtocolError('IO_ERR_UNEXPECTED_TEXT', 'text received while awaiting attachments');
      }
      const { packet, attachments } = this.#decodeString(chunk);
      if (attachments === 0) {
        if (packet.type === PacketType.BINARY_EVENT || packet.type === PacketType.BINARY_ACK) {
          packet.data = reconstruct(packet.data, []);
        }
        return packet;
      }
      this.#pending = packet;
      this.#expected = attachments;
      this.#buffers = [];
      return null;
    }
    if (!isBinary(chunk)) {
      this.reset();
      throw new RealtimeProtocolError('IO_ERR_UNEXPECTED_BINARY', 'unsupported message type');
    }
    if (!this.#pending) {
      throw new RealtimeProtocolError('IO_ERR_UNEXPECTED_BINARY', 'binary received without a binary packet');
    }
    const buffers = (this.#buffers ??= []);
    buffers.push(chunk);
    if (buffers.length < this.#expected) return null;
    const packet = this.#pending;
    this.reset();
    packet.data = reconstruct(packet.data, buffers);
    return packet;
  }

  /** Drops any partially received packet (call when the session ends). */
  reset(): void {
    this.#pending = null;
    this.#expected = 0;
    this.#buffers = null;
  }

  #decodeString(str: string): { packet: Packet; attachments: number } {
    const typeCode = str.charCodeAt(0) - 48;
    if (!(typeCode >= 0 && typeCode <= 6) || str.length === 0) {
      throw new RealtimeProtocolError('IO_ERR_INVALID_PACKET_TYPE', 'unknown packet type');
    }
    const type = typeCode as PacketType;
    let i = 1;
    let attachments = 0;
    if (type === PacketType.BINARY_EVENT || type === PacketType.BINARY_ACK) {
      const start = i;
      while (i < str.length && isDigit(str.charCodeAt(i))) i++;
      if (i === start || i - start > 6 || str[i] !== '-') {
        throw new RealtimeProtocolError('IO_ERR_INVALID_ATTACHMENTS', 'illegal attachments header');
      }
      attachments = Number(str.slice(start, i));
      if (attachments > this.#maxAttachments) {
        throw new RealtimeProtocolError(
          'IO_ERR_TOO_MANY_ATTACHMENTS',
          `too many attachments (${attachments} > ${this.#maxAttachments})`,
        );
      }
      i++;
    }
    let nsp = '/';
    if (str[i] === '/') {
      const end = str.indexOf(',', i);
      if (end === -1) {
        nsp = str.slice(i);
        i = str.length;
      } else {
        nsp = str.slice(i, end);
        i = end + 1;
      }
    }
    let id: number | undefined;
    const idStart = i;
    while (i < str.length && isDigit(str.charCodeAt(i))) i++;
    if (i > idStart) {
      if (i - idStart > MAX_ID_DIGITS)
        throw new RealtimeProtocolError('IO_ERR_INVALID_ACK_ID', 'ack id too long');
      id = Number(str.slice(idStart, i));
    }
    let data: unknown;
    if (i < str.length) {
      try {
        data = JSON.parse(str.slice(i));
      } catch {
        throw new RealtimeProtocolError('IO_ERR_INVALID_JSON', 'invalid JSON payload');
      }
    }
    const packet: Packet = { type, nsp };
    if (data !== undefined) packet.data = data;
    if (id !== undefined) packet.id = id;
    if (id !== undefined && type !== PacketType.EVENT && type !== PacketType.BINARY_EVENT) {
      if (type !== PacketType.ACK && type !== PacketType.BINARY_ACK) {
        throw new RealtimeProtocolError('IO_ERR_INVALID_ACK_ID', 'ack id on a packet that cannot carry one');
      }
    }
    const invalid = validatePayload(packet);
    if (invalid) throw invalid;
    return { packet, attachments };
  }
}
