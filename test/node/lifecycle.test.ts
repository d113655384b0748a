/**
 * A connection's life: readyState, every way it can end (close both ways, terminate, a dead peer,
 * a peer that never answers the close), ping/pong, pause/resume, the heartbeat, and sends around
 * the close, on real sockets; raw TCP peers stand in for misbehaving ends.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { after, describe, test } from 'node:test';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import { WebSocket } from '../../src/index.js';
import { Opcode } from '../../src/protocol/constants.js';
import {
  clientFrame,
  closed,
  closeServer,
  collect,
  delay,
  listen,
  next,
  open,
  pair,
  portOf,
  rawClient,
  rawPair,
  rawServer,
  serverFrame,
  shutdown,
  upgradeRequest,
  waitFor,
} from '../helpers/net.js';

/** A close frame payload: the code and a reason. */
function closePayload(code: number, reason = ''): Buffer {
  const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
}

describe('readyState', () => {
  test('CONNECTING, OPEN, CLOSING, CLOSED on both ends, with the constants of ws', async () => {
    assert.deepEqual(
      [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
      [0, 1, 2, 3],
    );
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const client = new WebSocket(url);
    assert.equal(client.readyState, client.CONNECTING);
    await next(client, 'open');
    assert.equal(client.readyState, WebSocket.OPEN);
    const [server] = (await connected) as [WebSocket];
    assert.equal(server.readyState, WebSocket.OPEN);
    const serverClosed = closed(server);
    const clientClosed = closed(client);
    client.close(1000);
    assert.equal(client.readyState, WebSocket.CLOSING);
    await clientClosed;
    await serverClosed;
    assert.equal(client.readyState, WebSocket.CLOSED);
    assert.equal(server.readyState, WebSocket.CLOSED);
  });
});

describe('closing', () => {
  test('the client closes with a code and reason: both ends see them, cleanly', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const serverClosed = closed(server);
    const clientClosed = closed(client);
    const wasClean: boolean[] = [];
    client.addEventListener('close', (event) => wasClean.push(event.wasClean === true));
    client.close(4000, 'bye now');
    assert.deepEqual(await serverClosed, { code: 4000, reason: 'bye now' });
    assert.deepEqual(await clientClosed, { code: 4000, reason: 'bye now' });
    assert.deepEqual(wasClean, [true]);
  });

  test('the server closes with a code and reason: both ends see them', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const serverClosed = closed(server);
    const clientClosed = closed(client);
    server.close(1001, 'restarting');
    assert.deepEqual(await clientClosed, { code: 1001, reason: 'restarting' });
    assert.deepEqual(await serverClosed, { code: 1001, reason: 'restarting' });
  });

  test('close() without a code is 1005 on both ends', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const serverClosed = closed(server);
    client.close();
    assert.equal((await closed(client)).code, 1005);
    assert.equal((await serverClosed).code, 1005);
  });

  test('an invalid code or too long a reason throws (a TypeError, as in ws)', async () => {
    const { wss, client } = await pair();
    after(() => shutdown(wss));
    assert.throws(() => client.close(1004), TypeError);
    assert.throws(() => client.close(999), TypeError);
    assert.throws(() => client.close(1000, 'x'.repeat(124)), TypeError);
    assert.equal(client.readyState, WebSocket.OPEN);
    client.close(1000, 'x'.repeat(123));
    assert.equal((await closed(client)).code, 1000);
  });

  test('terminate() on either end: the other sees 1006', async () => {
    const first = await pair();
    after(() => shutdown(first.wss));
    const serverClosed = closed(first.server);
    first.client.terminate();
    assert.equal(first.client.readyState, WebSocket.CLOSING);
    assert.equal((await serverClosed).code, 1006);
    const second = await pair();
    after(() => shutdown(second.wss));
    const clientClosed = closed(second.client);
    second.server.terminate();
    assert.equal((await clientClosed).code, 1006);
  });

  test('the peer socket is destroyed: close is 1006', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const { socket } = await rawClient(portOf(wss));
    const [server] = (await connected) as [WebSocket];
    const serverClosed = closed(server);
    socket.destroy();
    assert.equal((await serverClosed).code, 1006);
    assert.ok(url);
  });

  test('close timeout: a peer that never answers our close frame is cut off (1006)', async () => {
    const { wss, socket, reader, server } = await rawPair({ closeTimeout: 200 });
    after(() => shutdown(wss));
    const serverClosed = closed(server);
    server.close(1000, 'please answer');
    const frame = await reader.nextFrame();
    assert.equal(frame.opcode, Opcode.Close);
    assert.deepEqual(frame.payload, closePayload(1000, 'please answer'));
    assert.equal((await serverClosed).code, 1006);
    await waitFor(() => socket.destroyed || socket.readableEnded, 5000, 'the raw socket to close');
  });

  test('close timeout on the client: a server that never answers the close frame', async () => {
    const { server, url } = await rawServer(() => {});
    after(() => closeServer(server));
    const ws = await open(url, { closeTimeout: 200 });
    const result = closed(ws);
    ws.close(1000);
    assert.equal((await result).code, 1006);
  });

  test('a peer that answers the close frame but keeps TCP open is cut off after closeTimeout', async () => {
    const { wss } = await listen({ closeTimeout: 200 });
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const socket = connect({ port: portOf(wss), host: '127.0.0.1', allowHalfOpen: true });
    socket.on('error', () => {});
    socket.write(upgradeRequest());
    await next(socket, 'data');
    const [server] = (await connected) as [WebSocket];
    const serverClosed = closed(server);
    socket.on('data', () => socket.write(clientFrame(Opcode.Close, closePayload(1000))));
    server.close(1000);
    assert.equal((await serverClosed).code, 1000, 'the close frames were exchanged');
    socket.destroy();
  });

  test('a close frame with an invalid code from the peer fails the connection with 1002', async () => {
    const { wss, socket, reader, server } = await rawPair();
    after(() => shutdown(wss));
    const serverClosed = closed(server);
    socket.write(clientFrame(Opcode.Close, closePayload(1005)));
    const frame = await reader.nextFrame();
    assert.equal(frame.opcode, Opcode.Close);
    assert.equal(frame.payload.readUInt16BE(0), 1002);
    const result = await serverClosed;
    assert.equal(result.code, 1002);
    assert.equal((result.error as Error & { code?: string }).code, 'WS_ERR_INVALID_CLOSE_CODE');
  });
});

