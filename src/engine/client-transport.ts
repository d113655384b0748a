/**
 * Client-side transports of the Engine.IO client: HTTP long-polling over `fetch` and WebSocket
 * (the browser's `WebSocket`, or parley's ws-compatible client in Node so `extraHeaders` work).
 * Browser-safe: no static Node imports.
 *
 * Events: `open()` once usable, `packet(packet)` for each packet except `close`, `error(err)` on any
 * failure, `close(details?)` when the server closed the transport, `drain()` after a `send` batch.
 *
 * @module
 */
import { Emitter } from './emitter.js';
import { EngineErrorCodes, EngineProtocolError, EngineTransportError } from './errors.js';
import {
  type BinaryType,
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
  type Packet,
  protocol,
} from './parser.js';

/** Name of a client transport. */
export type ClientTransportName = 'polling' | 'websocket';

/** Why the server closed a transport. */
export interface CloseDetails {
  description: string;
  context?: unknown;
}

/** Events of a {@link ClientTransport}. */
export type ClientTransportEvents = {
  open: () => void;
  packet: (packet: Packet) => void;
  error: (err: Error) => void;
  close: (details?: CloseDetails) => void;
  drain: () => void;
};

/** Minimal WHATWG-style WebSocket surface the client uses (browser `WebSocket` or parley's). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}

/** A WebSocket constructor; Node implementations take a third options argument (`headers`, `maxPayload`). */
export type WebSocketConstructor = new (
  url: string,
  protocols?: string | string[],
  options?: { headers?: Record<string, string>; maxPayload?: number },
) => WebSocketLike;

/** Settings shared by the client transports, derived from the socket's options. */
export interface TransportSettings {
  secure: boolean;
  hostname: string;
  port: string;
  path: string;
  query: Record<string, string>;
  extraHeaders: Record<string, string>;
  timestampRequests: boolean;
  timestampParam: string;
  requestTimeout: number;
  withCredentials: boolean;
  protocols: string | string[] | undefined;
  binaryType: BinaryType;
  maxIncomingPayload: number;
  webSocket: WebSocketConstructor | undefined;
  /** Cookies kept by the socket in Node (sticky sessions); undefined in browsers. */
  cookies: Map<string, string> | undefined;
}

/** True when running on Node (the WebSocket then comes from parley, and cookies are kept by hand). */
export const isNode: boolean =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

// A variable specifier keeps bundlers from pulling parley's Node engine into browser builds.
const PARLEY_WS = '../index.js';
let parleyWebSocket: Promise<WebSocketConstructor> | undefined;

function loadWebSocket(settings: TransportSettings): Promise<WebSocketConstructor> {
  if (settings.webSocket !== undefined) return Promise.resolve(settings.webSocket);
  if (isNode) {
    parleyWebSocket ??= (import(PARLEY_WS) as Promise<typeof import('../index.js')>).then(
      (m) => m.WebSocket as unknown as WebSocketConstructor,
    );
    return parleyWebSocket;
  }
  const native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (native === undefined) return Promise.reject(new Error('no WebSocket implementation available'));
  return Promise.resolve(native);
}

let stamp = 0;
function timestamp(): string {
  stamp = (stamp + 1) % 1e9;
  return `${Date.now().toString(36)}${stamp.toString(36)}`;
}

/** Base of the client transports, shaped like engine.io-client's `Transport`. */
export abstract class ClientTransport extends Emitter<ClientTransportEvents> {
  abstract readonly name: ClientTransportName;
  /** Session id once known (set by the socket after the handshake or for an upgrade probe). */
  sid: string | undefined;
  /** Whether `send` may be called now. */
  writable = false;
  /** Transport state. */
  readyState: 'opening' | 'open' | 'closed' | 'pausing' | 'paused' | '' = '';
  protected readonly settings: TransportSettings;

  constructor(settings: TransportSettings, sid?: string) {
    super();
    this.settings = settings;
    this.sid = sid;
  }

  /** Starts opening; `open` or `error` follows. */
  open(): this {
    this.readyState = 'opening';
    this.doOpen();
    return this;
  }

  /** Closes from the client side (polling sends a `close` packet first). Emits no `close`. */
  close(): this {
    if (this.readyState === 'opening' || this.readyState === 'open' || this.readyState === 'paused') {
      this.doClose();
    }
    this.readyState = 'closed';
    this.writable = false;
    return this;
  }

  /** Writes a batch of packets; only when {@link ClientTransport.writable}. */
  send(packets: Packet[]): void {
    if (this.readyState === 'open') this.write(packets);
  }

  /** Stops taking requests once in-flight ones finish (polling only); `onPause` runs when paused. */
  pause(onPause: () => void): void {
    this.readyState = 'paused';
    onPause();
  }

