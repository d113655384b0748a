// The Web IDL conversions behind the WebSocket methods, checked directly.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  toClampedUnsignedShort,
  toProtocolList,
  toSendData,
  toUnsignedShort,
  toUSVString,
} from '../../src/web/webidl.js';

describe('Web IDL conversions', () => {
  test('[Clamp] unsigned short: clamps, rounds half to even, NaN is 0', () => {
    const cases: [unknown, number][] = [
      [1000, 1000],
      [1000.4, 1000],
      [1000.5, 1000],
      [1001.5, 1002],
      [4999.5, 5000],
      [-5, 0],
      [70000, 65535],
      [Number.POSITIVE_INFINITY, 65535],
      [Number.NaN, 0],
      ['3000', 3000],
      [null, 0],
      [undefined, 0],
    ];
    for (const [input, expected] of cases)
      assert.equal(toClampedUnsignedShort(input), expected, String(input));
  });

  test('unsigned short: truncates and wraps modulo 2^16', () => {
    assert.equal(toUnsignedShort(65536 + 7.9), 7);
    assert.equal(toUnsignedShort(-1), 65535);
    assert.equal(toUnsignedShort(Number.NEGATIVE_INFINITY), 0);
  });

  test('USVString replaces lone surrogates and keeps pairs', () => {
    assert.equal(toUSVString('a\ud800b\udc00c'), 'a\ufffdb\ufffdc');
    assert.equal(toUSVString('\u{1F600}'), '\u{1F600}');
    assert.equal(toUSVString(12), '12');
    assert.throws(() => toUSVString(Symbol('x')), TypeError);
  });

  test('(DOMString or sequence<DOMString>): iterables are sequences, everything else a string', () => {
    assert.deepEqual(toProtocolList(undefined), []);
    assert.deepEqual(toProtocolList(['a', 1]), ['a', '1']);
    assert.deepEqual(
      toProtocolList(
        (function* () {
          yield 'x';
          yield 'y';
        })(),
      ),
      ['x', 'y'],
    );
    assert.equal(toProtocolList('chat'), 'chat');
    assert.equal(toProtocolList(null), 'null');
    assert.throws(() => toProtocolList({ [Symbol.iterator]: 1 }), TypeError);
  });

  test('(BufferSource or Blob or USVString)', () => {
    const blob = new Blob(['x']);
    const buffer = new ArrayBuffer(2);
    const view = new Uint8Array(buffer);
    assert.equal(toSendData(blob), blob);
    assert.equal(toSendData(buffer), buffer);
    assert.equal(toSendData(view), view);
    assert.equal(toSendData(1.5), '1.5');
    assert.equal(toSendData(new SharedArrayBuffer(1)), '[object SharedArrayBuffer]');
    assert.throws(() => toSendData(new Uint8Array(new SharedArrayBuffer(1))), TypeError);
    const resizable = new (ArrayBuffer as unknown as new (n: number, o: object) => ArrayBuffer)(1, {
      maxByteLength: 4,
    });
    assert.throws(() => toSendData(resizable), TypeError);
  });
});
