// applyMask against a naive byte-by-byte XOR for many lengths, unaligned views, ranges and phases.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyMask } from '../../src/protocol/index.js';

/** RFC 6455 section 5.3, literally: byte i of the range takes mask byte (phase + i) % 4. */
function naive(data: Uint8Array, mask: Uint8Array, start: number, end: number, phase: number): Uint8Array {
  const out = Uint8Array.from(data);
  for (let i = start; i < end; i++) out[i] = data[i] ^ mask[(phase + i - start) % 4];
  return out;
}

/** Deterministic pseudo-random bytes. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const MASKS = [
  Uint8Array.of(0x37, 0xfa, 0x21, 0x3d),
  Uint8Array.of(0, 0, 0, 0),
  Uint8Array.of(0xff, 0x01, 0x80, 0x7f),
];
const LENGTHS = [...Array.from({ length: 80 }, (_, i) => i), 127, 128, 129, 1000, 1023, 4096, 4099, 65_537];

describe('applyMask', () => {
  test('the RFC example: "Hello" masked with 37 fa 21 3d', () => {
    const data = Buffer.from('Hello');
    applyMask(data, MASKS[0]);
    assert.deepEqual(data, Buffer.from([0x7f, 0x9f, 0x4d, 0x51, 0x58]));
    applyMask(data, MASKS[0]);
    assert.equal(data.toString(), 'Hello');
  });

  test('equals a naive XOR for every length, byte offset (unaligned views) and phase', () => {
    for (const mask of MASKS) {
      for (const length of LENGTHS) {
        for (let offset = 0; offset < 8; offset++) {
          const backing = new ArrayBuffer(offset + length + 3);
          const data = new Uint8Array(backing, offset, length);
          data.set(bytes(length, length + offset));
          for (let phase = 0; phase < 8; phase++) {
            const copy = Uint8Array.from(data);
            const expected = naive(copy, mask, 0, length, phase);
            const got = new Uint8Array(backing.slice(0), offset, length);
            applyMask(got, mask, 0, length, phase);
            if (Buffer.compare(got, expected) !== 0) {
              assert.fail(
                `length ${length}, offset ${offset}, phase ${phase}, mask ${Buffer.from(mask).toString('hex')}`,
              );
            }
          }
        }
      }
    }
  });

  test('reports whether every byte it wrote is ASCII, whatever the length, alignment and phase', () => {
    for (const length of LENGTHS) {
      for (let offset = 0; offset < 4; offset++) {
        for (let phase = 0; phase < 4; phase++) {
          // The plain text is ASCII; masking it gives bytes of both kinds.
          const plain = Uint8Array.from(bytes(length, length * 7 + offset), (b) => b & 0x7f);
          const backing = new ArrayBuffer(offset + length + 3);
          const data = new Uint8Array(backing, offset, length);
          data.set(naive(plain, MASKS[2] as Uint8Array, 0, length, phase));
          const where = `length ${length}, offset ${offset}, phase ${phase}`;
          assert.equal(applyMask(data, MASKS[2] as Uint8Array, 0, length, phase), true, where);
          assert.deepEqual(data, plain, where);
          if (length === 0) continue;
          // One non-ASCII byte, at a place that moves with the case, turns the answer.
          const at = (length * 5 + offset + phase) % length;
          data.set(naive(plain, MASKS[2] as Uint8Array, 0, length, phase));
          data[at] = (data[at] as number) ^ 0x80;
          assert.equal(
            applyMask(data, MASKS[2] as Uint8Array, 0, length, phase),
            false,
            `${where}, at ${at}`,
          );
        }
      }
    }
  });

  test('only [start, end) changes; bytes around it and beyond the view are untouched', () => {
    const mask = MASKS[2];
    for (const length of [40, 100, 300]) {
      for (let start = 0; start < 9; start++) {
        for (const tail of [0, 1, 2, 3, 5, 33]) {
          const end = length - tail;
          const backing = new Uint8Array(length + 16);
          backing.set(bytes(length + 16, start));
          const before = Uint8Array.from(backing);
          const data = backing.subarray(5, 5 + length);
          const expected = naive(Uint8Array.from(data), mask, start, end, 0);
          applyMask(data, mask, start, end);
          assert.deepEqual(data, expected, `length ${length} start ${start} end ${end}`);
          assert.deepEqual(backing.subarray(0, 5), before.subarray(0, 5));
          assert.deepEqual(backing.subarray(5 + length), before.subarray(5 + length));
        }
      }
    }
  });

  test('masking in pieces with the running phase equals masking at once', () => {
    const mask = MASKS[0];
    const data = bytes(1000, 9);
    const whole = naive(data, mask, 0, data.length, 0);
    for (const step of [1, 3, 7, 31, 32, 33, 100, 999]) {
      const pieces = Uint8Array.from(data);
      for (let at = 0; at < pieces.length; at += step) {
        const end = Math.min(at + step, pieces.length);
        // As the receiver does: each piece is its own view, the phase is the bytes already done.
        applyMask(pieces.subarray(at, end), mask, 0, end - at, at);
      }
      assert.deepEqual(pieces, whole, `step ${step}`);
    }
  });

  test('Buffers from the shared pool (odd byte offsets) are handled', () => {
    for (let i = 0; i < 50; i++) {
      const b = Buffer.from(`${'x'.repeat(i)}payload that is long enough for the word loop ${i}`);
      const expected = naive(Uint8Array.from(b), MASKS[0], 0, b.length, 0);
      applyMask(b, MASKS[0]);
      assert.deepEqual(new Uint8Array(b), expected);
    }
  });

  test('ranges of one buffer masked in turn (sharing its word view) equal a naive XOR', () => {
    // As the receiver masks the frames of one chunk: the same buffer with a new range each call,
    // other buffers in between (which replace the kept view), views at every byte offset, and a
    // buffer over the size whose view is not kept.
    for (const size of [3000, 300_000]) {
      for (let offset = 0; offset < 4; offset++) {
        const backing = new ArrayBuffer(size + 8);
        const data = new Uint8Array(backing, offset, size);
        data.set(bytes(size, offset));
        let expected: Uint8Array = Uint8Array.from(data);
        const other = new Uint8Array(200);
        let start = 0;
        for (let n = 0; start < size; n++) {
          const end = Math.min(size, start + ((n * 37) % 150));
          const mask = MASKS[n % 3] as Uint8Array;
          const phase = n % 5;
          expected = naive(expected, mask, start, end, phase);
          applyMask(data, mask, start, end, phase);
          if (n % 7 === 6) applyMask(other, mask, 1 + (n % 3), 190);
          start = end + (n % 4);
        }
        assert.deepEqual(data, expected, `size ${size}, offset ${offset}`);
      }
    }
  });

  test('masking twice restores the data; an empty range is a no-op', () => {
    const data = bytes(5000, 3);
    const copy = Uint8Array.from(data);
    applyMask(data, MASKS[2], 0, data.length, 3);
    assert.notDeepEqual(data, copy);
    applyMask(data, MASKS[2], 0, data.length, 3);
    assert.deepEqual(data, copy);
    applyMask(data, MASKS[2], 10, 10);
    applyMask(new Uint8Array(0), MASKS[2]);
    assert.deepEqual(data, copy);
  });
});
