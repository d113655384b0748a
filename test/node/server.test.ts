/**
 * WebSocketServer as the `ws` package defines it: the three modes (`port`, `server`, `noServer`),
 * `path`, `verifyClient`, `handleProtocols`, limits, client tracking, events and refused handshakes,
 * on real sockets on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { after, describe, test } from 'node:test';
import { type VerifyClientInfo, WebSocket, WebSocketServer } from '../../src/index.js';
import {
  closed,
  closeServer,
  delay,
  exchange,
  listen,
  next,
  open,
  portOf,
  shutdown,
  track,
  upgradeRequest,
} from '../helpers/net.js';

/** An HTTP server on an ephemeral loopback port that answers plain requests with 200 'plain'. */
async function httpServer(): Promise<http.Server> {
  const server = track(
    http.createServer((_req, res) => {
      res.end('plain');
    }),
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => closeServer(server));
  return server;
}

/** Connects a client that is expected to be refused; resolves with the response's status, headers and body. */
async function refused(
  url: string,
  options: ConstructorParameters<typeof WebSocket>[2] = {},
  protocols: string[] = [],
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  const ws = new WebSocket(url, protocols, options);
  const [, res] = (await next(ws, 'unexpected-response')) as [http.ClientRequest, IncomingMessage];
  let body = '';
  for await (const chunk of res) body += chunk;
  ws.terminate();
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

/** The status code of a raw HTTP response. */
function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

describe('port and host', () => {
  test('listens on the given host, calls back, emits listening, and reports its address', async () => {
    let called = false;
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => {
      called = true;
    });
    after(() => shutdown(wss));
    await next(wss, 'listening');
    assert.equal(called, true);
    const address = wss.address();
    assert.ok(address !== null && typeof address === 'object');
    assert.equal(address.address, '127.0.0.1');
    assert.ok(address.port > 0);
    const ws = await open(`ws://127.0.0.1:${address.port}`);
    ws.terminate();
  });

  test('a plain HTTP request to a server it created gets 426 Upgrade Required', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    const response = await exchange(portOf(wss), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(response), 426);
    assert.match(response, /Upgrade Required$/);
  });

  test('backlog is accepted and the server serves several clients', async () => {
    const { wss, url } = await listen({ backlog: 8 });
    after(() => shutdown(wss));
    const clients = await Promise.all([open(url), open(url), open(url)]);
    assert.equal(wss.clients?.size, 3);
    for (const ws of clients) ws.terminate();
  });

  test('a port in use emits error (EADDRINUSE) on the server', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    const second = new WebSocketServer({ port: portOf(wss), host: '127.0.0.1' });
    const [error] = (await next(second, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'EADDRINUSE');
  });
});

describe('server: attached to an HTTP server', () => {
  test('takes the upgrades and leaves plain requests to the HTTP server', async () => {
    const server = await httpServer();
    const wss = new WebSocketServer({ server });
    const connected = next(wss, 'connection');
    const ws = await open(`ws://127.0.0.1:${portOf(server)}/chat`);
    const [, req] = (await connected) as [WebSocket, IncomingMessage];
    assert.equal(req.url, '/chat');
    const response = await exchange(portOf(server), 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statusOf(response), 200);
    assert.match(response, /plain$/);
    ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    assert.equal(server.listening, true, 'closing the WebSocket server leaves the HTTP server running');
  });

  test('re-emits listening and error of the HTTP server', async () => {
    const server = track(http.createServer());
    const wss = new WebSocketServer({ server });
    const listening = next(wss, 'listening');
    server.listen(0, '127.0.0.1');
    await listening;
    after(() => closeServer(server));
    const failure = new Error('boom');
    const errored = next(wss, 'error');
    server.emit('error', failure);
    assert.equal((await errored)[0], failure);
  });

  test('after close(), the HTTP server no longer upgrades for it, and address() is null', async () => {
    const server = await httpServer();
    const wss = new WebSocketServer({ server });
    assert.equal((wss.address() as { port: number }).port, portOf(server));
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    assert.equal(server.listenerCount('upgrade'), 0);
    assert.equal(wss.address(), null);
  });
});

