// Hostile input over raw HTTP and raw WebSockets: the offending session closes, the process and the
// other sessions live on.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { Socket as EioClient } from 'engine.io-client';
import type { CloseReason, Socket } from '../../src/engine/index.js';
import { WebSocket } from '../../src/index.js';
import { handshake, once, type Running, raw, sleep, startParley } from './helpers.js';

const P = '/engine.io/?EIO=4&transport=polling';

/** Opens a polling session and resolves with its sid and the reason it eventually closes. */
async function session(srv: Running): Promise<{ sid: string; socket: Socket; closed: Promise<CloseReason> }> {
  const conn = once<[Socket]>(srv.engine, 'connection');
  const { sid } = await handshake(srv.port);
  const [socket] = await conn;
  const closed = new Promise<CloseReason>((resolve) => socket.on('close', (reason) => resolve(reason)));
  return { sid, socket, closed };
}

/** A healthy bystander: an engine.io-client that must keep echoing through every test. */
async function bystander(srv: Running, t: { after: (fn: () => void) => void }): Promise<() => Promise<void>> {
  const client = new EioClient(srv.url, { transports: ['polling'] });
  t.after(() => client.close());
  await once(client, 'open');
  return async () => {
    const echoed = once<[string]>(client, 'message');
    client.send('still here');
    assert.equal((await echoed)[0], 'still here');
  };
}

async function echoServer(opts: Parameters<typeof startParley>[0] = {}): Promise<Running> {
  const srv = await startParley({ maxHttpBufferSize: 1000, maxPacketsPerPayload: 10, ...opts });
  srv.engine.on('connection', (s) => s.on('message', (d) => s.send(d)));
  return srv;
}

/**
 * Sends a raw WebSocket upgrade request for `query`, then `frame` (if given) once the response
 * head arrived, and resolves with everything the server wrote until it closed (or 3 s passed).
 */
