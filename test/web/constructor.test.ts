// new WebSocket(url, protocols): the constructor steps of the WebSockets standard, the attributes'
// initial values, and the constants.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebSocket } from '../../src/web/index.js';
import { nextEvent, startEchoServer } from './helpers.js';

function assertDOMException(fn: () => unknown, name: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof DOMException, `expected a DOMException, got ${String(error)}`);
    assert.equal(error.name, name);
    return true;
  });
}

describe('constructor: URL', () => {
  test('no argument at all is a TypeError', () => {
    assert.throws(() => Reflect.construct(WebSocket, []), TypeError);
  });

  for (const url of ['', 'not a url', 'ws://', 'ws://[::1', '/relative/path', '//127.0.0.1:1/']) {
    test(`an unparsable URL (${JSON.stringify(url)}) is a SyntaxError`, () => {
      assertDOMException(() => new WebSocket(url), 'SyntaxError');
    });
  }

  for (const url of [
    'ftp://127.0.0.1/',
    'file:///tmp/x',
    'mailto:a@b.c',
    'javascript:alert(1)',
    'ws+unix:/tmp/s',
  ]) {
    test(`the scheme of ${url} is a SyntaxError`, () => {
      assertDOMException(() => new WebSocket(url), 'SyntaxError');
    });
  }

  for (const url of ['ws://127.0.0.1:1/#', 'ws://127.0.0.1:1/#frag', 'http://127.0.0.1:1/path?q=1#x']) {
    test(`a fragment (${url}) is a SyntaxError, even an empty one`, () => {
      assertDOMException(() => new WebSocket(url), 'SyntaxError');
    });
  }

  test('the DOMException carries the legacy numeric code of its name', () => {
    try {
      new WebSocket('ftp://x/');
      assert.fail('no exception');
    } catch (error) {
      assert.ok(error instanceof DOMException);
      assert.equal(error.code, 12); // SYNTAX_ERR
    }
  });

  test('http: maps to ws:, https: to wss:, and url is the serialized record', async (t) => {
    const { port } = await startEchoServer(t);
    const cases: [string, string][] = [
      [`http://127.0.0.1:${port}`, `ws://127.0.0.1:${port}/`],
      [`HTTP://127.0.0.1:${port}/a/../b?x=1 2`, `ws://127.0.0.1:${port}/b?x=1%202`],
      [`ws://127.0.0.1:${port}/chat?room=1`, `ws://127.0.0.1:${port}/chat?room=1`],
    ];
    for (const [input, expected] of cases) {
      const ws = new WebSocket(input);
      assert.equal(ws.url, expected);
      await nextEvent(ws, 'open');
      ws.close();
      await nextEvent(ws, 'close');
    }
    // https -> wss: checked without a TLS server; the connection fails later, which is fine here.
    const secure = new WebSocket('https://127.0.0.1:1/x');
    assert.equal(secure.url, 'wss://127.0.0.1:1/x');
    secure.close();
    await nextEvent(secure, 'close');
  });

  test('a URL object is accepted (converted with ToString)', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = new WebSocket(new URL(`${url}/u`));
    assert.equal(ws.url, `${url}/u`);
    await nextEvent(ws, 'open');
    ws.close();
    await nextEvent(ws, 'close');
  });
});

describe('constructor: protocols', () => {
  const bad: [string, unknown][] = [
    ['an empty string', ''],
    ['a space', 'chat v1'],
    ['a separator', 'a,b'],
    ['a slash', 'a/b'],
    ['a non-ASCII character', 'ch\u00e4t'],
    ['a control character', 'a\u0001'],
    ['a duplicate', ['chat', 'chat']],
    ['a case-insensitive duplicate', ['chat', 'CHAT']],
    ['an invalid one in a list', ['ok', 'not ok']],
    ['an element converted with ToString to an invalid token', [{ toString: () => 'a b' }]],
  ];
  for (const [label, protocols] of bad) {
    test(`${label} is a SyntaxError`, () => {
      assertDOMException(() => new WebSocket('ws://127.0.0.1:1/', protocols as string), 'SyntaxError');
    });
  }

  test('URL errors come before protocol errors (step order)', () => {
    assertDOMException(() => new WebSocket('ftp://x/', 'bad protocol'), 'SyntaxError');
    assert.throws(() => new WebSocket('ws://x/#f', ['a', 'a']), { name: 'SyntaxError', message: /fragment/ });
  });

  test('a Symbol is a TypeError (Web IDL conversion)', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', Symbol('x') as unknown as string), TypeError);
  });

  test('a string, an array, any iterable, and undefined are accepted', async (t) => {
    const { url, server } = await startEchoServer(t);
    const offered: string[] = [];
    // The header value is a comma-separated list; the separator's spacing is the engine's choice.
    server.on('headers', (_headers, req) =>
      offered.push(
        String(req.headers['sec-websocket-protocol'] ?? '')
          .split(',')
          .map((p) => p.trim())
          .join(', '),
      ),
    );
    const inputs: unknown[] = ['chat', ['chat', 'superchat'], new Set(['a', 'b']), undefined];
    for (const protocols of inputs) {
      const ws = new WebSocket(url, protocols as string[]);
      await nextEvent(ws, 'open');
      ws.close();
      await nextEvent(ws, 'close');
    }
    assert.deepEqual(offered, ['chat', 'chat, superchat', 'a, b', '']);
  });
});

describe('initial state and constants', () => {
  test('attributes start as the standard says', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = new WebSocket(url);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(ws.bufferedAmount, 0);
    assert.equal(ws.binaryType, 'blob');
    assert.equal(ws.protocol, '');
    assert.equal(ws.extensions, '');
    assert.equal(ws.onopen, null);
    assert.equal(ws.onmessage, null);
    assert.equal(ws.onerror, null);
    assert.equal(ws.onclose, null);
    assert.ok(ws instanceof EventTarget);
    await nextEvent(ws, 'open');
    ws.close();
    await nextEvent(ws, 'close');
  });

  test('CONNECTING/OPEN/CLOSING/CLOSED on the class and the prototype, read-only', () => {
    const expected = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };
    for (const [name, value] of Object.entries(expected)) {
      for (const holder of [WebSocket, WebSocket.prototype]) {
        const descriptor = Object.getOwnPropertyDescriptor(holder, name);
        assert.deepEqual(descriptor, { value, writable: false, enumerable: true, configurable: false });
      }
    }
  });

  test('attributes and methods are enumerable on the prototype; @@toStringTag is WebSocket', () => {
    const names = Object.keys(WebSocket.prototype);
    for (const name of [
      'url',
      'readyState',
      'bufferedAmount',
      'onopen',
      'onmessage',
      'binaryType',
      'send',
      'close',
    ]) {
      assert.ok(names.includes(name), name);
    }
    assert.equal(Object.prototype.toString.call(WebSocket.prototype), '[object WebSocket]');
  });

  test('getters called on another object throw a TypeError (brand check)', () => {
    const getter = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'readyState')?.get;
    assert.ok(getter);
    assert.throws(() => getter.call({}), TypeError);
    assert.throws(() => WebSocket.prototype.send.call({}, 'x'), TypeError);
  });
});
