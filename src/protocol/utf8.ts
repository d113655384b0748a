/**
 * UTF-8 validation for text messages and close reasons (RFC 6455, sections 5.6 and 8.1).
 * Whole payloads use Node's native `isUtf8`; fragmented messages are checked fragment by fragment
 * with an incremental validator, so a bad byte fails the connection as soon as it arrives.
 * @module
 */
import { isUtf8 } from 'node:buffer';

/** Whether `data` is complete, valid UTF-8. Native speed; no allocation. */
export function isValidUtf8(data: Uint8Array): boolean {
  return data.length === 0 || isUtf8(data);
}

// Byte classes and transitions of Bjoern Hoehrmann's UTF-8 DFA (http://bjoern.hoehrmann.de/utf-8/decoder/dfa/).
// prettier-ignore
const CLASSES = new Uint8Array([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 8, 8, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
  2, 2, 2, 2, 2, 2, 2, 2, 10, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 11, 6, 6, 6, 5, 8, 8, 8, 8, 8, 8,
  8, 8, 8, 8, 8,
]);
// prettier-ignore
const TRANSITIONS = new Uint8Array([
  0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 0, 12,
  12, 12, 12, 12, 0, 12, 0, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12, 12, 12, 12, 12, 12, 12,
  12, 24, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 12, 12, 12, 12, 36, 12,
  36, 12, 12, 12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, 12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
]);
const ACCEPT = 0;
const REJECT = 12;

/**
 * Validates UTF-8 that arrives in pieces (the fragments of a text message). Keeps one small integer
 * of state between pieces; a sequence may be split anywhere.
 */
export class Utf8Validator {
  #state = ACCEPT;

  /** Feeds `data`; returns false as soon as the bytes so far cannot be the start of valid UTF-8. */
  write(data: Uint8Array): boolean {
    let state = this.#state;
    if (state === REJECT) return false;
    let i = 0;
    const n = data.length;
    while (i < n) {
      // ASCII runs between complete sequences need no table look-up.
      if (state === ACCEPT) {
        while (i < n && data[i] < 0x80) i++;
        if (i === n) break;
      }
      state = TRANSITIONS[state + CLASSES[data[i]]];
      if (state === REJECT) {
        this.#state = REJECT;
        return false;
      }
      i++;
    }
    this.#state = state;
    return true;
  }

  /** Whether everything fed so far is complete, valid UTF-8 (no sequence left open). */
  get complete(): boolean {
    return this.#state === ACCEPT;
  }

  /** Starts over for a new message. */
  reset(): void {
    this.#state = ACCEPT;
  }
}
