// The opening handshake: keys and Sec-WebSocket-Accept (with the RFC's example), the request
// validation matrix (method, HTTP version, Upgrade/Connection token lists, keys, version 400/426,
// subprotocols, extensions), the 101 response lines, and the client's check of the response.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  acceptKey,
  generateKey,
  HandshakeHeaderError,
  HandshakeResponseError,
  type HeaderMap,
  hasToken,
  headerValue,
  isValidKey,
  parseProtocols,
  type RejectedUpgrade,
  type UpgradeRequestHead,
  upgradeResponseLines,
  validateUpgradeRequest,
  validateUpgradeResponse,
  WEBSOCKET_GUID,
} from '../../src/protocol/index.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

const GOOD: HeaderMap = {
  host: 'example.com',
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': KEY,
  'sec-websocket-version': '13',
};

function request(headers: HeaderMap = {}, method = 'GET', httpVersion = '1.1'): UpgradeRequestHead {
  const merged: Record<string, string | string[] | undefined> = { ...GOOD, ...headers };
  for (const name of Object.keys(merged)) if (merged[name] === undefined) delete merged[name];
  return { method, httpVersion, headers: merged };
}

function rejected(req: UpgradeRequestHead, status: number): RejectedUpgrade {
  const result = validateUpgradeRequest(req);
  assert.equal(result.ok, false, JSON.stringify(req));
  const r = result as RejectedUpgrade;
  assert.equal(r.status, status, `${JSON.stringify(req)}: ${r.message}`);
  assert.equal(typeof r.message, 'string');
  return r;
}

describe('keys', () => {
  test("acceptKey with the RFC's example key", () => {
    assert.equal(WEBSOCKET_GUID, '258EAFA5-E914-47DA-95CA-C5AB0DC85B11');
    assert.equal(acceptKey(KEY), ACCEPT);
  });

  test('generateKey: 16 random bytes in base64, valid, different each time', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const key = generateKey();
      assert.equal(Buffer.from(key, 'base64').length, 16);
      assert.equal(isValidKey(key), true, key);
      keys.add(key);
    }
    assert.equal(keys.size, 200);
  });

  test('isValidKey: exactly 16 bytes of canonical base64', () => {
    assert.equal(isValidKey(KEY), true);
    assert.equal(isValidKey(Buffer.alloc(16, 0xff).toString('base64')), true);
    assert.equal(isValidKey(Buffer.alloc(16).toString('base64')), true);
    for (const bad of [
      '',
      Buffer.alloc(15).toString('base64'),
      Buffer.alloc(17).toString('base64'),
      Buffer.alloc(32).toString('base64'),
      'dGhlIHNhbXBsZSBub25jZQ=',
      'dGhlIHNhbXBsZSBub25jZQ',
      'dGhlIHNhbXBsZSBub25jZQ===',
      'dGhlIHNhbXBsZSBub25jZR==', // padding bits not zero: not the encoding of 16 bytes
      'dGhlIHNhbXBsZSBub25j!Q==',
      'dGhlIHNhbXBsZSBub25j ZQ==',
      ' dGhlIHNhbXBsZSBub25jZQ==',
      'dGhlIHNhbXBsZSBub25jZQ==\n',
      'dGhlIHNhbXBsZSBub25jZQ-_',
    ]) {
      assert.equal(isValidKey(bad), false, JSON.stringify(bad));
    }
  });
});

describe('header helpers', () => {
  test('headerValue joins repeated headers with ", "', () => {
    assert.equal(headerValue({ a: 'x' }, 'a'), 'x');
    assert.equal(headerValue({ a: ['x', 'y'] }, 'a'), 'x, y');
    assert.equal(headerValue({}, 'a'), undefined);
  });

  test('hasToken: comma-separated, trimmed, case-insensitive, whole items only', () => {
    assert.equal(hasToken('keep-alive, Upgrade', 'upgrade'), true);
    assert.equal(hasToken('UPGRADE', 'upgrade'), true);
    assert.equal(hasToken('  upgrade\t,x', 'upgrade'), true);
    assert.equal(hasToken('keep-alive', 'upgrade'), false);
    assert.equal(hasToken('upgrades', 'upgrade'), false);
    assert.equal(hasToken('keep-alive upgrade', 'upgrade'), false);
    assert.equal(hasToken('', 'upgrade'), false);
    assert.equal(hasToken(undefined, 'upgrade'), false);
  });

  test('parseProtocols: distinct tokens in order; empty items, non-tokens and duplicates throw', () => {
    assert.deepEqual(parseProtocols('chat'), ['chat']);
    assert.deepEqual(parseProtocols(' chat ,superchat,  v2.json '), ['chat', 'superchat', 'v2.json']);
    assert.deepEqual(parseProtocols('Chat, chat'), ['Chat', 'chat'], 'subprotocols are case-sensitive');
    for (const bad of [
      '',
      ',',
      'chat,',
      ',chat',
      'chat,,x',
      'a b',
      'chat, chat',
      'x/y',
      'caf\u00e9',
      '"chat"',
    ]) {
      assert.throws(
        () => parseProtocols(bad),
        (err: unknown) => err instanceof HandshakeHeaderError && err.code === 'ERR_INVALID_HANDSHAKE_HEADER',
        JSON.stringify(bad),
      );
    }
  });
});

