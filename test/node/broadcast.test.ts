/**
 * wss.broadcast (parley): one message to every open client once, but `except`, framed once and
 * compressed once per window size; clients with and without permessage-deflate (parley and ws
 * clients) all read it, and the connections' own compressed messages stay readable afterwards.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import WS from 'ws';
import type { ClientOptions, WebSocket, WebSocketServer } from '../../src/index.js';
import { closed, collect, delay, listen, next, open, shutdown, waitFor } from '../helpers/net.js';

type Received = Array<{ data: unknown; isBinary: boolean }>;

/** A server and `count` parley clients with `options`; resolves once the server sees them all. */
async function serverWith(
  serverOptions: Parameters<typeof listen>[0],
  clients: ClientOptions[],
): Promise<{ wss: WebSocketServer; url: string; clients: WebSocket[]; received: Received[] }> {
  const { wss, url } = await listen(serverOptions);
  after(() => shutdown(wss));
  const opened: WebSocket[] = [];
  for (const options of clients) opened.push(await open(url, options));
  await waitFor(() => wss.clients?.size === clients.length);
  return { wss, url, clients: opened, received: opened.map(collect) };
}

/** The text of each message received. */
function texts(received: Received): string[] {
  return received.map((m) => String(m.data));
}

describe('broadcast', () => {
  test('reaches every open client exactly once, as text or binary', async () => {
    const { wss, received } = await serverWith({}, [{}, {}, {}]);
    wss.broadcast('to all');
    wss.broadcast(Buffer.from([1, 2, 3]));
    wss.broadcast('as bytes', { binary: true });
    await waitFor(() => received.every((r) => r.length === 3));
    await delay(50);
    for (const r of received) {
      assert.equal(r.length, 3);
      assert.deepEqual(r[0], { data: Buffer.from('to all'), isBinary: false });
      assert.deepEqual(r[1], { data: Buffer.from([1, 2, 3]), isBinary: true });
      assert.deepEqual(r[2], { data: Buffer.from('as bytes'), isBinary: true });
    }
  });

  test('skips except, and connections that are closing', async () => {
    const { wss, clients, received } = await serverWith({}, [{}, {}, {}]);
    const [first, second] = [...(wss.clients ?? [])];
    const secondClosed = closed(clients[1]);
    second.close();
    wss.broadcast('not to the first', { except: first });
    await waitFor(() => received[2].length === 1);
    await delay(50);
    const counts = received.map((r) => r.length);
    // Which client is which on the server follows the connection order.
    assert.deepEqual(counts, [0, 0, 1]);
    await secondClosed;
  });

  test('mixed clients: with and without deflate, other window sizes, and ws clients', async () => {
    const { wss, url, received } = await serverWith({ perMessageDeflate: { threshold: 0 } }, [
      {},
      { perMessageDeflate: false },
      { perMessageDeflate: { serverMaxWindowBits: 9 } },
      { perMessageDeflate: { serverNoContextTakeover: true } },
    ]);
    const wsClient = new WS(url, { perMessageDeflate: { serverMaxWindowBits: 10 } });
    const wsReceived: string[] = [];
    wsClient.on('message', (data) => wsReceived.push(String(data)));
    await once(wsClient, 'open');
    after(() => wsClient.terminate());
    await waitFor(() => wss.clients?.size === 5);

    // Compressible and long enough to back-reference across messages.
    const message = (n: number): string =>
      `${'the quick brown fox jumps over the lazy dog '.repeat(200)}#${n}`;
    wss.broadcast(message(1));
    for (const ws of wss.clients ?? []) ws.send(message(2));
    wss.broadcast(message(3), { compress: false });
    wss.broadcast(message(4));
    for (const ws of wss.clients ?? []) ws.send(message(5));
    const expected = [1, 2, 3, 4, 5].map(message);
    await waitFor(() => received.every((r) => r.length === 5) && wsReceived.length === 5, 10_000);
    for (const r of received) assert.deepEqual(texts(r), expected);
    assert.deepEqual(wsReceived, expected);
  });

  test('a broadcast during a fragmented send waits for the message to end', async () => {
    const { wss, received } = await serverWith({}, [{}, {}]);
    const [first] = [...(wss.clients ?? [])];
    first.send('frag', { fin: false });
    wss.broadcast('everyone');
    first.send('mented', { fin: true });
    await waitFor(() => received[0].length === 2 && received[1].length === 1);
    assert.deepEqual(texts(received[0]), ['fragmented', 'everyone']);
    assert.deepEqual(texts(received[1]), ['everyone']);
  });

  test('a broadcast behind a compression in flight keeps the order', async () => {
    const { wss, received } = await serverWith({ perMessageDeflate: { threshold: 0 } }, [{}]);
    const [server] = [...(wss.clients ?? [])];
    const big = Buffer.alloc(2 * 1024 * 1024, 'abc');
    server.send(big);
    wss.broadcast('after the big one');
    await waitFor(() => received[0].length === 2, 10_000);
    assert.equal((received[0][0].data as Buffer).length, big.length);
    assert.equal(String(received[0][1].data), 'after the big one');
  });

  test('needs client tracking', async () => {
    const { wss } = await listen({ clientTracking: false });
    after(() => new Promise<void>((resolve) => wss.close(() => resolve())));
    assert.throws(() => wss.broadcast('x'), /clientTracking/);
  });

  test('with no clients it does nothing', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    wss.broadcast('nobody');
    const ws = await open(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
    const got = next(ws, 'message');
    await waitFor(() => wss.clients?.size === 1);
    wss.broadcast('somebody');
    assert.equal(String((await got)[0]), 'somebody');
    ws.terminate();
  });
});
