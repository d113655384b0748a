/**
 * Masking (RFC 6455, section 5.3): payload byte i is XORed with mask byte i % 4.
 * Payloads of a few words or more go four bytes at a time through an Int32Array view of the aligned
 * middle; the view of the last buffer masked is kept, so the many small frames of one input chunk
 * (or of one output slab) share one view.
 * @module
 */

/**
 * From this many bytes a word loop pays even when it must first make its view (a view costs about
 * as much as unmasking 24 bytes one by one; a word step, four bytes, costs what 1.5 bytes do).
 */
const NEW_VIEW_THRESHOLD = 48;
/** From this many bytes the word loop pays when the view of `data` is already made. */
const KEPT_VIEW_THRESHOLD = 12;
/**
 * Buffers up to this size keep their view for the next call. A larger one gets a view of just the
 * range, used once: the kept view holds its buffer alive until another buffer is masked.
 */
const KEEP_LIMIT = 256 * 1024;

const rotated = new Uint8Array(4);
const rotatedWord = new Int32Array(rotated.buffer);

// The kept view: `words[k]` is bytes [first + 4k, first + 4k + 4) of `viewOf`.
let viewOf: Uint8Array | null = null;
let words: Int32Array<ArrayBufferLike> = new Int32Array(0);
let first = 0;

/**
 * XORs `data[start..end)` in place with the 4-byte `mask`, the first byte taking mask byte `phase`
 * (0 for a payload's first byte; a payload unmasked in pieces passes the bytes already done).
 * Masking and unmasking are the same operation. One pass; to share a word view across calls, pass
 * the whole input chunk with the payload's range rather than a new view of each payload.
 *
 * Returns whether every byte written is ASCII (below 0x80): the receiver then knows an unmasked
 * text payload is valid UTF-8 without a second pass over it.
 */
export function applyMask(
  data: Uint8Array,
  mask: Uint8Array,
  start = 0,
  end = data.length,
  phase = 0,
): boolean {
  // The OR of every byte (and word) written: a set top bit in any byte means non-ASCII.
  let bytes = 0;
  let wordBits = 0;
  let i = start;
  let p = phase & 3;
  const length = end - start;
  if (length >= (data === viewOf ? KEPT_VIEW_THRESHOLD : NEW_VIEW_THRESHOLD)) {
    // Bytes up to a 4-byte aligned address, then whole words with the mask rotated to that phase.
    const byteOffset = data.byteOffset;
    while (((byteOffset + i) & 3) !== 0) {
      const v = data[i] ^ mask[p];
      data[i++] = v;
      bytes |= v;
      p = (p + 1) & 3;
    }
    rotated[0] = mask[p];
    rotated[1] = mask[(p + 1) & 3];
    rotated[2] = mask[(p + 2) & 3];
    rotated[3] = mask[(p + 3) & 3];
    const word = rotatedWord[0];
    const count = (end - i) >>> 2;
    let view = words;
    let w = (i - first) >> 2;
    if (data !== viewOf || w + count > view.length) {
      // A new buffer (or, for a buffer that changed size, a view that no longer covers the range).
      if (data.byteLength <= KEEP_LIMIT) {
        first = (4 - (byteOffset & 3)) & 3;
        view = words = new Int32Array(data.buffer, byteOffset + first, (data.length - first) >>> 2);
        viewOf = data;
        w = (i - first) >> 2;
      } else {
        view = new Int32Array(data.buffer, byteOffset + i, count);
        w = 0;
      }
    }
    for (const last = w + count; w < last; w++) {
      const v = view[w] ^ word;
      view[w] = v;
      wordBits |= v;
    }
    i += count << 2;
  }
  // The rest (all of a small payload), four bytes a step with the mask bytes in locals.
  const m0 = mask[p];
  const m1 = mask[(p + 1) & 3];
  const m2 = mask[(p + 2) & 3];
  const m3 = mask[(p + 3) & 3];
  const last = end - 3;
  for (; i < last; i += 4) {
    const v0 = data[i] ^ m0;
    const v1 = data[i + 1] ^ m1;
    const v2 = data[i + 2] ^ m2;
    const v3 = data[i + 3] ^ m3;
    data[i] = v0;
    data[i + 1] = v1;
    data[i + 2] = v2;
    data[i + 3] = v3;
    bytes |= v0 | v1 | v2 | v3;
  }
  // At most three bytes left, taking mask bytes m0, m1, m2 in turn.
  for (let t = 0; i < end; t++, i++) {
    const v = data[i] ^ (t === 0 ? m0 : t === 1 ? m1 : m2);
    data[i] = v;
    bytes |= v;
  }
  return (bytes & 0x80) === 0 && (wordBits & 0x80808080) === 0;
}