function rawUpgrade(port: number, query: string, frame?: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let sent = false;
    sock.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      if (frame && !sent && data.includes('\r\n\r\n')) {
        sent = true;
        sock.write(frame);
      }
    });
    sock.on('error', () => {});
    const timer = setTimeout(() => sock.destroy(), 3000);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(data.toString('latin1'));
    });
    sock.write(
      `GET /engine.io/?${query} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
  });
}

/** A masked client frame with the given first byte (FIN, RSV bits, opcode). */
function maskedFrame(first: number, payload: string | Buffer): Buffer {
  const mask = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload).map((b, i) => b ^ mask[i % 4]!);
  return Buffer.concat([Buffer.from([first, 0x80 | body.length]), mask, body]);
}

describe('engine hostile input: handshake and routing', () => {
  it('rejects bad query parameters and methods with engine.io JSON errors', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const cases: [string, string, number, number][] = [
      ['GET', '/engine.io/?transport=polling', 400, 5],
      ['GET', '/engine.io/?EIO=3&transport=polling', 400, 5],
      ['GET', '/engine.io/?EIO=4', 400, 0],
      ['GET', '/engine.io/?EIO=4&transport=flash', 400, 0],
      ['GET', '/engine.io/?EIO=4&transport=websocket', 400, 3],
      ['POST', P, 400, 2],
      ['PUT', P, 400, 2],
      ['GET', `${P}&sid=nope`, 400, 1],
      ['POST', `${P}&sid=nope`, 400, 1],
    ];
    for (const [method, path, status, code] of cases) {
      const res = await raw(srv.port, method, path);
      assert.equal(res.status, status, `${method} ${path}`);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(JSON.parse(res.body).code, code, `${method} ${path}`);
    }
  });

  // CVE-2023-31125: `transport=__proto__` reached a prototype property and crashed the server.
  it('refuses Object.prototype names as transport, sid or EIO over polling (CVE-2023-31125)', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const check = await bystander(srv, t);
    const errors: number[] = [];
    srv.engine.on('connection_error', (err: { code: number }) => errors.push(err.code));
    const cases: [string, number][] = [
      ['EIO=4&transport=__proto__', 0],
      ['EIO=4&transport=constructor', 0],
      ['EIO=4&transport=toString', 0],
      ['EIO=__proto__&transport=polling', 5],
      ['EIO=4&transport=polling&sid=__proto__', 1],
      ['EIO=4&transport=polling&sid=hasOwnProperty', 1],
    ];
    for (const [query, code] of cases) {
      const res = await raw(srv.port, 'GET', `/engine.io/?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal(JSON.parse(res.body).code, code, query);
    }
    assert.deepEqual(errors, [0, 0, 0, 5, 1, 1]);
    await check();
  });

  it('refuses WebSocket upgrades with a prototype-name transport or an unknown sid', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const check = await bystander(srv, t);
    const cases: [string, number][] = [
      ['EIO=4&transport=__proto__', 0],
      ['EIO=4&transport=constructor', 0],
      ['EIO=4&transport=websocket&sid=nope', 1],
      ['EIO=4&transport=websocket&sid=__proto__', 1],
    ];
    for (const [query, code] of cases) {
      const reply = await rawUpgrade(srv.port, query);
      assert.match(reply, /^HTTP\/1\.1 400 /, query);
      assert.equal(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)).code, code, query);
    }
    assert.equal(srv.engine.clientsCount, 1, 'only the bystander has a session');
    await check();
  });

  it('refuses a polling request carrying the sid of a WebSocket session (stolen sid)', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/engine.io/?EIO=4&transport=websocket`);
    t.after(() => ws.close());
    const [open] = await once<[Buffer]>(ws, 'message');
    const sid = JSON.parse(String(open).slice(1)).sid as string;
    const res = await raw(srv.port, 'GET', `${P}&sid=${sid}`);
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body).code, 3);
    const post = await raw(srv.port, 'POST', `${P}&sid=${sid}`, '4injected');
    assert.equal(post.status, 400);
    // the real session is untouched and never saw the injected message
    ws.send('4mine');
    const [echo] = await once<[Buffer]>(ws, 'message');
    assert.equal(String(echo), '4mine');
  });

  it('closes a second WebSocket for an upgraded session and keeps the first', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const { sid } = await session(srv);
    const first = new WebSocket(`ws://127.0.0.1:${srv.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
    t.after(() => first.close());
    await once(first, 'open');
    first.send('2probe');
    assert.equal(String((await once<[Buffer]>(first, 'message'))[0]), '3probe');
    first.send('5');
    const second = new WebSocket(
      `ws://127.0.0.1:${srv.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`,
    );
    second.on('error', () => {});
    await once(second, 'close');
    first.send('4ok');
    assert.equal(String((await once<[Buffer]>(first, 'message'))[0]), '4ok');
  });

  it('abandons an upgrade on unexpected packets or after upgradeTimeout; polling carries on', async (t) => {
    const srv = await echoServer({ upgradeTimeout: 150 });
    t.after(() => srv.close());
    const { sid, socket } = await session(srv);
    const bad = new WebSocket(`ws://127.0.0.1:${srv.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
    await once(bad, 'open');
    bad.send('4not a probe');
    await once(bad, 'close');
    const idle = new WebSocket(`ws://127.0.0.1:${srv.port}/engine.io/?EIO=4&transport=websocket&sid=${sid}`);
    await once(idle, 'open');
    await once(idle, 'close', 2000);
    assert.equal(socket.readyState, 'open');
    assert.equal(socket.transport.name, 'polling');
    assert.equal((await raw(srv.port, 'POST', `${P}&sid=${sid}`, '4after')).status, 200);
    assert.equal((await raw(srv.port, 'GET', `${P}&sid=${sid}`)).body, '4after');
  });
});

