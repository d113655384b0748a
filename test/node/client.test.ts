/**
 * The client WebSocket's options and handshake as the `ws` package defines them: headers, origin,
 * subprotocols, timeouts, limits, permessage-deflate, redirects, non-101 answers, unix sockets,
 * binaryType, autoPong, UTF-8 validation, URL errors and wss:// with a self-signed certificate.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, describe, test } from 'node:test';
import { type VerifyClientInfo, WebSocket, WebSocketServer } from '../../src/index.js';
import { Opcode } from '../../src/protocol/constants.js';
import {
  closed,
  closeServer,
  collect,
  delay,
  listen,
  next,
  open,
  pair,
  portOf,
  rawServer,
  serverFrame,
  shutdown,
  tempDir,
  track,
} from '../helpers/net.js';

/** A server that records each upgrade request; resolves with it and the client once connected. */
async function withRequest(
  path: string,
  protocols?: string | string[] | ConstructorParameters<typeof WebSocket>[2],
  options?: ConstructorParameters<typeof WebSocket>[2],
): Promise<{ ws: WebSocket; req: IncomingMessage; server: WebSocket }> {
  const { wss, url } = await listen();
  after(() => shutdown(wss));
  const connected = next(wss, 'connection');
  const ws = await open(url + path, protocols, options);
  const [server, req] = (await connected) as [WebSocket, IncomingMessage];
  return { ws, req, server };
}

