import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { closed, nextMessage, runCli, startCliServer, wsClient } from './helpers.js';

/** GET/HEAD over HTTP without any path normalization; resolves with status, headers and body. */
function get(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Attempts an upgrade with the `ws` client and resolves with the HTTP status it was refused with. */
function refusedStatus(url: string, opts: WebSocket.ClientOptions = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode!);
      ws.terminate();
    });
    ws.on('error', () => {});
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('upgrade unexpectedly accepted'));
    });
  });
}

describe('serve --static', () => {
  test('serves files, index.html, HEAD, 404 and refuses to leave the directory', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'parley-static-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const site = join(root, 'site');
    mkdirSync(join(site, 'sub'), { recursive: true });
    writeFileSync(join(site, 'index.html'), '<h1>hi</h1>');
    writeFileSync(join(site, 'sub', 'app.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'secret');
    symlinkSync(join(root, 'secret.txt'), join(site, 'link.txt'));
    const server = await startCliServer(['serve', '--echo', '--static', site, '--port', '0']);
    t.after(() => server.stop());
    const index = await get(server.port, '/');
    assert.equal(index.status, 200);
    assert.equal(index.body, '<h1>hi</h1>');
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    const js = await get(server.port, '/sub/app.js?v=1');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    const head = await get(server.port, '/sub/app.js', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    assert.equal(head.headers['content-length'], '14');
    assert.equal((await get(server.port, '/sub')).status, 301);
    assert.equal((await get(server.port, '/missing.txt')).status, 404);
    for (const evil of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/sub/..%2f..%2fsecret.txt',
      '/link.txt',
      '/%00',
    ]) {
      const r = await get(server.port, evil);
      assert.ok(r.status === 404 || r.status === 400, `${evil} -> ${r.status}`);
      assert.doesNotMatch(r.body, /secret/);
    }
    assert.equal((await get(server.port, '/', 'POST')).status, 405);
    // WebSocket still works on the same port.
    const ws = await wsClient(server.url);
    ws.send('same port');
    assert.equal(String((await nextMessage(ws))[0]), 'same port');
    ws.close();
    await closed(ws);
  });

  test('without --static a plain HTTP request gets 426 Upgrade Required', async (t) => {
    const server = await startCliServer(['serve', '--echo', '--port', '0']);
    t.after(() => server.stop());
    const r = await get(server.port, '/');
    assert.equal(r.status, 426);
    assert.equal(r.headers.upgrade, 'websocket');
  });

  test('a missing directory is a usage error', async () => {
    const r = await runCli(['serve', '--static', '/definitely/not/here']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--static: '\/definitely\/not\/here' is not a readable directory/);
  });
});

describe('serve limits', () => {
  test('--path accepts upgrades on that path only (404 elsewhere)', async (t) => {
    const server = await startCliServer(['serve', '--echo', '--path', '/ws', '--port', '0']);
    t.after(() => server.stop());
    assert.match(server.url, /\/ws$/);
    assert.equal(await refusedStatus(`ws://127.0.0.1:${server.port}/other`), 404);
    const ws = await wsClient(`${server.url}?q=1`);
    ws.close();
    await closed(ws);
  });

  test('--origin allows listed origins only (403 otherwise)', async (t) => {
    const server = await startCliServer([
      'serve',
      '--echo',
      '--origin',
      'https://good.example',
      '--origin',
      'http://localhost:8080',
      '--port',
      '0',
    ]);
    t.after(() => server.stop());
    assert.equal(await refusedStatus(server.url, { origin: 'https://evil.example' }), 403);
    assert.equal(await refusedStatus(server.url), 403, 'no Origin header at all');
    const ws = await wsClient(server.url, { origin: 'https://GOOD.example' });
    ws.close();
    await closed(ws);
    const run = await runCli(['connect', server.url, '--origin', 'http://localhost:8080'], { input: 'o\n' });
    assert.equal(run.stdout, 'o\n');
    await server.waitForLog(/refused .*403 origin 'https:\/\/evil.example' not allowed/);
  });

  test('--max-connections refuses upgrades beyond the limit with 503', async (t) => {
    const server = await startCliServer(['serve', '--echo', '--max-connections', '2', '--port', '0']);
    t.after(() => server.stop());
    const a = await wsClient(server.url);
    const b = await wsClient(server.url);
    assert.equal(await refusedStatus(server.url), 503);
    const aClosed = closed(a);
    a.close();
    await aClosed;
    const c = await wsClient(server.url);
    for (const ws of [b, c]) {
      const done = closed(ws);
      ws.close();
      await done;
    }
  });

  test('--max-payload closes the connection with 1009 on a larger message', async (t) => {
    const server = await startCliServer(['serve', '--echo', '--max-payload', '1k', '--port', '0']);
    t.after(() => server.stop());
    const ws = await wsClient(server.url);
    ws.send('x'.repeat(1024));
    assert.equal((await nextMessage(ws))[0].length, 1024);
    const done = closed(ws);
    ws.send('x'.repeat(1025));
    assert.equal((await done)[0], 1009);
  });

  test('--heartbeat terminates a peer that stops answering pings', async (t) => {
    const server = await startCliServer(['serve', '--echo', '--heartbeat', '1', '--port', '0']);
    t.after(() => server.stop());
    const answering = await wsClient(server.url);
    const silent = await wsClient(server.url, { autoPong: false });
    let pings = 0;
    answering.on('ping', () => pings++);
    const [code] = await closed(silent);
    assert.equal(code, 1006);
    assert.ok(pings >= 1);
    assert.equal(answering.readyState, WebSocket.OPEN, 'the peer that answers stays');
    await server.waitForLog(/missed a heartbeat: terminating/);
    answering.close();
    await closed(answering);
  });
});

describe('TLS', () => {
  let haveOpenssl = true;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    haveOpenssl = false;
  }
  test('--tls-cert/--tls-key serve wss://; connect verifies unless --insecure', {
    skip: !haveOpenssl,
  }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
      ],
      { stdio: 'ignore' },
    );
    const server = await startCliServer([
      'serve',
      '--echo',
      '--tls-cert',
      cert,
      '--tls-key',
      key,
      '--port',
      '0',
    ]);
    t.after(() => server.stop());
    assert.match(server.url, /^wss:\/\//);
    const ok = await runCli(['connect', server.url, '--insecure'], { input: 'secure\n' });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'secure\n');
    const strict = await runCli(['connect', server.url], { input: 'secure\n' });
    assert.equal(strict.code, 3);
    assert.match(strict.stderr, /TLS error .*--insecure skips verification/);
    const half = await runCli(['serve', '--echo', '--tls-cert', cert]);
    assert.equal(half.code, 2);
    assert.match(half.stderr, /--tls-cert and --tls-key must be given together/);
    writeFileSync(join(dir, 'bad.pem'), 'not a pem');
    const bad = await runCli([
      'serve',
      '--echo',
      '--tls-cert',
      join(dir, 'bad.pem'),
      '--tls-key',
      key,
      '--port',
      '0',
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^parley: --tls-cert\/--tls-key: /);
  });
});

describe('signals right after the listening line', () => {
  // Regression: the SIGINT/SIGTERM handlers were installed after the listening line was written,
  // so a supervisor that signalled as soon as it read the line killed the process (no exit 0).
  for (const mode of [['--echo'], ['--io', '--host', '127.0.0.1'], ['--engine-io', '--host', '127.0.0.1']]) {
    test(`parley serve ${mode[0]} exits 0 on an immediate SIGTERM (5 runs)`, async () => {
      for (let i = 0; i < 5; i++) {
        const server = await startCliServer(['serve', ...mode, '--port', '0', '--quiet']);
        assert.equal(await server.stop('SIGTERM'), 0, server.log());
      }
    });
  }
});
