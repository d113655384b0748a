import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CliError, ExitCode } from '../../src/cli/errors.js';
import { utf8Cut } from '../../src/cli/exec.js';
import { formatBytes, hexDump, parseHex } from '../../src/cli/format.js';
import { parseSeconds, parseSize, parseWsUrl } from '../../src/cli/options.js';
import { parseProxyTarget } from '../../src/cli/proxy.js';

describe('CLI helpers (no processes)', () => {
  test('utf8Cut never splits a UTF-8 sequence and always progresses', () => {
    const text = Buffer.from('a😀bé漢z');
    for (let max = 1; max <= 6; max++) {
      const pieces: Buffer[] = [];
      let off = 0;
      for (let guard = 0; off < text.length; guard++) {
        assert.ok(guard < 100, 'progress');
        const end = utf8Cut(text, off, off + max);
        assert.ok(end > off);
        pieces.push(text.subarray(off, end));
        off = end;
      }
      assert.deepEqual(Buffer.concat(pieces), text);
      if (max >= 4)
        for (const p of pieces) assert.ok(!p.toString().includes('\ufffd'), `max ${max}: ${p.toString()}`);
    }
    assert.equal(utf8Cut(Buffer.from('abc'), 0, 10), 3);
  });

  test('parseSize accepts binary suffixes and rejects the rest', () => {
    assert.equal(parseSize('s', '1024'), 1024);
    assert.equal(parseSize('s', '64k'), 65536);
    assert.equal(parseSize('s', '16MiB'), 16 * 1024 * 1024);
    assert.equal(parseSize('s', '1g'), 1024 ** 3);
    for (const bad of ['', 'k', '1.5k', '-1', '10 parsecs', '1t', '__proto__']) {
      assert.throws(
        () => parseSize('s', bad),
        (e: unknown) => e instanceof CliError && e.exitCode === ExitCode.USAGE,
        bad,
      );
    }
  });

  test('parseSeconds gives milliseconds', () => {
    assert.equal(parseSeconds('t', '0.5'), 500);
    assert.equal(parseSeconds('t', '30'), 30_000);
    assert.throws(() => parseSeconds('t', '0'));
    assert.throws(() => parseSeconds('t', 'soon'));
  });

  test('parseWsUrl maps http(s) and bare hosts, rejects other schemes', () => {
    assert.equal(parseWsUrl('localhost:8080').href, 'ws://localhost:8080/');
    assert.equal(parseWsUrl('https://example.com/x?y').href, 'wss://example.com/x?y');
    assert.equal(parseWsUrl('ws://[::1]:9/').hostname, '[::1]');
    for (const bad of ['ftp://x', 'ws://', 'ws://a/#b']) {
      assert.throws(
        () => parseWsUrl(bad),
        (e: unknown) => e instanceof CliError && e.code === 'PARLEY_CLI_BAD_URL',
      );
    }
  });

  test('parseProxyTarget', () => {
    assert.deepEqual(parseProxyTarget('tcp://127.0.0.1:5900'), { host: '127.0.0.1', port: 5900 });
    assert.deepEqual(parseProxyTarget('[::1]:22'), { host: '::1', port: 22 });
    for (const bad of ['http://x:1', 'tcp://x', 'tcp://x:0', 'tcp://x:99999'])
      assert.throws(() => parseProxyTarget(bad));
  });

  test('hexDump and parseHex', () => {
    assert.equal(
      hexDump(Buffer.from('Hello, world!\x00\xff', 'latin1')),
      '00000000  48 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 00 ff     |Hello, world!..|',
    );
    assert.equal(hexDump(Buffer.alloc(0)), '(empty)');
    assert.match(hexDump(Buffer.alloc(40), 16), /\.\.\. 24 more bytes$/);
    assert.deepEqual(parseHex('0x48, 0x69'), Buffer.from('Hi'));
    assert.deepEqual(parseHex('48 69'), Buffer.from('Hi'));
    assert.equal(parseHex('486'), undefined);
    assert.equal(parseHex('zz'), undefined);
  });

  test('formatBytes', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(3 * 1024 * 1024), '3.0 MiB');
  });
});
