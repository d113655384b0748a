// The Sec-WebSocket-Extensions parser and formatter: offers and parameters in order, quoted values,
// whitespace, syntax errors, prototype-like names as plain data, and linear time on 1 MB headers.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ExtensionHeaderError,
  type ExtensionOffer,
  formatExtensions,
  isToken,
  parseExtensions,
} from '../../src/protocol/index.js';

const p = (name: string, value: string | true = true) => ({ name, value });

describe('parseExtensions', () => {
  test('one extension, several, with and without parameters, in order', () => {
    assert.deepEqual(parseExtensions('permessage-deflate'), [{ name: 'permessage-deflate', params: [] }]);
    assert.deepEqual(parseExtensions('permessage-deflate; client_max_window_bits, x-webkit-deflate-frame'), [
      { name: 'permessage-deflate', params: [p('client_max_window_bits')] },
      { name: 'x-webkit-deflate-frame', params: [] },
    ]);
    assert.deepEqual(
      parseExtensions(
        'permessage-deflate; server_max_window_bits=10; client_no_context_takeover, permessage-deflate',
      ),
      [
        {
          name: 'permessage-deflate',
          params: [p('server_max_window_bits', '10'), p('client_no_context_takeover')],
        },
        { name: 'permessage-deflate', params: [] },
      ],
    );
  });

  test('parameters keep their order and their duplicates', () => {
    assert.deepEqual(parseExtensions('a; x=1; y; x=2; x'), [
      { name: 'a', params: [p('x', '1'), p('y'), p('x', '2'), p('x')] },
    ]);
  });

  test('spaces and tabs around every separator', () => {
    const expected = [
      { name: 'foo', params: [p('a', '1'), p('b')] },
      { name: 'bar', params: [p('c', 'd')] },
    ];
    for (const header of [
      'foo;a=1;b,bar;c=d',
      'foo ; a = 1 ; b , bar ; c = d',
      '  foo\t;\ta\t=\t1;b\t,\t\tbar;c="d"  ',
      'foo; a="1"; b,    bar; c = "d"',
    ]) {
      assert.deepEqual(parseExtensions(header), expected, JSON.stringify(header));
    }
  });

  test('quoted values are unquoted, with backslash escapes, and must be tokens once unquoted', () => {
    assert.deepEqual(parseExtensions('a; b="10"'), [{ name: 'a', params: [p('b', '10')] }]);
    assert.deepEqual(parseExtensions('a; b="1\\0"'), [{ name: 'a', params: [p('b', '10')] }]);
    assert.deepEqual(parseExtensions('a; b="\\x\\y"'), [{ name: 'a', params: [p('b', 'xy')] }]);
    assert.deepEqual(parseExtensions('a; b="x", c'), [
      { name: 'a', params: [p('b', 'x')] },
      { name: 'c', params: [] },
    ]);
    for (const bad of [
      'a; b=""',
      'a; b="x y"',
      'a; b="x,y"',
      'a; b="x;y"',
      'a; b="\\""',
      'a; b="caf\u00e9"',
    ]) {
      assert.throws(() => parseExtensions(bad), ExtensionHeaderError, bad);
    }
  });

  test('syntax errors throw ExtensionHeaderError with a stable code', () => {
    const bad = [
      '',
      ' ',
      ',',
      ';',
      'a,',
      ',a',
      'a,,b',
      'a;',
      'a;;b',
      'a; =1',
      'a; b=',
      'a; b= ;c',
      'a; b="',
      'a; b="1',
      'a; b="1\\',
      'a; b="1"x',
      'a; b=1 2',
      'a b',
      'a; b c',
      'a=1',
      '"a"',
      'caf\u00e9',
      'a; b=caf\u00e9',
      'a; b=1=2',
      'a\r\n; b',
      'a, b; c, ',
      '(a)',
      'a/b',
      'a; b=[1]',
    ];
    for (const header of bad) {
      assert.throws(
        () => parseExtensions(header),
        (err: unknown) => {
          assert.ok(err instanceof ExtensionHeaderError, JSON.stringify(header));
          assert.ok(err instanceof SyntaxError);
          assert.equal(err.code, 'ERR_INVALID_EXTENSION_HEADER');
          assert.equal(err.name, 'ExtensionHeaderError');
          return true;
        },
        JSON.stringify(header),
      );
    }
  });

  test('names like __proto__, constructor and hasOwnProperty are plain data', () => {
    const header =
      '__proto__; __proto__=1; constructor, constructor; hasOwnProperty=toString, toString; valueOf';
    const offers = parseExtensions(header);
    assert.deepEqual(offers, [
      { name: '__proto__', params: [p('__proto__', '1'), p('constructor')] },
      { name: 'constructor', params: [p('hasOwnProperty', 'toString')] },
      { name: 'toString', params: [p('valueOf')] },
    ]);
    // Nothing leaked onto prototypes, and the results are ordinary arrays and objects.
    assert.equal(Object.getPrototypeOf(offers[0]), Object.prototype);
    assert.equal(Object.hasOwn(Object.prototype, '1'), false);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
    assert.equal(Object.getOwnPropertyNames(Object.prototype).includes('1'), false);
    assert.equal(typeof ({} as Record<string, unknown>).hasOwnProperty, 'function');
  });

  test('every tchar is allowed in names and values', () => {
    const tchars = "!#$%&'*+-.^_`|~09azAZ";
    assert.deepEqual(parseExtensions(`${tchars}; ${tchars}=${tchars}`), [
      { name: tchars, params: [p(tchars, tchars)] },
    ]);
  });
});