describe('ping and pong', () => {
  test('payloads travel both ways; pongs echo the ping payload', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const serverPinged = next(server, 'ping');
    const clientPonged = next(client, 'pong');
    client.ping(Buffer.from([1, 2, 3]));
    assert.deepEqual((await serverPinged)[0], Buffer.from([1, 2, 3]));
    assert.deepEqual((await clientPonged)[0], Buffer.from([1, 2, 3]));
    const clientPinged = next(client, 'ping');
    const serverPonged = next(server, 'pong');
    server.ping('from server');
    assert.equal(String((await clientPinged)[0]), 'from server');
    assert.equal(String((await serverPonged)[0]), 'from server');
    const unsolicited = next(client, 'pong');
    server.pong('one-way');
    assert.equal(String((await unsolicited)[0]), 'one-way');
  });

  test('an empty ping, and the callback', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const pinged = next(server, 'ping');
    const sent = new Promise<Error | null | undefined>((resolve) =>
      client.ping(undefined, undefined, resolve),
    );
    assert.equal(((await pinged)[0] as Buffer).length, 0);
    assert.ifError(await sent);
  });

  test('the server option autoPong: false leaves pings unanswered', async () => {
    const { wss, client, server } = await pair({ autoPong: false });
    after(() => shutdown(wss));
    let pongs = 0;
    client.on('pong', () => pongs++);
    const pinged = next(server, 'ping');
    client.ping('hello?');
    assert.equal(String((await pinged)[0]), 'hello?');
    await delay(150);
    assert.equal(pongs, 0);
  });

  test('a control payload over 125 bytes throws', async () => {
    const { wss, client } = await pair();
    after(() => shutdown(wss));
    assert.throws(() => client.ping(Buffer.alloc(126)));
    assert.throws(() => client.pong(Buffer.alloc(126)));
    client.ping(Buffer.alloc(125));
  });
});

