// parley's Engine.IO client against the reference server (engine.io, dev dependency) and against
// parley's own server.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { type Server as EioServer, type Socket as EioSocket, attach as eioAttach } from 'engine.io';
import {
  ClientSocket,
  type ClientSocketOptions,
  type Socket as ServerSocket,
} from '../../src/engine/index.js';
import { closeHttp, exchangeBothWays, once, sleep, startParley } from './helpers.js';

interface EioRunning {
  engine: EioServer;
  url: string;
  close: () => Promise<void>;
}

async function startEngineIo(opts: Parameters<typeof eioAttach>[1] = {}): Promise<EioRunning> {
  const http = createServer();
  const engine = eioAttach(http, opts);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return { engine, url: `http://127.0.0.1:${port}`, close: () => closeHttp(http, () => engine.close()) };
}

async function connect(
  url: string,
  engine: { once(event: 'connection', fn: (s: EioSocket) => void): unknown },
  opts: ClientSocketOptions,
): Promise<{ client: ClientSocket; server: EioSocket }> {
  const serverSide = once<[EioSocket]>(engine, 'connection');
  const client = new ClientSocket(url, opts);
  client.on('error', () => {});
  await once(client, 'open');
  const [server] = await serverSide;
  return { client, server };
}

const MODES = [
  { name: 'polling only', opts: { transports: ['polling'] }, final: 'polling' },
  { name: 'websocket only', opts: { transports: ['websocket'] }, final: 'websocket' },
  { name: 'polling upgraded to websocket', opts: {}, final: 'websocket' },
] as const satisfies readonly { name: string; opts: ClientSocketOptions; final: string }[];

for (const mode of MODES) {
  describe(`engine client <-> engine.io server: ${mode.name}`, () => {
    it('handshakes and echoes text and binary on the expected transport', async (t) => {
      const srv = await startEngineIo({ pingInterval: 1000, pingTimeout: 1000 });
      t.after(() => srv.close());
      srv.engine.on('connection', (s: EioSocket) => s.on('message', (d) => s.send(d)));
      const { client, server } = await connect(srv.url, srv.engine, { ...mode.opts });
      t.after(() => client.close());
      if (mode.final !== client.transport!.name) await once(client, 'upgrade');
      assert.equal(client.transport!.name, mode.final);
      // engine.io types `id` as private; it is its public sid
      assert.equal(client.id, (server as unknown as { id: string }).id);

      const received: unknown[] = [];
      const done = new Promise<void>((resolve) =>
        client.on('message', (d) => {
          received.push(d);
          if (received.length === 2) resolve();
        }),
      );
      client.send('héllo €');
      client.send(new Uint8Array([0, 1, 2, 255]));
      await done;
      assert.equal(received[0], 'héllo €');
      assert.ok(Buffer.isBuffer(received[1]));
      assert.deepEqual([...(received[1] as Buffer)], [0, 1, 2, 255]);
      if (mode.final === 'websocket') {
        // the server moved too
        await sleep(20);
        assert.equal(server.transport.name, 'websocket');
      }
    });

    it('sends extraHeaders and query on every request', async (t) => {
      const srv = await startEngineIo();
      t.after(() => srv.close());
      const seen: IncomingMessage[] = [];
      srv.engine.on('headers', (_h: unknown, req: IncomingMessage) => seen.push(req));
      const { client, server } = await connect(srv.url, srv.engine, {
        ...mode.opts,
        extraHeaders: { 'x-parley': 'yes' },
        query: { room: 'a b', n: 1 },
      });
      t.after(() => client.close());
      if (mode.final !== client.transport!.name) await once(client, 'upgrade');
      assert.equal(server.request.headers['x-parley'], 'yes');
      const url = new URL(server.request.url!, 'http://x');
      assert.equal(url.searchParams.get('room'), 'a b');
      assert.equal(url.searchParams.get('n'), '1');
      assert.ok(seen.length > 0);
      for (const req of seen) assert.equal(req.headers['x-parley'], 'yes');
    });

    it('closes both ways with the engine.io reasons', async (t) => {
      const srv = await startEngineIo();
      t.after(() => srv.close());
      const a = await connect(srv.url, srv.engine, { ...mode.opts });
      if (mode.final !== a.client.transport!.name) await once(a.client, 'upgrade');
      const serverReason = once<[string]>(a.server, 'close');
      const clientReason = once<[string]>(a.client, 'close');
      a.client.close();
      assert.equal((await clientReason)[0], 'forced close');
      assert.equal((await serverReason)[0], 'transport close');
      assert.equal(a.client.readyState, 'closed');

      const b = await connect(srv.url, srv.engine, { ...mode.opts });
      if (mode.final !== b.client.transport!.name) await once(b.client, 'upgrade');
      const closed = once<[string]>(b.client, 'close');
      b.server.close();
      assert.equal((await closed)[0], 'transport close');
    });

    it('answers heartbeats and stays open', async (t) => {
      const srv = await startEngineIo({ pingInterval: 60, pingTimeout: 200 });
      t.after(() => srv.close());
      const { client, server } = await connect(srv.url, srv.engine, { ...mode.opts });
      t.after(() => client.close());
      let pings = 0;
      client.on('ping', () => pings++);
      await sleep(500);
      assert.equal(client.readyState, 'open');
      assert.equal(server.readyState, 'open');
      assert.ok(pings >= 3, `pings: ${pings}`);
    });
  });
}

