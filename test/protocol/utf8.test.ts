// UTF-8 validation: the incremental Utf8Validator and isValidUtf8 against a reference written from
// the Unicode standard's table of well-formed byte sequences (Table 3-7), exhaustively over short
// sequences, and with every vector split at every byte.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isValidUtf8, Utf8Validator } from '../../src/protocol/index.js';
import { hex } from './helpers.js';

/**
 * Reference: the index of the first byte at which `bytes` stops being a prefix of valid UTF-8
 * (-1 if none), and whether it is complete. Written from Unicode Table 3-7, independently of the DFA.
 */
function reference(bytes: Uint8Array): { firstBad: number; complete: boolean } {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b <= 0x7f) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b === 0xe0) [need, lo] = [2, 0xa0];
    else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) need = 2;
    else if (b === 0xed) [need, hi] = [2, 0x9f];
    else if (b === 0xf0) [need, lo] = [3, 0x90];
    else if (b >= 0xf1 && b <= 0xf3) need = 3;
    else if (b === 0xf4) [need, hi] = [3, 0x8f];
    else return { firstBad: i, complete: false };
    for (let k = 1; k <= need; k++) {
      if (i + k >= bytes.length) return { firstBad: -1, complete: false };
      const c = bytes[i + k];
      const low = k === 1 ? lo : 0x80;
      const high = k === 1 ? hi : 0xbf;
      if (c < low || c > high) return { firstBad: i + k, complete: false };
    }
    i += need + 1;
  }
  return { firstBad: -1, complete: true };
}

const isValidRef = (bytes: Uint8Array): boolean => reference(bytes).complete;

/** Feeds `chunks` to one validator: whether it accepted them all and ended complete. */
function validateChunks(chunks: Uint8Array[]): boolean {
  const v = new Utf8Validator();
  for (const chunk of chunks) if (!v.write(chunk)) return false;
  return v.complete;
}

/** Feeds `bytes` one at a time: the index of the first byte refused (-1 if none), and `complete`. */
function byteByByte(bytes: Uint8Array): { firstBad: number; complete: boolean } {
  const v = new Utf8Validator();
  for (let i = 0; i < bytes.length; i++) {
    if (!v.write(bytes.subarray(i, i + 1))) return { firstBad: i, complete: v.complete };
  }
  return { firstBad: -1, complete: v.complete };
}

const VALID = [
  '',
  'Hello, world',
  '\u00e9',
  '\u07ff',
  '\u0800',
  '\u20ac',
  '\ud7ff',
  '\ue000',
  '\uffff',
  '\u{10000}',
  '\u{1f600}',
  '\u{10ffff}',
  'κόσμε',
  'Ça va? 日本語 \u{1f44d}\u{1f3fd} ok',
  '\u0000 nul is valid',
].map((s) => Buffer.from(s));

const INVALID: [string, string][] = [
  ['80', 'lone continuation byte'],
  ['bf', 'lone continuation byte'],
  ['c0 80', 'overlong NUL'],
  ['c1 bf', 'overlong 2-byte'],
  ['e0 80 80', 'overlong 3-byte'],
  ['e0 9f bf', 'overlong U+07FF'],
  ['f0 80 80 80', 'overlong 4-byte'],
  ['f0 8f bf bf', 'overlong U+FFFF'],
  ['ed a0 80', 'surrogate U+D800'],
  ['ed bf bf', 'surrogate U+DFFF'],
  ['ed af bf ed b0 80', 'surrogate pair encoded separately'],
  ['f4 90 80 80', 'U+110000'],
  ['f7 bf bf bf', 'U+1FFFFF'],
  ['f5 80 80 80', 'lead byte f5'],
  ['f8 88 80 80 80', '5-byte form'],
  ['fc 84 80 80 80 80', '6-byte form'],
  ['fe', 'fe'],
  ['ff', 'ff'],
  ['c3', 'truncated 2-byte'],
  ['e2 82', 'truncated 3-byte'],
  ['f0 9f 98', 'truncated 4-byte'],
  ['c3 28', 'bad continuation'],
  ['e2 28 a1', 'bad second byte'],
  ['e2 82 28', 'bad third byte'],
  ['f0 28 8c bc', 'bad second of 4'],
  ['f0 90 28 bc', 'bad third of 4'],
  ['f0 90 8c 28', 'bad fourth of 4'],
  ['ce ba e1 bd b9 cf 83 ce bc ce b5 ed a0 80 65 64 69 74 65 64', 'Autobahn 6.3.1'],
  ['61 62 63 e2 82 ac 64 ff 65', 'valid then invalid'],
];

