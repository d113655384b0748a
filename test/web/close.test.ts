// close(code, reason) and the close event: argument checks, client- and server-initiated closing
// handshakes (wasClean true with the server's code and reason), and close() while CONNECTING.

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { CloseEvent, WebSocket } from '../../src/web/index.js';
import {
  nextConnection,
  nextEvent,
  recordEvents,
  serverFrame,
  startEchoServer,
  startRawServer,
  startServer,
  writeAccept,
} from './helpers.js';

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await nextEvent(ws, 'open');
  return ws;
}

describe('close(): argument checks', () => {
  const invalidCodes = [0, 999, 1001, 1005, 1006, 1015, 2999, 5000, 65535, Number.NaN, -1];
  test(`codes ${invalidCodes.join(', ')} throw InvalidAccessError and do not close`, async (t) => {
    const { url } = await startEchoServer(t);
    const ws = await open(url);
    for (const code of invalidCodes) {
      assert.throws(
        () => ws.close(code),
        (error: unknown) =>
          error instanceof DOMException && error.name === 'InvalidAccessError' && error.code === 15,
        String(code),
      );
    }
    assert.equal(ws.readyState, WebSocket.OPEN);
    ws.close(3000);
    await nextEvent(ws, 'close');
  });

  test('[Clamp]: a fraction rounds to the nearest integer (ties to even), so 999.6 is 1000', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    const serverClose = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    const clientClosed = nextEvent(ws, 'close');
    ws.close(999.6);
    assert.equal(await serverClose, 1000);
    await clientClosed;
  });

  test('a reason over 123 UTF-8 bytes is a SyntaxError; 123 bytes is fine', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    assert.throws(() => ws.close(1000, 'x'.repeat(124)), { name: 'SyntaxError' });
    assert.throws(() => ws.close(1000, '\u00e9'.repeat(62)), { name: 'SyntaxError' }, '124 bytes in UTF-8');
    // The code is checked before the reason.
    assert.throws(() => ws.close(1, 'x'.repeat(200)), { name: 'InvalidAccessError' });
    assert.equal(ws.readyState, WebSocket.OPEN);
    const reason = '\u00e9'.repeat(61) + 'x'; // 123 bytes
    const serverClose = new Promise<[number, string]>((resolve) =>
      socket.on('close', (code, buf) => resolve([code, buf.toString()])),
    );
    const clientClosed = nextEvent(ws, 'close');
    ws.close(4999, reason);
    assert.deepEqual(await serverClose, [4999, reason]);
    await clientClosed;
  });

  test('close() on a CLOSING or CLOSED socket does nothing, even with other arguments', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    const codes: number[] = [];
    const serverClosed = new Promise<void>((resolve) =>
      socket.on('close', (code: number) => {
        codes.push(code);
        resolve();
      }),
    );
    ws.close(4001);
    ws.close(4002);
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const event = await nextEvent<CloseEvent>(ws, 'close');
    assert.equal(event.code, 4001);
    ws.close(4003);
    await serverClosed; // the server side may report after the client
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual(codes, [4001]);
  });
});

describe('client-initiated close', () => {
  test('close(code, reason): the server sees them; the close event is clean with the echoed code', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    const serverClose = new Promise<[number, string]>((resolve) =>
      socket.on('close', (code, reason) => resolve([code, reason.toString()])),
    );
    const log = recordEvents(ws);
    ws.close(1000, 'done');
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.deepEqual(log, [], 'no event is dispatched synchronously inside close()');
    const event = await nextEvent<CloseEvent>(ws, 'close');
    assert.deepEqual(await serverClose, [1000, 'done']);
    assert.ok(event instanceof CloseEvent);
    assert.ok(event instanceof Event);
    assert.equal(event.wasClean, true);
    assert.equal(event.code, 1000);
    assert.equal(event.reason, 'done');
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual(log, ['close']);
  });

  test('close() with no arguments sends a Close frame without a body (1005 on both sides)', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    const serverClose = new Promise<number>((resolve) => socket.on('close', (code) => resolve(code)));
    ws.close();
    const event = await nextEvent<CloseEvent>(ws, 'close');
    assert.equal(await serverClose, 1005);
    assert.equal(event.code, 1005);
    assert.equal(event.reason, '');
    assert.equal(event.wasClean, true);
  });

  test('close(undefined, reason) sends code 1000 with the reason', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    const serverClose = new Promise<[number, string]>((resolve) =>
      socket.on('close', (code, reason) => resolve([code, reason.toString()])),
    );
    const clientClosed = nextEvent(ws, 'close');
    ws.close(undefined, 'why');
    assert.deepEqual(await serverClose, [1000, 'why']);
    await clientClosed;
  });

  test('messages sent before close() are transmitted first, Blobs included', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    const log: string[] = [];
    socket.on('message', (data) => log.push(Buffer.from(data as Buffer).toString()));
    const serverClose = new Promise<void>((resolve) =>
      socket.on('close', (code) => {
        log.push(`close ${code}`);
        resolve();
      }),
    );
    ws.send('first');
    ws.send(new Blob([new Uint8Array(256 * 1024).fill(0x61)]));
    ws.send('last');
    const clientClosed = nextEvent(ws, 'close');
    ws.close(3001);
    await serverClose;
    assert.equal(log.length, 4);
    assert.equal(log[0], 'first');
    assert.equal(log[1]!.length, 256 * 1024);
    assert.equal(log[2], 'last');
    assert.equal(log[3], 'close 3001');
    await clientClosed;
  });
});