describe('pause and resume', () => {
  test('no message is delivered while paused; all come afterwards, in order', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const received = collect(client);
    client.pause();
    assert.equal(client.isPaused, true);
    for (let i = 0; i < 5; i++) server.send(`m${i}`);
    await delay(200);
    assert.equal(received.length, 0);
    client.resume();
    assert.equal(client.isPaused, false);
    await waitFor(() => received.length === 5);
    assert.deepEqual(
      received.map((m) => String(m.data)),
      ['m0', 'm1', 'm2', 'm3', 'm4'],
    );
  });

  test('pause() inside a message listener holds the rest of the same chunk', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const received: string[] = [];
    client.on('message', (data: Buffer) => {
      received.push(String(data));
      if (received.length === 1) client.pause();
    });
    server.send('a');
    server.send('b');
    server.send('c');
    await waitFor(() => received.length >= 1);
    await delay(150);
    assert.deepEqual(received, ['a']);
    client.resume();
    await waitFor(() => received.length === 3);
    assert.deepEqual(received, ['a', 'b', 'c']);
  });

  // Regression (CI, `parley connect` piped into a slow reader): a client paused in a message listener
  // held the rest of the chunk (messages and the server's close frame) when the server closed TCP; the
  // connection then reported 1006 and the held messages were lost.
  test('input held while paused when the peer closes TCP is delivered, then a clean close', async () => {
    const { server: raw, url } = await rawServer((socket) => {
      socket.end(
        Buffer.concat([
          serverFrame(Opcode.Text, 'a'),
          serverFrame(Opcode.Text, 'b'),
          serverFrame(Opcode.Text, 'c'),
          serverFrame(Opcode.Close, closePayload(1000)),
        ]),
      );
    });
    after(() => closeServer(raw));
    const client = new WebSocket(url);
    const received: string[] = [];
    client.on('message', (data: Buffer) => {
      received.push(String(data));
      client.pause(); // and never resumed
    });
    const result = await closed(client);
    assert.deepEqual(received, ['a', 'b', 'c']);
    assert.equal(result.code, 1000);
    assert.equal(client.readyState, WebSocket.CLOSED);
  });

  test('a message still inflating when the peer closes TCP is delivered before close', async () => {
    // Incompressible and over the 16 KiB synchronous limit: it inflates on the thread pool.
    const big = randomBytes(64 * 1024);
    const deflated = deflateRawSync(big, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const { server: raw, url } = await rawServer(
      (socket) => {
        socket.end(
          Buffer.concat([
            serverFrame(Opcode.Binary, deflated.subarray(0, deflated.length - 4), true, true),
            serverFrame(Opcode.Text, 'after'),
            serverFrame(Opcode.Close, closePayload(1000)),
          ]),
        );
      },
      ['Sec-WebSocket-Extensions: permessage-deflate'],
    );
    after(() => closeServer(raw));
    const client = new WebSocket(url, { perMessageDeflate: true });
    const received = collect(client);
    const result = await closed(client);
    assert.equal(received.length, 2);
    assert.deepEqual(received[0].data, big);
    assert.equal(String(received[1].data), 'after');
    assert.equal(result.code, 1000);
  });

  test('a paused server still answers the close frame it held when the client ends TCP', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const { socket, reader } = await rawClient(portOf(wss));
    after(() => socket.destroy());
    const [server] = (await connected) as [WebSocket];
    const received: string[] = [];
    server.on('message', (data: Buffer) => {
      received.push(String(data));
      server.pause();
    });
    const serverClosed = closed(server);
    socket.end(
      Buffer.concat([
        clientFrame(Opcode.Text, 'a'),
        clientFrame(Opcode.Text, 'b'),
        clientFrame(Opcode.Close, closePayload(1000, 'bye')),
      ]),
    );
    const result = await serverClosed;
    assert.deepEqual(received, ['a', 'b']);
    assert.deepEqual([result.code, result.reason], [1000, 'bye']);
    const echo = await reader.nextFrame();
    assert.equal(echo.opcode, Opcode.Close);
    assert.equal(echo.payload.readUInt16BE(0), 1000);
  });
});

