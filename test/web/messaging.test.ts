// Sending and receiving the way browser code does: onopen/onmessage, binaryType, Blob/ArrayBuffer/
// view sends in call order, bufferedAmount, and events dispatched as tasks.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CloseEvent, MessageEvent, WebSocket } from '../../src/web/index.js';
import { nextConnection, nextEvent, type ServerSocket, startEchoServer, startServer } from './helpers.js';

type Received = { data: Buffer; isBinary: boolean };

// Collects the next `count` messages a server-side socket receives.
function collect(socket: ServerSocket, count: number, ms = 5000): Promise<Received[]> {
  return new Promise((resolve, reject) => {
    const got: Received[] = [];
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${count} messages`)), ms);
    socket.on('message', (data, isBinary) => {
      got.push({ data: Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), isBinary });
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await nextEvent(ws, 'open');
  return ws;
}

async function closeAndWait(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = nextEvent(ws, 'close');
  ws.close();
  await closed;
}

describe('receiving', () => {
  test('onopen then onmessage with text; MessageEvent with the origin of the URL', async (t) => {
    const { url, server } = await startServer(t);
    server.on('connection', (socket) => socket.send('hello'));
    const ws = new WebSocket(`${url}/path?q`);
    const order: string[] = [];
    const message = new Promise<MessageEvent>((resolve) => {
      ws.onmessage = (event) => {
        order.push('message');
        resolve(event);
      };
    });
    ws.onopen = () => {
      order.push('open');
      assert.equal(ws.readyState, WebSocket.OPEN);
    };
    const event = await message;
    assert.deepEqual(order, ['open', 'message']);
    assert.ok(event instanceof MessageEvent);
    assert.equal(event.type, 'message');
    assert.equal(event.data, 'hello');
    assert.equal(event.origin, url);
    assert.equal(event.lastEventId, '');
    await closeAndWait(ws);
  });

  test('binary is a Blob by default and an ArrayBuffer after binaryType = "arraybuffer"', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = await open(url);
    ws.send(new Uint8Array([1, 2, 3]));
    const first = await nextEvent<MessageEvent>(ws, 'message');
    assert.ok(first.data instanceof Blob);
    assert.deepEqual(new Uint8Array(await first.data.arrayBuffer()), new Uint8Array([1, 2, 3]));

    ws.binaryType = 'arraybuffer';
    assert.equal(ws.binaryType, 'arraybuffer');
    ws.send(new Uint8Array([4, 5]));
    const second = await nextEvent<MessageEvent>(ws, 'message');
    assert.ok(second.data instanceof ArrayBuffer);
    assert.deepEqual(new Uint8Array(second.data), new Uint8Array([4, 5]));
    assert.equal(second.data.byteLength, 2, 'exactly the message, not a larger pooled buffer');

    ws.binaryType = 'blob';
    ws.send(new Uint8Array([6]));
    const third = await nextEvent<MessageEvent>(ws, 'message');
    assert.ok(third.data instanceof Blob);
    await closeAndWait(ws);
  });

  test('invalid binaryType values are ignored', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = await open(url);
    for (const value of ['nodebuffer', 'fragments', 'Blob', 'ARRAYBUFFER', '', null, undefined, 1]) {
      ws.binaryType = value as 'blob';
      assert.equal(ws.binaryType, 'blob');
    }
    ws.binaryType = 'arraybuffer';
    ws.binaryType = 'nodebuffer' as 'blob';
    assert.equal(ws.binaryType, 'arraybuffer');
    await closeAndWait(ws);
  });

  test('binaryType is read when the message task runs, not when the data arrived', async (t) => {
    const { url, server } = await startServer(t);
    server.on('connection', (socket) => {
      // Both leave in one go; the binary one is already received when the text one is dispatched.
      socket.send('switch');
      socket.send(Buffer.from([9, 9]), { binary: true });
    });
    const ws = new WebSocket(url);
    const data: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      ws.onmessage = (event) => {
        data.push(event.data);
        if (event.data === 'switch') ws.binaryType = 'arraybuffer';
        if (data.length === 2) resolve();
      };
    });
    await done;
    assert.equal(data[0], 'switch');
    assert.ok(data[1] instanceof ArrayBuffer);
    await closeAndWait(ws);
  });

  test('each message is its own task: microtasks run between two message events', async (t) => {
    const { url, server } = await startServer(t);
    server.on('connection', (socket) => {
      socket.send('a');
      socket.send('b');
      socket.send('c');
    });
    const ws = new WebSocket(url);
    const log: string[] = [];
    const done = new Promise<void>((resolve) => {
      ws.onmessage = (event) => {
        log.push(String(event.data));
        queueMicrotask(() => log.push(`micro-${String(event.data)}`));
        if (event.data === 'c') setImmediate(resolve);
      };
    });
    await done;
    assert.deepEqual(log, ['a', 'micro-a', 'b', 'micro-b', 'c', 'micro-c']);
    await closeAndWait(ws);
  });

  test('UTF-8 text round-trips, including astral characters', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = await open(url);
    const text = 'h\u00e9llo \u4e16\u754c \u{1F600}';
    ws.send(text);
    const event = await nextEvent<MessageEvent>(ws, 'message');
    assert.equal(event.data, text);
    await closeAndWait(ws);
  });

  test('messages arriving after close() are not dispatched (ready state is not OPEN)', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    let messages = 0;
    ws.onmessage = () => {
      messages++;
    };
    const gotFirst = nextEvent(ws, 'message');
    socket.send('before');
    await gotFirst;
    ws.close();
    socket.send('after close() 1');
    socket.send('after close() 2');
    await nextEvent(ws, 'close');
    assert.equal(messages, 1);
  });
});

describe('sending', () => {
  test('send() while CONNECTING throws InvalidStateError and changes nothing', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = new WebSocket(url);
    assert.throws(
      () => ws.send('too early'),
      (error: unknown) =>
        error instanceof DOMException && error.name === 'InvalidStateError' && error.code === 11,
    );
    assert.equal(ws.bufferedAmount, 0);
    await nextEvent(ws, 'open');
    await closeAndWait(ws);
  });

  test('strings, ArrayBuffers, views and Blobs leave in call order with the right types', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    const received = collect(socket, 8);
    const bigBlob = new Blob([new Uint8Array(1024 * 1024).fill(7)]);
    const bytes = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
    ws.send(bigBlob); // read asynchronously: everything after it must wait
    ws.send('one');
    ws.send(new Blob(['two', new Uint8Array([0x21])]));
    ws.send(bytes.subarray(2, 5)); // only the view's section
    ws.send(new DataView(bytes.buffer, 6, 2));
    ws.send(bytes.buffer);
    ws.send('three');
    ws.send(new Blob([]));
    const got = await received;
    assert.deepEqual(
      got.map((m) => m.isBinary),
      [true, false, true, true, true, true, false, true],
    );
    assert.equal(got[0]!.data.length, 1024 * 1024);
    assert.ok(got[0]!.data.every((b) => b === 7));
    assert.equal(got[1]!.data.toString(), 'one');
    assert.equal(got[2]!.data.toString(), 'two!');
    assert.deepEqual([...got[3]!.data], [2, 3, 4]);
    assert.deepEqual([...got[4]!.data], [6, 7]);
    assert.deepEqual([...got[5]!.data], [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(got[6]!.data.toString(), 'three');
    assert.equal(got[7]!.data.length, 0);
    await closeAndWait(ws);
  });

  test('the data is captured at send(): changing the buffer afterwards changes nothing', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    const received = collect(socket, 2);
    const bytes = new Uint8Array([1, 1, 1]);
    ws.send(new Blob(['hold the queue']));
    ws.send(bytes);
    bytes.fill(2);
    const got = await received;
    assert.deepEqual([...got[1]!.data], [1, 1, 1]);
    await closeAndWait(ws);
  });

  test('values that are neither buffers nor Blobs are sent as their string conversion', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    const received = collect(socket, 4);
    for (const value of [42, null, { toString: () => 'custom' }, 'lone \ud800 surrogate']) {
      ws.send(value as string);
    }
    const got = await received;
    assert.deepEqual(
      got.map((m) => [m.isBinary, m.data.toString()]),
      [
        [false, '42'],
        [false, 'null'],
        [false, 'custom'],
        [false, 'lone \ufffd surrogate'],
      ],
    );
    assert.throws(() => ws.send(Symbol('s') as unknown as string), TypeError);
    assert.throws(() => Reflect.apply(ws.send, ws, []), TypeError);
    await closeAndWait(ws);
  });

  test('a Blob that cannot be read fails the connection rather than reordering messages', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = await open(url);
    class UnreadableBlob extends Blob {
      override arrayBuffer(): Promise<ArrayBuffer> {
        return Promise.reject(new Error('the file changed'));
      }
    }
    const log: string[] = [];
    ws.addEventListener('error', () => log.push('error'));
    ws.addEventListener('message', () => log.push('message'));
    ws.send(new UnreadableBlob(['x']));
    ws.send('queued behind the blob');
    const event = await nextEvent<CloseEvent>(ws, 'close');
    assert.deepEqual(log, ['error']);
    assert.equal(event.code, 1006);
    assert.equal(event.wasClean, false);
  });

  test('views on a SharedArrayBuffer are a TypeError', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = await open(url);
    assert.throws(() => ws.send(new Uint8Array(new SharedArrayBuffer(4))), TypeError);
    assert.equal(ws.bufferedAmount, 0);
    await closeAndWait(ws);
  });
});

describe('bufferedAmount', () => {
  test('grows by the UTF-8 / byte size of each send and returns to 0 once written', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = await open(url);
    ws.send('\u00e9\u00e9'); // 4 bytes in UTF-8
    assert.equal(ws.bufferedAmount, 4);
    ws.send(new ArrayBuffer(10));
    ws.send(new Uint16Array(3)); // 6 bytes
    ws.send(new Blob(['12345']));
    assert.equal(ws.bufferedAmount, 4 + 10 + 6 + 5, 'counted in the same task as the send() calls');
    let echoes = 0;
    const allEchoed = new Promise<void>((resolve) => {
      ws.onmessage = () => {
        if (++echoes === 4) resolve();
      };
    });
    await allEchoed;
    assert.equal(ws.bufferedAmount, 0);
    await closeAndWait(ws);
  });

  test('after close() send() drops the data but still increases bufferedAmount, also once CLOSED', async (t) => {
    const { url, server } = await startServer(t);
    const connected = nextConnection(server);
    const ws = await open(url);
    const socket = await connected;
    let serverMessages = 0;
    socket.on('message', () => serverMessages++);
    ws.close();
    assert.equal(ws.readyState, WebSocket.CLOSING);
    ws.send('abc');
    ws.send(new Blob(['de']));
    assert.equal(ws.bufferedAmount, 5);
    await nextEvent(ws, 'close');
    assert.equal(ws.readyState, WebSocket.CLOSED);
    ws.send(new Uint8Array(7));
    assert.equal(ws.bufferedAmount, 12, 'never resets to zero');
    assert.equal(serverMessages, 0);
  });
});
