/**
 * A small typed event emitter with no Node dependency, used by the browser-safe client. Its surface
 * (`on`, `once`, `off`, `removeListener`, `emit`, `listeners`, `hasListeners`, `listenerCount`,
 * `removeAllListeners`) covers what engine.io-client's emitter offers to code built on it.
 *
 * @module
 */

/** A map from event name to listener signature. */
export type EventsMap = { [event: string]: (...args: never[]) => void };

type Listener = (...args: never[]) => void;

/**
 * Typed emitter. A listener that throws does not stop the other listeners; the error is re-thrown
 * asynchronously (as an uncaught exception would be in an EventTarget), so library state stays
 * consistent. Cost: one array copy per `emit` with listeners.
 */
export class Emitter<Events extends EventsMap> {
  #listeners = new Map<keyof Events, Listener[]>();

  /** Adds `listener` for `event`. */
  on<E extends keyof Events>(event: E, listener: Events[E]): this {
    const list = this.#listeners.get(event);
    if (list === undefined) this.#listeners.set(event, [listener]);
    else list.push(listener);
    return this;
  }

  /** Alias of {@link Emitter.on}. */
  addListener<E extends keyof Events>(event: E, listener: Events[E]): this {
    return this.on(event, listener);
  }

  /** Adds `listener` for the next `event` only. */
  once<E extends keyof Events>(event: E, listener: Events[E]): this {
    const wrapper = ((...args: Parameters<Events[E]>) => {
      this.off(event, wrapper as Events[E]);
      (listener as (...a: Parameters<Events[E]>) => void)(...args);
    }) as Events[E] & { listener?: Listener };
    wrapper.listener = listener;
    return this.on(event, wrapper);
  }

  /** Removes `listener` (or every listener of `event` when omitted; every listener when both are). */
  off<E extends keyof Events>(event?: E, listener?: Events[E]): this {
    if (event === undefined) {
      this.#listeners.clear();
      return this;
    }
    if (listener === undefined) {
      this.#listeners.delete(event);
      return this;
    }
    const list = this.#listeners.get(event);
    if (list === undefined) return this;
    const i = list.findIndex((l) => l === listener || (l as { listener?: Listener }).listener === listener);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) this.#listeners.delete(event);
    return this;
  }

  /** Alias of {@link Emitter.off} with a listener. */
  removeListener<E extends keyof Events>(event: E, listener: Events[E]): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or every listener. */
  removeAllListeners<E extends keyof Events>(event?: E): this {
    return this.off(event);
  }

  /** Calls the listeners of `event` in order with `args`. Returns whether there were listeners. */
  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): boolean {
    const list = this.#listeners.get(event);
    if (list === undefined || list.length === 0) return false;
    for (const listener of list.slice()) {
      try {
        (listener as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (err) {
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    return true;
  }

  /** The listeners of `event` (a copy). */
  listeners<E extends keyof Events>(event: E): Events[E][] {
    return (this.#listeners.get(event)?.slice() ?? []) as Events[E][];
  }

  /** Number of listeners of `event`. */
  listenerCount<E extends keyof Events>(event: E): number {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Whether `event` has listeners. */
  hasListeners<E extends keyof Events>(event: E): boolean {
    return this.listenerCount(event) > 0;
  }
}