describe('engine hostile input: polling bodies', () => {
  const bad: [string, string | Buffer, Record<string, string>, CloseReason, number][] = [
    ['an unknown packet type', 'abc', {}, 'parse error', 400],
    ['an empty record', '4a\x1e\x1e4b', {}, 'parse error', 400],
    ['bad base64', 'b!!!!', {}, 'parse error', 400],
    ['invalid UTF-8', Buffer.from([0x34, 0xff, 0xfe]), {}, 'parse error', 400],
    ['too many packets', Array(11).fill('4x').join('\x1e'), {}, 'parse error', 400],
    ['a binary content type', '4x', { 'content-type': 'application/octet-stream' }, 'transport error', 400],
    ['a client ping (wrong heartbeat direction)', '2', {}, 'parse error', 200],
  ];
  for (const [what, body, headers, reason, status] of bad) {
    it(`closes the session on ${what}`, async (t) => {
      const srv = await echoServer();
      t.after(() => srv.close());
      const check = await bystander(srv, t);
      const { sid, closed } = await session(srv);
      const res = await raw(srv.port, 'POST', `${P}&sid=${sid}`, body, headers);
      assert.equal(res.status, status);
      assert.equal(await closed, reason);
      assert.equal((await raw(srv.port, 'GET', `${P}&sid=${sid}`)).status, 400);
      await check();
    });
  }

  it('accepts exactly maxPacketsPerPayload packets', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const { sid } = await session(srv);
    const res = await raw(srv.port, 'POST', `${P}&sid=${sid}`, Array(10).fill('4x').join('\x1e'));
    assert.equal(res.status, 200);
    assert.equal((await raw(srv.port, 'GET', `${P}&sid=${sid}`)).body, Array(10).fill('4x').join('\x1e'));
  });

  it('answers 413 to an oversized body announced by Content-Length', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const check = await bystander(srv, t);
    const { sid, closed } = await session(srv);
    const res = await raw(srv.port, 'POST', `${P}&sid=${sid}`, `4${'x'.repeat(2000)}`);
    assert.equal(res.status, 413);
    assert.equal(await closed, 'transport error');
    await check();
  });

  it('cuts a chunked body as soon as it passes maxHttpBufferSize', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const check = await bystander(srv, t);
    const { sid, closed } = await session(srv);
    // an endless chunked body: the server must answer and drop it without reading it all
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: srv.port, method: 'POST', path: `${P}&sid=${sid}`, agent: false },
        (res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
        },
      );
      req.on('error', () => {});
      req.setHeader('transfer-encoding', 'chunked');
      let sent = 0;
      const pump = (): void => {
        if (req.destroyed || sent > 10_000_000) {
          if (sent > 10_000_000) reject(new Error('server kept reading'));
          return;
        }
        sent += 500;
        req.write('4'.padEnd(500, 'x'), () => setImmediate(pump));
      };
      pump();
    });
    assert.equal(status, 413);
    assert.equal(await closed, 'transport error');
    await check();
  });

  it('closes the session on overlapping GETs: the first gets a close packet, the second 400', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const { sid, closed } = await session(srv);
    const first = raw(srv.port, 'GET', `${P}&sid=${sid}`);
    await sleep(30);
    const second = await raw(srv.port, 'GET', `${P}&sid=${sid}`);
    assert.equal(second.status, 400);
    const r1 = await first;
    assert.equal(r1.status, 200);
    assert.equal(r1.body, '1');
    assert.equal(await closed, 'transport error');
  });

  it('closes the session on overlapping POSTs', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const { sid, closed } = await session(srv);
    // a slow POST: headers and half the body, then nothing
    const slow = request({
      host: '127.0.0.1',
      port: srv.port,
      method: 'POST',
      path: `${P}&sid=${sid}`,
      agent: false,
      headers: { 'content-length': '10' },
    });
    slow.on('error', () => {});
    slow.on('response', (r) => r.resume());
    slow.write('4abc');
    t.after(() => slow.destroy());
    await sleep(30);
    const second = await raw(srv.port, 'POST', `${P}&sid=${sid}`, '4x');
    assert.equal(second.status, 400);
    assert.equal(await closed, 'transport error');
  });

  it('closes the session when a pending poll is aborted', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const { sid, closed } = await session(srv);
    const req = request({ host: '127.0.0.1', port: srv.port, path: `${P}&sid=${sid}`, agent: false });
    req.on('error', () => {});
    req.end();
    await sleep(30);
    req.destroy();
    assert.equal(await closed, 'transport error');
  });
});

