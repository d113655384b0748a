// parley's Engine.IO server against the reference client (engine.io-client, dev dependency).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Socket as EioClient, type SocketOptions } from 'engine.io-client';
import type { Socket } from '../../src/engine/index.js';
import { WebSocket, WebSocketServer } from '../../src/index.js';
import { exchangeBothWays, handshake, once, type Running, raw, sleep, startParley } from './helpers.js';

type Mode = { name: string; transports: ('polling' | 'websocket')[]; upgrade: boolean; final: string };
const MODES: Mode[] = [
  { name: 'polling only', transports: ['polling'], upgrade: false, final: 'polling' },
  { name: 'websocket only', transports: ['websocket'], upgrade: false, final: 'websocket' },
  {
    name: 'polling upgraded to websocket',
    transports: ['polling', 'websocket'],
    upgrade: true,
    final: 'websocket',
  },
];

async function connect(
  srv: Running,
  opts: Partial<SocketOptions> = {},
): Promise<{ client: EioClient; server: Socket }> {
  const serverSide = once<[Socket]>(srv.engine, 'connection');
  const client = new EioClient(srv.url, opts);
  client.on('error', () => {});
  await once(client, 'open');
  const [server] = await serverSide;
  return { client, server };
}

async function settle(client: EioClient, server: Socket, mode: Mode): Promise<void> {
  if (mode.upgrade && client.transport.name !== 'websocket') await once(client, 'upgrade');
  if (mode.upgrade && server.transport.name !== 'websocket') await once(server, 'upgrade');
}

for (const mode of MODES) {
  describe(`engine server <-> engine.io-client: ${mode.name}`, () => {
    it('handshakes, echoes text and binary, and ends on the transport the mode implies', async (t) => {
      const srv = await startParley({ pingInterval: 1000, pingTimeout: 1000 });
      t.after(() => srv.close());
      srv.engine.on('connection', (s) => s.on('message', (d) => s.send(d)));
      const { client, server } = await connect(srv, { transports: mode.transports, upgrade: mode.upgrade });
      t.after(() => client.close());
      await settle(client, server, mode);
      assert.equal(client.id, server.id);
      // the opening request's query, where Socket.IO reads its handshake query
      assert.equal(server.request._query.EIO, '4');
      assert.equal(server.request._query.transport, mode.transports[0]);
      assert.equal(server.transport.name, mode.final);
      assert.equal(client.transport.name, mode.final);

      const received: unknown[] = [];
      const done = new Promise<void>((resolve) =>
        client.on('message', (d) => {
          received.push(d);
          if (received.length === 3) resolve();
        }),
      );
      client.send('héllo €');
      client.send(Buffer.from([0, 1, 2, 255]));
      const onServer: unknown[] = [];
      server.on('message', (d) => onServer.push(d));
      client.send('');
      await done;
      // engine.io-client turns an empty message into undefined; parley's server keeps it a string
      assert.equal(onServer[2], '');
      assert.equal(received[0], 'héllo €');
      assert.ok(Buffer.isBuffer(received[1]));
      assert.deepEqual([...(received[1] as Buffer)], [0, 1, 2, 255]);
    });

    it('keeps order over a burst of messages, and calls send callbacks', async (t) => {
      const srv = await startParley();
      t.after(() => srv.close());
      const { client, server } = await connect(srv, { transports: mode.transports, upgrade: mode.upgrade });
      t.after(() => client.close());
      const got: string[] = [];
      const all = new Promise<void>((resolve) =>
        server.on('message', (d) => {
          got.push(String(d));
          if (got.length === 200) resolve();
        }),
      );
      for (let i = 0; i < 200; i++) client.send(`m${i}`);
      await all;
      assert.deepEqual(
        got,
        Array.from({ length: 200 }, (_, i) => `m${i}`),
      );
      const callbackTransport = await new Promise<string>((resolve) =>
        server.send('x', (tr) => resolve(tr.name)),
      );
      assert.ok(callbackTransport === 'polling' || callbackTransport === 'websocket');
    });

    it('reports client-side close as "transport close" and server-side close to the client', async (t) => {
      const srv = await startParley();
      t.after(() => srv.close());
      const a = await connect(srv, { transports: mode.transports, upgrade: mode.upgrade });
      await settle(a.client, a.server, mode);
      const serverClosed = once<[string]>(a.server, 'close');
      a.client.close();
      assert.equal((await serverClosed)[0], 'transport close');
      assert.equal(srv.engine.clientsCount, 0);

      const b = await connect(srv, { transports: mode.transports, upgrade: mode.upgrade });
      await settle(b.client, b.server, mode);
      const clientClosed = once<[string]>(b.client, 'close');
      const serverReason = once<[string]>(b.server, 'close');
      b.server.send('last words');
      const lastMessage = once<[string]>(b.client, 'message');
      b.server.close();
      assert.equal((await lastMessage)[0], 'last words');
      assert.equal((await serverReason)[0], 'forced close');
      assert.equal((await clientClosed)[0], 'transport close');
    });

    it('keeps the session alive through heartbeats', async (t) => {
      const srv = await startParley({ pingInterval: 60, pingTimeout: 200 });
      t.after(() => srv.close());
      const { client, server } = await connect(srv, { transports: mode.transports, upgrade: mode.upgrade });
      t.after(() => client.close());
      let beats = 0;
      server.on('heartbeat', () => beats++);
      await sleep(500);
      assert.equal(server.readyState, 'open');
      assert.equal(client.readyState, 'open');
      assert.ok(beats >= 3, `heartbeats: ${beats}`);
    });
  });
}

