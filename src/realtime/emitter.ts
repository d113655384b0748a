/**
 * A small, dependency-free, browser-safe event emitter with typed event maps, used by both the
 * server (`parley/realtime`) and the client (`parley/client`).
 *
 * Semantics follow Node's `EventEmitter` where they overlap: listeners run synchronously in
 * registration order, `once` listeners are removed before they run, and an exception thrown by a
 * listener propagates to the caller of `emit` (as with Node). Cost: one array per event name;
 * `emit` copies the listener array (so listeners may remove themselves safely).
 *
 * @module
 */

import { SmallMap } from './small-map.js';

/**
 * A listener signature that is bivariant in its parameters (method-declaration trick), so a listener
 * declared as `(name: string) => void` is accepted where the map says `(...args: unknown[]) => void`.
 */
export type AnyListener = { bivarianceHack(...args: unknown[]): void }['bivarianceHack'];

/**
 * An event map: event name -> listener signature. Declared as `object` so that application
 * interfaces (which have no index signature) qualify; listener types are read with
 * {@link EventParams}.
 */
export type EventsMap = object;

/** The event map used when the application does not declare one: any name, any arguments. */
export interface DefaultEventsMap {
  [event: string]: AnyListener;
}

/** Names of the events of a map. */
export type EventNames<Map extends EventsMap> = keyof Map & string;

/** Parameters of the listener of event `Ev` (`never` if the map's entry is not a function). */
export type EventParams<Map extends EventsMap, Ev extends EventNames<Map>> = Map[Ev] extends (
  ...args: infer P
) => unknown
  ? P
  : never;

/**
 * Untyped emitter core. Typed facades (`StrictEmitter`) are layered on top by the classes that use it.
 */
export class Emitter {
  #listeners = new SmallMap<AnyListener[]>();

  /** Registers `listener` for `event`. Returns `this`. */
  on(event: string, listener: AnyListener): this {
    const list = this.#listeners.get(event);
    if (list) list.push(listener);
    else this.#listeners.set(event, [listener]);
    return this;
  }

  /** Alias of {@link Emitter.on}. */
  addListener(event: string, listener: AnyListener): this {
    return this.on(event, listener);
  }

  /** Registers `listener` for the next `event` only. Returns `this`. */
  once(event: string, listener: AnyListener): this {
    const wrapper = (...args: unknown[]): void => {
      this.off(event, wrapper);
      listener.apply(this, args);
    };
    (wrapper as { listener?: AnyListener }).listener = listener;
    return this.on(event, wrapper);
  }

  /**
   * Removes `listener` from `event` (the last registration of it, like Node); without `listener`,
   * removes every listener of `event`; without arguments, every listener.
   */
  off(event?: string, listener?: AnyListener): this {
    if (event === undefined) {
      this.#listeners.clear();
      return this;
    }
    const list = this.#listeners.get(event);
    if (!list) return this;
    if (listener === undefined) {
      this.#listeners.delete(event);
      return this;
    }
    for (let i = list.length - 1; i >= 0; i--) {
      const l = list[i] as AnyListener & { listener?: AnyListener };
      if (l === listener || l.listener === listener) {
        list.splice(i, 1);
        break;
      }
    }
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  /** Alias of {@link Emitter.off}. */
  removeListener(event: string, listener: AnyListener): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: string): this {
    return this.off(event);
  }

  /**
   * Calls every listener of `event` with `args` and returns whether there was any. Subclasses that
   * send on the wire redefine it (returning `true` or `this`, as socket.io's classes do).
   */
  emit(event: string, ...args: unknown[]): unknown {
    return this.emitReserved(event, ...args);
  }

  /** Emits without the public `emit` override (subclasses redefine `emit` to send on the wire). */
  emitReserved(event: string, ...args: unknown[]): boolean {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    if (list.length === 1) {
      // The common case, without copying the list.
      list[0]!.apply(this, args);
      return true;
    }
    for (const listener of list.slice()) listener.apply(this, args);
    return true;
  }

  /** The listeners of `event` (a copy). */
  listeners(event: string): AnyListener[] {
    return (this.#listeners.get(event) ?? []).map((l) => (l as { listener?: AnyListener }).listener ?? l);
  }

  /** How many listeners `event` has. */
  listenerCount(event: string): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Whether `event` has any listener. */
  hasListeners(event: string): boolean {
    return this.listenerCount(event) > 0;
  }
}
