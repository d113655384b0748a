/**
 * Masking (RFC 6455, section 5.3): payload byte i is XORed with mask byte i % 4.
 * Large payloads are processed four bytes at a time through a Uint32Array view of the aligned middle.
 * @module
 */

/**
 * Below this many bytes, a Uint32Array view costs more (it is an allocation, hence GC work on
 * the echo path) than it saves: the unrolled byte loop does small payloads (measured: 64 B in
 * about half the time).
 */
const WORD_THRESHOLD = 128;
const rotated = new Uint8Array(4);
const rotatedWord = new Uint32Array(rotated.buffer);

/**
 * XORs `data[start..end)` in place with the 4-byte `mask`, the first byte taking mask byte `phase`
 * (0 for a payload's first byte; a payload unmasked in pieces passes the bytes already done).
 * Masking and unmasking are the same operation. Cost: one pass; a view is allocated only for
 * payloads of WORD_THRESHOLD bytes or more.
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
  let words = 0;
  let i = start;
  let p = phase & 3;
  if (end - start >= WORD_THRESHOLD) {
    // Bytes up to a 4-byte aligned address, then whole words with the mask rotated to that phase.
    while (((data.byteOffset + i) & 3) !== 0) {
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
    const view = new Uint32Array(data.buffer, data.byteOffset + i, count);
    for (let w = 0; w < count; w++) {
      const v = view[w] ^ word;
      view[w] = v;
      words |= v;
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
  return (bytes & 0x80) === 0 && (words & 0x80808080) === 0;
}
