// The few Web IDL conversions the WebSocket interface needs (https://webidl.spec.whatwg.org/).
// Each one follows the "converting an ECMAScript value to an IDL value" algorithm of its type, so
// that `new WebSocket(url, protocols)`, `send(data)` and `close(code, reason)` accept and reject
// exactly what a browser does.

import { isArrayBuffer, isSharedArrayBuffer } from 'node:util/types';

/**
 * Creates the `DOMException` a standard algorithm "throws". Node's global `DOMException` sets the
 * legacy numeric `code` from the name (SyntaxError 12, InvalidStateError 11, InvalidAccessError 15),
 * which is the stable code callers can test. Cost: one object.
 */
export function domException(
  message: string,
  name: 'SyntaxError' | 'InvalidStateError' | 'InvalidAccessError',
) {
  return new DOMException(message, name);
}

/** Web IDL `DOMString`: ToString(V) (a Symbol throws a TypeError, as ToString does). */
export function toDOMString(value: unknown): string {
  if (typeof value === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
  return `${value as string}`;
}

/** Web IDL `USVString`: ToString(V), then every lone surrogate replaced by U+FFFD. */
export function toUSVString(value: unknown): string {
  // String.prototype.toWellFormed exists on every supported Node (>= 20); the ES2022 lib lacks its type.
  return (toDOMString(value) as unknown as WellFormable).toWellFormed();
}

interface WellFormable {
  toWellFormed(): string;
}

/**
 * Web IDL `[Clamp] unsigned short`: ToNumber(V); NaN becomes 0; clamped to [0, 65535]; rounded to
 * the nearest integer, ties to even.
 */
export function toClampedUnsignedShort(value: unknown): number {
  const x = Number(value);
  if (Number.isNaN(x)) return 0;
  const clamped = Math.min(Math.max(x, 0), 65535);
  const floor = Math.floor(clamped);
  const diff = clamped - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Web IDL `unsigned short` (no extended attribute): ToNumber(V); NaN and infinities become 0;
 * truncated; taken modulo 2^16.
 */
export function toUnsignedShort(value: unknown): number {
  const x = Number(value);
  if (!Number.isFinite(x)) return 0;
  const t = Math.trunc(x);
  return ((t % 65536) + 65536) % 65536;
}

/** Web IDL `boolean`: ToBoolean(V). */
export function toBoolean(value: unknown): boolean {
  return Boolean(value);
}

/**
 * Web IDL `(DOMString or sequence<DOMString>)`, the type of the constructor's `protocols`: an object
 * with an `@@iterator` method is a sequence (each element converted with ToString), anything else is
 * converted to a single DOMString. `undefined` (the argument missing) is the default, the empty list.
 * Cost: one pass over the iterable, bounded by the caller's own data.
 */
export function toProtocolList(value: unknown): string[] | string {
  if (value === undefined) return [];
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    const iterator = (value as { [Symbol.iterator]?: unknown })[Symbol.iterator];
    if (iterator !== undefined && iterator !== null) {
      if (typeof iterator !== 'function') throw new TypeError('protocols: @@iterator is not callable');
      const list: string[] = [];
      for (const item of value as Iterable<unknown>) list.push(toDOMString(item));
      return list;
    }
  }
  return toDOMString(value);
}

/** The value `send()` accepts after Web IDL conversion of `(BufferSource or Blob or USVString)`. */
export type SendData = string | ArrayBuffer | ArrayBufferView | Blob;

/**
 * Web IDL `(BufferSource or Blob or USVString)`, the type of `send()`'s argument: a Blob, an
 * ArrayBuffer or an ArrayBufferView is taken as is; a view on a SharedArrayBuffer, or on a resizable
 * buffer, is a TypeError (BufferSource has neither [AllowShared] nor [AllowResizable]); any other
 * value (numbers, plain objects, a SharedArrayBuffer itself) is converted to a USVString.
 */
export function toSendData(value: unknown): SendData {
  if (typeof value === 'object' && value !== null) {
    if (value instanceof Blob) return value;
    if (ArrayBuffer.isView(value)) {
      const buffer = value.buffer;
      if (isSharedArrayBuffer(buffer))
        throw new TypeError('send: a view on a SharedArrayBuffer is not allowed');
      if ((buffer as ArrayBuffer & { resizable?: boolean }).resizable === true) {
        throw new TypeError('send: a view on a resizable ArrayBuffer is not allowed');
      }
      return value;
    }
    if (isArrayBuffer(value)) {
      if ((value as ArrayBuffer & { resizable?: boolean }).resizable === true) {
        throw new TypeError('send: a resizable ArrayBuffer is not allowed');
      }
      return value;
    }
  }
  return toUSVString(value);
}
