/**
 * Heartbeat deadlines of a server's sessions on one timer per queue, instead of two Node timers
 * (each a `Timeout` object and a closure) per session: with thousands of idle sessions that is a
 * few hundred bytes each.
 *
 * Every session of a server waits the same delay (`pingInterval` before a ping, `pingTimeout` for
 * the pong), so entries join a queue in deadline order and the queue is a FIFO: doubly linked, so
 * that a session leaves it in O(1) (a pong, a close). The queue's timer is set for its head; when
 * it fires, every entry due by then is taken off and handed to the queue's callback. Timing is as
 * exact as with one timer per session (a timer never fires early; it fires late on a busy loop).
 *
 * @module
 */

/** A session's place in a {@link DeadlineQueue}; one per session, moved between queues. */
export class DeadlineEntry<T> {
  readonly owner: T;
  /**
   * Monotonic time (performance.now) at which the entry is due, rounded up to a whole millisecond:
   * a small integer is held in the field itself, a fraction in a heap number of its own.
   */
  due = 0;
  queue: DeadlineQueue<T> | undefined;
  prev: DeadlineEntry<T> | undefined;
  next: DeadlineEntry<T> | undefined;

  constructor(owner: T) {
    this.owner = owner;
  }

  /** Leaves the queue the entry is in, if any. */
  leave(): void {
    this.queue?.remove(this);
  }
}

/** Entries due `delay` ms after they were added, reported to `onDue` in deadline order. */
export class DeadlineQueue<T> {
  readonly delay: number;
  readonly #onDue: (owner: T) => void;
  #head: DeadlineEntry<T> | undefined;
  #tail: DeadlineEntry<T> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #fire = (): void => this.#run();

  constructor(delay: number, onDue: (owner: T) => void) {
    this.delay = delay;
    this.#onDue = onDue;
  }

  /** Puts `entry` at the end of this queue, due `delay` ms from now (leaving any other queue). */
  add(entry: DeadlineEntry<T>): void {
    entry.leave();
    entry.due = Math.ceil(performance.now() + this.delay);
    entry.queue = this;
    entry.prev = this.#tail;
    entry.next = undefined;
    if (this.#tail === undefined) this.#head = entry;
    else this.#tail.next = entry;
    this.#tail = entry;
    if (this.#timer === undefined) this.#timer = setTimeout(this.#fire, this.delay);
  }

  /** Takes `entry` out of this queue (no-op if it is not in it). */
  remove(entry: DeadlineEntry<T>): void {
    if (entry.queue !== this) return;
    if (entry.prev === undefined) this.#head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.#tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.queue = entry.prev = entry.next = undefined;
    if (this.#head === undefined && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    // A removed head leaves the timer as it is: it fires early for the new head and re-arms.
  }

  #run(): void {
    this.#timer = undefined;
    const now = performance.now();
    let entry = this.#head;
    while (entry !== undefined && entry.due <= now) {
      this.remove(entry);
      this.#onDue(entry.owner); // may add entries (at the tail, due later than now)
      entry = this.#head;
    }
    if (entry !== undefined) {
      clearTimeout(this.#timer); // one an add() above may have set, for a later deadline
      this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(entry.due - now)));
    }
  }
}
