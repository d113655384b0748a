/**
 * Type-level helpers that give the Socket.IO API its typed event maps, as socket.io types them:
 * `Server<ListenEvents, EmitEvents, ServerSideEvents, SocketData>`.
 *
 * An acknowledgement is declared as the last parameter of an event's signature:
 *
 * ```ts
 * interface ClientToServer { hello(name: string, ack: (reply: string) => void): void }
 * ```
 *
 * With `.timeout(ms)` the callback receives an `Error` first ({@link DecorateAcknowledgements}).
 *
 * @module
 */

import type { EventNames, EventParams, EventsMap } from './emitter.js';

/** The last element of a tuple; `unknown` for a non-tuple array. */
export type Last<T extends unknown[]> = number extends T['length']
  ? unknown
  : T extends [...unknown[], infer L]
    ? L
    : never;

/** Every element of a tuple but the last; the array itself for a non-tuple array. */
export type AllButLast<T extends unknown[]> = number extends T['length']
  ? T
  : T extends [...infer H, unknown]
    ? H
    : never;

/** The first parameter of a function type; `unknown` when it cannot be inferred. */
export type FirstArg<T> = T extends (arg: infer A, ...rest: never[]) => unknown ? A : unknown;

/**
 * The first parameter of a callback, skipping a leading `Error` parameter (the form callbacks take
 * after `timeout()`); `unknown` when it cannot be inferred.
 */
export type FirstNonErrorArg<T> = T extends (...args: infer P) => unknown
  ? P extends [infer A, ...unknown[]]
    ? [A] extends [Error]
      ? P extends [unknown, infer B, ...unknown[]]
        ? B
        : unknown
      : A
    : unknown
  : unknown;

type PrependError<T> = T extends (...args: infer P) => infer R ? (err: Error, ...args: P) => R : T;
type ExpectMultipleResponses<T> = T extends (arg: infer A, ...rest: never[]) => infer R
  ? (err: Error, responses: A[]) => R
  : T;

type MapArgs<P extends unknown[], F> = {
  [K in keyof P]: F extends 'single' ? PrependError<P[K]> : ExpectMultipleResponses<P[K]>;
};

/** Event map whose ack callbacks receive an `Error` first (single response, `socket.timeout()`). */
export type DecorateAcknowledgements<E extends EventsMap> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R ? (...args: MapArgs<P, 'single'>) => R : E[K];
};

/** Event map whose ack callbacks receive `(err, responses[])` (broadcasts with `timeout()`). */
export type DecorateAcknowledgementsWithMultipleResponses<E extends EventsMap> = {
  [K in keyof E]: E[K] extends (...args: infer P) => infer R ? (...args: MapArgs<P, 'multiple'>) => R : E[K];
};

/** Parameters of `emitWithAck`: the event's parameters without the trailing callback. */
export type EmitWithAckParams<E extends EventsMap, Ev extends EventNames<E>> = AllButLast<EventParams<E, Ev>>;

/** What `emitWithAck` resolves with: the first (non-error) argument of the event's callback. */
export type EmitWithAckResult<E extends EventsMap, Ev extends EventNames<E>> = FirstNonErrorArg<
  Last<EventParams<E, Ev>>
>;

/** Listener type for `Ev`, looked up first in the reserved map, then in the user map. */
export type ListenerOf<Reserved, User, Ev> = Ev extends keyof Reserved
  ? Reserved[Ev]
  : Ev extends keyof User
    ? User[Ev]
    : never;

/** Names accepted by `on`: reserved events and user events. */
export type ListenNames<Reserved, User> = (keyof Reserved | keyof User) & string;
