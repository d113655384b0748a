/**
 * Output backpressure: bufferedAmount (bytes accepted by send and not yet handed to the operating
 * system), the return value of send, the drain event and send callbacks, against a peer that stops
 * reading (a paused server connection) and then reads again.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { WebSocket } from '../../src/index.js';
import { closed, collect, delay, next, pair, shutdown, waitFor } from '../helpers/net.js';

const CHUNK = 64 * 1024;
/** Bound on what a test writes while waiting for the kernel buffers to fill. */
const MAX_FILL = 64 * 1024 * 1024;

/** Size of a client (masked) frame carrying `length` bytes. */
function clientFrameSize(length: number): number {
  return length + 4 + (length < 126 ? 2 : length < 65536 ? 4 : 10);
}

/**
 * Sends CHUNK-byte messages from `ws` until what it buffers stays above zero after a turn of the
 * event loop (the peer does not read, the kernel buffers are full). Returns the callbacks' results
 * so far (filled in as they are called) and how many messages were sent.
 */
async function fill(ws: WebSocket): Promise<{ sent: number; results: Array<Error | null | undefined> }> {
  const results: Array<Error | null | undefined> = [];
  let sent = 0;
  while (sent * CHUNK < MAX_FILL) {
    ws.send(Buffer.alloc(CHUNK, sent % 256), (error) => results.push(error));
    sent++;
    if (sent % 16 === 0) {
      await delay(5);
      if (ws.bufferedAmount > 0) break;
    }
  }
  assert.ok(ws.bufferedAmount > 0, 'the kernel buffers filled up');
  return { sent, results };
}

describe('bufferedAmount', () => {
  test('counts the frames of sends not yet handed over, exactly, then falls to 0', async () => {
    const { wss, client } = await pair();
    after(() => shutdown(wss));
    assert.equal(client.bufferedAmount, 0);
    client.send(Buffer.alloc(1000));
    assert.equal(client.bufferedAmount, clientFrameSize(1000));
    client.send('hi');
    assert.equal(client.bufferedAmount, clientFrameSize(1000) + clientFrameSize(2));
    await waitFor(() => client.bufferedAmount === 0);
  });

  test('rises while the peer does not read, and falls to 0 once it reads again', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    server.pause();
    const received = collect(server);
    const { sent, results } = await fill(client);
    const high = client.bufferedAmount;
    client.send(Buffer.alloc(CHUNK));
    assert.equal(client.bufferedAmount, high + clientFrameSize(CHUNK));
    await delay(100);
    assert.ok(client.bufferedAmount >= high, 'nothing moves while the peer does not read');
    assert.equal(received.length, 0);
    server.resume();
    await waitFor(() => client.bufferedAmount === 0, 20_000, 'bufferedAmount to fall to 0');
    await waitFor(() => received.length === sent + 1, 20_000, 'every message');
    await waitFor(() => results.length === sent);
    for (const error of results) assert.ifError(error);
  });

  test('after the close, sends add their payload length (as ws and the WHATWG API count)', async () => {
    const { wss, client } = await pair();
    after(() => shutdown(wss));
    client.close();
    await closed(client);
    assert.equal(client.bufferedAmount, 0);
    client.send('12345');
    client.send(Buffer.alloc(10));
    assert.equal(client.bufferedAmount, 15);
  });
});

describe('send return value and drain', () => {
  test('send returns false past the high-water mark; drain follows once the output is handed over', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    assert.equal(client.send('small'), true);
    server.pause();
    let sends = 0;
    let accepted = true;
    while (accepted && sends * CHUNK < MAX_FILL) {
      accepted = client.send(Buffer.alloc(CHUNK));
      sends++;
    }
    assert.equal(accepted, false);
    const drained = next(client, 'drain', 20_000);
    await delay(50);
    server.resume();
    await drained;
    assert.equal(client.bufferedAmount, 0);
    assert.equal(client.send('after drain'), true);
  });

  test('one large message to a reading peer: false, then drain', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const drained = next(client, 'drain', 20_000);
    assert.equal(client.send(Buffer.alloc(4 * 1024 * 1024)), false);
    await drained;
    const [data] = await next(server, 'message', 20_000);
    assert.equal((data as Buffer).length, 4 * 1024 * 1024);
  });
});

describe('send callbacks', () => {
  test('are called once each, in order, after the data left', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    server.pause();
    const order: number[] = [];
    for (let i = 0; i < 50; i++) {
      client.send(Buffer.alloc(CHUNK), (error) => {
        assert.ifError(error);
        order.push(i);
      });
    }
    await delay(50);
    server.resume();
    await waitFor(() => order.length === 50, 20_000);
    assert.deepEqual(
      order,
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  test('every callback of a send still queued when the connection is destroyed is called, once', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    server.pause();
    const { sent, results } = await fill(client);
    client.terminate();
    await closed(client);
    await waitFor(() => results.length === sent, 5000, 'every callback');
    await delay(50);
    // Writes Node had in flight report success (null) on destroy, later ones ERR_STREAM_DESTROYED;
    // parley batches a tick's frames in one write, so which ones report what differs from ws.
    assert.equal(results.length, sent);
    for (const result of results) assert.ok(result == null || result instanceof Error);
  });
});