describe('validateUpgradeRequest', () => {
  test('a valid request: the key, offered subprotocols and extensions', () => {
    const result = validateUpgradeRequest(
      request({
        'sec-websocket-protocol': 'chat, superchat',
        'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits, x-foo',
      }),
    );
    assert.deepEqual(result, {
      ok: true,
      key: KEY,
      protocols: ['chat', 'superchat'],
      extensions: [
        { name: 'permessage-deflate', params: [{ name: 'client_max_window_bits', value: true }] },
        { name: 'x-foo', params: [] },
      ],
    });
    assert.deepEqual(validateUpgradeRequest(request()), {
      ok: true,
      key: KEY,
      protocols: [],
      extensions: [],
    });
  });

  test('the method must be GET (405 with Allow: GET)', () => {
    for (const method of ['POST', 'PUT', 'HEAD', 'get', 'CONNECT']) {
      const r = rejected(request({}, method), 405);
      assert.equal(r.headers?.Allow, 'GET');
    }
    rejected({ httpVersion: '1.1', headers: GOOD }, 405);
  });

  test('HTTP/1.1 or later', () => {
    for (const version of ['1.0', '0.9']) rejected(request({}, 'GET', version), 400);
    for (const version of ['1.1', '1.2', '2.0'])
      assert.equal(validateUpgradeRequest(request({}, 'GET', version)).ok, true);
  });

  test('Upgrade and Connection are token lists compared case-insensitively', () => {
    const ok = [
      { upgrade: 'WebSocket' },
      { upgrade: 'WEBSOCKET' },
      { upgrade: 'foo, websocket' },
      { connection: 'keep-alive, Upgrade' },
      { connection: 'upgrade' },
      { connection: 'UPGRADE,keep-alive' },
      { connection: ['keep-alive', 'Upgrade'] },
    ];
    for (const headers of ok)
      assert.equal(validateUpgradeRequest(request(headers)).ok, true, JSON.stringify(headers));
    const bad: [HeaderMap, string][] = [
      [{ upgrade: undefined }, 'Upgrade'],
      [{ upgrade: 'h2c' }, 'Upgrade'],
      [{ upgrade: 'websocket2' }, 'Upgrade'],
      [{ upgrade: 'web socket' }, 'Upgrade'],
      [{ connection: undefined }, 'Connection'],
      [{ connection: 'keep-alive' }, 'Connection'],
      [{ connection: 'upgraded' }, 'Connection'],
      [{ connection: 'close' }, 'Connection'],
    ];
    for (const [headers, which] of bad) {
      const r = rejected(request(headers), 400);
      assert.match(r.message, new RegExp(which), JSON.stringify(headers));
    }
  });

  test('Sec-WebSocket-Key must be 16 bytes of base64 (surrounding whitespace is trimmed)', () => {
    assert.equal(validateUpgradeRequest(request({ 'sec-websocket-key': ` ${KEY} ` })).ok, true);
    for (const key of [
      undefined,
      '',
      'short',
      Buffer.alloc(15).toString('base64'),
      Buffer.alloc(20).toString('base64'),
      'dGhlIHNhbXBsZSBub25jZR==',
      [KEY, KEY],
    ]) {
      const r = rejected(request({ 'sec-websocket-key': key }), 400);
      assert.match(r.message, /Sec-WebSocket-Key/);
    }
  });

  test('Sec-WebSocket-Version: missing is 400; anything but 13 is 426; both advertise 13', () => {
    const missing = rejected(request({ 'sec-websocket-version': undefined }), 400);
    assert.equal(missing.headers?.['Sec-WebSocket-Version'], '13');
    for (const version of ['8', '12', '14', '', '13, 8', 'thirteen', ['13', '8']]) {
      const r = rejected(request({ 'sec-websocket-version': version }), 426);
      assert.deepEqual(r.headers, { 'Sec-WebSocket-Version': '13' }, JSON.stringify(version));
    }
    assert.equal(validateUpgradeRequest(request({ 'sec-websocket-version': ' 13 ' })).ok, true);
  });

  test('Sec-WebSocket-Protocol: bad or duplicate subprotocols are 400', () => {
    for (const value of ['', 'chat,', 'a b', 'chat, chat', 'x;y', ['chat', 'chat']]) {
      const r = rejected(request({ 'sec-websocket-protocol': value }), 400);
      assert.match(r.message, /Sec-WebSocket-Protocol/);
    }
    const repeated = validateUpgradeRequest(request({ 'sec-websocket-protocol': ['a', 'b, c'] }));
    assert.deepEqual(repeated.ok && repeated.protocols, ['a', 'b', 'c']);
  });

  test('Sec-WebSocket-Extensions: a bad header is 400', () => {
    for (const value of ['', ';', 'permessage-deflate;', 'a,,b', 'a; b="c d"', 'a b']) {
      const r = rejected(request({ 'sec-websocket-extensions': value }), 400);
      assert.match(r.message, /Sec-WebSocket-Extensions/, value);
    }
  });

  test('the checks run in order: method, version, Upgrade, Connection, key, version', () => {
    const all: HeaderMap = {
      upgrade: 'x',
      connection: 'x',
      'sec-websocket-key': 'x',
      'sec-websocket-version': '1',
    };
    assert.equal(rejected(request(all, 'POST', '1.0'), 405).status, 405);
    assert.match(rejected(request(all, 'GET', '1.0'), 400).message, /HTTP/);
    assert.match(rejected(request(all), 400).message, /Upgrade/);
    assert.match(rejected(request({ ...all, upgrade: 'websocket' }), 400).message, /Connection/);
    const withConnection = { ...all, upgrade: 'websocket', connection: 'upgrade' };
    assert.match(rejected(request(withConnection), 400).message, /Key/);
    rejected(request({ ...withConnection, 'sec-websocket-key': KEY }), 426);
  });
});

