// The Node-only options (third argument, or an options bag as the second) and the attributes the
// handshake sets: protocol and extensions.

import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import { type MessageEvent, WebSocket } from '../../src/web/index.js';
import { nextEvent, startServer } from './helpers.js';

async function openAndClose(ws: WebSocket): Promise<void> {
  await nextEvent(ws, 'open');
  ws.close();
  await nextEvent(ws, 'close');
}

describe('handshake results', () => {
  test('protocol is the subprotocol the server selected, empty until open', async (t) => {
    const { url } = await startServer(t, {
      handleProtocols: (protocols: Set<string>) => [...protocols][1] ?? false,
    });
    const ws = new WebSocket(url, ['chat', 'superchat']);
    assert.equal(ws.protocol, '');
    await nextEvent(ws, 'open');
    assert.equal(ws.protocol, 'superchat');
    ws.close();
    await nextEvent(ws, 'close');
    assert.equal(ws.protocol, 'superchat', 'kept after close');
  });

  test('extensions is the Sec-WebSocket-Extensions the server answered (permessage-deflate by default)', async (t) => {
    const { url, server } = await startServer(t, { perMessageDeflate: true });
    let answered = '';
    server.on('headers', (headers: string[]) => {
      answered = headers.find((h) => /^sec-websocket-extensions:/i.test(h))?.replace(/^[^:]*:\s*/, '') ?? '';
    });
    const ws = new WebSocket(url);
    assert.equal(ws.extensions, '');
    await nextEvent(ws, 'open');
    assert.match(ws.extensions, /^permessage-deflate/);
    assert.equal(ws.extensions, answered);
    // Compressed messages round-trip through the layer unchanged.
    for (const client of server.clients ?? []) client.send('x'.repeat(5000));
    const event = await nextEvent<MessageEvent>(ws, 'message');
    assert.equal(event.data, 'x'.repeat(5000));
    ws.close();
    await nextEvent(ws, 'close');
  });
});

describe('Node-only options', () => {
  test('headers and origin are sent with the handshake', async (t) => {
    const { url, server } = await startServer(t);
    const requests: IncomingMessage[] = [];
    server.on('connection', (_socket, req: IncomingMessage) => requests.push(req));
    await openAndClose(
      new WebSocket(url, [], { headers: { 'X-Token': 'secret' }, origin: 'https://app.example' }),
    );
    assert.equal(requests[0]?.headers['x-token'], 'secret');
    assert.equal(requests[0]?.headers.origin, 'https://app.example');
  });

  test('perMessageDeflate: false offers no extension', async (t) => {
    const { url, server } = await startServer(t, { perMessageDeflate: true });
    const offers: (string | undefined)[] = [];
    server.on('connection', (_socket, req: IncomingMessage) =>
      offers.push(req.headers['sec-websocket-extensions']),
    );
    const ws = new WebSocket(url, undefined, { perMessageDeflate: false });
    await nextEvent(ws, 'open');
    assert.equal(ws.extensions, '');
    assert.deepEqual(offers, [undefined]);
    ws.close();
    await nextEvent(ws, 'close');
  });

  test('an options bag as the second argument, with protocols inside', async (t) => {
    const { url, server } = await startServer(t, {
      handleProtocols: (protocols: Set<string>) => [...protocols][0] ?? false,
    });
    const requests: IncomingMessage[] = [];
    server.on('connection', (_socket, req: IncomingMessage) => requests.push(req));
    const ws = new WebSocket(url, { protocols: 'chat', headers: { 'X-A': '1' } });
    await nextEvent(ws, 'open');
    assert.equal(ws.protocol, 'chat');
    assert.equal(requests[0]?.headers['x-a'], '1');
    ws.close();
    await nextEvent(ws, 'close');
  });

  test('protocols in a third-argument options object, unless also given as the argument', async (t) => {
    const { url } = await startServer(t, {
      handleProtocols: (protocols: Set<string>) => [...protocols][0] ?? false,
    });
    const ws = new WebSocket(url, undefined, { protocols: ['v1'] });
    await nextEvent(ws, 'open');
    assert.equal(ws.protocol, 'v1');
    ws.close();
    await nextEvent(ws, 'close');
    assert.throws(() => new WebSocket(url, 'v1', { protocols: 'v2' }), TypeError);
  });

  test('protocols in an options bag are checked like the standard argument', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', { protocols: ['a', 'a'] }), {
      name: 'SyntaxError',
    });
  });

  test('options both as a bag and as the third argument is a TypeError', () => {
    assert.throws(() => new WebSocket('ws://127.0.0.1:1/', { headers: {} }, { origin: 'x' }), TypeError);
  });

  test('options the layer owns cannot be overridden (the engine binaryType stays internal)', async (t) => {
    const { url, server } = await startServer(t);
    server.on('connection', (socket) => socket.send(Buffer.from([1]), { binary: true }));
    const ws = new WebSocket(url, [], { binaryType: 'fragments' } as unknown as object);
    const event = await nextEvent<MessageEvent>(ws, 'message');
    assert.ok(event.data instanceof Blob);
    ws.close();
    await nextEvent(ws, 'close');
  });
});
