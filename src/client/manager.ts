/**
 * The client `Manager` (socket.io-client's): one Engine.IO connection multiplexing the namespace
 * sockets, with reconnection (exponential backoff + jitter).
 *
 * Events: `open`, `error(err)`, `close(reason, description)`, `ping`, `packet(packet)`,
 * `reconnect_attempt(attempt)`, `reconnect(attempt)`, `reconnect_error(err)`, `reconnect_failed`.
 *
 * @module
 */

import { Emitter } from '../realtime/emitter.js';
import { RealtimeUsageError } from '../realtime/errors.js';
import { DEFAULT_MAX_ATTACHMENTS, Decoder, encode, type Packet } from '../realtime/parser.js';
import { Backoff } from './backoff.js';
import type {
  EngineClientConstructor,
  EngineClientData,
  EngineClientEvent,
  EngineClientOptions,
  EngineClientSocket,
} from './engine.js';
import { Socket, type SocketOptions } from './socket.js';

/** Options of {@link Manager}: reconnection settings plus the engine client options. */
export interface ManagerOptions extends EngineClientOptions {
  /** Reconnect automatically (default true). */
  reconnection?: boolean;
  /** Attempts before giving up (default Infinity). */
  reconnectionAttempts?: number;
  /** First reconnection delay in ms (default 1000). */
  reconnectionDelay?: number;
  /** Largest reconnection delay in ms (default 5000). */
  reconnectionDelayMax?: number;
  /** Jitter fraction in [0, 1] (default 0.5). */
  randomizationFactor?: number;
  /** Connection timeout in ms before `connect_error` (default 20000; `false` for none). */
  timeout?: number | false;
  /** Connect on creation (default true). */
  autoConnect?: boolean;
  /** Maximum binary attachments per incoming packet (default 32). */
  maxAttachments?: number;
  /**
   * The Engine.IO client constructor (default: parley's engine client). Any constructor with
   * engine.io-client's `Socket` shape works.
   */
  engine?: EngineClientConstructor;
}

/** Why the manager's connection closed. */
export type ManagerCloseReason = string;

type Sub = () => void;

function on(emitter: EngineClientSocket, event: EngineClientEvent, fn: (...args: never[]) => void): Sub {
  emitter.on(event, fn);
  return () => emitter.off(event, fn);
}

let defaultEngine: EngineClientConstructor | undefined;

/** Sets the engine client used when the `engine` option is not given. */
export function setDefaultEngine(engine: EngineClientConstructor): void {
  defaultEngine = engine;
}

/**
 * One connection to a Socket.IO server. Sockets of several namespaces share it (`manager.socket(nsp)`).
 * Memory: a decoder (bounded by `maxAttachments`) and the sockets' buffers.
 */
