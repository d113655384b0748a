/**
 * createWebSocketStream: a Duplex over a WebSocket, as in ws. Bytes both ways, end and close,
 * errors, backpressure, and the readableObjectMode / encoding options.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type Duplex, Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { after, describe, test } from 'node:test';
import { createWebSocketStream, WebSocket } from '../../src/index.js';
import { Opcode } from '../../src/protocol/constants.js';
import {
  closed,
  closeServer,
  collect,
  delay,
  listen,
  next,
  pair,
  rawServer,
  serverFrame,
  shutdown,
  waitFor,
} from '../helpers/net.js';

/** Everything `stream` yields until it ends, as one string. */
async function readAll(stream: Duplex): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** The events of `stream` among end, finish, close and error, in order. */
function trace(stream: Duplex): string[] {
  const events: string[] = [];
  for (const name of ['end', 'finish', 'close', 'error']) stream.on(name, () => events.push(name));
  return events;
}

describe('bytes both ways', () => {
  test('a chunk written is a message; a message is a chunk', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const stream = createWebSocketStream(client);
    const got = next(server, 'message');
    stream.write('hello');
    const [data, isBinary] = await got;
    assert.equal(String(data), 'hello');
    assert.equal(isBinary, true, 'chunks are Buffers, sent as binary (as in ws)');
    server.send('world');
    const [chunk] = await next(stream, 'data');
    assert.ok(Buffer.isBuffer(chunk));
    assert.equal(String(chunk), 'world');
  });

  test('pipeline through an echoing stream on the server', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    wss.on('connection', (ws) => {
      const echo = createWebSocketStream(ws);
      echo.pipe(echo);
    });
    const client = createWebSocketStream(new WebSocket(url));
    const parts = Array.from({ length: 100 }, (_, i) => `part ${i};`);
    const expected = parts.join('');
    let text = '';
    client.on('data', (chunk: Buffer) => {
      text += String(chunk);
      // Ending closes the WebSocket: wait for every echo first.
      if (text.length === expected.length) client.end();
    });
    await pipeline(Readable.from(parts), client, { end: false });
    await finished(client);
    assert.equal(text, expected);
  });

  test('writes made while CONNECTING wait for the open', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const got = new Promise<Buffer>((resolve) => wss.on('connection', (ws) => ws.once('message', resolve)));
    const ws = new WebSocket(url);
    const stream = createWebSocketStream(ws);
    stream.write('early');
    assert.equal(ws.readyState, WebSocket.CONNECTING);
    assert.equal(String(await got), 'early');
    stream.destroy();
  });
});

describe('end and close', () => {
  test('end() closes the WebSocket (1005); the stream finishes and closes', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const stream = createWebSocketStream(client);
    const events = trace(stream);
    stream.resume();
    const serverClosed = closed(server);
    stream.end('last words');
    const [data] = await next(server, 'message');
    assert.equal(String(data), 'last words');
    assert.equal((await serverClosed).code, 1005);
    await waitFor(() => events.includes('close'), 5000, 'the stream to close');
    assert.deepEqual([...events].sort(), ['close', 'end', 'finish']);
    assert.equal(events.at(-1), 'close');
    assert.equal(client.readyState, WebSocket.CLOSED);
  });

  test('the peer closes: the stream ends, and closes once written to the end', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const stream = createWebSocketStream(client);
    const events = trace(stream);
    const text = readAll(stream);
    server.send('a');
    server.send('b');
    server.close(1000);
    assert.equal(await text, 'ab');
    stream.end();
    await waitFor(() => events.includes('close'), 5000, 'the stream to close');
    assert.deepEqual(events, ['end', 'finish', 'close']);
  });

  test('stream.finished() and pipeline() settle when the WebSocket closes', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const stream = createWebSocketStream(client);
    stream.resume();
    const done = finished(stream);
    server.close();
    stream.end();
    await done;
  });
});

describe('errors', () => {
  test('a WebSocket error destroys the stream with it; the stream closes', async () => {
    const { server: raw, url } = await rawServer((socket) => {
      socket.write(serverFrame(Opcode.Text, Buffer.from([0xff])));
    });
    after(() => closeServer(raw));
    const stream = createWebSocketStream(new WebSocket(url));
    const events = trace(stream);
    stream.resume();
    await waitFor(() => events.includes('close'), 5000, 'the stream to close');
    assert.equal((stream.errored as (Error & { code?: string }) | null)?.code, 'WS_ERR_INVALID_UTF8');
    assert.deepEqual(events, ['error', 'close']);
  });

  test('destroy(error) terminates the WebSocket: the peer sees 1006, the stream emits error and close', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const stream = createWebSocketStream(client);
    const events = trace(stream);
    const serverClosed = closed(server);
    stream.destroy(new Error('local failure'));
    assert.equal((await serverClosed).code, 1006);
    await waitFor(() => events.includes('close'), 5000, 'the stream to close');
    assert.deepEqual(events, ['error', 'close']);
    assert.equal(stream.errored?.message, 'local failure');
    assert.equal(client.readyState, WebSocket.CLOSED);
  });

  test('destroy() without an error on a closed WebSocket closes the stream', async () => {
    const { wss, client } = await pair();
    after(() => shutdown(wss));
    client.terminate();
    await closed(client);
    const stream = createWebSocketStream(client);
    const closing = once(stream, 'close');
    stream.destroy();
    await closing;
  });
});

describe('backpressure', () => {
  test('the WebSocket is paused while the readable side is full, and nothing is lost', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const stream = createWebSocketStream(client, { readableHighWaterMark: 10 });
    for (let i = 0; i < 20; i++) server.send(`message ${i}|`);
    await waitFor(() => client.isPaused, 5000, 'the WebSocket to pause');
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(String(chunk)));
    await waitFor(() => chunks.length === 20, 5000, 'every message');
    assert.equal(chunks.join(''), Array.from({ length: 20 }, (_, i) => `message ${i}|`).join(''));
    assert.equal(client.isPaused, false);
  });
});

describe('options', () => {
  test('readableObjectMode: text messages are strings, binary ones Buffers, one chunk each', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const stream = createWebSocketStream(client, { readableObjectMode: true });
    const chunks: unknown[] = [];
    stream.on('data', (chunk) => chunks.push(chunk));
    server.send('text one');
    server.send(Buffer.from('bin'));
    server.send('text two');
    await waitFor(() => chunks.length === 3);
    assert.deepEqual(chunks, ['text one', Buffer.from('bin'), 'text two']);
  });

  test('objectMode is ignored (as in ws): chunks are Buffers and writes must be bytes', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const stream = createWebSocketStream(client, { objectMode: true });
    assert.equal(stream.readableObjectMode, false);
    assert.equal(stream.writableObjectMode, false);
    server.send('plain');
    const [chunk] = await next(stream, 'data');
    assert.ok(Buffer.isBuffer(chunk));
  });

  test('encoding: chunks are decoded strings; written strings are sent as their bytes', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const stream = createWebSocketStream(client, { encoding: 'utf8' });
    const received = collect(server);
    server.send(Buffer.from('héllo'));
    const [chunk] = await next(stream, 'data');
    assert.equal(chunk, 'héllo');
    stream.write('ünïcode');
    await waitFor(() => received.length === 1);
    assert.equal(String(received[0].data), 'ünïcode');
    await delay(10);
  });
});