  protected abstract doOpen(): void;
  protected abstract doClose(): void;
  protected abstract write(packets: Packet[]): void;

  /** Whether the transport was closed (by either side). */
  isClosed(): boolean {
    return this.readyState === 'closed';
  }

  protected onOpen(): void {
    this.readyState = 'open';
    this.writable = true;
    this.emit('open');
  }

  protected onError(message: string, description?: unknown): void {
    if (this.readyState === 'closed') return;
    this.emit('error', new EngineTransportError(message, this.name, description));
  }

  protected onServerClose(details?: CloseDetails): void {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.writable = false;
    this.emit('close', details);
  }

  protected uri(scheme: 'http' | 'ws'): string {
    const s = this.settings;
    const params = new URLSearchParams(s.query);
    params.set('EIO', String(protocol));
    params.set('transport', this.name);
    if (this.sid !== undefined) params.set('sid', this.sid);
    if (s.timestampRequests && this.name === 'polling') params.set(s.timestampParam, timestamp());
    const host = s.hostname.includes(':') ? `[${s.hostname}]` : s.hostname;
    const defaultPort = s.secure ? '443' : '80';
    const port = s.port !== '' && s.port !== defaultPort ? `:${s.port}` : '';
    return `${scheme}${s.secure ? 's' : ''}://${host}${port}${s.path}?${params.toString()}`;
  }

  protected headers(): Record<string, string> {
    const headers: Record<string, string> = { ...this.settings.extraHeaders };
    const jar = this.settings.cookies;
    if (jar !== undefined && jar.size > 0) {
      headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    }
    return headers;
  }
}

/**
 * HTTP long-polling over `fetch`: one GET in flight to receive, one POST at a time to send. Response
 * bodies are read with a bound (`maxIncomingPayload`); larger ones fail the transport.
 */
export class PollingClientTransport extends ClientTransport {
  readonly name = 'polling';
  #polling = false;
  #pollAbort: AbortController | undefined;

  protected override doOpen(): void {
    this.#poll();
  }

  protected override doClose(): void {
    const abortPoll = (): void => this.#pollAbort?.abort();
    if (this.readyState === 'open' || this.readyState === 'paused') {
      // the server answers the pending GET with a noop once it reads the close packet
      this.#post(encodePayload([{ type: 'close' }]))
        .catch(() => {})
        .finally(abortPoll);
    } else {
      abortPoll();
    }
  }

  override pause(onPause: () => void): void {
    this.readyState = 'pausing';
    const check = (): void => {
      if (this.readyState !== 'pausing') return;
      if (this.#polling || !this.writable) return;
      this.readyState = 'paused';
      this.off('drain', check);
      this.#pollDone = undefined;
      onPause();
    };
    this.#pollDone = check;
    this.on('drain', check);
    check();
  }

  #pollDone: (() => void) | undefined;

  /** Undoes {@link ClientTransport.pause} (after a failed upgrade): polling starts again. */
  resume(): void {
    if (this.readyState !== 'paused' && this.readyState !== 'pausing') return;
    if (this.#pollDone !== undefined) this.off('drain', this.#pollDone);
    this.#pollDone = undefined;
    this.readyState = 'open';
    if (!this.#polling) this.#poll();
  }

  protected override write(packets: Packet[]): void {
    this.writable = false;
    this.#post(encodePayload(packets)).then(
      () => {
        if (this.readyState === 'closed') return;
        this.writable = true;
        this.emit('drain');
      },
      (err: unknown) => this.onError('xhr post error', err),
    );
  }

  async #post(body: string): Promise<void> {
    const response = await this.#request('POST', body);
    await response.arrayBuffer().catch(() => undefined);
    if (response.status !== 200) throw response.status;
  }

  #request(method: 'GET' | 'POST', body?: string, signal?: AbortSignal): Promise<Response> {
    const headers = this.headers();
    if (method === 'POST') headers['content-type'] = 'text/plain;charset=UTF-8';
    const init: RequestInit = {
      method,
      headers,
      credentials: this.settings.withCredentials ? 'include' : 'same-origin',
    };
    if (body !== undefined) init.body = body;
    const signals: AbortSignal[] = [];
    if (signal !== undefined) signals.push(signal);
    if (this.settings.requestTimeout > 0) signals.push(AbortSignal.timeout(this.settings.requestTimeout));
    if (signals.length === 1) init.signal = signals[0]!;
    else if (signals.length > 1) init.signal = AbortSignal.any(signals);
    return fetch(this.uri('http'), init).then((response) => {
      this.#storeCookies(response);
      return response;
    });
  }