describe('noServer and handleUpgrade', () => {
  test('routes upgrades by path to two servers with shouldHandle', async () => {
    const server = await httpServer();
    const chat = new WebSocketServer({ noServer: true, path: '/chat' });
    const feed = new WebSocketServer({ noServer: true, path: '/feed' });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      for (const wss of [chat, feed]) {
        if (wss.shouldHandle(req)) {
          wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
          return;
        }
      }
      socket.destroy();
    });
    const base = `ws://127.0.0.1:${portOf(server)}`;
    const toFeed = next(feed, 'connection');
    const a = await open(`${base}/feed?x=1`);
    const [, req] = (await toFeed) as [WebSocket, IncomingMessage];
    assert.equal(req.url, '/feed?x=1');
    const toChat = next(chat, 'connection');
    const b = await open(`${base}/chat`);
    await toChat;
    assert.equal(chat.clients?.size, 1);
    assert.equal(feed.clients?.size, 1);
    const c = new WebSocket(`${base}/other`);
    const { code } = await closed(c);
    assert.equal(code, 1006);
    a.terminate();
    b.terminate();
  });

  test('address() throws in noServer mode', () => {
    const wss = new WebSocketServer({ noServer: true });
    assert.throws(() => wss.address(), /noServer/);
  });

  test('the callback gets the connection and the request; head bytes are not lost', async () => {
    const server = await httpServer();
    const wss = new WebSocketServer({ noServer: true });
    const got = new Promise<Buffer>((resolve) => {
      server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
        wss.handleUpgrade(req, socket, head, (ws, request) => {
          assert.equal(request, req);
          ws.once('message', (data: Buffer) => resolve(data));
        });
      });
    });
    const ws = await open(`ws://127.0.0.1:${portOf(server)}`);
    ws.send('first');
    assert.equal(String(await got), 'first');
    ws.terminate();
  });

  test('a server that is closing answers handleUpgrade with 503', async () => {
    const server = await httpServer();
    const wss = new WebSocketServer({ noServer: true });
    wss.close();
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      wss.handleUpgrade(req, socket, head, () => assert.fail('must not connect'));
    });
    const { status } = await refused(`ws://127.0.0.1:${portOf(server)}`);
    assert.equal(status, 503);
  });
});

describe('path', () => {
  test('accepts its path (ignoring the query) and answers others with 400', async () => {
    const { wss, url } = await listen({ path: '/ws' });
    after(() => shutdown(wss));
    const ws = await open(`${url}/ws?token=1`);
    ws.terminate();
    assert.equal((await refused(`${url}/other`)).status, 400);
    assert.equal((await refused(`${url}/ws/`)).status, 400);
    assert.equal(wss.shouldHandle({ url: '/ws?q' } as IncomingMessage), true);
    assert.equal(wss.shouldHandle({ url: '/wss' } as IncomingMessage), false);
  });
});

describe('verifyClient', () => {
  test('synchronous: gets origin, secure and req; false answers 401', async () => {
    const seen: Array<{ origin: string | undefined; secure: boolean; url: string | undefined }> = [];
    const { wss, url } = await listen({
      verifyClient: (info: VerifyClientInfo) => {
        seen.push({ origin: info.origin, secure: info.secure, url: info.req.url });
        return info.req.url === '/ok';
      },
    });
    after(() => shutdown(wss));
    const ws = await open(`${url}/ok`, { origin: 'https://example.com' });
    ws.terminate();
    const { status, body } = await refused(`${url}/no`);
    assert.equal(status, 401);
    assert.equal(body, 'Unauthorized');
    assert.deepEqual(seen[0], { origin: 'https://example.com', secure: false, url: '/ok' });
    assert.equal(seen[1].origin, undefined);
  });

  test('asynchronous: refuses with a code, message and headers, or accepts later', async () => {
    const { wss, url } = await listen({
      verifyClient: (info, done) => {
        setTimeout(() => {
          if (info.req.headers.authorization === 'Bearer good') done(true);
          else done(false, 403, 'Go away', { 'X-Reason': 'no token' });
        }, 10);
      },
    });
    after(() => shutdown(wss));
    const { status, headers, body } = await refused(url);
    assert.equal(status, 403);
    assert.equal(headers['x-reason'], 'no token');
    assert.equal(body, 'Go away');
    const ws = await open(url, { headers: { Authorization: 'Bearer good' } });
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.terminate();
  });

  test('asynchronous refusal without a code is 401', async () => {
    const { wss, url } = await listen({ verifyClient: (_info, done) => done(false) });
    after(() => shutdown(wss));
    assert.equal((await refused(url)).status, 401);
  });
});