describe('engine server: upgrade under traffic', () => {
  it('keeps both directions in order while polling upgrades to websocket', async (t) => {
    const srv = await startParley();
    t.after(() => srv.close());
    const { client, server } = await connect(srv, {});
    t.after(() => client.close());
    const n = 150;
    const { atServer, atClient } = await exchangeBothWays(server, client, n);
    assert.equal(server.transport.name, 'websocket');
    assert.deepEqual(
      atServer,
      Array.from({ length: n }, (_, k) => `c${k}`),
    );
    assert.deepEqual(
      atClient,
      Array.from({ length: n }, (_, k) => `s${k}`),
    );
  });
});

describe('engine server: options', () => {
  it('splits client payloads at the announced maxPayload (maxHttpBufferSize)', async (t) => {
    const srv = await startParley({ maxHttpBufferSize: 1000 });
    t.after(() => srv.close());
    const { client, server } = await connect(srv, { transports: ['polling'] });
    t.after(() => client.close());
    const big = 'x'.repeat(400);
    const got: string[] = [];
    const all = new Promise<void>((resolve) =>
      server.on('message', (d) => {
        got.push(String(d));
        if (got.length === 10) resolve();
      }),
    );
    for (let i = 0; i < 10; i++) client.send(big);
    await all;
    assert.equal(got.length, 10);
  });

  it('close() delivers what was buffered behind a batch in flight before the close packet', async (t) => {
    const srv = await startParley();
    t.after(() => srv.close());
    const { client, server } = await connect(srv, { transports: ['polling'] });
    await sleep(50); // let the client's next poll arrive
    const got: string[] = [];
    client.on('message', (d) => got.push(String(d)));
    const closed = once<[string]>(client, 'close');
    server.send('a');
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    // 'a' is being written to the pending poll; 'b' waits in the buffer
    server.send('b');
    server.close();
    assert.equal((await closed)[0], 'transport close');
    assert.deepEqual(got, ['a', 'b']);
  });

  it('closes a polling session whose client never answers pings ("ping timeout")', async (t) => {
    const srv = await startParley({ pingInterval: 50, pingTimeout: 50 });
    t.after(() => srv.close());
    const closed = new Promise<string>((resolve) =>
      srv.engine.on('connection', (s) => s.on('close', (reason) => resolve(reason))),
    );
    const { sid } = await handshake(srv.port);
    assert.equal(await closed, 'ping timeout');
    const res = await raw(srv.port, 'GET', `/engine.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body), { code: 1, message: 'Session ID unknown' });
  });

  it('announces the configured handshake values', async (t) => {
    const srv = await startParley({ pingInterval: 1234, pingTimeout: 567, maxHttpBufferSize: 4321 });
    t.after(() => srv.close());
    const { data } = await handshake(srv.port);
    assert.deepEqual(Object.keys(data).sort(), [
      'maxPayload',
      'pingInterval',
      'pingTimeout',
      'sid',
      'upgrades',
    ]);
    assert.equal(data.pingInterval, 1234);
    assert.equal(data.pingTimeout, 567);
    assert.equal(data.maxPayload, 4321);
    assert.deepEqual(data.upgrades, ['websocket']);
  });

  it('honours transports and allowUpgrades', async (t) => {
    const a = await startParley({ allowUpgrades: false });
    t.after(() => a.close());
    assert.deepEqual((await handshake(a.port)).data.upgrades, []);
    const b = await startParley({ transports: ['websocket'] });
    t.after(() => b.close());
    const res = await raw(b.port, 'GET', '/engine.io/?EIO=4&transport=polling');
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body), { code: 0, message: 'Transport unknown' });
    const { client } = await connect(b, { transports: ['websocket'] });
    assert.equal(client.transport.name, 'websocket');
    client.close();
    const c = await startParley({ transports: ['polling'] });
    t.after(() => c.close());
    assert.deepEqual((await handshake(c.port)).data.upgrades, []);
  });

  it('rejects with allowRequest: 403 {code: 4, message} and a connection_error event', async (t) => {
    const srv = await startParley({
      allowRequest: (req, fn) =>
        fn(req.headers['x-token'] === 'yes' ? null : 'go away', req.headers['x-token'] === 'yes'),
    });
    t.after(() => srv.close());
    const errors = once<[{ code: number; message: string }]>(srv.engine, 'connection_error');
    const res = await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=polling');
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.body), { code: 4, message: 'go away' });
    assert.equal((await errors)[0].code, 4);
    const ok = await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=polling', undefined, {
      'x-token': 'yes',
    });
    assert.equal(ok.status, 200);
    // a WebSocket handshake is refused too
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/engine.io/?EIO=4&transport=websocket`);
    const [err] = await once<[Error]>(ws, 'error');
    assert.match(err.message, /403/);
  });

  it('runs use() middlewares on polling requests and WebSocket upgrades', async (t) => {
    const srv = await startParley();
    t.after(() => srv.close());
    srv.engine.use((req, res, next) => {
      (req as typeof req & { user?: string }).user = String(req.headers['x-user'] ?? 'anon');
      res.setHeader('x-session', 'abc');
      next();
    });
    srv.engine.use((req, res, next) => {
      if (req.headers['x-user'] === 'mallory') next(new Error('no'));
      else if (req.headers['x-user'] === 'teapot') {
        res.statusCode = 418;
        res.end();
      } else next();
    });
    const conn = once<[Socket]>(srv.engine, 'connection');
    const ok = await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=polling', undefined, {
      'x-user': 'bob',
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers['x-session'], 'abc');
    const [socket] = await conn;
    assert.equal((socket.request as typeof socket.request & { user?: string }).user, 'bob');
    const refused = await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=polling', undefined, {
      'x-user': 'mallory',
    });
    assert.equal(refused.status, 400);
    assert.equal(JSON.parse(refused.body).code, 3);
    assert.equal(
      (await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=polling', undefined, { 'x-user': 'teapot' }))
        .status,
      418,
    );

    const url = `ws://127.0.0.1:${srv.port}/engine.io/?EIO=4&transport=websocket`;
    const ws = new WebSocket(url, { headers: { 'x-user': 'carol' } });
    const [response] = await once<[{ headers: Record<string, string> }]>(ws, 'upgrade');
    assert.equal(response.headers['x-session'], 'abc');
    ws.close();
    for (const [user, status] of [
      ['mallory', 400],
      ['teapot', 418],
    ] as const) {
      const bad = new WebSocket(url, { headers: { 'x-user': user } });
      const [err] = await once<[Error]>(bad, 'error');
      assert.match(err.message, new RegExp(String(status)));
    }
  });

  it('sets the sid cookie on the handshake when asked', async (t) => {
    const srv = await startParley({ cookie: { name: 'sticky', sameSite: 'strict', maxAge: 60 } });
    t.after(() => srv.close());
    const res = await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=polling');
    const sid = JSON.parse(res.body.slice(1)).sid as string;
    assert.deepEqual(res.headers['set-cookie'], [
      `sticky=${sid}; Max-Age=60; Path=/; HttpOnly; SameSite=Strict`,
    ]);
    const next = await raw(srv.port, 'POST', `/engine.io/?EIO=4&transport=polling&sid=${sid}`, '4x');
    assert.equal(next.headers['set-cookie'], undefined);
    // over a WebSocket handshake too
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/engine.io/?EIO=4&transport=websocket`);
    const [response] = await once<[{ headers: Record<string, string[]> }]>(ws, 'upgrade');
    assert.match(
      String(response.headers['set-cookie']),
      /^sticky=[\w-]{20}; Max-Age=60; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    ws.close();
    const off = await startParley();
    t.after(() => off.close());
    assert.equal(
      (await raw(off.port, 'GET', '/engine.io/?EIO=4&transport=polling')).headers['set-cookie'],
      undefined,
    );
  });

  it('answers CORS preflights and decorates responses', async (t) => {
    const srv = await startParley({
      cors: { origin: ['https://a.example', /\.b\.example$/], credentials: true, exposedHeaders: ['x-e'] },
    });
    t.after(() => srv.close());
    const pre = await raw(srv.port, 'OPTIONS', '/engine.io/?EIO=4&transport=polling', undefined, {
      origin: 'https://x.b.example',
      'access-control-request-headers': 'x-custom',
    });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], 'https://x.b.example');
    assert.equal(pre.headers['access-control-allow-credentials'], 'true');
    assert.equal(pre.headers['access-control-allow-headers'], 'x-custom');
    assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
    const get = await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=polling', undefined, {
      origin: 'https://a.example',
    });
    assert.equal(get.status, 200);
    assert.equal(get.headers['access-control-allow-origin'], 'https://a.example');
    assert.equal(get.headers['access-control-expose-headers'], 'x-e');
    const denied = await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=polling', undefined, {
      origin: 'https://evil.example',
    });
    assert.equal(denied.headers['access-control-allow-origin'], undefined);
    // errors carry CORS headers too, so browsers can read them
    const bad = await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=nope', undefined, {
      origin: 'https://a.example',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['access-control-allow-origin'], 'https://a.example');
  });

  it('ends unanswered upgrades for other paths only when it is the only upgrade listener', async (t) => {
    const srv = await startParley({ destroyUpgradeTimeout: 100 });
    t.after(() => srv.close());
    const orphan = new WebSocket(`ws://127.0.0.1:${srv.port}/nobody`);
    orphan.on('error', () => {});
    await once(orphan, 'close', 3000);
    const other = new WebSocketServer({ noServer: true });
    t.after(() => other.close());
    srv.http.on('upgrade', (req, socket, head) => {
      // a slow owner: answers after the destroy timeout
      setTimeout(() => other.handleUpgrade(req, socket, head, (ws) => ws.send('late but fine')), 300);
    });
    const owned = new WebSocket(`ws://127.0.0.1:${srv.port}/slow`);
    const [msg] = await once<[Buffer]>(owned, 'message');
    assert.equal(String(msg), 'late but fine');
    owned.close();
  });

  it('serves a custom path and leaves other requests and upgrades to their owners', async (t) => {
    const srv = await startParley({ path: '/rt' });
    t.after(() => srv.close());
    const other = new WebSocketServer({ noServer: true });
    t.after(() => other.close());
    srv.http.on('upgrade', (req, socket, head) => {
      if (req.url === '/plain') other.handleUpgrade(req, socket, head, (ws) => ws.send('plain ws'));
    });
    assert.equal((await raw(srv.port, 'GET', '/other')).body, 'other');
    assert.equal((await raw(srv.port, 'GET', '/rt/?EIO=4&transport=polling')).status, 200);
    assert.equal((await raw(srv.port, 'GET', '/engine.io/?EIO=4&transport=polling')).body, 'other');
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/plain`);
    const [msg] = await once<[Buffer]>(ws, 'message');
    assert.equal(String(msg), 'plain ws');
    ws.close();
    const { client } = await connect(srv, { path: '/rt', transports: ['websocket'] });
    client.close();
  });
});
