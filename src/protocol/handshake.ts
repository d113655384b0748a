/**
 * The opening handshake (RFC 6455, section 4): keys, request validation, subprotocols, and the
 * response lines. Pure functions over header values; the I/O layer reads and writes them.
 * @module
 */
import crypto, { createHash, randomBytes } from 'node:crypto';
import { WEBSOCKET_GUID } from './constants.js';
import { type ExtensionOffer, isToken, parseExtensions } from './extensions.js';

/** Header values as Node's `IncomingMessage.headers` gives them (lower-case names). */
export type HeaderMap = { readonly [name: string]: string | string[] | undefined };

/** A fresh Sec-WebSocket-Key: 16 random bytes in base64 (section 4.1). */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

/** The Sec-WebSocket-Accept value for `key` (section 4.2.2): base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  // crypto.hash (Node 20.12+) is one call with no Hash object: about a third of the CPU of
  // createHash().update().digest() on the server's handshake path.
  if (oneShotHash !== undefined) return oneShotHash('sha1', key + WEBSOCKET_GUID, 'base64');
  return createHash('sha1')
    .update(key + WEBSOCKET_GUID)
    .digest('base64');
}

const oneShotHash: typeof crypto.hash | undefined =
  typeof crypto.hash === 'function' ? crypto.hash : undefined;

const KEY_PATTERN = /^[+/0-9A-Za-z]{21}[AQgw]==$/;

/** Whether `key` is the base64 form of exactly 16 bytes. */
export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** A header's value as one string (repeated headers joined with ", "), or undefined. */
export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Whether a comma-separated header value lists `token` (compared case-insensitively). */
export function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  const wanted = token.toLowerCase();
  // The usual case, a single token ("websocket", "Upgrade"): no split.
  if (value.length === wanted.length) return value.toLowerCase() === wanted;
  for (const item of value.split(',')) {
    if (item.trim().toLowerCase() === wanted) return true;
  }
  return false;
}

/** Why a header could not be used. */
export class HandshakeHeaderError extends SyntaxError {
  override readonly name = 'HandshakeHeaderError';
  readonly code = 'ERR_INVALID_HANDSHAKE_HEADER';
}

/**
 * Parses Sec-WebSocket-Protocol: a comma-separated list of distinct tokens. Throws
 * {@link HandshakeHeaderError} on an empty item, a non-token or a duplicate.
 */
export function parseProtocols(value: string): string[] {
  const protocols: string[] = [];
  const seen = new Set<string>();
  for (const item of value.split(',')) {
    const protocol = item.trim();
    if (!isToken(protocol)) throw new HandshakeHeaderError(`invalid subprotocol ${JSON.stringify(protocol)}`);
    if (seen.has(protocol)) throw new HandshakeHeaderError(`duplicate subprotocol ${protocol}`);
    seen.add(protocol);
    protocols.push(protocol);
  }
  return protocols;
}

/** The parts of an upgrade request the validation needs. */
export interface UpgradeRequestHead {
  readonly method?: string | undefined;
  readonly httpVersion: string;
  readonly headers: HeaderMap;
}

/** A valid upgrade request, with what the server negotiates from. */
export interface ValidUpgrade {
  ok: true;
  key: string;
  /** Subprotocols the client offered, in its order of preference. */
  protocols: string[];
  /** Extensions the client offered. */
  extensions: ExtensionOffer[];
}