describe('handleProtocols', () => {
  test('picks the subprotocol; both ends report it', async () => {
    const offered: string[][] = [];
    const { wss, url } = await listen({
      handleProtocols: (protocols) => {
        offered.push([...protocols]);
        return protocols.has('v2') ? 'v2' : false;
      },
    });
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const ws = await open(url, ['v1', 'v2']);
    const [server] = (await connected) as [WebSocket];
    assert.deepEqual(offered[0], ['v1', 'v2']);
    assert.equal(ws.protocol, 'v2');
    assert.equal(server.protocol, 'v2');
    ws.terminate();
  });

  test('is called after verifyClient, and not for refused clients (as in ws)', async () => {
    const calls: string[] = [];
    const { wss, url } = await listen({
      verifyClient: (info, done) => {
        calls.push('verifyClient');
        setTimeout(() => {
          (info.req as IncomingMessage & { user?: string }).user = 'alice';
          done(info.req.headers['x-ok'] === '1');
        }, 10);
      },
      handleProtocols: (protocols, req) => {
        calls.push('handleProtocols');
        const user = (req as IncomingMessage & { user?: string }).user;
        return user === undefined ? false : `${[...protocols][0]}`;
      },
    });
    after(() => shutdown(wss));
    assert.equal((await refused(url, {}, ['for-bob'])).status, 401);
    assert.deepEqual(calls, ['verifyClient']);
    const ws = await open(url, ['for-alice'], { headers: { 'X-Ok': '1' } });
    assert.equal(ws.protocol, 'for-alice');
    assert.deepEqual(calls, ['verifyClient', 'verifyClient', 'handleProtocols']);
    ws.terminate();
  });

  test('false selects none: no Sec-WebSocket-Protocol in the response', async () => {
    const { wss } = await listen({ handleProtocols: () => false });
    after(() => shutdown(wss));
    const response = await exchange(
      portOf(wss),
      upgradeRequest('/', { 'Sec-WebSocket-Protocol': 'a, b' }),
      300,
    );
    assert.equal(statusOf(response), 101);
    assert.doesNotMatch(response, /sec-websocket-protocol/i);
  });

  test('without handleProtocols the first offered is chosen', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const ws = await open(url, ['first', 'second']);
    assert.equal(ws.protocol, 'first');
    ws.terminate();
  });

  test('an invalid Sec-WebSocket-Protocol header is refused with 400', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    const response = await exchange(portOf(wss), upgradeRequest('/', { 'Sec-WebSocket-Protocol': 'a, a' }));
    assert.equal(statusOf(response), 400);
  });
});

