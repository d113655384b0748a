/**
 * UTF-8 validation for text messages and close reasons (RFC 6455, sections 5.6 and 8.1).
 * Whole payloads use Node's native `isUtf8`. Text that arrives in pieces (the fragments of a message,
 * or one frame split across reads) goes through an incremental validator, piece by piece, so a bad
 * byte fails the connection as soon as it arrives; the bulk of each piece is still checked natively.
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
    const n = data.length;
    let i = 0;
    // Finish the sequence the last piece left open (at most 3 bytes)...
    while (state !== ACCEPT && state !== REJECT && i < n) state = TRANSITIONS[state + CLASSES[data[i++]]];
    if (state === REJECT) return this.#reject();
    // ...check the bulk natively, up to a sequence this piece leaves open (a prefix that ends on a
    // character boundary is valid exactly when the DFA would be back in ACCEPT there)...
    if (i < n) {
      const cut = openSequenceStart(data, i);
      if (cut > i && !isUtf8(data.subarray(i, cut))) return this.#reject();
      i = cut;
    }
    // ...and keep the open sequence's first bytes in the DFA state.
    while (i < n) state = TRANSITIONS[state + CLASSES[data[i++]]];
    if (state === REJECT) return this.#reject();
    this.#state = state;
    return true;
  }

  #reject(): false {
    this.#state = REJECT;
    return false;
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

/**
 * Where the multi-byte sequence left open at the end of `data` starts (`data.length` when the last
 * sequence is complete, or malformed: then the native check rejects it). Looks at the last 4 bytes.
 */
function openSequenceStart(data: Uint8Array, from: number): number {
  const n = data.length;
  for (let j = n - 1; j >= from && j >= n - 4; j--) {
    const b = data[j];
    if ((b & 0xc0) === 0x80) continue; // a continuation byte: keep looking for the lead byte
    const need = b < 0xc0 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : b < 0xf8 ? 4 : 1;
    return j + need > n ? j : n;
  }
  return n;
}
