// Frame serialization: headerSize, writeHeader and encodeFrame at every length boundary, masked and
// not (checked against the RFC's bytes and against the independent builder and the Receiver),
// encodeClosePayload's validation, checkControlPayload, and randomMask.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkControlPayload,
  encodeClosePayload,
  encodeFrame,
  headerSize,
  Opcode,
  randomMask,
  UsageError,
  writeHeader,
} from '../../src/protocol/index.js';
import { feedWhole, frame, hex, RFC_MASK } from './helpers.js';

const BOUNDARIES = [0, 1, 125, 126, 127, 65535, 65536, 65537];

/** The expected header bytes of a frame, from the RFC's layout. */
function expectedHeader(
  opcode: number,
  length: number,
  fin: boolean,
  rsv1: boolean,
  mask: Uint8Array | null,
): Buffer {
  return frame(opcode, '', { fin, rsv1, mask, declaredLength: length });
}

describe('headerSize', () => {
  test('2, 4 or 10 bytes by length, plus 4 for the mask', () => {
    const table: [number, number][] = [
      [0, 2],
      [125, 2],
      [126, 4],
      [65535, 4],
      [65536, 10],
      [2 ** 32, 10],
      [Number.MAX_SAFE_INTEGER, 10],
    ];
    for (const [length, size] of table) {
      assert.equal(headerSize(length, false), size, `${length}`);
      assert.equal(headerSize(length, true), size + 4, `${length} masked`);
    }
  });
});

describe('writeHeader', () => {
  test('lengths 0, 125, 126, 65535, 65536 and beyond, masked and not, every flag', () => {
    for (const length of [...BOUNDARIES, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 5, 2 ** 40 + 3]) {
      for (const mask of [null, RFC_MASK]) {
        for (const [fin, rsv1] of [
          [true, false],
          [false, false],
          [true, true],
          [false, true],
        ] as const) {
          for (const opcode of [Opcode.Continuation, Opcode.Text, Opcode.Binary, Opcode.Ping]) {
            const expected = expectedHeader(opcode, length, fin, rsv1, mask);
            const target = Buffer.alloc(20, 0xee);
            const end = writeHeader(target, 3, opcode, length, fin, rsv1, mask);
            assert.equal(end, 3 + headerSize(length, mask !== null));
            assert.deepEqual(target.subarray(3, end), expected, `length ${length}`);
            assert.deepEqual(target.subarray(0, 3), Buffer.alloc(3, 0xee), 'nothing before the offset');
            assert.deepEqual(target.subarray(end), Buffer.alloc(20 - end, 0xee), 'nothing after the header');
          }
        }
      }
    }
  });

  test('the RFC examples: 256 bytes (7e 01 00) and 64 KiB (7f 00..01 00 00)', () => {
    const a = Buffer.alloc(4);
    writeHeader(a, 0, Opcode.Binary, 256, true, false, null);
    assert.deepEqual(a, hex('82 7e 01 00'));
    const b = Buffer.alloc(10);
    writeHeader(b, 0, Opcode.Binary, 65536, true, false, null);
    assert.deepEqual(b, hex('82 7f 00 00 00 00 00 01 00 00'));
  });

  test('lengths of 2^48 and more keep all their bits (up to 2^53 - 1)', () => {
    for (const length of [2 ** 48, 2 ** 48 + 1, Number.MAX_SAFE_INTEGER]) {
      const target = Buffer.alloc(10);
      writeHeader(target, 0, Opcode.Binary, length, true, false, null);
      assert.equal(Number(target.readBigUInt64BE(2)), length, `${length}`);
    }
  });
});

describe('encodeFrame', () => {
  test('the RFC examples, unmasked', () => {
    const opts = { fin: true, rsv1: false, mask: null };
    assert.deepEqual(encodeFrame(Opcode.Text, Buffer.from('Hello'), opts), hex('81 05 48 65 6c 6c 6f'));
    assert.deepEqual(encodeFrame(Opcode.Ping, Buffer.from('Hello'), opts), hex('89 05 48 65 6c 6c 6f'));
    assert.deepEqual(
      encodeFrame(Opcode.Text, Buffer.from('Hel'), { ...opts, fin: false }),
      hex('01 03 48 65 6c'),
    );
    assert.deepEqual(encodeFrame(Opcode.Continuation, Buffer.from('lo'), opts), hex('80 02 6c 6f'));
  });

  test('unmasked frames at every length boundary equal the independent builder and parse back', () => {
    for (const length of BOUNDARIES) {
      const payload = Buffer.alloc(length, 0x5a);
      for (const rsv1 of [false, true]) {
        const encoded = encodeFrame(Opcode.Binary, payload, { fin: true, rsv1, mask: null });
        assert.deepEqual(encoded, frame(Opcode.Binary, payload, { rsv1 }), `length ${length}`);
      }
      const encoded = encodeFrame(Opcode.Binary, payload, { fin: true, rsv1: false, mask: null });
      const events = feedWhole({ isServer: false }, encoded);
      assert.deepEqual(events, [['message', 'binary', payload.toString('hex')]]);
    }
  });

  test('the RFC example, masked: "Hello" with key 37 fa 21 3d', () => {
    const encoded = encodeFrame(Opcode.Text, Buffer.from('Hello'), {
      fin: true,
      rsv1: false,
      mask: RFC_MASK,
    });
    assert.deepEqual(encoded, hex('81 85 37 fa 21 3d 7f 9f 4d 51 58'));
  });

  test('masked frames at every length boundary equal the independent builder and parse back on a server', () => {
    for (const length of BOUNDARIES) {
      const payload = Buffer.alloc(length);
      for (let i = 0; i < length; i++) payload[i] = i & 0xff;
      const encoded = encodeFrame(Opcode.Binary, payload, { fin: true, rsv1: false, mask: RFC_MASK });
      assert.deepEqual(encoded, frame(Opcode.Binary, payload, { mask: RFC_MASK }), `length ${length}`);
      assert.deepEqual(feedWhole({ isServer: true }, encoded), [
        ['message', 'binary', payload.toString('hex')],
      ]);
    }
  });

  test('the source payload is not modified, masked or not', () => {
    const payload = Buffer.from('do not touch this payload, it belongs to the caller');
    const copy = Buffer.from(payload);
    encodeFrame(Opcode.Text, payload, { fin: true, rsv1: false, mask: RFC_MASK });
    encodeFrame(Opcode.Text, payload, { fin: true, rsv1: false, mask: null });
    assert.deepEqual(payload, copy);
  });
});