describe('Utf8Validator and isValidUtf8 against the reference', () => {
  test('the reference agrees with TextDecoder on the vectors (sanity check of the test itself)', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true });
    const decodes = (b: Uint8Array): boolean => {
      try {
        decoder.decode(b);
        return true;
      } catch {
        return false;
      }
    };
    for (const v of VALID) assert.equal(isValidRef(v), true);
    for (const [h] of INVALID) {
      assert.equal(isValidRef(hex(h)), false, h);
      assert.equal(decodes(hex(h)), false, h);
    }
  });

  test('valid vectors, whole, byte by byte, and split in two and three at every position', () => {
    for (const v of VALID) {
      assert.equal(isValidUtf8(v), true, v.toString());
      assert.equal(validateChunks([v]), true);
      assert.deepEqual(byteByByte(v), { firstBad: -1, complete: true });
      for (let a = 0; a <= v.length; a++) {
        assert.equal(validateChunks([v.subarray(0, a), v.subarray(a)]), true, `${v} at ${a}`);
        for (let b = a; b <= v.length && v.length < 40; b++) {
          assert.equal(validateChunks([v.subarray(0, a), v.subarray(a, b), v.subarray(b)]), true);
        }
      }
    }
  });

  test('invalid vectors fail whole and split anywhere, and fail fast at the first bad byte', () => {
    for (const [h, why] of INVALID) {
      const v = hex(h);
      assert.equal(isValidUtf8(v), false, why);
      assert.equal(validateChunks([v]), false, why);
      assert.deepEqual(byteByByte(v), reference(v), why);
      for (let a = 0; a <= v.length; a++) {
        assert.equal(validateChunks([v.subarray(0, a), v.subarray(a)]), false, `${why} at ${a}`);
      }
    }
  });

  test('every 1- and 2-byte sequence', () => {
    const buf = new Uint8Array(2);
    for (let a = 0; a < 256; a++) {
      const one = buf.subarray(0, 1);
      one[0] = a;
      assert.equal(isValidUtf8(one), isValidRef(one), `${a}`);
      assert.deepEqual(byteByByte(one), reference(one));
      for (let b = 0; b < 256; b++) {
        buf[0] = a;
        buf[1] = b;
        const ref = reference(buf);
        assert.equal(validateChunks([buf]), ref.complete);
        assert.equal(isValidUtf8(buf), ref.complete);
        const got = byteByByte(buf);
        if (got.firstBad !== ref.firstBad || got.complete !== ref.complete) {
          assert.fail(
            `${a.toString(16)} ${b.toString(16)}: ${JSON.stringify(got)} vs ${JSON.stringify(ref)}`,
          );
        }
      }
    }
  });

  test('3- and 4-byte sequences over every lead byte and the boundary values of the others', () => {
    const edges = [
      0x00, 0x41, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xf0, 0xf4,
    ];
    edges.push(0xf5, 0xff);
    const buf = new Uint8Array(4);
    let checked = 0;
    for (let a = 0x80; a < 256; a++) {
      for (const b of edges) {
        for (const c of edges) {
          buf[0] = a;
          buf[1] = b;
          buf[2] = c;
          const three = buf.subarray(0, 3);
          const ref3 = reference(three);
          const got3 = byteByByte(three);
          if (got3.firstBad !== ref3.firstBad || got3.complete !== ref3.complete) {
            assert.fail(
              `${Buffer.from(three).toString('hex')}: ${JSON.stringify(got3)} vs ${JSON.stringify(ref3)}`,
            );
          }
          assert.equal(isValidUtf8(three), ref3.complete);
          if (a < 0xe0) continue;
          for (const d of edges) {
            buf[3] = d;
            const ref4 = reference(buf);
            const got4 = byteByByte(buf);
            if (got4.firstBad !== ref4.firstBad || got4.complete !== ref4.complete) {
              assert.fail(
                `${Buffer.from(buf).toString('hex')}: ${JSON.stringify(got4)} vs ${JSON.stringify(ref4)}`,
              );
            }
            if (validateChunks([buf]) !== ref4.complete) assert.fail(Buffer.from(buf).toString('hex'));
            checked++;
          }
        }
      }
    }
    assert.ok(checked > 100_000);
  });

  test('every scalar value encodes to UTF-8 the validator accepts (BMP fully, the rest sampled)', () => {
    const v = new Utf8Validator();
    for (let cp = 0; cp <= 0x10ffff; cp += cp < 0x10000 ? 1 : 13) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const bytes = Buffer.from(String.fromCodePoint(cp));
      if (!v.write(bytes) || !v.complete) assert.fail(`U+${cp.toString(16)}`);
    }
    assert.equal(v.write(Buffer.from('\u{10ffff}')), true);
    assert.equal(v.complete, true);
  });

  test('every surrogate encoded as 3 bytes is refused', () => {
    for (let cp = 0xd800; cp <= 0xdfff; cp++) {
      const bytes = Uint8Array.of(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
      assert.equal(isValidUtf8(bytes), false);
      assert.deepEqual(byteByByte(bytes), { firstBad: 1, complete: false });
    }
  });
});

