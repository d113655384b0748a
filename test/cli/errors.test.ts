import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { runCli } from './helpers.js';

describe('command-line errors and exit codes', () => {
  test('--version and --help', async () => {
    const v = await runCli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^parley \d+\.\d+\.\d+/);
    const h = await runCli(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /parley connect URL/);
    for (const cmd of ['connect', 'serve', 'bench', 'demo']) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0, cmd);
      assert.match(r.stdout, new RegExp(`Usage: parley ${cmd}`));
    }
  });

  test('no command prints usage and exits 2', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Usage:/);
  });

  test('unknown command and bad flags exit 2 with one line', async () => {
    const cmd = await runCli(['frobnicate']);
    assert.equal(cmd.code, 2);
    assert.equal(cmd.stderr, "parley: unknown command 'frobnicate' (see 'parley --help')\n");
    const flag = await runCli(['serve', '--echo', '--no-such-flag']);
    assert.equal(flag.code, 2);
    assert.equal(flag.stderr, "parley: serve: unknown option '--no-such-flag' (see 'parley serve --help')\n");
    const port = await runCli(['serve', '--echo', '--port', '70000']);
    assert.equal(port.code, 2);
    assert.match(port.stderr, /--port: expected a port number/);
    const mode = await runCli(['serve']);
    assert.equal(mode.code, 2);
    assert.match(mode.stderr, /choose a mode/);
    const two = await runCli(['serve', '--echo', '--broadcast']);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /choose one mode/);
    const size = await runCli(['connect', 'ws://127.0.0.1:1', '--max-payload', '12 parsecs']);
    assert.equal(size.code, 2);
    assert.match(size.stderr, /--max-payload: expected a size/);
    const header = await runCli(['connect', 'ws://127.0.0.1:1', '-H', 'no colon']);
    assert.equal(header.code, 2);
    assert.match(header.stderr, /--header: expected 'Name: value'/);
  });

  test('bad URLs exit 2', async () => {
    for (const url of ['ftp://example.com', 'ws://', 'ws://exa mple.com', 'ws://h/#frag']) {
      const r = await runCli(['connect', url]);
      assert.equal(r.code, 2, url);
      assert.match(r.stderr, /^parley: invalid URL/, url);
      assert.equal(r.stderr.split('\n').length, 2, 'one line');
    }
    const missing = await runCli(['connect']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing URL/);
  });

  test('a refused connection exits 3', async () => {
    const tcp = createTcpServer();
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    const port = (tcp.address() as AddressInfo).port;
    await new Promise((r) => tcp.close(r));
    const r = await runCli(['connect', `ws://127.0.0.1:${port}`]);
    assert.equal(r.code, 3);
    assert.equal(
      r.stderr,
      `parley: cannot connect to ws://127.0.0.1:${port}/: connection refused (127.0.0.1:${port})\n`,
    );
  });

  test('a handshake answered with an HTTP error exits 4 and names the status', async (t) => {
    const http = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('nope');
    });
    http.on('upgrade', (_req, socket: Socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    t.after(() => new Promise((r) => http.close(r)));
    const port = (http.address() as AddressInfo).port;
    const r = await runCli(['connect', `ws://127.0.0.1:${port}/x`], { input: 'hi\n' });
    assert.equal(r.code, 4);
    assert.equal(r.stderr, `parley: handshake failed: HTTP 403 Forbidden from ws://127.0.0.1:${port}/x\n`);
    assert.equal(r.stdout, '');
  });

  test('an opening handshake that never completes times out with exit 3', async (t) => {
    const sockets: Socket[] = [];
    const tcp = createTcpServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    t.after(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => tcp.close(r));
    });
    const port = (tcp.address() as AddressInfo).port;
    const r = await runCli(['connect', `ws://127.0.0.1:${port}`, '--timeout', '0.5']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /timed out/);
  });

  test('an abnormal close (no close frame) exits 5 after printing what arrived', async (t) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    t.after(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws) => {
      ws.send('before the crash');
      setTimeout(() => ws.terminate(), 100);
    });
    const port = (wss.address() as AddressInfo).port;
    const r = await runCli(['connect', `ws://127.0.0.1:${port}`], { keepStdinOpenMs: 3000 });
    assert.equal(r.code, 5);
    assert.equal(r.stdout, 'before the crash\n');
    assert.match(r.stderr, /closed abnormally \(1006/);
  });

  test('a server close with an error code exits 5; with 1000/1001 exits 0', async (t) => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    t.after(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws, req) => {
      const code = Number(req.url?.slice(1));
      setTimeout(() => ws.close(code, 'bye'), 50);
    });
    const port = (wss.address() as AddressInfo).port;
    const bad = await runCli(['connect', `ws://127.0.0.1:${port}/1011`], { keepStdinOpenMs: 3000 });
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /closed with 1011 bye/);
    const away = await runCli(['connect', `ws://127.0.0.1:${port}/1001`], { keepStdinOpenMs: 3000 });
    assert.equal(away.code, 0);
    const normal = await runCli(['connect', `ws://127.0.0.1:${port}/1000`], { keepStdinOpenMs: 3000 });
    assert.equal(normal.code, 0);
    assert.equal(normal.stderr, '');
  });

  test('serve exits 3 when the port is taken', async (t) => {
    const tcp = createTcpServer();
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    t.after(() => new Promise((r) => tcp.close(r)));
    const port = (tcp.address() as AddressInfo).port;
    const r = await runCli(['serve', '--echo', '--port', String(port)]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: address already in use/);
  });
});