describe('engine client: upgrade under traffic', () => {
  for (const server of ['engine.io', 'parley'] as const) {
    it(`keeps both directions in order while upgrading (${server} server)`, async (t) => {
      const srv = server === 'engine.io' ? await startEngineIo() : await startParley();
      t.after(() => srv.close());
      const conn = once<[EioSocket]>(srv.engine as unknown as EioServer, 'connection');
      const client = new ClientSocket(srv.url, {});
      t.after(() => client.close());
      await once(client, 'open');
      const [peer] = await conn;
      const n = 150;
      const { atServer, atClient } = await exchangeBothWays(peer, client, n);
      assert.equal(client.transport!.name, 'websocket');
      assert.deepEqual(
        atServer,
        Array.from({ length: n }, (_, k) => `c${k}`),
      );
      assert.deepEqual(
        atClient,
        Array.from({ length: n }, (_, k) => `s${k}`),
      );
    });
  }
});

describe('engine client: behaviour', () => {
  it('detects a server that stops pinging (pingInterval + pingTimeout)', async (t) => {
    // A fake server: handshake, then hold every poll without ever pinging.
    const held: ServerResponse[] = [];
    const http = createServer((req, res) => {
      if (!req.url!.includes('sid=')) {
        res.end(
          `0${JSON.stringify({ sid: 'abc', upgrades: [], pingInterval: 80, pingTimeout: 80, maxPayload: 1e6 })}`,
        );
      } else if (req.method === 'GET') held.push(res);
      else res.end('ok');
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    t.after(() => closeHttp(http));
    const client = new ClientSocket(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
      transports: ['polling'],
    });
    client.on('error', () => {});
    await once(client, 'open');
    const started = Date.now();
    const [reason] = await once<[string]>(client, 'close', 3000);
    assert.equal(reason, 'ping timeout');
    assert.ok(Date.now() - started >= 100, 'not before pingInterval + pingTimeout');
  });

  it('reports an unreachable server as error + "transport error"', async () => {
    const http = createServer();
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const port = (http.address() as AddressInfo).port;
    await closeHttp(http);
    for (const transports of [['polling'], ['websocket']] as const) {
      const client = new ClientSocket(`http://127.0.0.1:${port}`, { transports: [...transports] });
      const errored = once<[Error]>(client, 'error');
      const [reason] = await once<[string]>(client, 'close');
      assert.equal(reason, 'transport error');
      assert.ok((await errored)[0] instanceof Error);
    }
  });

  it('rejects a malformed handshake', async (t) => {
    const http = createServer((_req, res) => res.end('0{"sid":42}'));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    t.after(() => closeHttp(http));
    const client = new ClientSocket(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
      transports: ['polling'],
    });
    const [err] = await once<[Error & { code?: string }]>(client, 'error');
    assert.equal(err.code, 'ENGINE_ERR_INVALID_HANDSHAKE');
    assert.equal(client.readyState, 'closed');
  });

  it('closes on hostile server payloads: oversized poll response, undecodable packet', async (t) => {
    const handshakeBody = `0${JSON.stringify({ sid: 's', upgrades: [], pingInterval: 5000, pingTimeout: 5000, maxPayload: 1e6 })}`;
    for (const [body, code] of [
      ['4'.padEnd(300_000, 'x'), 'ENGINE_ERR_PAYLOAD_TOO_LARGE'],
      ['4ok\x1eb!!!', 'ENGINE_ERR_INVALID_PACKET'],
    ] as const) {
      const http = createServer((req, res) => {
        if (!req.url!.includes('sid=')) res.end(handshakeBody);
        else if (req.method === 'GET') {
          // chunked, no Content-Length: the bound must hold while reading
          res.write(body.slice(0, 10));
          res.end(body.slice(10));
        } else res.end('ok');
      });
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      t.after(() => closeHttp(http));
      const client = new ClientSocket(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, {
        transports: ['polling'],
        maxIncomingPayload: 100_000,
      });
      const [err] = await once<[Error & { description?: { code?: string } }]>(client, 'error');
      assert.equal(err.description?.code, code);
      await sleep(10);
      assert.equal(client.readyState, 'closed');
    }
  });

  it('stays on polling with upgrade: false, and rememberUpgrade starts on websocket', async (t) => {
    const srv = await startEngineIo();
    t.after(() => srv.close());
    const a = await connect(srv.url, srv.engine, { upgrade: false });
    await sleep(100);
    assert.equal(a.client.transport!.name, 'polling');
    a.client.close();
    const b = await connect(srv.url, srv.engine, {});
    await once(b.client, 'upgrade');
    b.client.close();
    assert.equal(ClientSocket.priorWebsocketSuccess, true);
    const c = await connect(srv.url, srv.engine, { rememberUpgrade: true });
    assert.equal(c.client.transport!.name, 'websocket');
    c.client.close();
  });

  it('honours path, and buffers messages sent before open', async (t) => {
    const srv = await startEngineIo({ path: '/custom' });
    t.after(() => srv.close());
    const got = new Promise<string>((resolve) =>
      srv.engine.on('connection', (s: EioSocket) => s.on('message', (d) => resolve(String(d)))),
    );
    const client = new ClientSocket(srv.url, { path: '/custom' });
    t.after(() => client.close());
    client.send('early');
    assert.equal(await got, 'early');
  });
});

