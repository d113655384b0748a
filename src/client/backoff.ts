/**
 * Exponential backoff with jitter for reconnection delays (socket.io-client's semantics):
 * attempt n waits `min * factor^n`, moved up or down by a random fraction `jitter` of itself, capped
 * at `max`.
 *
 * @module
 */

/** Options of {@link Backoff}. */
export interface BackoffOptions {
  /** First delay in ms (default 100). */
  min?: number;
  /** Largest delay in ms (default 10000). */
  max?: number;
  /** Growth factor (default 2). */
  factor?: number;
  /** Random fraction in [0, 1] (default 0). */
  jitter?: number;
  /** Random source in [0, 1) (default `Math.random`), injectable for tests. */
  random?: () => number;
}

/** Exponential backoff state: `duration()` returns the next delay and counts the attempt. */
export class Backoff {
  /** Attempts made since the last {@link Backoff.reset}. */
  attempts = 0;
  #min: number;
  #max: number;
  readonly #factor: number;
  #jitter: number;
  readonly #random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.#min = options.min ?? 100;
    this.#max = options.max ?? 10_000;
    this.#factor = options.factor ?? 2;
    this.#jitter =
      options.jitter !== undefined && options.jitter > 0 && options.jitter <= 1 ? options.jitter : 0;
    this.#random = options.random ?? Math.random;
  }

  /** The next delay in ms. */
  duration(): number {
    let ms = this.#min * this.#factor ** this.attempts++;
    if (this.#jitter > 0) {
      const rand = this.#random();
      const deviation = Math.floor(rand * this.#jitter * ms);
      ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
    }
    return Math.max(0, Math.min(ms, this.#max)) | 0;
  }

  /** Starts over from the first delay. */
  reset(): void {
    this.attempts = 0;
  }

  /** Sets the first delay. */
  setMin(min: number): void {
    this.#min = min;
  }

  /** Sets the largest delay. */
  setMax(max: number): void {
    this.#max = max;
  }

  /** Sets the jitter fraction. */
  setJitter(jitter: number): void {
    this.#jitter = jitter;
  }
}