/** An HTTP server whose upgrade handler is `onUpgrade`, on an ephemeral loopback port. */
async function upgradeServer(
  onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<{ server: http.Server; base: string }> {
  const server = track(http.createServer());
  server.on('upgrade', onUpgrade);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  after(() => closeServer(server));
  return { server, base: `ws://127.0.0.1:${portOf(server)}` };
}

describe('request options', () => {
  test('headers and origin reach the server', async () => {
    const { ws, req } = await withRequest('/h', {
      headers: { 'X-Token': 'abc', Cookie: 'a=1' },
      origin: 'https://app.example',
    });
    assert.equal(req.headers['x-token'], 'abc');
    assert.equal(req.headers.cookie, 'a=1');
    assert.equal(req.headers.origin, 'https://app.example');
    assert.equal(req.headers['sec-websocket-version'], '13');
    ws.terminate();
  });

  test('user and password in the URL become Basic authorization', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const ws = await open(url.replace('ws://', 'ws://user:p%40ss@'));
    const [, req] = (await connected) as [WebSocket, IncomingMessage];
    assert.equal(req.headers.authorization, `Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    ws.terminate();
  });

  test('finishRequest gets the request and the WebSocket, and sends it itself', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    let given: WebSocket | undefined;
    const ws = new WebSocket(url, {
      finishRequest: (request, websocket) => {
        given = websocket;
        request.setHeader('X-Late', 'set in finishRequest');
        request.end();
      },
    });
    await next(ws, 'open');
    const [, req] = (await connected) as [WebSocket, IncomingMessage];
    assert.equal(given, ws);
    assert.equal(req.headers['x-late'], 'set in finishRequest');
    ws.terminate();
  });

  test('url is the address connected to; http: becomes ws:', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const ws = await open(`${url.replace('ws:', 'http:')}/a?b=c`);
    assert.equal(ws.url, `${url}/a?b=c`);
    ws.terminate();
  });
});

describe('subprotocols', () => {
  test('a string or a list is offered; the server picks; protocol reports it', async () => {
    const one = await withRequest('/', 'chat');
    assert.equal(one.req.headers['sec-websocket-protocol'], 'chat');
    assert.equal(one.ws.protocol, 'chat');
    one.ws.terminate();
    const two = await withRequest('/', ['v1.json', 'v2.json']);
    assert.equal(two.req.headers['sec-websocket-protocol'], 'v1.json,v2.json');
    assert.equal(two.ws.protocol, 'v1.json');
    assert.equal(two.server.protocol, 'v1.json');
    two.ws.terminate();
  });

  test('no protocols offered: protocol is the empty string', async () => {
    const { ws, req } = await withRequest('/');
    assert.equal(req.headers['sec-websocket-protocol'], undefined);
    assert.equal(ws.protocol, '');
    ws.terminate();
  });

  test('invalid or duplicated subprotocols throw a SyntaxError synchronously', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', ['a', 'a']), SyntaxError);
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', 'has space'), SyntaxError);
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', ['ok', '']), SyntaxError);
  });

  test('a server answering a subprotocol that was not offered fails the handshake', async () => {
    const { server, url } = await rawServer(() => {}, ['Sec-WebSocket-Protocol: other']);
    after(() => closeServer(server));
    const result = await closed(new WebSocket(url, ['mine']));
    assert.equal(result.code, 1006);
    assert.match(String(result.error?.message), /invalid subprotocol/);
  });

  test('parley: a server that selects no subprotocol is accepted (RFC 6455 4.2.2; ws refuses)', async () => {
    const { server, url } = await rawServer(() => {});
    after(() => closeServer(server));
    const ws = await open(url, ['mine']);
    assert.equal(ws.protocol, '');
    ws.terminate();
  });
});

describe('handshake failures', () => {
  test('handshakeTimeout: a server that never answers gives error and close 1006', async () => {
    const silent = track(
      http.createServer(() => {
        /* never answers */
      }),
    );
    silent.on('upgrade', () => {
      /* never answers */
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    after(() => closeServer(silent));
    const ws = new WebSocket(`ws://127.0.0.1:${portOf(silent)}`, { handshakeTimeout: 200 });
    const result = await closed(ws);
    assert.equal(result.code, 1006);
    assert.equal(result.error?.message, 'Opening handshake has timed out');
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test('unexpected-response: a non-101 answer goes to the listener, which owns the response', async () => {
    const { base } = await upgradeServer((_req, socket) => {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 4\r\nX-Why: nope\r\n\r\ndeny');
    });
    const ws = new WebSocket(base);
    const [req, res] = (await next(ws, 'unexpected-response')) as [ClientRequest, IncomingMessage];
    assert.equal(typeof req.setHeader, 'function');
    assert.equal(res.statusCode, 403);
    assert.equal(res.headers['x-why'], 'nope');
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.equal(body, 'deny');
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    const result = closed(ws);
    ws.terminate();
    assert.equal((await result).code, 1006);
  });

  test('a non-101 answer with no listener: error "Unexpected server response" and close 1006', async () => {
    const { base } = await upgradeServer((_req, socket) => {
      socket.end('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n');
    });
    const result = await closed(new WebSocket(base));
    assert.equal(result.code, 1006);
    assert.equal(result.error?.message, 'Unexpected server response: 500');
  });

  test('a wrong Sec-WebSocket-Accept fails the handshake', async () => {
    const { base } = await upgradeServer((_req, socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n',
      );
    });
    const result = await closed(new WebSocket(base));
    assert.equal(result.code, 1006);
    assert.equal(result.error?.message, 'Invalid Sec-WebSocket-Accept header');
  });

  test('an extension the client did not offer fails the handshake', async () => {
    const { server, url } = await rawServer(() => {}, ['Sec-WebSocket-Extensions: permessage-deflate']);
    after(() => closeServer(server));
    const result = await closed(new WebSocket(url, { perMessageDeflate: false }));
    assert.equal(result.code, 1006);
    assert.match(String(result.error?.message), /no extension was requested/);
  });

  test('upgrade is emitted with the 101 response before open', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const ws = new WebSocket(url);
    const order: string[] = [];
    ws.on('upgrade', (res) =>
      order.push(`upgrade ${res.statusCode} ${typeof res.headers['sec-websocket-accept']}`),
    );
    ws.on('open', () => order.push('open'));
    await next(ws, 'open');
    assert.deepEqual(order, ['upgrade 101 string', 'open']);
    ws.terminate();
  });

  test('send while CONNECTING throws; close() while CONNECTING aborts with error then close 1006', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const ws = new WebSocket(url);
    assert.throws(() => ws.send('early'), /CONNECTING/);
    ws.close();
    // Listeners added after close() still see the events, as with ws (they are emitted later).
    const result = await closed(ws);
    assert.equal(result.code, 1006);
    assert.equal(result.error?.message, 'WebSocket was closed before the connection was established');
  });

  test('a refused connection: error ECONNREFUSED and close 1006', async () => {
    const { wss, url } = await listen();
    await shutdown(wss);
    const result = await closed(new WebSocket(url));
    assert.equal(result.code, 1006);
    assert.equal((result.error as NodeJS.ErrnoException).code, 'ECONNREFUSED');
  });
});

