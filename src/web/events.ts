// The event interfaces a WebSocket dispatches: `CloseEvent` (WebSockets standard, "The CloseEvent
// interface") and `MessageEvent` (HTML standard), using the runtime's own classes when it has them.

import { toBoolean, toDOMString, toUnsignedShort, toUSVString } from './webidl.js';

/** The `CloseEventInit` dictionary: every member optional, defaults false / 0 / "". */
export interface CloseEventInit extends EventInit {
  wasClean?: boolean;
  code?: number;
  reason?: string;
}

/**
 * A spec-shaped `CloseEvent` for runtimes without a global one (Node 20 and 22):
 *
 * ```webidl
 * interface CloseEvent : Event {
 *   constructor(DOMString type, optional CloseEventInit eventInitDict = {});
 *   readonly attribute boolean wasClean;
 *   readonly attribute unsigned short code;
 *   readonly attribute USVString reason;
 * };
 * ```
 *
 * The dictionary members are converted as Web IDL does (`code` modulo 2^16, `reason` to a
 * USVString). Cost: one Event plus three fields.
 */
export class CloseEventPolyfill extends Event {
  readonly #wasClean: boolean;
  readonly #code: number;
  readonly #reason: string;

  constructor(type: string, eventInitDict: CloseEventInit = {}) {
    // biome-ignore lint/complexity/noArguments: Web IDL counts the arguments actually passed.
    if (arguments.length === 0) throw new TypeError('CloseEvent: 1 argument required, but only 0 present');
    super(toDOMString(type), eventInitDict);
    const init = eventInitDict ?? {};
    // The wasClean attribute must return the value it was initialized to.
    this.#wasClean = init.wasClean === undefined ? false : toBoolean(init.wasClean);
    // The code attribute must return the value it was initialized to.
    this.#code = init.code === undefined ? 0 : toUnsignedShort(init.code);
    // The reason attribute must return the value it was initialized to.
    this.#reason = init.reason === undefined ? '' : toUSVString(init.reason);
  }

  /** True if the connection closed cleanly (the closing handshake completed); false otherwise. */
  get wasClean(): boolean {
    return this.#wasClean;
  }

  /** The WebSocket connection close code provided by the server (1005 if none, 1006 if abnormal). */
  get code(): number {
    return this.#code;
  }

  /** The WebSocket connection close reason provided by the server, UTF-8 decoded. */
  get reason(): string {
    return this.#reason;
  }
}

Object.defineProperties(CloseEventPolyfill.prototype, {
  wasClean: { enumerable: true },
  code: { enumerable: true },
  reason: { enumerable: true },
  [Symbol.toStringTag]: { value: 'CloseEvent', writable: false, enumerable: false, configurable: true },
});
Object.defineProperty(CloseEventPolyfill, 'name', { value: 'CloseEvent' });

/** The constructor type shared by the runtime's `CloseEvent` and {@link CloseEventPolyfill}. */
export type CloseEventConstructor = typeof CloseEventPolyfill;

/** An instance of {@link CloseEvent}: an Event with `wasClean`, `code` and `reason`. */
export type CloseEvent = CloseEventPolyfill;

/**
 * The `CloseEvent` class a parley WebSocket dispatches `close` events with: the runtime's global
 * `CloseEvent` when it has one (Node 23+, Deno, Bun, browsers), so that `event instanceof CloseEvent`
 * holds with either name, and {@link CloseEventPolyfill} otherwise.
 */
export const CloseEvent: CloseEventConstructor =
  (globalThis as unknown as { CloseEvent?: CloseEventConstructor }).CloseEvent ?? CloseEventPolyfill;

/** An instance of {@link MessageEvent}; a WebSocket's `data` is a string, a Blob or an ArrayBuffer. */
export type MessageEvent<T = unknown> = globalThis.MessageEvent<T>;

/**
 * The HTML standard's `MessageEvent`, which Node (>= 15) has as a global: re-exported so that code
 * can import it next to `WebSocket` and `CloseEvent`. Cost: none (the global itself).
 */
export const MessageEvent: typeof globalThis.MessageEvent = globalThis.MessageEvent;