describe('parseExtensions runs in linear time (1 MB pathological headers)', () => {
  const MB = 1 << 20;
  const cases: [string, string, boolean][] = [
    ['many parameters', `a${'; b'.repeat(MB / 3)}`, true],
    ['many offers', `a${', a'.repeat(MB / 3)}`, true],
    ['many valued parameters', `a${'; b=1'.repeat(MB / 5)}`, true],
    ['a long quoted value', `a; b="${'x'.repeat(MB)}"`, true],
    ['a long quoted value of escapes', `a; b="${'\\x'.repeat(MB / 2)}"`, true],
    ['an unterminated quoted value', `a; b="${'x'.repeat(MB)}`, false],
    ['long whitespace, then garbage', `a${' '.repeat(MB)}!`, false],
    ['long whitespace between tokens', `a;${' \t'.repeat(MB / 2)}b`, true],
    ['a long token', 'a'.repeat(MB), true],
    ['a long token, then garbage', `${'a'.repeat(MB)} b`, false],
    ['commas', ','.repeat(MB), false],
    ['semicolons', `a${';'.repeat(MB)}`, false],
    ['quotes', `a; b=${'"'.repeat(MB)}`, false],
    ['many parameters, then an error at the end', `a${'; b'.repeat(MB / 3)};`, false],
  ];
  for (const [name, header, valid] of cases) {
    test(name, () => {
      const start = performance.now();
      let ok = true;
      try {
        parseExtensions(header);
      } catch (err) {
        assert.ok(err instanceof ExtensionHeaderError);
        ok = false;
      }
      const ms = performance.now() - start;
      assert.equal(ok, valid);
      // Generous: at most ~0.6 s idle, a few seconds on a loaded 2-core machine; a quadratic parser
      // would need ~10^12 steps on 1 MB (hours).
      assert.ok(ms < 10_000, `${name}: ${ms.toFixed(0)} ms`);
    });
  }
});

describe('formatExtensions', () => {
  test('names, parameters with and without values, joined the canonical way', () => {
    const offers: ExtensionOffer[] = [
      {
        name: 'permessage-deflate',
        params: [p('client_max_window_bits'), p('server_max_window_bits', '10')],
      },
      { name: 'x', params: [] },
    ];
    assert.equal(
      formatExtensions(offers),
      'permessage-deflate; client_max_window_bits; server_max_window_bits=10, x',
    );
    assert.equal(formatExtensions([]), '');
  });

  test('parse(format(x)) is x, and format(parse(h)) normalizes h', () => {
    const header = ' a ;b="1" ;  c,d;e=f  ';
    const offers = parseExtensions(header);
    assert.equal(formatExtensions(offers), 'a; b=1; c, d; e=f');
    assert.deepEqual(parseExtensions(formatExtensions(offers)), offers);
  });
});

describe('isToken', () => {
  test('non-empty RFC 7230 tokens only', () => {
    assert.equal(isToken('permessage-deflate'), true);
    assert.equal(isToken("!#$%&'*+-.^_`|~"), true);
    for (const bad of [
      '',
      ' ',
      'a b',
      'a,b',
      'a;b',
      'a=b',
      '"a"',
      'a/b',
      '(a)',
      'caf\u00e9',
      'a\u0000',
      '\u{1f600}',
    ]) {
      assert.equal(isToken(bad), false, JSON.stringify(bad));
    }
  });
});