describe('upgradeResponseLines', () => {
  test('status line, Upgrade, Connection and Accept, then protocol and extensions when given', () => {
    assert.deepEqual(upgradeResponseLines(KEY, undefined, undefined), [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${ACCEPT}`,
    ]);
    const lines = upgradeResponseLines(KEY, 'chat', 'permessage-deflate; server_no_context_takeover');
    assert.deepEqual(lines.slice(4), [
      'Sec-WebSocket-Protocol: chat',
      'Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover',
    ]);
  });
});

describe('validateUpgradeResponse', () => {
  const response = (headers: HeaderMap = {}): HeaderMap => {
    const merged: Record<string, string | string[] | undefined> = {
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-accept': ACCEPT,
      ...headers,
    };
    for (const name of Object.keys(merged)) if (merged[name] === undefined) delete merged[name];
    return merged;
  };
  const refused = (headers: HeaderMap, offered: string[], message: RegExp): void => {
    assert.throws(
      () => validateUpgradeResponse(headers, KEY, offered),
      (err: unknown) =>
        err instanceof HandshakeResponseError &&
        err.code === 'ERR_INVALID_HANDSHAKE_RESPONSE' &&
        message.test(err.message),
      JSON.stringify(headers),
    );
  };

  test('a valid response returns the chosen subprotocol, or "" when none', () => {
    assert.equal(validateUpgradeResponse(response(), KEY, []), '');
    assert.equal(
      validateUpgradeResponse(response(), KEY, ['chat']),
      '',
      'the server may decline every subprotocol',
    );
    assert.equal(
      validateUpgradeResponse(response({ 'sec-websocket-protocol': 'chat' }), KEY, ['x', 'chat']),
      'chat',
    );
    assert.equal(
      validateUpgradeResponse(response({ upgrade: 'WebSocket', connection: 'keep-alive, upgrade' }), KEY, []),
      '',
    );
  });

  test('Upgrade, Connection and Sec-WebSocket-Accept are checked', () => {
    refused(response({ upgrade: undefined }), [], /Upgrade/);
    refused(response({ upgrade: 'h2c' }), [], /Upgrade/);
    refused(response({ connection: undefined }), [], /Connection/);
    refused(response({ connection: 'keep-alive' }), [], /Connection/);
    refused(response({ 'sec-websocket-accept': undefined }), [], /Accept/);
    refused(response({ 'sec-websocket-accept': acceptKey('AAAAAAAAAAAAAAAAAAAAAA==') }), [], /Accept/);
    refused(response({ 'sec-websocket-accept': ACCEPT.toLowerCase() }), [], /Accept/);
    refused(response({ 'sec-websocket-accept': [ACCEPT, ACCEPT] }), [], /Accept/);
  });

  test('a subprotocol we did not offer, or any when we offered none, is refused', () => {
    refused(response({ 'sec-websocket-protocol': 'chat' }), [], /none was requested/);
    refused(response({ 'sec-websocket-protocol': 'other' }), ['chat'], /invalid subprotocol/);
    refused(response({ 'sec-websocket-protocol': 'chat, x' }), ['chat', 'x'], /invalid subprotocol/);
    refused(response({ 'sec-websocket-protocol': 'Chat' }), ['chat'], /invalid subprotocol/);
    refused(response({ 'sec-websocket-protocol': '' }), ['chat'], /invalid subprotocol/);
  });
});
