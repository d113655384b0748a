import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { closed, nextMessage, runCli, startCliServer, wsClient } from './helpers.js';

function httpGet(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        body += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('parley bench', () => {
  test('measures round trips against the echo server and prints a table', async (t) => {
    const server = await startCliServer(['serve', '--echo', '--port', '0', '--quiet']);
    t.after(() => server.stop());
    const r = await runCli(['bench', server.url, '-c', '3', '-i', '2', '--size', '1k', '-d', '1']);
    assert.equal(r.code, 0, r.stderr);
    for (const row of ['messages/s', 'MB/s', 'latency p50', 'latency p90', 'latency p99', 'errors']) {
      assert.match(r.stdout, new RegExp(`^${row} +\\S`, 'm'), row);
    }
    assert.match(r.stdout, /^errors +0$/m);
    assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal');
  });

  test('--json gives machine-readable numbers; binary + deflate work', async (t) => {
    const server = await startCliServer(['serve', '--echo', '--deflate', '--port', '0', '--quiet']);
    t.after(() => server.stop());
    const r = await runCli([
      'bench',
      server.url,
      '--connections',
      '2',
      '--binary',
      '--deflate',
      '--duration',
      '0.5',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout) as {
      messages: number;
      errors: number;
      connections: number;
      binary: boolean;
      latencyMs: { p50: number; p99: number };
    };
    assert.equal(result.connections, 2);
    assert.equal(result.binary, true);
    assert.equal(result.errors, 0);
    assert.ok(result.messages > 0);
    assert.ok(result.latencyMs.p99 >= result.latencyMs.p50);
  });

  test('an unreachable target fails like connect does (exit 3)', async () => {
    const r = await runCli(['bench', 'ws://127.0.0.1:1', '-d', '1']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /connection refused/);
  });
});

describe('parley demo (npm start)', () => {
  test('serves the chat page and a broadcast endpoint at /chat', async (t) => {
    const server = await startCliServer(['demo', '--port', '0']);
    t.after(() => server.stop());
    assert.match(server.log(), /chat demo on http:\/\/localhost:\d+\//);
    const page = await httpGet(server.port, '/');
    assert.equal(page.status, 200);
    assert.match(page.type, /text\/html/);
    assert.match(page.body, /<title>parley chat<\/title>/);
    for (const asset of ['/app.js', '/style.css'])
      assert.equal((await httpGet(server.port, asset)).status, 200, asset);
    const url = `ws://127.0.0.1:${server.port}/chat`;
    const [a, b] = await Promise.all([wsClient(url), wsClient(url)]);
    const got = nextMessage(b);
    a.send(JSON.stringify({ type: 'chat', id: 'a', name: 'ann', text: 'hi' }));
    assert.deepEqual(JSON.parse(String((await got)[0])), { type: 'chat', id: 'a', name: 'ann', text: 'hi' });
    for (const ws of [a, b]) {
      const done = closed(ws);
      ws.close();
      await done;
    }
  });
});
