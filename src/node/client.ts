/**
 * The client side of the opening handshake (RFC 6455, section 4.1) over node:http/https.
 * @module
 */
import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { Defaults } from '../protocol/constants.js';
import {
  acceptDeflateResponse,
  type DeflateConfig,
  deflateOffer,
  PERMESSAGE_DEFLATE,
} from '../protocol/deflate.js';
import { formatExtensions, isToken, parseExtensions } from '../protocol/extensions.js';
import { generateKey, validateUpgradeResponse } from '../protocol/handshake.js';
import { PerMessageDeflate, type PerMessageDeflateOptions } from './deflate.js';
import type { ClientOptions } from './options.js';
import type { WebSocket } from './websocket.js';

/** Parses a client URL as `ws` does; throws a SyntaxError the WHATWG API can pass on. */
export function parseClientUrl(address: string | URL): URL {
  let url: URL;
  try {
    url = new URL(typeof address === 'string' ? address : address.href);
  } catch {
    throw new SyntaxError(`Invalid URL: ${String(address)}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:' && url.protocol !== 'ws+unix:') {
    throw new SyntaxError(
      'The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"',
    );
  }
  if (url.protocol === 'ws+unix:' && url.pathname === '')
    throw new SyntaxError("The URL's pathname is empty");
  if (url.hash !== '') throw new SyntaxError('The URL contains a fragment identifier');
  return url;
}

/**
 * Starts the handshake of `ws` to `address`; returns the URL. Throws a SyntaxError for a bad URL
 * or subprotocol list; every later failure reaches `ws` as `error` then `close` (1006).
 */
export function connect(
  ws: WebSocket,
  address: string | URL,
  protocols: readonly string[],
  options: ClientOptions,
  redirects = 0,
): string {
  if (options.protocolVersion !== undefined && options.protocolVersion !== 13) {
    throw new RangeError(`Unsupported protocol version: ${options.protocolVersion} (supported versions: 13)`);
  }
  const url = parseClientUrl(address);
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol) || seen.has(protocol)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    seen.add(protocol);
  }

  const secure = url.protocol === 'wss:';
  const key = generateKey();
  const {
    handshakeTimeout = Defaults.handshakeTimeout,
    maxPayload = Defaults.maxPayload,
    perMessageDeflate = true,
    followRedirects = false,
    maxRedirects = 10,
    origin,
    headers,
    heartbeat,
    finishRequest,
    ...requestOptions
  } = options;
  const deflateConfig: (DeflateConfig & PerMessageDeflateOptions) | null =
    perMessageDeflate === false ? null : perMessageDeflate === true ? {} : perMessageDeflate;

  const requestHeaders: Record<string, string> = {
    ...headers,
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': key,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
  };
  if (deflateConfig !== null)
    requestHeaders['Sec-WebSocket-Extensions'] = formatExtensions([deflateOffer(deflateConfig)]);
  if (protocols.length > 0) requestHeaders['Sec-WebSocket-Protocol'] = protocols.join(',');
  if (origin !== undefined) requestHeaders.Origin = origin;

  const request: http.RequestOptions & https.RequestOptions = {
    ...requestOptions,
    headers: requestHeaders,
    method: 'GET',
    path: url.pathname + url.search,
  };
  if (url.protocol === 'ws+unix:') {
    // ws+unix:/path/to.sock:/request-path?query: the socket path ends at the first ':' (as in ws).
    const target = url.pathname + url.search;
    const colon = target.indexOf(':');
    request.socketPath = colon === -1 ? target : target.slice(0, colon);
    request.path = (colon === -1 ? '' : target.slice(colon + 1)) || '/';
  } else {
    request.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    request.port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    if (secure && request.servername === undefined && !/^[\d.]+$|:/.test(request.host))
      request.servername = request.host;
  }
  if (url.username !== '' || url.password !== '') {
    const auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    // When following redirects the credentials travel as a header, so that a redirect to the same
    // host keeps them and one to another host drops them (as in ws, and curl).
    if (followRedirects && !hasHeader(headers, 'authorization')) {
      requestHeaders.Authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
    } else {
      request.auth = auth;
    }
  }

  const req = (secure ? https : http).request(request);
  ws._request = req;
  if (handshakeTimeout > 0) {
    req.setTimeout(handshakeTimeout, () => {
      if (ws._request === req) ws.abortHandshake(new Error('Opening handshake has timed out'));
    });
  }
  req.on('error', (error) => {
    if (ws._request === req) ws.abortHandshake(error);
  });
  req.on('response', (res) => {
    if (ws._request !== req) return;
    const location = res.headers.location;
    const status = res.statusCode ?? 0;
    if (location !== undefined && followRedirects && status >= 300 && status < 400) {
      res.resume();
      if (redirects + 1 > maxRedirects) {
        ws.abortHandshake(new Error('Maximum redirects exceeded'));
        return;
      }
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        ws.abortHandshake(new SyntaxError(`Invalid URL: ${location}`));
        return;
      }
      ws._request = null;
      req.destroy();
      // Credentials do not follow a redirect to another host, nor from wss: to ws:, unless a
      // 'redirect' listener takes that decision itself (as in ws).
      const sameHost = endpointOf(next) === endpointOf(url);
      const downgrade = secure && next.protocol !== 'wss:' && next.protocol !== 'https:';
      const keep = ws.listenerCount('redirect') > 0 || (sameHost && !downgrade);
      const sent = { ...headers };
      if (typeof requestHeaders.Authorization === 'string' && !hasHeader(headers, 'authorization')) {
        sent.Authorization = requestHeaders.Authorization;
      }
      const nextOptions: ClientOptions = {
        ...options,
        headers: keep ? sent : withoutCredentials(sent, sameHost),
      };
      try {
        connect(ws, next, protocols, nextOptions, redirects + 1);
      } catch (error) {
        ws.abortHandshake(error as Error);
      }
      return;
    }
    if (ws.listenerCount('unexpected-response') > 0) {
      ws.emit('unexpected-response', req, res);
    } else {
      res.resume();
      ws.abortHandshake(new Error(`Unexpected server response: ${status}`));
    }
  });
  req.on('upgrade', (res, socket: Duplex, head: Buffer) => {
    if (ws._request !== req) {
      socket.destroy();
      return;
    }
    ws.emit('upgrade', res);
    if (ws.readyState !== 0) {
      socket.destroy();
      return;
    }
    const fail = (message: string): void => {
      socket.destroy();
      ws.abortHandshake(new Error(message));
    };
    let protocol: string;
    try {
      protocol = validateUpgradeResponse(res.headers, key, protocols);
    } catch (error) {
      fail((error as Error).message);
      return;
    }
    let deflate: PerMessageDeflate | null = null;
    let extensions = '';
    const extensionHeader = res.headers['sec-websocket-extensions'];
    if (extensionHeader !== undefined) {
      if (deflateConfig === null) {
        fail('Server sent a Sec-WebSocket-Extensions header but no extension was requested');
        return;
      }
      try {
        const accepted = parseExtensions(extensionHeader);
        if (accepted.length !== 1 || accepted[0].name !== PERMESSAGE_DEFLATE) {
          fail('Server indicated an extension that was not requested');
          return;
        }
        const params = acceptDeflateResponse(accepted[0], deflateConfig);
        deflate = new PerMessageDeflate(params, false, maxPayload, deflateConfig);
        extensions = formatExtensions(accepted);
      } catch (error) {
        fail(`Invalid Sec-WebSocket-Extensions header: ${(error as Error).message}`);
        return;
      }
    }
    ws.setSocket(
      socket,
      head,
      {
        maxPayload,
        maxFragments: options.maxFragments ?? Defaults.maxFragments,
        skipUTF8Validation: options.skipUTF8Validation ?? false,
        autoPong: options.autoPong ?? true,
        closeTimeout: options.closeTimeout ?? Defaults.closeTimeout,
        deflate,
      },
      protocol,
      extensions,
    );
    ws._opened(url.href);
    if (heartbeat !== undefined) ws._startHeartbeat(heartbeat.interval, heartbeat.timeout);
  });
  if (redirects > 0) {
    // Before the request is sent, so that the listener can still change its headers (as in ws).
    ws.emit('redirect', url.href, req);
    if (ws._request !== req) return url.href;
  }
  if (finishRequest !== undefined) finishRequest(req, ws);
  else req.end();
  return url.href;
}

/** What a redirect must keep to be to "the same host": the socket path, or host and port. */
function endpointOf(url: URL): string {
  if (url.protocol !== 'ws+unix:') return url.host;
  const target = url.pathname;
  const colon = target.indexOf(':');
  return `unix:${colon === -1 ? target : target.slice(0, colon)}`;
}

function hasHeader(headers: Record<string, string> | undefined, name: string): boolean {
  return Object.keys(headers ?? {}).some((key) => key.toLowerCase() === name);
}

/** `headers` without Authorization and Cookie, and without Host when going to another host. */
function withoutCredentials(headers: Record<string, string>, sameHost: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'authorization' || lower === 'cookie' || (lower === 'host' && !sameHost)) continue;
    out[name] = value;
  }
  return out;
}