  #storeCookies(response: Response): void {
    const jar = this.settings.cookies;
    if (jar === undefined) return;
    const headers = response.headers as Headers & { getSetCookie?: () => string[] };
    for (const line of headers.getSetCookie?.() ?? []) {
      const pair = line.split(';', 1)[0]!;
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0\b/i.test(line)) jar.delete(name);
      else if (jar.size < 64 || jar.has(name)) jar.set(name, value);
    }
  }

  #poll(): void {
    this.#polling = true;
    const abort = new AbortController();
    this.#pollAbort = abort;
    this.#request('GET', undefined, abort.signal)
      .then(async (response) => {
        if (response.status !== 200) {
          await response.arrayBuffer().catch(() => undefined);
          throw response.status;
        }
        return readBounded(response, this.settings.maxIncomingPayload);
      })
      .then(
        (text) => this.#onPollData(text),
        (err: unknown) => {
          this.#polling = false;
          if (this.readyState === 'closed') return;
          this.onError('xhr poll error', err);
        },
      );
  }

  #onPollData(text: string): void {
    this.#polling = false;
    if (this.readyState === 'closed') return;
    let packets: Packet[];
    try {
      packets = decodePayload(text, {
        maxPackets: Number.MAX_SAFE_INTEGER,
        binaryType: this.settings.binaryType,
      });
    } catch (err) {
      this.onError('poll payload error', err);
      return;
    }
    for (const packet of packets) {
      if (this.readyState === 'opening' && packet.type === 'open') this.onOpen();
      if (packet.type === 'close') {
        this.onServerClose({ description: 'transport closed by the server' });
        return;
      }
      this.emit('packet', packet);
      // a listener may have closed the transport
      if (this.isClosed()) return;
    }
    if (this.readyState === 'open') this.#poll();
    else if (this.readyState === 'pausing') this.#pollDone?.();
  }
}

async function readBounded(response: Response, max: number): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > max)
    throw new EngineProtocolError(EngineErrorCodes.PAYLOAD_TOO_LARGE, 'poll response too large');
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw new EngineProtocolError(EngineErrorCodes.PAYLOAD_TOO_LARGE, 'poll response too large');
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return new TextDecoder('utf-8', { fatal: true }).decode(all);
}

/**
 * WebSocket transport: one packet per frame, binary messages as binary frames. In Node it uses
 * parley's WebSocket client (with `extraHeaders` and the `maxIncomingPayload` bound); in browsers
 * the global `WebSocket`.
 */
export class WebSocketClientTransport extends ClientTransport {
  readonly name = 'websocket';
  #ws: WebSocketLike | undefined;

  protected override doOpen(): void {
    loadWebSocket(this.settings).then(
      (Ctor) => {
        if (this.readyState !== 'opening') return;
        let ws: WebSocketLike;
        try {
          ws = isNode
            ? new Ctor(this.uri('ws'), this.settings.protocols, {
                headers: this.headers(),
                maxPayload: this.settings.maxIncomingPayload,
              })
            : new Ctor(this.uri('ws'), this.settings.protocols);
        } catch (err) {
          this.onError('websocket error', err);
          return;
        }
        this.#ws = ws;
        ws.binaryType = isNode ? 'nodebuffer' : 'arraybuffer';
        ws.onopen = () => {
          if (this.readyState === 'opening') this.onOpen();
        };
        ws.onmessage = (ev) => this.#onMessage(ev.data);
        ws.onclose = (ev) =>
          this.onServerClose({
            description: 'websocket connection closed',
            context: { code: ev.code, reason: ev.reason },
          });
        ws.onerror = (ev) => this.onError('websocket error', ev);
      },
      (err: unknown) => this.onError('websocket error', err),
    );
  }

  #onMessage(data: unknown): void {
    if (this.readyState === 'closed') return;
    let packet: Packet;
    try {
      if (typeof data === 'string') packet = decodePacket(data, this.settings.binaryType);
      else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
        packet = decodePacket(data, this.settings.binaryType);
      } else throw new EngineProtocolError(EngineErrorCodes.INVALID_PACKET, 'unexpected frame data');
    } catch (err) {
      this.onError('websocket payload error', err);
      return;
    }
    if (packet.type === 'close') {
      this.onServerClose({ description: 'transport closed by the server' });
      this.#ws?.close();
      return;
    }
    this.emit('packet', packet);
  }

  protected override doClose(): void {
    const ws = this.#ws;
    if (ws === undefined) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
    ws.close();
  }

  protected override write(packets: Packet[]): void {
    const ws = this.#ws;
    if (ws === undefined) return;
    this.writable = false;
    try {
      for (const packet of packets) ws.send(encodePacket(packet, true));
    } catch (err) {
      this.onError('websocket error', err);
      return;
    }
    // WHATWG send() only queues; the batch is handed off, so the transport can take more.
    setTimeout(() => {
      if (this.readyState !== 'open') return;
      this.writable = true;
      this.emit('drain');
    }, 0);
  }
}
