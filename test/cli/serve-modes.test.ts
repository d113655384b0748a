import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type WebSocket from 'ws';
import { closed, nextMessage, runCli, startCliServer, wsClient } from './helpers.js';

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('serve --broadcast', () => {
  test('a message from one of three clients reaches the other two, not the sender', async (t) => {
    const server = await startCliServer(['serve', '--broadcast', '--port', '0']);
    t.after(() => server.stop());
    const [a, b, c] = await Promise.all([wsClient(server.url), wsClient(server.url), wsClient(server.url)]);
    const aGot: string[] = [];
    a.on('message', (d) => aGot.push(String(d)));
    const atB = nextMessage(b);
    const atC = nextMessage(c);
    a.send('hello room');
    assert.equal(String((await atB)[0]), 'hello room');
    assert.equal(String((await atC)[0]), 'hello room');
    const bin = nextMessage(a);
    c.send(Buffer.from([1, 2, 3]));
    const [data, isBinary] = await bin;
    assert.deepEqual([...data], [1, 2, 3]);
    assert.equal(isBinary, true);
    assert.deepEqual(aGot, ['\u0001\u0002\u0003'], 'the sender never got its own text message');
    for (const ws of [a, b, c]) ws.close();
    await Promise.all([a, b, c].map((ws) => (ws.readyState === 3 ? undefined : closed(ws))));
  });

  test('parley connect clients chat through it', async (t) => {
    const server = await startCliServer(['serve', '--broadcast', '--port', '0']);
    t.after(() => server.stop());
    const listener = await wsClient(server.url);
    const got = nextMessage(listener);
    const run = await runCli(['connect', server.url], { input: 'from the cli\n' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '', 'the sender does not get its own message back');
    assert.equal(String((await got)[0]), 'from the cli');
    listener.close();
    await closed(listener);
  });
});

describe('serve --exec', () => {
  test('each message is a stdin line, each stdout line a message; CGI environment is set', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-exec-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'greet.sh');
    writeFileSync(
      script,
      [
        'echo "env $REMOTE_ADDR $QUERY_STRING $REQUEST_URI $HTTP_X_TEST $GATEWAY_INTERFACE $SERVER_PORT $HTTP_PROXY"',
        'echo "ready" >&2',
        'while IFS= read -r line; do echo "got: $line"; done',
        'echo "stdin closed"',
      ].join('\n'),
    );
    const server = await startCliServer(['serve', '--exec', `sh ${script}`, '--port', '0']);
    t.after(() => server.stop());
    const ws = await wsClient(`${server.url}chat?room=1`, {
      headers: { 'X-Test': 'yes', Proxy: 'http://evil' },
    });
    const [envLine] = await nextMessage(ws);
    assert.equal(
      String(envLine),
      `env 127.0.0.1 room=1 /chat?room=1 yes websocketd-CGI/0.1 ${server.port} `,
      'no HTTP_PROXY from a Proxy header',
    );
    ws.send('one');
    assert.equal(String((await nextMessage(ws))[0]), 'got: one');
    ws.send('two');
    assert.equal(String((await nextMessage(ws))[0]), 'got: two');
    await server.waitForLog(/#\d+ stderr: ready/);
    ws.close();
    await closed(ws);
  });

  test('the socket is closed (1000) when the process exits; 1011 for a failing exit status', async (t) => {
    const server = await startCliServer([
      'serve',
      '--exec',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
      'echo bye; exit ${QUERY_STRING:-0}',
      '--port',
      '0',
    ]);
    t.after(() => server.stop());
    const ok = await wsClient(server.url);
    const okClosed = closed(ok);
    const okMsgs: string[] = [];
    ok.on('message', (d) => okMsgs.push(String(d)));
    assert.deepEqual(await okClosed, [1000, '']);
    assert.deepEqual(okMsgs, ['bye']);
    const bad = await wsClient(`${server.url}?3`);
    const [code, reason] = await closed(bad);
    assert.equal(code, 1011);
    assert.equal(reason, 'process exited with status 3');
  });

  test('the process is ended when the socket closes', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-exec-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pidFile = join(dir, 'pid');
    const server = await startCliServer([
      'serve',
      '--exec',
      `echo $$ > ${pidFile}; exec sleep 60`,
      '--port',
      '0',
    ]);
    t.after(() => server.stop());
    const ws = await wsClient(server.url);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    assert.ok(processAlive(pid));
    ws.close();
    await closed(ws);
    await until(() => !processAlive(pid));
  });

  test('a stdout line longer than --max-payload is sent in max-payload pieces', async (t) => {
    const server = await startCliServer([
      'serve',
      '--exec',
      `printf '%040d\\n' 7`,
      '--max-payload',
      '16',
      '--port',
      '0',
    ]);
    t.after(() => server.stop());
    const ws = await wsClient(server.url);
    const got: string[] = [];
    ws.on('message', (d) => got.push(String(d)));
    await closed(ws);
    assert.deepEqual(got, ['0000000000000000', '0000000000000000', '00000007']);
  });

  test('works with parley connect in pipe mode (line-buffered command)', async (t) => {
    const server = await startCliServer([
      'serve',
      '--exec',
      'while read l; do echo "[$l]"; done',
      '--port',
      '0',
    ]);
    t.after(() => server.stop());
    const run = await runCli(['connect', server.url, '--wait', '2'], { input: 'a\nb\nc\n' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, '[a]\n[b]\n[c]\n');
  });
});

