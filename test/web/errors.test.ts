// Failing the WebSocket connection: every failure is reported the same way, an `error` event (a
// plain Event, no detail) then a `close` event with code 1006 and wasClean false, asynchronously.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CloseEvent, WebSocket } from '../../src/web/index.js';
import {
  freePort,
  nextEvent,
  recordEvents,
  serverFrame,
  startHttpServer,
  startRawServer,
  startServer,
  writeAccept,
} from './helpers.js';

// Waits for the close event and checks the failure shape; returns the event log.
async function expectFailure(ws: WebSocket, expected: string[] = ['error', 'close']): Promise<CloseEvent> {
  const log = recordEvents(ws);
  let errorEvent: Event | undefined;
  ws.addEventListener('error', (event) => {
    errorEvent = event;
  });
  const event = await nextEvent<CloseEvent>(ws, 'close', 8000);
  assert.deepEqual(log, expected);
  assert.ok(errorEvent);
  assert.equal(errorEvent.type, 'error');
  assert.equal(Object.getPrototypeOf(errorEvent), Event.prototype, 'a plain Event: no failure detail');
  assert.equal(event.code, 1006);
  assert.equal(event.reason, '');
  assert.equal(event.wasClean, false);
  assert.equal(ws.readyState, WebSocket.CLOSED);
  return event;
}

describe('failures before the connection is established', () => {
  test('connection refused: error, then close 1006 (not synchronously)', async () => {
    const port = await freePort();
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    let syncEvents = 0;
    ws.onerror = () => syncEvents++;
    ws.onclose = () => syncEvents++;
    assert.equal(syncEvents, 0);
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    await expectFailure(ws);
    assert.equal(syncEvents, 2);
  });

  test('an HTTP server answering 404 (not a WebSocket server)', async (t) => {
    const { url } = await startHttpServer(t, 404);
    await expectFailure(new WebSocket(url));
  });

  test('a redirect is not followed (the standard sets redirect mode to "error")', async (t) => {
    const target = await startServer(t);
    let reached = false;
    target.server.on('connection', () => {
      reached = true;
    });
    const { url } = await startRawServer(t, (socket) => {
      socket.end(`HTTP/1.1 302 Found\r\nLocation: ${target.url}/\r\nContent-Length: 0\r\n\r\n`);
    });
    await expectFailure(new WebSocket(url));
    assert.equal(reached, false);
  });

  test('a 101 with a wrong Sec-WebSocket-Accept', async (t) => {
    const { url } = await startRawServer(t, (socket) => {
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          'Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n',
      );
    });
    await expectFailure(new WebSocket(url));
  });

  test('protocols were requested but the server selected none (the standard adds this check)', async (t) => {
    const { url } = await startRawServer(t, (socket, headers) => writeAccept(socket, headers));
    const ws = new WebSocket(url, ['chat', 'v2.chat']);
    await expectFailure(ws);
    assert.equal(ws.protocol, '');
    // The same response is fine when no protocol was requested.
    const plain = new WebSocket(url);
    await nextEvent(plain, 'open');
    // The raw server never answers the Close frame; its sockets are destroyed when the test ends.
    plain.close();
  });

  test('the server selected a subprotocol that was not offered', async (t) => {
    const { url } = await startRawServer(t, (socket, headers) =>
      writeAccept(socket, headers, ['Sec-WebSocket-Protocol: other']),
    );
    const ws = new WebSocket(url, 'chat');
    await expectFailure(ws);
    assert.equal(ws.protocol, '');
  });

  test('the server never answers: the handshakeTimeout option fails the connection', async (t) => {
    const { url } = await startRawServer(t, () => {});
    await expectFailure(new WebSocket(url, [], { handshakeTimeout: 200 }));
  });
});

describe('failures after the connection is established', () => {
  test('invalid UTF-8 in a text message: open, error, close 1006 (the 1007 is not revealed)', async (t) => {
    const { url } = await startRawServer(t, (socket, headers) => {
      writeAccept(socket, headers);
      socket.write(serverFrame(0x1, Buffer.from([0x68, 0xff, 0x69])));
    });
    const ws = new WebSocket(url);
    let messages = 0;
    ws.onmessage = () => messages++;
    await expectFailure(ws, ['open', 'error', 'close']);
    assert.equal(messages, 0);
  });

  test('a frame with a reserved bit set', async (t) => {
    const { url } = await startRawServer(t, (socket, headers) => {
      writeAccept(socket, headers);
      socket.write(Buffer.from([0x80 | 0x40 | 0x2, 0x01, 0x00]));
    });
    await expectFailure(new WebSocket(url), ['open', 'error', 'close']);
  });

  test('a masked frame from the server', async (t) => {
    const { url } = await startRawServer(t, (socket, headers) => {
      writeAccept(socket, headers);
      socket.write(Buffer.from([0x81, 0x80 | 0x02, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2]));
    });
    await expectFailure(new WebSocket(url), ['open', 'error', 'close']);
  });

  test('a message over the maxPayload option', async (t) => {
    const { url, server } = await startServer(t);
    server.on('connection', (socket) => socket.send(Buffer.alloc(1024), { binary: true }));
    await expectFailure(new WebSocket(url, [], { maxPayload: 100 }), ['open', 'error', 'close']);
  });

  test('messages received before the failure are still dispatched, in order', async (t) => {
    const { url } = await startRawServer(t, (socket, headers) => {
      writeAccept(socket, headers);
      socket.write(
        Buffer.concat([serverFrame(0x1, Buffer.from('ok')), serverFrame(0x1, Buffer.from([0xc0]))]),
      );
    });
    const ws = new WebSocket(url);
    const data: unknown[] = [];
    ws.onmessage = (event) => data.push(event.data);
    await expectFailure(ws, ['open', 'message', 'error', 'close']);
    assert.deepEqual(data, ['ok']);
  });
});