describe('URL errors', () => {
  test('bad URLs throw a SyntaxError synchronously, as in ws', () => {
    assert.throws(() => new WebSocket('not a url'), SyntaxError);
    assert.throws(() => new WebSocket('ftp://127.0.0.1/'), {
      name: 'SyntaxError',
      message: /protocol must be one of/,
    });
    assert.throws(() => new WebSocket('ws://127.0.0.1/#frag'), {
      name: 'SyntaxError',
      message: 'The URL contains a fragment identifier',
    });
    assert.throws(() => new WebSocket('ws+unix:'), SyntaxError);
  });

  test('an unsupported protocolVersion throws a RangeError', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1', { protocolVersion: 8 }), RangeError);
  });

  test('URL objects are accepted', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const ws = new WebSocket(new URL(`${url}/u`));
    await next(ws, 'open');
    assert.equal(ws.url, `${url}/u`);
    ws.terminate();
  });
});

describe('maxPayload', () => {
  test('a server message over the client limit is failed with 1009', async () => {
    const { wss, client, server } = await pair({}, { maxPayload: 100 });
    after(() => shutdown(wss));
    const received = collect(client);
    const serverClosed = closed(server);
    const clientClosed = closed(client);
    server.send(Buffer.alloc(100));
    server.send(Buffer.alloc(101));
    assert.equal((await clientClosed).code, 1009);
    assert.equal((await serverClosed).code, 1009);
    assert.equal(received.length, 1);
  });
});

describe('permessage-deflate', () => {
  test('offered by default; negotiated when the server accepts; extensions reports it', async () => {
    const { wss, client, server } = await pair({ perMessageDeflate: { threshold: 0 } });
    after(() => shutdown(wss));
    assert.match(client.extensions, /^permessage-deflate/);
    assert.equal(server.extensions, client.extensions);
    const got = next(server, 'message');
    client.send('compressed hello');
    assert.equal(String((await got)[0]), 'compressed hello');
    const back = next(client, 'message');
    server.send('compressed reply');
    assert.equal(String((await back)[0]), 'compressed reply');
  });

  test('not negotiated when either side declines', async () => {
    const off = await pair({ perMessageDeflate: false });
    after(() => shutdown(off.wss));
    assert.equal(off.client.extensions, '');
    const declined = await pair({ perMessageDeflate: true }, { perMessageDeflate: false });
    after(() => shutdown(declined.wss));
    assert.equal(declined.client.extensions, '');
  });

  test('client window bits are offered and honoured', async () => {
    const { wss, client } = await pair(
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { serverMaxWindowBits: 10, threshold: 0 } },
    );
    after(() => shutdown(wss));
    assert.match(client.extensions, /server_max_window_bits=10/);
    const echo = next(client, 'message');
    for (const ws of wss.clients ?? []) ws.on('message', (data: Buffer) => ws.send(data));
    const big = Buffer.alloc(50_000, 'abcdefgh');
    client.send(big);
    assert.ok(((await echo)[0] as Buffer).equals(big));
  });
});