/** A request to refuse, with the HTTP status, a message, and headers the RFC asks for. */
export interface RejectedUpgrade {
  ok: false;
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/**
 * Validates a client's opening handshake (section 4.2.1): GET, HTTP/1.1 or later,
 * `Upgrade: websocket`, `Connection` listing `upgrade`, a 16-byte base64 key, version 13
 * (otherwise 426 with `Sec-WebSocket-Version: 13`, section 4.4), and well-formed subprotocol and
 * extension headers.
 */
export function validateUpgradeRequest(req: UpgradeRequestHead): ValidUpgrade | RejectedUpgrade {
  if (req.method !== 'GET')
    return { ok: false, status: 405, message: 'Invalid HTTP method', headers: { Allow: 'GET' } };
  if (req.httpVersion !== '1.1') {
    const [major = 0, minor = 0] = req.httpVersion.split('.').map(Number);
    if (major < 1 || (major === 1 && minor < 1))
      return { ok: false, status: 400, message: 'HTTP/1.1 or later is required' };
  }
  if (!hasToken(headerValue(req.headers, 'upgrade'), 'websocket')) {
    return { ok: false, status: 400, message: 'Invalid Upgrade header' };
  }
  if (!hasToken(headerValue(req.headers, 'connection'), 'upgrade')) {
    return { ok: false, status: 400, message: 'Invalid Connection header' };
  }
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !isValidKey(key.trim())) {
    return { ok: false, status: 400, message: 'Missing or invalid Sec-WebSocket-Key header' };
  }
  const version = headerValue(req.headers, 'sec-websocket-version');
  if (version?.trim() !== '13') {
    return {
      ok: false,
      status: version === undefined ? 400 : 426,
      message: 'Missing or unsupported Sec-WebSocket-Version header',
      headers: { 'Sec-WebSocket-Version': '13' },
    };
  }
  let protocols: string[] = [];
  const protocolHeader = headerValue(req.headers, 'sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    try {
      protocols = parseProtocols(protocolHeader);
    } catch {
      return { ok: false, status: 400, message: 'Invalid Sec-WebSocket-Protocol header' };
    }
  }
  let extensions: ExtensionOffer[] = [];
  const extensionHeader = headerValue(req.headers, 'sec-websocket-extensions');
  if (extensionHeader !== undefined) {
    try {
      extensions = parseExtensions(extensionHeader);
    } catch {
      return { ok: false, status: 400, message: 'Invalid Sec-WebSocket-Extensions header' };
    }
  }
  return { ok: true, key: key.trim(), protocols, extensions };
}

/**
 * The `101 Switching Protocols` response head as header lines (without the final blank line):
 * the status line first, then `extraHeaders` (e.g. from a `headers` listener) after the required ones.
 */
export function upgradeResponseLines(
  key: string,
  protocol: string | undefined,
  extensions: string | undefined,
): string[] {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptKey(key)}`,
  ];
  if (protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  if (extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
  return lines;
}

/** Why a server's handshake response was refused by a client. */
export class HandshakeResponseError extends Error {
  override readonly name = 'HandshakeResponseError';
  readonly code = 'ERR_INVALID_HANDSHAKE_RESPONSE';
}

/**
 * Client side (section 4.1, steps 1-6 of validating the server's response, for a 101): the
 * Upgrade/Connection tokens, the accept value, and a subprotocol we offered (or none). Returns the
 * chosen subprotocol (empty string if none). Extensions are checked by the caller, which knows
 * which it offered.
 */
export function validateUpgradeResponse(headers: HeaderMap, key: string, offered: readonly string[]): string {
  if (!hasToken(headerValue(headers, 'upgrade'), 'websocket')) {
    throw new HandshakeResponseError('Invalid Upgrade header');
  }
  if (!hasToken(headerValue(headers, 'connection'), 'upgrade')) {
    throw new HandshakeResponseError('Invalid Connection header');
  }
  if (headers['sec-websocket-accept'] !== acceptKey(key)) {
    throw new HandshakeResponseError('Invalid Sec-WebSocket-Accept header');
  }
  const protocol = headerValue(headers, 'sec-websocket-protocol');
  // A server may decline every subprotocol offered (section 4.2.2): then there is none.
  if (protocol === undefined) return '';
  if (offered.length === 0)
    throw new HandshakeResponseError('Server sent a subprotocol but none was requested');
  if (!offered.includes(protocol)) throw new HandshakeResponseError('Server sent an invalid subprotocol');
  return protocol;
}
