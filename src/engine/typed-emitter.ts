/**
 * Typing helper for the server classes, which extend Node's generic `EventEmitter<Map>`: turns an
 * interface of listener signatures into the tuple map Node's typings expect.
 *
 * @module
 */

/** `{ event: (a: A, b: B) => void }` -> `{ event: [a: A, b: B] }`. */
export type ListenerArgs<Events> = {
  [E in keyof Events]: Events[E] extends (...args: infer A) => void ? A : never;
};
