/**
 * Smaller listener tables for long-lived emitters.
 *
 * `EventEmitter` starts every emitter's `_events` as `{ __proto__: null }`, an object V8 keeps in
 * dictionary mode: about 190 bytes per emitter, empty or not. An object whose prototype is an empty
 * null-prototype object behaves the same for `EventEmitter` (no inherited keys, so an event named
 * `__proto__` or `toString` is still just a key) but stays a fast object of 30 to 60 bytes for the
 * few events a connection listens to. With thousands of idle connections, each holding several
 * emitters (the TCP socket, its upgrade request, the WebSocket, an Engine.IO session and transport),
 * that is most of a kilobyte per connection (issue 3 (e), issue 5).
 *
 * An emitter that nobody listens to needs no table at all: `EventEmitter` creates one on the first
 * `on` when `_events` is undefined, so {@link releaseListeners} drops an empty one.
 *
 * @module
 */

import type { EventEmitter } from 'node:events';

type ListenerTable = Record<string | symbol, unknown>;

/**
 * Makes the small tables: `new SmallTable()` is a fast object with no own keys, whose prototype
 * is an empty, frozen, null-prototype object. (A constructor, because V8 makes its objects much
 * faster than `Object.setPrototypeOf({}, null)`: the accept path makes two per connection.)
 */
const SmallTable = function SmallTable() {} as unknown as new () => ListenerTable;
SmallTable.prototype = Object.freeze(Object.create(null));

/**
 * Replaces `emitter`'s listener table with a small fast-mode copy. Listeners already registered
 * stay, in their order. A no-op for a table that is neither `EventEmitter`'s null-prototype object
 * nor a stream's: Node's streams start theirs as a plain object with a key for each usual event,
 * holding undefined until listened to (a socket: 11 keys, 128 bytes); the copy has only the events
 * listened to, and inherits no keys. A table it made is left as it is.
 */
export function compactListeners(emitter: EventEmitter): void {
  const holder = emitter as unknown as { _events?: ListenerTable };
  const table = holder._events;
  if (table === undefined || table === null) return;
  const proto = Object.getPrototypeOf(table);
  if (proto !== null && proto !== Object.prototype) return;
  const compact = new SmallTable();
  // for-in and the symbols apart, because for-in makes no array of the keys as Reflect.ownKeys
  // does; hasOwn, for keys that someone made enumerable on Object.prototype
  for (const key in table)
    if (table[key] !== undefined && Object.hasOwn(table, key)) compact[key] = table[key];
  for (const key of Object.getOwnPropertySymbols(table))
    if (table[key] !== undefined) compact[key] = table[key];
  holder._events = compact;
}

/**
 * Drops `emitter`'s listener table when it holds no listener (an emitter with no listeners needs
 * none; the next `on` makes a new one). For emitters that usually nobody listens to: removing the
 * last listener leaves a dictionary-mode table of about 190 bytes behind, and an unused fast one
 * still costs about 56.
 */
export function releaseListeners(emitter: EventEmitter): void {
  const holder = emitter as unknown as { _events?: ListenerTable; _eventsCount?: number };
  if (holder._eventsCount === 0) holder._events = undefined;
}