describe('heartbeat', () => {
  /** A raw client that never answers pings; resolves with the number of pings it got. */
  async function deafClient(port: number): Promise<{ pings: () => number; gone: Promise<void> }> {
    const { socket, reader } = await rawClient(port);
    after(() => socket.destroy());
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    return { pings: () => reader.frames.filter((f) => f.opcode === Opcode.Ping).length, gone };
  }

  test('the server terminates a peer that does not answer pings', async () => {
    const { wss } = await listen({ heartbeat: { interval: 100, timeout: 100 } });
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const deaf = await deafClient(portOf(wss));
    const [server] = (await connected) as [WebSocket];
    const result = await closed(server);
    assert.equal(result.code, 1006);
    await deaf.gone;
    assert.ok(deaf.pings() >= 1);
  });

  test('a responsive peer is kept', async () => {
    const { wss, client } = await pair({ heartbeat: { interval: 50, timeout: 50 } });
    after(() => shutdown(wss));
    let pings = 0;
    client.on('ping', () => pings++);
    await delay(500);
    assert.ok(pings >= 1, `pinged ${pings} times`);
    assert.equal(client.readyState, WebSocket.OPEN);
    assert.equal(wss.clients?.size, 1);
  });

  test('pings are sent every interval, not every timeout', async () => {
    const { wss, client } = await pair({ heartbeat: { interval: 400, timeout: 50 } });
    after(() => shutdown(wss));
    let pings = 0;
    client.on('ping', () => pings++);
    await delay(1000);
    // One ping per 400 ms makes 2 or 3 in a second; a ping per 50 ms tick would make about 20.
    assert.ok(pings <= 4, `pinged ${pings} times`);
    assert.equal(client.readyState, WebSocket.OPEN);
  });

  test('works without client tracking', async () => {
    const { wss } = await listen({ clientTracking: false, heartbeat: { interval: 100, timeout: 100 } });
    const connected = next(wss, 'connection');
    const deaf = await deafClient(portOf(wss));
    after(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    const [server] = (await connected) as [WebSocket];
    assert.equal((await closed(server)).code, 1006);
    await deaf.gone;
  });

  test('the client option terminates a server that does not answer pings', async () => {
    const { server, url } = await rawServer(() => {});
    after(() => closeServer(server));
    const ws = await open(url, { heartbeat: { interval: 100, timeout: 100 } });
    assert.equal((await closed(ws)).code, 1006);
  });
});

describe('sending around the close', () => {
  test('send after close: the callback gets an error, nothing throws', async () => {
    const { wss, client } = await pair();
    after(() => shutdown(wss));
    client.close();
    const error = await new Promise<Error | null | undefined>((resolve) => client.send('late', resolve));
    assert.ok(error instanceof Error);
    assert.match(error.message, /not open/);
    await closed(client);
    const afterClose = await new Promise<Error | null | undefined>((resolve) => client.ping('x', resolve));
    assert.ok(afterClose instanceof Error);
    client.send('without a callback');
  });

  test('send callbacks are called in the order of the sends', async () => {
    const { wss, client, server } = await pair({ perMessageDeflate: { threshold: 1024 } });
    after(() => shutdown(wss));
    assert.match(client.extensions, /permessage-deflate/);
    const order: number[] = [];
    const sizes = [10, 200_000, 10, 5000, 10, 300_000, 10];
    const received = collect(server);
    for (const [i, size] of sizes.entries()) {
      client.send(Buffer.alloc(size, i), (error) => {
        assert.ifError(error);
        order.push(i);
      });
    }
    await waitFor(() => order.length === sizes.length && received.length === sizes.length, 10_000);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6]);
    assert.deepEqual(
      received.map((m) => (m.data as Buffer).length),
      sizes,
    );
  });

  test('sends made just before terminate() are handed to the OS first (as in ws)', async () => {
    const { wss, client } = await pair();
    after(() => shutdown(wss));
    const results: Array<Error | null | undefined> = [];
    client.send('a', (error) => results.push(error));
    client.send('b', (error) => results.push(error));
    client.terminate();
    await waitFor(() => results.length === 2);
    for (const error of results) assert.ifError(error);
  });
});

