/**
 * Smaller listener tables for long-lived emitters.
 *
 * `EventEmitter` starts every emitter's `_events` as `{ __proto__: null }`, an object V8 keeps in
 * dictionary mode: about 190 bytes per emitter, empty or not. A null-prototype object made with
 * `Object.setPrototypeOf({}, null)` behaves the same for `EventEmitter` (no inherited keys, so an
 * event named `__proto__` or `toString` is still just a key) but stays a fast object of 30 to 60
 * bytes for the few events a connection listens to. With thousands of idle connections, each
 * holding several emitters (the TCP socket, its upgrade request, the WebSocket, an Engine.IO session
 * and transport), that is most of a kilobyte per connection (issue 3 (e), issue 5).
 *
 * @module
 */

import type { EventEmitter } from 'node:events';

type ListenerTable = Record<string | symbol, unknown>;

/**
 * Replaces `emitter`'s listener table with a fast-mode copy. Listeners already registered stay, in
 * their order; nothing observable changes. A no-op for an emitter whose table is not the usual
 * null-prototype object.
 */
export function compactListeners(emitter: EventEmitter): void {
  const holder = emitter as unknown as { _events?: ListenerTable };
  const table = holder._events;
  if (table === undefined || table === null || Object.getPrototypeOf(table) !== null) return;
  const compact: ListenerTable = Object.setPrototypeOf({}, null);
  for (const key of Reflect.ownKeys(table)) compact[key] = table[key];
  holder._events = compact;
}