export class Manager extends Emitter {
  /** The engine connection, while one exists. */
  engine: EngineClientSocket | undefined;
  /** @internal */
  readonly opts: ManagerOptions;
  /** @internal */
  readonly nsps = new Map<string, Socket>();
  /** @internal */
  readyState: 'closed' | 'opening' | 'open' = 'closed';
  /** @internal */
  reconnectingNow = false;
  /** @internal */
  readonly autoConnect: boolean;
  readonly #uri: string;
  readonly #backoff: Backoff;
  readonly #decoder: Decoder;
  #subs: Sub[] = [];
  #skipReconnect = false;
  #reconnection: boolean;
  #reconnectionAttempts: number;
  #timeout: number | false;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(uri: string, opts: ManagerOptions = {}) {
    super();
    this.#uri = uri;
    this.opts = { path: '/socket.io', ...opts };
    this.#reconnection = opts.reconnection !== false;
    this.#reconnectionAttempts = opts.reconnectionAttempts ?? Number.POSITIVE_INFINITY;
    this.#timeout = opts.timeout ?? 20_000;
    this.#backoff = new Backoff({
      min: opts.reconnectionDelay ?? 1000,
      max: opts.reconnectionDelayMax ?? 5000,
      jitter: opts.randomizationFactor ?? 0.5,
    });
    this.#decoder = new Decoder({ maxAttachments: opts.maxAttachments ?? DEFAULT_MAX_ATTACHMENTS });
    this.autoConnect = opts.autoConnect !== false;
    if (this.autoConnect) this.open();
  }

  /** Whether automatic reconnection is on; with an argument, sets it. */
  reconnection(): boolean;
  reconnection(v: boolean): this;
  reconnection(v?: boolean): boolean | this {
    if (v === undefined) return this.#reconnection;
    this.#reconnection = v;
    if (!v) this.#skipReconnect = true;
    return this;
  }

  /** Reconnection attempts before giving up; with an argument, sets it. */
  reconnectionAttempts(): number;
  reconnectionAttempts(v: number): this;
  reconnectionAttempts(v?: number): number | this {
    if (v === undefined) return this.#reconnectionAttempts;
    this.#reconnectionAttempts = v;
    return this;
  }

  /** Sets the first reconnection delay. */
  reconnectionDelay(v: number): this {
    this.#backoff.setMin(v);
    return this;
  }

  /** Sets the largest reconnection delay. */
  reconnectionDelayMax(v: number): this {
    this.#backoff.setMax(v);
    return this;
  }

  /** Sets the jitter fraction. */
  randomizationFactor(v: number): this {
    this.#backoff.setJitter(v);
    return this;
  }

  /** Connection timeout; with an argument, sets it. */
  timeout(): number | false;
  timeout(v: number | false): this;
  timeout(v?: number | false): number | false | this {
    if (v === undefined) return this.#timeout;
    this.#timeout = v;
    return this;
  }

  /**
   * Opens the engine connection (no-op if open or opening). `fn` gets an error if it fails.
   *
   * @throws {RealtimeUsageError} `IO_ERR_NO_ENGINE` if no engine client is available.
   */
  open(fn?: (err?: Error) => void): this {
    if (this.readyState !== 'closed') return this;
    const Engine = this.opts.engine ?? defaultEngine;
    if (!Engine) {
      throw new RealtimeUsageError(
        'IO_ERR_NO_ENGINE',
        'no Engine.IO client available: pass the `engine` option',
      );
    }
    const engineOptions: Record<string, unknown> = { ...this.opts };
    for (const key of [
      'reconnection',
      'reconnectionAttempts',
      'reconnectionDelay',
      'reconnectionDelayMax',
      'randomizationFactor',
      'timeout',
      'autoConnect',
      'maxAttachments',
      'engine',
      'forceNew',
      'multiplex',
      'auth',
      'retries',
      'ackTimeout',
    ]) {
      delete engineOptions[key];
    }
    let engine: EngineClientSocket;
    try {
      engine = new Engine(this.#uri, engineOptions as never);
    } catch (err) {
      this.emitReserved('error', err);
      fn?.(err as Error);
      return this;
    }
    this.engine = engine;
    this.readyState = 'opening';
    this.#skipReconnect = false;
    const openSub = on(engine, 'open', () => {
      this.#onopen();
      fn?.();
    });
    const onError = (err: Error): void => {
      this.#cleanup();
      this.readyState = 'closed';
      this.emitReserved('error', err);
      if (fn) fn(err);
      else this.#maybeReconnectOnOpen();
    };
    const errorSub = on(engine, 'error', onError as (...args: never[]) => void);
    if (this.#timeout !== false) {
      const timer = setTimeout(() => {
        openSub();
        onError(new Error('timeout'));
        engine.close();
      }, this.#timeout);
      this.#subs.push(() => clearTimeout(timer));
    }
    this.#subs.push(openSub, errorSub);
    return this;
  }

  /** Alias of {@link Manager.open}. */
  connect(fn?: (err?: Error) => void): this {
    return this.open(fn);
  }

  #onopen(): void {
    this.#cleanup();
    this.readyState = 'open';
    this.emitReserved('open');
    const engine = this.engine!;
    this.#subs.push(
      on(engine, 'ping', () => this.emitReserved('ping')),
      on(engine, 'message', ((data: EngineClientData) => this.#ondata(data)) as (...args: never[]) => void),
      on(engine, 'error', ((err: Error) => this.emitReserved('error', err)) as (...args: never[]) => void),
      on(engine, 'close', ((reason: string, description?: unknown) => this.#onclose(reason, description)) as (
        ...args: never[]
      ) => void),
    );
  }

  #ondata(data: EngineClientData): void {
    let packet: Packet | null;
    try {
      packet = this.#decoder.add(data);
    } catch (err) {
      this.#onclose('parse error', err);
      return;
    }
    if (packet) this.emitReserved('packet', packet);
  }

  /** Returns the socket for namespace `nsp` (one per namespace per manager). */
  socket(nsp: string, opts: SocketOptions = {}): Socket {
    let socket = this.nsps.get(nsp);
    if (!socket) {
      socket = new Socket(this, nsp, opts);
      this.nsps.set(nsp, socket);
    } else if (this.autoConnect && !socket.active) {
      socket.connect();
    }
    return socket;
  }

  /** @internal A socket went inactive; closes the connection once none is left. */
  destroySocket(_socket: object): void {
    for (const socket of this.nsps.values()) if (socket.active) return;
    this.close();
  }

  /** @internal Encodes and sends a packet. */
  packet(packet: Packet, options: { compress?: boolean } = {}): void {
    const chunks = encode(packet);
    const engine = this.engine;
    if (!engine) return;
    for (const chunk of chunks) engine.send(chunk, options);
  }

  #cleanup(): void {
    for (const sub of this.#subs) sub();
    this.#subs = [];
    this.#decoder.reset();
  }

  /** Closes the connection and stops reconnecting. */
  close(): void {
    this.#skipReconnect = true;
    this.reconnectingNow = false;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#onclose('forced close');
  }

  /** Alias of {@link Manager.close}. */
  disconnect(): void {
    this.close();
  }

  #onclose(reason: string, description?: unknown): void {
    this.#cleanup();
    const engine = this.engine;
    this.engine = undefined;
    engine?.close();
    this.#backoff.reset();
    const wasClosed = this.readyState === 'closed';
    this.readyState = 'closed';
    if (!wasClosed || reason !== 'forced close') this.emitReserved('close', reason, description);
    if (this.#reconnection && !this.#skipReconnect) this.#reconnect();
  }

  #maybeReconnectOnOpen(): void {
    if (!this.reconnectingNow && this.#reconnection && this.#backoff.attempts === 0) this.#reconnect();
  }

  #reconnect(): void {
    if (this.reconnectingNow || this.#skipReconnect) return;
    if (this.#backoff.attempts >= this.#reconnectionAttempts) {
      this.#backoff.reset();
      this.emitReserved('reconnect_failed');
      this.reconnectingNow = false;
      return;
    }
    const delay = this.#backoff.duration();
    this.reconnectingNow = true;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#skipReconnect) return;
      this.emitReserved('reconnect_attempt', this.#backoff.attempts);
      if (this.#skipReconnect) return;
      this.open((err) => {
        if (err) {
          this.reconnectingNow = false;
          this.#reconnect();
          this.emitReserved('reconnect_error', err);
        } else {
          const attempts = this.#backoff.attempts;
          this.reconnectingNow = false;
          this.#backoff.reset();
          this.emitReserved('reconnect', attempts);
        }
      });
    }, delay);
  }
}