describe('raw frames', () => {
  test('a server frame reaches the client message listener; the client masks its frames', async () => {
    let peerReader: import('../helpers/net.js').FrameReader | undefined;
    const { server, url } = await rawServer((socket, reader) => {
      peerReader = reader;
      socket.write(serverFrame(Opcode.Text, 'hello raw'));
    });
    after(() => closeServer(server));
    const ws = new WebSocket(url);
    const [data] = await next(ws, 'message');
    assert.equal(String(data), 'hello raw');
    ws.send('back');
    const frame = await (peerReader as import('../helpers/net.js').FrameReader).nextFrame();
    assert.equal(frame.opcode, Opcode.Text);
    assert.equal(String(frame.payload), 'back');
    ws.terminate();
  });
});

describe('an owner (the layer a connection carries)', () => {
  test('is told of messages, close and errors before listeners; an owned idle connection holds no listener table', async () => {
    // no client tracking: its close listener is the only one a server adds
    const { wss, client, server } = await pair({ clientTracking: false });
    after(() => shutdown(wss));
    const seen: string[] = [];
    server._setOwner({
      onSocketMessage: (data, isBinary) => seen.push(`owner message ${String(data)} ${isBinary}`),
      onSocketClose: () => seen.push('owner close'),
      onSocketError: (error) => seen.push(`owner error ${error.message}`),
    });
    assert.equal((server as unknown as { _events?: object })._events, undefined);
    client.send('one');
    await waitFor(() => seen.length === 1);
    server.on('message', (data, isBinary) => seen.push(`listener message ${String(data)} ${isBinary}`));
    server.on('close', (code) => seen.push(`listener close ${code}`));
    client.send(Buffer.from('two'));
    // not UTF-8: the server fails the connection with 1007, and says why
    const bad = Buffer.from([0xff]);
    await waitFor(() => seen.length === 3);
    client.send(bad, { binary: false });
    await waitFor(() => seen.includes('listener close 1007'));
    assert.deepEqual(seen.slice(0, 3), [
      'owner message one false',
      'owner message two true',
      'listener message two true',
    ]);
    assert.match(seen[3] as string, /^owner error .*UTF-8/);
    assert.deepEqual(seen.slice(4), ['owner close', 'listener close 1007']);
  });
});

describe('input in many reads (the receiver is dropped between messages and made anew)', () => {
  test('split headers, fragments with a ping between them, and a close all arrive whole', async () => {
    const { wss, socket, reader, server } = await rawPair();
    after(() => shutdown(wss));
    const got = collect(server);
    const serverClosed = closed(server);
    const text = 'héllo wörld';
    const bytes = Buffer.concat([
      clientFrame(Opcode.Text, 'one'),
      clientFrame(Opcode.Text, text.slice(0, 4), false),
      clientFrame(Opcode.Ping, 'p'),
      clientFrame(Opcode.Continuation, text.slice(4)),
      clientFrame(Opcode.Binary, Buffer.from([1, 2, 3])),
      clientFrame(Opcode.Close, closePayload(1000, 'bye')),
    ]);
    // one read per write: a byte at a time, with a pause for the server to take each one
    for (const byte of bytes) {
      socket.write(Buffer.from([byte]));
      await delay(1);
    }
    const pong = await reader.nextFrame();
    assert.equal(pong.opcode, Opcode.Pong);
    assert.equal(String(pong.payload), 'p');
    const result = await serverClosed;
    assert.deepEqual([result.code, String(result.reason)], [1000, 'bye']);
    assert.deepEqual(
      got.map((m) => [m.isBinary, m.isBinary ? [...(m.data as Buffer)] : String(m.data)]),
      [
        [false, 'one'],
        [false, text],
        [true, [1, 2, 3]],
      ],
    );
    socket.destroy();
  });
});