describe('Utf8Validator state', () => {
  test('complete is false while a sequence is open, and true once it closes', () => {
    const v = new Utf8Validator();
    assert.equal(v.complete, true);
    assert.equal(v.write(hex('f0 9f')), true);
    assert.equal(v.complete, false);
    assert.equal(v.write(hex('98')), true);
    assert.equal(v.complete, false);
    assert.equal(v.write(hex('80')), true);
    assert.equal(v.complete, true);
  });

  test('an empty write changes nothing', () => {
    const v = new Utf8Validator();
    assert.equal(v.write(new Uint8Array(0)), true);
    assert.equal(v.complete, true);
    v.write(hex('e2'));
    assert.equal(v.write(new Uint8Array(0)), true);
    assert.equal(v.complete, false);
  });

  test('once refused, every later write is refused until reset()', () => {
    const v = new Utf8Validator();
    assert.equal(v.write(hex('ff')), false);
    assert.equal(v.complete, false);
    assert.equal(v.write(Buffer.from('abc')), false);
    assert.equal(v.write(hex('80')), false);
    v.reset();
    assert.equal(v.complete, true);
    assert.equal(v.write(Buffer.from('abc')), true);
  });

  test('once refused, an empty write is refused too', () => {
    const v = new Utf8Validator();
    assert.equal(v.write(hex('ff')), false);
    assert.equal(v.write(new Uint8Array(0)), false);
  });

  test('reset() in the middle of a sequence starts a new message', () => {
    const v = new Utf8Validator();
    v.write(hex('e2 82'));
    v.reset();
    assert.equal(v.complete, true);
    assert.equal(v.write(hex('ac')), false, 'a continuation byte cannot start a message');
  });

  test('long ASCII runs around multi-byte sequences, and a bad byte deep in a large input', () => {
    const big = Buffer.from(`${'a'.repeat(70_000)}\u20ac${'b'.repeat(70_000)}\u{1f600}`);
    assert.equal(isValidUtf8(big), true);
    assert.equal(validateChunks([big]), true);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < big.length; i += 4099) chunks.push(big.subarray(i, i + 4099));
    assert.equal(validateChunks(chunks), true);
    const bad = Buffer.from(big);
    bad[100_000] = 0x80;
    assert.equal(isValidUtf8(bad), false);
    assert.equal(validateChunks([bad]), false);
  });
});

describe('isValidUtf8', () => {
  test('empty input is valid', () => {
    assert.equal(isValidUtf8(new Uint8Array(0)), true);
    assert.equal(isValidUtf8(Buffer.alloc(0)), true);
  });

  test('views into a larger buffer check only their own bytes', () => {
    const all = Buffer.concat([hex('ff'), Buffer.from('ok \u20ac'), hex('e2')]);
    assert.equal(isValidUtf8(all), false);
    assert.equal(isValidUtf8(all.subarray(1, all.length - 1)), true);
    assert.equal(isValidUtf8(new Uint8Array(all.buffer, all.byteOffset + 1, all.length - 2)), true);
  });
});