describe('encodeClosePayload', () => {
  const throwsUsage = (fn: () => unknown, code: string): void => {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.ok(err instanceof TypeError);
      assert.equal(err.name, 'UsageError');
      assert.equal(err.code, code);
      return true;
    });
  };

  test('no code gives an empty payload; a reason without a code is refused', () => {
    assert.deepEqual(encodeClosePayload(), Buffer.alloc(0));
    assert.deepEqual(encodeClosePayload(undefined, ''), Buffer.alloc(0));
    throwsUsage(() => encodeClosePayload(undefined, 'why'), 'ERR_INVALID_CLOSE_CODE');
    throwsUsage(() => encodeClosePayload(undefined, Uint8Array.of(0x61)), 'ERR_INVALID_CLOSE_CODE');
  });

  test('the code in network byte order, then the UTF-8 reason', () => {
    assert.deepEqual(encodeClosePayload(1000), hex('03 e8'));
    assert.deepEqual(encodeClosePayload(4999, 'r\u00e9'), hex('13 87 72 c3 a9'));
    assert.deepEqual(encodeClosePayload(3000, Uint8Array.of(1, 2)), hex('0b b8 01 02'));
  });

  test('codes that may be sent are accepted; the others are refused with ERR_INVALID_CLOSE_CODE', () => {
    for (const code of [
      1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999,
    ]) {
      assert.equal(encodeClosePayload(code).readUInt16BE(0), code);
    }
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65536, -1000, 1000.5, Number.NaN]) {
      throwsUsage(() => encodeClosePayload(code), 'ERR_INVALID_CLOSE_CODE');
    }
  });

  test('the reason is limited to 123 bytes, counted in UTF-8 bytes', () => {
    assert.equal(encodeClosePayload(1000, 'a'.repeat(123)).length, 125);
    throwsUsage(() => encodeClosePayload(1000, 'a'.repeat(124)), 'ERR_CLOSE_REASON_TOO_LONG');
    assert.equal(encodeClosePayload(1000, '\u20ac'.repeat(41)).length, 125);
    throwsUsage(() => encodeClosePayload(1000, '\u20ac'.repeat(42)), 'ERR_CLOSE_REASON_TOO_LONG');
    throwsUsage(() => encodeClosePayload(1000, new Uint8Array(124)), 'ERR_CLOSE_REASON_TOO_LONG');
  });

  test('a close frame built from it parses back to the same code and reason', () => {
    const payload = encodeClosePayload(1001, 'going away \u{1f44b}');
    const encoded = encodeFrame(Opcode.Close, payload, { fin: true, rsv1: false, mask: null });
    assert.deepEqual(feedWhole({ isServer: false }, encoded), [
      ['close', 1001, Buffer.from('going away \u{1f44b}').toString('hex')],
    ]);
  });
});

describe('checkControlPayload', () => {
  test('up to 125 bytes pass; 126 throw ERR_CONTROL_PAYLOAD_TOO_LONG', () => {
    checkControlPayload(new Uint8Array(0));
    checkControlPayload(new Uint8Array(125));
    assert.throws(
      () => checkControlPayload(new Uint8Array(126)),
      (err: unknown) => err instanceof UsageError && err.code === 'ERR_CONTROL_PAYLOAD_TOO_LONG',
    );
  });
});

describe('randomMask', () => {
  test('4 bytes, different from call to call, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const key = randomMask();
      assert.ok(key instanceof Uint8Array);
      assert.equal(key.length, 4);
      seen.add(Buffer.from(key).toString('hex'));
    }
    // 3,000 draws from 2^32 values: a collision is possible but more than a handful is not.
    assert.ok(seen.size > 2990, `${seen.size} distinct keys`);
  });

  test('every byte value turns up (the bytes are not biased to a few values)', () => {
    const counts = new Uint32Array(256);
    for (let i = 0; i < 4096; i++) for (const b of randomMask()) counts[b]++;
    // 16,384 bytes: each value is expected 64 times; missing one entirely would be vanishingly rare.
    assert.ok(counts.every((c) => c > 0));
  });

  test('a key keeps its value after later calls', () => {
    const key = randomMask();
    const copy = Uint8Array.from(key);
    for (let i = 0; i < 2048; i++) randomMask();
    assert.deepEqual(key, copy);
  });
});
