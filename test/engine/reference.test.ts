// The protocol test suite's reference server, `listen`, the Node cookie jar, and browser-safety of
// the client modules.
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { ClientSocket, createReferenceServer, listen, REFERENCE_SETTINGS } from '../../src/engine/index.js';
import { WebSocket } from '../../src/index.js';
import { once, raw } from './helpers.js';

describe('engine reference server (protocol test suite settings)', () => {
  it('announces the reference handshake and echoes over polling', async (t) => {
    const ref = await createReferenceServer({ port: 0, host: '127.0.0.1' });
    t.after(() => ref.close());
    assert.deepEqual(REFERENCE_SETTINGS, {
      pingInterval: 300,
      pingTimeout: 200,
      maxHttpBufferSize: 1e6,
      cors: { origin: '*' },
    });
    const res = await raw(ref.port, 'GET', '/engine.io/?EIO=4&transport=polling', undefined, {
      origin: 'http://elsewhere',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['access-control-allow-origin'], '*');
    const data = JSON.parse(res.body.slice(1));
    assert.deepEqual(
      {
        upgrades: data.upgrades,
        pingInterval: data.pingInterval,
        pingTimeout: data.pingTimeout,
        maxPayload: data.maxPayload,
      },
      { upgrades: ['websocket'], pingInterval: 300, pingTimeout: 200, maxPayload: 1000000 },
    );
    const sid = data.sid as string;
    const path = `/engine.io/?EIO=4&transport=polling&sid=${sid}`;
    assert.equal((await raw(ref.port, 'POST', path, '4hello\x1ebAQIDBA==')).body, 'ok');
    assert.equal((await raw(ref.port, 'GET', path)).body, '4hello\x1ebAQIDBA==');
    assert.equal((await raw(ref.port, 'GET', '/elsewhere')).status, 501);
  });

  it('closes everything on close(), including WebSocket sessions', async () => {
    const ref = await createReferenceServer({ port: 0, host: '127.0.0.1' });
    const ws = new WebSocket(`ws://127.0.0.1:${ref.port}/engine.io/?EIO=4&transport=websocket`);
    await once(ws, 'message');
    const closed = once(ws, 'close');
    await ref.close();
    await closed;
    assert.equal(ref.httpServer.listening, false);
  });

  it('rejects when the port is taken', async (t) => {
    const ref = await createReferenceServer({ port: 0, host: '127.0.0.1' });
    t.after(() => ref.close());
    await assert.rejects(createReferenceServer({ port: ref.port, host: '127.0.0.1' }), /EADDRINUSE/);
  });
});

describe('engine listen()', () => {
  it('serves Engine.IO on its own http server and closes it with the engine', async () => {
    const engine = listen(0, { pingInterval: 5000 });
    await once(engine.httpServer!, 'listening');
    const port = (engine.httpServer!.address() as AddressInfo).port;
    const client = new ClientSocket(`http://127.0.0.1:${port}`, { transports: ['websocket'] });
    await once(client, 'open');
    assert.equal(engine.clientsCount, 1);
    const clientClosed = once(client, 'close');
    const httpClosed = once(engine.httpServer!, 'close');
    engine.close();
    await clientClosed;
    await httpClosed;
  });
});

describe('engine client in Node', () => {
  it('keeps the server cookies and sends them back (sticky sessions)', async () => {
    const engine = listen(0, { cookie: true });
    await once(engine.httpServer!, 'listening');
    const port = (engine.httpServer!.address() as AddressInfo).port;
    const cookies: (string | undefined)[] = [];
    engine.on('headers', (_h, req: IncomingMessage) => cookies.push(req.headers.cookie));
    const client = new ClientSocket(`http://127.0.0.1:${port}`);
    await once(client, 'upgrade');
    const sid = client.id;
    client.close();
    engine.close();
    assert.equal(cookies[0], undefined);
    assert.ok(cookies.length >= 2);
    // every request after the handshake (polls, posts, the WebSocket upgrade) carries the cookie
    for (const c of cookies.slice(1)) assert.equal(c, `io=${sid}`);
  });

  it('bundles for browsers without Node built-ins (client modules only)', async () => {
    const result = await build({
      entryPoints: ['src/engine/client.ts'],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.text;
    assert.doesNotMatch(code, /from ["']node:/);
    assert.doesNotMatch(code, /require\(["'](node:)?(http|net|events|crypto)["']\)/);
    assert.ok(code.includes('ClientSocket = class'), 'the client is in the bundle');
  });
});