describe('redirects', () => {
  /** A server redirecting /old to /new (302) and /loop to itself, and accepting /new. */
  async function redirecting(): Promise<{ base: string; requests: IncomingMessage[] }> {
    const wss = new WebSocketServer({ noServer: true });
    const requests: IncomingMessage[] = [];
    const { base } = await upgradeServer((req, socket, head) => {
      requests.push(req);
      if (req.url === '/old' || req.url === '/loop') {
        const to = req.url === '/old' ? '/new' : '/loop';
        socket.end(`HTTP/1.1 302 Found\r\nLocation: ${to}\r\nContent-Length: 0\r\n\r\n`);
      } else {
        wss.handleUpgrade(req, socket, head, () => {});
      }
    });
    after(() => shutdown(wss));
    return { base, requests };
  }

  test('followRedirects: redirect is emitted with the new URL and request; url is the final one', async () => {
    const { base, requests } = await redirecting();
    const ws = new WebSocket(`${base}/old`, { followRedirects: true, headers: { 'X-Keep': 'yes' } });
    const redirects: Array<{ url: string; header: unknown }> = [];
    ws.on('redirect', (url, req) => redirects.push({ url, header: req.getHeader('x-keep') }));
    await next(ws, 'open');
    assert.deepEqual(redirects, [{ url: `${base}/new`, header: 'yes' }]);
    assert.equal(ws.url, `${base}/new`);
    assert.equal(requests[1].headers['x-keep'], 'yes');
    ws.terminate();
  });

  test('the redirect listener may change the headers of the next request, as in ws', async () => {
    const { base, requests } = await redirecting();
    const ws = new WebSocket(`${base}/old`, { followRedirects: true, headers: { Authorization: 'secret' } });
    ws.on('redirect', (_url, req) => {
      req.removeHeader('authorization');
      req.setHeader('X-Added', '1');
    });
    await next(ws, 'open');
    assert.equal(requests[0].headers.authorization, 'secret');
    assert.equal(requests[1].headers.authorization, undefined);
    assert.equal(requests[1].headers['x-added'], '1');
    ws.terminate();
  });

  test('credentials from the URL follow a redirect to the same host', async () => {
    const { base, requests } = await redirecting();
    const ws = new WebSocket(`${base.replace('ws://', 'ws://me:pw@')}/old`, { followRedirects: true });
    await next(ws, 'open');
    const basic = `Basic ${Buffer.from('me:pw').toString('base64')}`;
    assert.equal(requests[0].headers.authorization, basic);
    assert.equal(requests[1].headers.authorization, basic);
    ws.terminate();
  });

  test('credentials are not sent to another host', async () => {
    const { wss, url: target } = await listen();
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const { base } = await upgradeServer((_req, socket) => {
      socket.end(`HTTP/1.1 301 Moved\r\nLocation: ${target}/there\r\nContent-Length: 0\r\n\r\n`);
    });
    const ws = new WebSocket(base, {
      followRedirects: true,
      headers: { Authorization: 'secret', 'X-Other': 'o' },
    });
    await next(ws, 'open');
    const [, req] = (await connected) as [WebSocket, IncomingMessage];
    assert.equal(req.headers.authorization, undefined);
    assert.equal(req.headers['x-other'], 'o');
    ws.terminate();
  });

  test('maxRedirects: a redirect loop ends with "Maximum redirects exceeded"', async () => {
    const { base, requests } = await redirecting();
    const ws = new WebSocket(`${base}/loop`, { followRedirects: true, maxRedirects: 3 });
    let redirects = 0;
    ws.on('redirect', () => redirects++);
    const result = await closed(ws);
    assert.equal(result.code, 1006);
    assert.equal(result.error?.message, 'Maximum redirects exceeded');
    assert.equal(redirects, 3);
    assert.equal(requests.length, 4);
  });

  test('without followRedirects a 302 is an unexpected response', async () => {
    const { base } = await redirecting();
    const result = await closed(new WebSocket(`${base}/old`));
    assert.equal(result.error?.message, 'Unexpected server response: 302');
  });
});

describe('ws+unix: URLs', () => {
  test('connects over a unix socket with the request path and query', async (t) => {
    if (process.platform === 'win32') return t.skip('no unix sockets on Windows');
    const socketPath = join(tempDir(), 'ws.sock');
    const server = track(http.createServer());
    const wss = new WebSocketServer({ server });
    server.listen(socketPath);
    await once(server, 'listening');
    after(async () => {
      await shutdown(wss);
      await closeServer(server);
    });
    const connected = next(wss, 'connection');
    const ws = await open(`ws+unix:${socketPath}:/chat/room?id=1`);
    const [serverSide, req] = (await connected) as [WebSocket, IncomingMessage];
    assert.equal(req.url, '/chat/room?id=1');
    const echo = next(ws, 'message');
    serverSide.send('over unix');
    assert.equal(String((await echo)[0]), 'over unix');
    ws.terminate();
  });
});

describe('binaryType', () => {
  /** The client's view of a binary message sent by the server in `parts` fragments. */
  async function receiveAs(
    type: 'nodebuffer' | 'arraybuffer' | 'fragments',
    parts: string[],
  ): Promise<unknown> {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    client.binaryType = type;
    assert.equal(client.binaryType, type);
    const got = next(client, 'message');
    for (const [i, part] of parts.entries()) server.send(Buffer.from(part), { fin: i === parts.length - 1 });
    const [data, isBinary] = await got;
    assert.equal(isBinary, true);
    return data;
  }

  test('nodebuffer (the default) gives one Buffer', async () => {
    const data = await receiveAs('nodebuffer', ['ab', 'cd']);
    assert.ok(Buffer.isBuffer(data));
    assert.equal(String(data), 'abcd');
  });

  test('arraybuffer gives an ArrayBuffer with exactly the message', async () => {
    const data = await receiveAs('arraybuffer', ['ab', 'cd']);
    assert.ok(data instanceof ArrayBuffer);
    assert.equal(Buffer.from(data).toString(), 'abcd');
  });

  test('fragments gives the frames payloads', async () => {
    const data = (await receiveAs('fragments', ['ab', 'cd', 'e'])) as Buffer[];
    assert.ok(Array.isArray(data));
    assert.deepEqual(data.map(String), ['ab', 'cd', 'e']);
  });

  test('an unknown binaryType is ignored; text is always a Buffer with isBinary false', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    client.binaryType = 'arraybuffer';
    (client as unknown as { binaryType: string }).binaryType = 'blob';
    assert.equal(client.binaryType, 'arraybuffer');
    const got = next(client, 'message');
    server.send('text');
    const [data, isBinary] = await got;
    assert.ok(Buffer.isBuffer(data));
    assert.equal(isBinary, false);
  });
});