describe('maxPayload', () => {
  test('a message at the limit passes, one byte more is failed with 1009', async () => {
    const { wss, url } = await listen({ maxPayload: 1000 });
    after(() => shutdown(wss));
    const received: number[] = [];
    const serverErrors: Error[] = [];
    wss.on('connection', (ws) => {
      ws.on('message', (data: Buffer) => received.push(data.length));
      ws.on('error', (error) => serverErrors.push(error));
    });
    const ws = await open(url);
    ws.send(Buffer.alloc(1000));
    ws.send(Buffer.alloc(1001));
    const [code] = await next(ws, 'close');
    assert.equal(code, 1009);
    assert.deepEqual(received, [1000]);
    assert.equal((serverErrors[0] as Error & { code: string }).code, 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH');
  });
});

describe('clientTracking and clients', () => {
  test('clients holds the open connections and drops closed ones', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const a = await open(url);
    const b = await open(url);
    await delay(20);
    assert.equal(wss.clients?.size, 2);
    const serverClosed = new Promise((resolve) => {
      for (const ws of wss.clients ?? []) ws.once('close', resolve);
    });
    a.close();
    await serverClosed;
    assert.equal(wss.clients?.size, 1);
    b.terminate();
  });

  test('clientTracking: false leaves clients undefined', async () => {
    const { wss, url } = await listen({ clientTracking: false });
    const connected = next(wss, 'connection');
    const ws = await open(url);
    const [server] = (await connected) as [WebSocket];
    assert.equal(wss.clients, undefined);
    server.terminate();
    ws.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  });
});

describe('events', () => {
  test('connection gets the WebSocket and the upgrade request', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const ws = await open(`${url}/room?id=7`, { headers: { 'X-Client': 'tests' } });
    const [server, req] = (await connected) as [WebSocket, IncomingMessage];
    assert.ok(server instanceof WebSocket);
    assert.equal(server.readyState, WebSocket.OPEN);
    assert.equal(req.url, '/room?id=7');
    assert.equal(req.headers['x-client'], 'tests');
    ws.terminate();
  });

  test('headers: a header added by a listener reaches the client', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    wss.on('headers', (headers, req) => {
      assert.ok(headers[0].startsWith('HTTP/1.1 101'));
      headers.push(`Set-Cookie: room=${new URL(req.url ?? '/', 'http://x').searchParams.get('room')}`);
    });
    const ws = new WebSocket(`${url}/?room=blue`);
    const opened = next(ws, 'open');
    const [res] = (await next(ws, 'upgrade')) as [IncomingMessage];
    assert.deepEqual(res.headers['set-cookie'], ['room=blue']);
    await opened;
    ws.terminate();
  });

  test('close(cb): close is emitted once every connection has closed, and the port is freed', async () => {
    const { wss, url } = await listen();
    const ws = await open(url);
    let closed = false;
    wss.on('close', () => {
      closed = true;
    });
    const done = new Promise<Error | undefined>((resolve) => wss.close(resolve));
    await delay(100);
    assert.equal(closed, false, 'an open connection keeps the server from closing (as in ws)');
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close();
    assert.equal(await done, undefined);
    assert.equal(closed, true);
    const refusedConnection = new WebSocket(url);
    const [error] = (await next(refusedConnection, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ECONNREFUSED');
  });

  test('close(cb) on a closed server calls back with an error', async () => {
    const { wss } = await listen();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    const error = await new Promise<Error | undefined>((resolve) => wss.close(resolve));
    assert.match(String(error?.message), /not running/);
  });
});