describe('engine client <-> parley server', () => {
  for (const mode of MODES) {
    it(`round-trips text and binary: ${mode.name}`, async (t) => {
      const srv = await startParley({ maxHttpBufferSize: 2000 });
      t.after(() => srv.close());
      srv.engine.on('connection', (s) => s.on('message', (d) => s.send(d)));
      const client = new ClientSocket(srv.url, { ...mode.opts });
      t.after(() => client.close());
      client.on('error', () => {});
      await once(client, 'open');
      if (mode.final !== client.transport!.name) await once(client, 'upgrade');
      const received: unknown[] = [];
      const n = 12;
      const done = new Promise<void>((resolve) =>
        client.on('message', (d) => {
          received.push(d);
          if (received.length === n) resolve();
        }),
      );
      // 12 x ~500 bytes exceeds maxPayload (2000): the client must split its POSTs
      for (let i = 0; i < n - 1; i++) client.send(`${i}:${'y'.repeat(500)}`);
      client.send(new Uint8Array([7, 7, 7]));
      await done;
      assert.equal(received.length, n);
      assert.equal(String(received[0]).slice(0, 2), '0:');
      assert.deepEqual([...(received[n - 1] as Buffer)], [7, 7, 7]);
    });
  }

  it('leaves the upgraded transport with no listener table; a later listener still hears it', async (t) => {
    const srv = await startParley();
    t.after(() => srv.close());
    const serverSide = once<[ServerSocket]>(srv.engine, 'connection');
    const client = new ClientSocket(srv.url, {});
    t.after(() => client.close());
    client.on('error', () => {});
    await once(client, 'open');
    const [session] = await serverSide;
    await once(session, 'upgrade');
    const transport = session.transport;
    assert.equal(transport.name, 'websocket');
    // the upgrade's own listeners are gone, and with them the table they left behind
    assert.equal((transport as unknown as { _events?: object })._events, undefined);
    const heard = once<[{ type: string; data?: unknown }]>(transport, 'packet');
    const delivered = once<[unknown]>(session, 'message');
    client.send('after');
    const [packet] = await heard;
    assert.deepEqual([packet.type, packet.data], ['message', 'after']);
    assert.deepEqual(await delivered, ['after']);
  });

  it('sends Blobs as binary without reordering (polling and websocket)', async (t) => {
    const srv = await startParley();
    t.after(() => srv.close());
    for (const transports of [['polling'], ['websocket']] as const) {
      const got: unknown[] = [];
      const all = new Promise<void>((resolve) =>
        srv.engine.once('connection', (s) =>
          s.on('message', (d) => {
            got.push(d);
            if (got.length === 3) resolve();
          }),
        ),
      );
      const client = new ClientSocket(srv.url, { transports: [...transports] });
      t.after(() => client.close());
      client.send('before');
      client.send(new Blob([new Uint8Array([1, 2, 3])]));
      client.send('after');
      await all;
      assert.equal(got[0], 'before');
      assert.deepEqual([...(got[1] as Buffer)], [1, 2, 3]);
      assert.equal(got[2], 'after');
    }
  });

  it('delivers send callbacks and drain', async (t) => {
    const srv = await startParley();
    t.after(() => srv.close());
    const client = new ClientSocket(srv.url, { transports: ['polling'] });
    t.after(() => client.close());
    await once(client, 'open');
    const called = new Promise<void>((resolve) => client.send('x', resolve));
    await called;
    assert.equal(client.writeBuffer.length, 0);
  });
});