describe('autoPong', () => {
  test('on by default: a ping is answered with its payload', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const pinged = next(client, 'ping');
    const pong = next(server, 'pong');
    server.ping('are you there');
    assert.equal(String((await pinged)[0]), 'are you there');
    assert.equal(String((await pong)[0]), 'are you there');
  });

  test('false: the ping event fires and no pong is sent', async () => {
    const { wss, client, server } = await pair({}, { autoPong: false });
    after(() => shutdown(wss));
    let pongs = 0;
    server.on('pong', () => pongs++);
    const pinged = next(client, 'ping');
    server.ping('x');
    await pinged;
    await delay(200);
    assert.equal(pongs, 0);
    client.pong('manual');
    const [data] = await next(server, 'pong');
    assert.equal(String(data), 'manual');
  });
});

describe('skipUTF8Validation', () => {
  const invalid = Buffer.from([0x68, 0x69, 0xff, 0xfe]);

  test('off (default): invalid UTF-8 in a text message is failed with 1007', async () => {
    const { server, url } = await rawServer((socket) => socket.write(serverFrame(Opcode.Text, invalid)));
    after(() => closeServer(server));
    const ws = new WebSocket(url);
    const result = await closed(ws);
    // As in ws, the close event reports the code of the failure even though no close frame came back.
    assert.equal(result.code, 1007);
    assert.equal((result.error as Error & { code?: string }).code, 'WS_ERR_INVALID_UTF8');
  });

  test('on: the bytes are delivered as they came', async () => {
    const { server, url } = await rawServer((socket) => socket.write(serverFrame(Opcode.Text, invalid)));
    after(() => closeServer(server));
    const ws = new WebSocket(url, { skipUTF8Validation: true });
    const [data, isBinary] = await next(ws, 'message');
    assert.ok((data as Buffer).equals(invalid));
    assert.equal(isBinary, false);
    ws.terminate();
  });
});

describe('wss://', () => {
  /** A self-signed certificate for 127.0.0.1 made with openssl, or null if openssl is missing. */
  function selfSigned(): { key: Buffer; cert: Buffer } | null {
    const dir = tempDir();
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1'].concat([
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=IP:127.0.0.1,DNS:localhost',
        ]),
        { stdio: 'ignore' },
      );
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    return { key: readFileSync(key), cert: readFileSync(cert) };
  }

  test('connects to an https server with a self-signed certificate', async (t) => {
    const pem = selfSigned();
    if (pem === null) return t.skip('openssl is not installed');
    const server = track(https.createServer(pem));
    const secure: boolean[] = [];
    const wss = new WebSocketServer({
      server,
      verifyClient: (info: VerifyClientInfo) => {
        secure.push(info.secure);
        return true;
      },
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    after(async () => {
      await shutdown(wss);
      await closeServer(server);
    });
    wss.on('connection', (ws) => ws.on('message', (data: Buffer) => ws.send(data)));
    const url = `wss://127.0.0.1:${portOf(server)}`;

    const untrusted = await closed(new WebSocket(url));
    assert.equal(untrusted.code, 1006);
    assert.match(String((untrusted.error as NodeJS.ErrnoException).code), /SELF_SIGNED|UNABLE_TO_VERIFY/);

    const ws = await open(url, { ca: pem.cert });
    assert.equal(ws.url, `${url}/`);
    const echo = next(ws, 'message');
    ws.send('secret');
    assert.equal(String((await echo)[0]), 'secret');
    assert.deepEqual(secure, [true]);
    ws.terminate();

    const insecure = await open(url.replace('wss:', 'https:'), { rejectUnauthorized: false });
    insecure.terminate();
  });
});