describe('refused handshakes', () => {
  test('an unsupported version gets 426 with Sec-WebSocket-Version: 13', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    const response = await exchange(portOf(wss), upgradeRequest('/', { 'Sec-WebSocket-Version': '8' }));
    assert.equal(statusOf(response), 426);
    assert.match(response, /\r\nSec-WebSocket-Version: 13\r\n/);
  });

  test('a missing or malformed key gets 400', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    for (const key of [undefined, 'short', 'dGhlIHNhbXBsZSBub25jZQ']) {
      const response = await exchange(portOf(wss), upgradeRequest('/', { 'Sec-WebSocket-Key': key }));
      assert.equal(statusOf(response), 400, `key ${key}`);
    }
  });

  test('a method other than GET gets 405, a bad Upgrade header 400', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    const post = upgradeRequest('/').replace(/^GET/, 'POST');
    assert.equal(statusOf(await exchange(portOf(wss), post)), 405);
    const bad = upgradeRequest('/', { Upgrade: 'h2c' });
    // Node's HTTP server only raises 'upgrade' for an Upgrade header; h2c still reaches us.
    assert.equal(statusOf(await exchange(portOf(wss), bad)), 400);
  });

  test('too many headers get 431, too large a head 431', async () => {
    const { wss } = await listen({ maxHeaderCount: 20, maxHeaderSize: 4096 });
    after(() => shutdown(wss));
    const many: Record<string, string> = {};
    for (let i = 0; i < 30; i++) many[`X-Extra-${i}`] = 'v';
    assert.equal(statusOf(await exchange(portOf(wss), upgradeRequest('/', many))), 431);
    const large = upgradeRequest('/', { 'X-Big': 'a'.repeat(8192) });
    assert.equal(statusOf(await exchange(portOf(wss), large)), 431);
    const ws = await open(`ws://127.0.0.1:${portOf(wss)}`);
    ws.terminate();
  });

  test('with a wsClientError listener, the listener answers instead', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    const seen = new Promise<[Error & { code?: string; statusCode?: number }, Duplex, IncomingMessage]>(
      (resolve) => {
        wss.on('wsClientError', (error, socket, req) => {
          resolve([error, socket, req]);
          socket.end("HTTP/1.1 418 I'm a Teapot\r\nConnection: close\r\n\r\n");
        });
      },
    );
    const response = exchange(portOf(wss), upgradeRequest('/x', { 'Sec-WebSocket-Version': '7' }));
    const [error, socket, req] = await seen;
    assert.equal(error.statusCode, 426);
    assert.equal(typeof error.message, 'string');
    assert.equal(req.url, '/x');
    assert.equal(typeof (socket as Socket).end, 'function');
    assert.equal(statusOf(await response), 418);
  });
});

describe('the default export, ws style', () => {
  test('WebSocket.Server, WebSocket.WebSocketServer, WebSocket.createWebSocketStream, WebSocket.WebSocket', async () => {
    const { default: WebSocketDefault, createWebSocketStream } = await import('../../src/index.js');
    assert.equal(WebSocketDefault, WebSocket);
    assert.equal(WebSocketDefault.Server, WebSocketServer);
    assert.equal(WebSocketDefault.WebSocketServer, WebSocketServer);
    assert.equal(WebSocketDefault.createWebSocketStream, createWebSocketStream);
    assert.equal(WebSocketDefault.WebSocket, WebSocket);
    const wss = new WebSocketDefault.Server({ port: 0, host: '127.0.0.1' });
    await next(wss, 'listening');
    const ws = await open(`ws://127.0.0.1:${portOf(wss)}`);
    ws.terminate();
    await shutdown(wss);
  });

  test('options.WebSocket: connections are instances of the given subclass', async () => {
    class Tagged extends WebSocket {
      readonly tag = 'mine';
    }
    const { wss, url } = await listen({ WebSocket: Tagged });
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const ws = await open(url);
    const [server] = (await connected) as [WebSocket];
    assert.ok(server instanceof Tagged);
    assert.equal((server as Tagged).tag, 'mine');
    ws.terminate();
  });
});

describe('options validation', () => {
  test('one and only one of port, server and noServer', () => {
    assert.throws(() => new WebSocketServer({}), TypeError);
    assert.throws(() => new WebSocketServer({ port: 0, noServer: true }), TypeError);
    assert.throws(() => new WebSocketServer({ server: http.createServer(), noServer: true }), TypeError);
    assert.throws(() => new WebSocketServer({ port: 0, server: http.createServer() }), TypeError);
  });

  test('limits must be non-negative integers, the heartbeat positive, deflate windows 8-15', () => {
    assert.throws(() => new WebSocketServer({ noServer: true, maxPayload: -1 }), TypeError);
    assert.throws(() => new WebSocketServer({ noServer: true, maxPayload: 1.5 }), TypeError);
    assert.throws(() => new WebSocketServer({ noServer: true, closeTimeout: -5 }), TypeError);
    assert.throws(
      () => new WebSocketServer({ noServer: true, heartbeat: { interval: 0, timeout: 10 } }),
      TypeError,
    );
    assert.throws(
      () => new WebSocketServer({ noServer: true, perMessageDeflate: { serverMaxWindowBits: 20 } }),
    );
  });
});