describe('server-initiated close', () => {
  test('the close event carries the server code and reason, wasClean true', async (t) => {
    const { url, server } = await startServer(t);
    server.on('connection', (socket) => socket.close(4001, 'server says bye'));
    const ws = new WebSocket(url);
    const log = recordEvents(ws);
    const event = await nextEvent<CloseEvent>(ws, 'close');
    assert.deepEqual(log, ['open', 'close']);
    assert.equal(event.code, 4001);
    assert.equal(event.reason, 'server says bye');
    assert.equal(event.wasClean, true);
    assert.equal(ws.readyState, WebSocket.CLOSED);
  });

  test('a server close without a code is reported as 1005, clean', async (t) => {
    const { url, server } = await startServer(t);
    server.on('connection', (socket) => socket.close());
    const ws = new WebSocket(url);
    const event = await nextEvent<CloseEvent>(ws, 'close');
    assert.equal(event.code, 1005);
    assert.equal(event.wasClean, true);
  });

  test('a server that drops the TCP connection: close 1006, wasClean false, no error event', async (t) => {
    const { url, server } = await startServer(t);
    server.on('connection', (socket) => setTimeout(() => socket.terminate(), 20));
    const ws = new WebSocket(url);
    const log = recordEvents(ws);
    const event = await nextEvent<CloseEvent>(ws, 'close');
    assert.deepEqual(log, ['open', 'close']);
    assert.equal(event.code, 1006);
    assert.equal(event.reason, '');
    assert.equal(event.wasClean, false);
  });
});

describe('server-initiated close, CLOSING state', () => {
  test("readyState is CLOSING from the server's Close frame until the connection ends", async (t) => {
    // A raw server that sends a Close frame and keeps the TCP connection open until told to end it.
    let serverSocket: Socket | undefined;
    let onClientFrame: (frame: Buffer) => void = () => {};
    const clientCloseFrame = new Promise<Buffer>((resolve) => {
      onClientFrame = resolve;
    });
    const { url } = await startRawServer(t, (socket, headers) => {
      serverSocket = socket;
      writeAccept(socket, headers);
      socket.once('data', onClientFrame);
      socket.write(serverFrame(0x8, Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65]))); // 1000 'bye'
    });
    const ws = new WebSocket(url);
    const frame = await clientCloseFrame;
    assert.equal(frame[0], 0x88, 'the client answered with a Close frame');
    assert.equal(ws.readyState, WebSocket.CLOSING);
    const closed = nextEvent<CloseEvent>(ws, 'close');
    serverSocket?.end();
    const event = await closed;
    assert.equal(ws.readyState, WebSocket.CLOSED);
    assert.deepEqual([event.code, event.reason, event.wasClean], [1000, 'bye', true]);
  });
});

describe('close() while CONNECTING', () => {
  test('fails the connection: CLOSING at once, then error and close 1006, never open', async (t) => {
    const { url, server } = await startServer(t);
    let connections = 0;
    server.on('connection', () => connections++);
    const ws = new WebSocket(url);
    const log = recordEvents(ws);
    ws.close(1000, 'never mind');
    assert.equal(ws.readyState, WebSocket.CLOSING);
    assert.deepEqual(log, []);
    const event = await nextEvent<CloseEvent>(ws, 'close');
    assert.deepEqual(log, ['error', 'close']);
    assert.equal(event.code, 1006);
    assert.equal(event.reason, '');
    assert.equal(event.wasClean, false);
    assert.equal(ws.readyState, WebSocket.CLOSED);
    // Let a handshake the server might still complete settle: the client must never report it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(log, ['error', 'close']);
    assert.ok(connections <= 1);
  });
});