describe('engine hostile input: WebSocket frames', () => {
  async function wsSession(srv: Running): Promise<{ ws: WebSocket; closed: Promise<CloseReason> }> {
    const conn = once<[Socket]>(srv.engine, 'connection');
    const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/engine.io/?EIO=4&transport=websocket`);
    ws.on('error', () => {});
    await once(ws, 'message');
    const [socket] = await conn;
    return { ws, closed: new Promise((resolve) => socket.on('close', (reason) => resolve(reason))) };
  }

  const cases: [string, string | Buffer, CloseReason][] = [
    ['an unknown packet type', 'abc', 'parse error'],
    ['an empty text frame', '', 'parse error'],
    ['invalid base64 binary', 'b%%%', 'parse error'],
    ['a client ping', '2', 'parse error'],
    ['a message over maxHttpBufferSize', `4${'x'.repeat(2000)}`, 'transport error'],
  ];
  for (const [what, frame, reason] of cases) {
    it(`closes the session on ${what}`, async (t) => {
      const srv = await echoServer();
      t.after(() => srv.close());
      const check = await bystander(srv, t);
      const { ws, closed } = await wsSession(srv);
      const wsClosed = once<[number]>(ws, 'close');
      ws.send(frame);
      assert.equal(await closed, reason);
      const [code] = await wsClosed;
      if (what.includes('maxHttpBufferSize')) assert.equal(code, 1009);
      await check();
    });
  }

  // CVE-2022-21676: an invalid WebSocket frame (RSV2/RSV3 set) raised an unhandled 'error'.
  const invalidFrames: [string, Buffer][] = [
    ['RSV2 and RSV3 set (CVE-2022-21676)', maskedFrame(0x80 | 0x20 | 0x10 | 0x1, '4hi')],
    ['RSV1 without permessage-deflate', maskedFrame(0x80 | 0x40 | 0x1, '4hi')],
    ['an unmasked client frame', Buffer.concat([Buffer.from([0x81, 3]), Buffer.from('4hi')])],
    ['a reserved opcode', maskedFrame(0x80 | 0x3, '4hi')],
  ];
  for (const [what, frame] of invalidFrames) {
    it(`closes the session on a frame with ${what} (1002), the process lives`, async (t) => {
      const srv = await echoServer();
      t.after(() => srv.close());
      const check = await bystander(srv, t);
      const conn = once<[Socket]>(srv.engine, 'connection');
      const replyDone = rawUpgrade(srv.port, 'EIO=4&transport=websocket', frame);
      const [socket] = await conn;
      const closed = new Promise<CloseReason>((resolve) => socket.on('close', (reason) => resolve(reason)));
      assert.equal(await closed, 'transport error');
      const reply = await replyDone;
      assert.match(reply, /^HTTP\/1\.1 101 /);
      // the server's close frame: opcode 8, status 1002 (protocol error)
      assert.ok(reply.endsWith('\x88\x02\x03\xea'), JSON.stringify(reply.slice(-8)));
      await check();
    });
  }

  // The transport takes a text message's UTF-8 as checked: the WebSocket must refuse it first.
  it('closes the session on a text message that is not UTF-8 (1007), the process lives', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const check = await bystander(srv, t);
    const conn = once<[Socket]>(srv.engine, 'connection');
    const frame = maskedFrame(0x81, Buffer.from([0x34, 0xff, 0xfe])); // "4" (message), then not UTF-8
    const replyDone = rawUpgrade(srv.port, 'EIO=4&transport=websocket', frame);
    const [socket] = await conn;
    const messages: unknown[] = [];
    socket.on('message', (data) => messages.push(data));
    const closed = new Promise<CloseReason>((resolve) => socket.on('close', (reason) => resolve(reason)));
    assert.equal(await closed, 'transport error');
    const reply = await replyDone;
    // the server's close frame: opcode 8, status 1007 (invalid frame payload data)
    assert.ok(reply.endsWith('\x88\x02\x03\xef'), JSON.stringify(reply.slice(-8)));
    assert.deepEqual(messages, []);
    await check();
  });

  it('accepts binary frames up to the limit', async (t) => {
    const srv = await echoServer();
    t.after(() => srv.close());
    const { ws } = await wsSession(srv);
    t.after(() => ws.close());
    ws.send(Buffer.alloc(1000, 1));
    const [data, isBinary] = await once<[Buffer, boolean]>(ws, 'message');
    assert.equal(isBinary, true);
    assert.equal(data.length, 1000);
  });
});