describe('serve --proxy', () => {
  test('bridges WebSocket messages to a TCP echo server and back', async (t) => {
    const sockets = new Set<Socket>();
    const tcp = createTcpServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
      s.pipe(s);
    });
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    t.after(() => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => tcp.close(r));
    });
    const port = (tcp.address() as AddressInfo).port;
    const server = await startCliServer(['serve', '--proxy', `tcp://127.0.0.1:${port}`, '--port', '0']);
    t.after(() => server.stop());
    const ws = await wsClient(server.url);
    const received: Buffer[] = [];
    let total = 0;
    const all = new Promise<void>((resolve) => {
      ws.on('message', (d: Buffer, isBinary: boolean) => {
        assert.equal(isBinary, true);
        received.push(d);
        total += d.length;
        if (total === 6 + 100_000) resolve();
      });
    });
    ws.send(Buffer.from('binary'));
    ws.send('x'.repeat(100_000));
    await all;
    assert.equal(Buffer.concat(received).toString(), `binary${'x'.repeat(100_000)}`);
    ws.close();
    await closed(ws);
    await until(() => sockets.size === 0);
  });

  test('the WebSocket is closed with 1000 when the TCP side closes, 1011 when it is refused', async (t) => {
    const tcp = createTcpServer((s) => s.end('bye from tcp'));
    tcp.listen(0, '127.0.0.1');
    await once(tcp, 'listening');
    t.after(() => new Promise((r) => tcp.close(r)));
    const port = (tcp.address() as AddressInfo).port;
    const server = await startCliServer(['serve', '--proxy', `127.0.0.1:${port}`, '--port', '0']);
    t.after(() => server.stop());
    const ws = await wsClient(server.url);
    const msg = nextMessage(ws);
    const done = closed(ws);
    assert.equal(String((await msg)[0]), 'bye from tcp');
    assert.deepEqual(await done, [1000, '']);

    const dead = createTcpServer();
    dead.listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise((r) => dead.close(r));
    const refused = await startCliServer(['serve', '--proxy', `tcp://127.0.0.1:${deadPort}`, '--port', '0']);
    t.after(() => refused.stop());
    const ws2 = await wsClient(refused.url);
    const [code, reason] = await closed(ws2);
    assert.equal(code, 1011);
    assert.match(reason, /upstream unavailable: connection refused/);
  });

  test('a bad target is a usage error', async () => {
    const r = await runCli(['serve', '--proxy', 'http://x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--proxy: expected tcp:\/\/HOST:PORT/);
  });
});

describe('graceful shutdown', () => {
  test('SIGTERM closes every connection with 1001 and exits 0', async () => {
    const server = await startCliServer(['serve', '--echo', '--port', '0']);
    const clients: WebSocket[] = await Promise.all([wsClient(server.url), wsClient(server.url)]);
    const codes = Promise.all(clients.map((ws) => closed(ws)));
    const exit = server.stop('SIGTERM');
    assert.deepEqual(await codes, [
      [1001, 'server shutting down'],
      [1001, 'server shutting down'],
    ]);
    assert.equal(await exit, 0);
    assert.match(server.log(), /SIGTERM: closing connections/);
  });

  test('a peer that never answers the close frame is cut after the bounded wait', async () => {
    const server = await startCliServer(['serve', '--echo', '--port', '0']);
    const raw = connect({ host: '127.0.0.1', port: server.port });
    raw.on('error', () => {});
    raw.write(
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    let received = '';
    raw.on('data', (d: Buffer) => {
      received += d.toString('latin1');
    });
    await server.waitForLog(/open {2}#1/);
    const started = Date.now();
    assert.equal(await server.stop('SIGTERM'), 0);
    const waited = Date.now() - started;
    assert.ok(waited >= 4000 && waited < 9000, `waited ${waited} ms`);
    assert.match(received, /^HTTP\/1\.1 101 /);
    assert.ok(received.includes('\x88'), 'a close frame was sent');
    assert.match(server.log(), /did not finish the close handshake: terminating/);
    raw.destroy();
  });

  test('SIGINT ends a parley connect pipe session that the server is holding open', async () => {
    const server = await startCliServer(['serve', '--echo', '--port', '0']);
    const run = runCli(['connect', server.url], { input: 'still here\n', keepStdinOpenMs: 20_000 });
    await server.waitForLog(/open {2}#1/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await server.stop('SIGINT'), 0);
    const result = await run;
    assert.equal(result.code, 0, 'a 1001 close from the server is a clean close');
    assert.equal(result.stdout, 'still here\n');
    assert.match(result.stderr, /closed by the server: 1001 server shutting down/);
  });
});
