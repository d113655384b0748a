/**
 * The output path: small frames of several connections share one slab, each connection's run of
 * frames going out as one region. Whatever the interleaving (connections taking turns, frames too
 * big to pack between small ones, more than a slab's worth in one tick, a connection closed with
 * frames still queued), every peer must get exactly its own messages, in order, on real sockets.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { WebSocket, WebSocketServer } from '../../src/index.js';
import { Opcode } from '../../src/protocol/constants.js';
import { closed, collect, listen, next, open, rawPair, shutdown, waitFor } from '../helpers/net.js';

/** `count` connected pairs on one server: the server-side sockets and their clients. */
async function pairs(
  count: number,
): Promise<{ wss: WebSocketServer; servers: WebSocket[]; clients: WebSocket[] }> {
  const { wss, url } = await listen();
  const servers: WebSocket[] = [];
  const clients: WebSocket[] = [];
  for (let i = 0; i < count; i++) {
    const connected = next(wss, 'connection');
    clients.push(await open(url));
    servers.push(((await connected) as [WebSocket])[0]);
  }
  return { wss, servers, clients };
}

const text = (received: Array<{ data: unknown }>) => received.map((m) => String(m.data));

describe('output of many connections in one tick', () => {
  test('connections taking turns, with frames too big to pack in between', async () => {
    const { wss, servers, clients } = await pairs(3);
    after(() => shutdown(wss));
    const got = clients.map(collect);
    const expected: string[][] = [[], [], []];
    const big = 'B'.repeat(5000);
    const huge = 'H'.repeat(40_000);
    for (let round = 0; round < 20; round++) {
      servers.forEach((server, i) => {
        const small = `${i}:${round}`;
        server.send(small);
        expected[i]?.push(small);
        if (round % 5 === i) {
          const payload = round % 2 === 0 ? big : huge;
          server.send(payload);
          expected[i]?.push(payload);
        }
      });
    }
    await waitFor(() => got.every((g, i) => g.length === expected[i]?.length), 5000, 'every message');
    for (const [i, g] of got.entries()) assert.deepEqual(text(g), expected[i]);
  });

  test('more than a slab of small frames from interleaved connections, with every send callback', async () => {
    const { wss, servers, clients } = await pairs(4);
    after(() => shutdown(wss));
    const got = clients.map(collect);
    let callbacks = 0;
    const perConnection = 300;
    for (let n = 0; n < perConnection; n++) {
      for (const [i, server] of servers.entries()) {
        server.send(`${i}-${n}-${'x'.repeat(n % 900)}`, (err) => {
          assert.equal(err ?? undefined, undefined);
          callbacks++;
        });
      }
    }
    const total = perConnection * servers.length;
    await waitFor(
      () => callbacks === total && got.every((g) => g.length === perConnection),
      5000,
      'all frames',
    );
    got.forEach((g, i) => {
      assert.deepEqual(
        text(g),
        Array.from({ length: perConnection }, (_, n) => `${i}-${n}-${'x'.repeat(n % 900)}`),
      );
    });
  });

  test('a connection terminated with frames queued leaves the others intact', async () => {
    const { wss, servers, clients } = await pairs(3);
    after(() => shutdown(wss));
    const got = clients.map(collect);
    const [a, b, c] = servers as [WebSocket, WebSocket, WebSocket];
    const bClosed = closed(clients[1] as WebSocket);
    a.send('a1');
    b.send('b1');
    b.send('b2');
    b.terminate();
    c.send('c1');
    a.send('a2');
    c.send('c2');
    await waitFor(() => (got[0]?.length ?? 0) === 2 && (got[2]?.length ?? 0) === 2, 5000, 'a and c');
    assert.deepEqual(text(got[0] ?? []), ['a1', 'a2']);
    assert.deepEqual(text(got[2] ?? []), ['c1', 'c2']);
    assert.equal((await bClosed).code, 1006);
  });

  test('masked client frames of interleaved clients reach the server intact', async () => {
    const { wss, servers, clients } = await pairs(3);
    after(() => shutdown(wss));
    const got = servers.map(collect);
    for (let n = 0; n < 50; n++) {
      for (const [i, client] of clients.entries()) client.send(Buffer.from(`${i}/${n}/${'m'.repeat(n * 7)}`));
    }
    await waitFor(() => got.every((g) => g.length === 50), 5000, 'every message');
    got.forEach((g, i) => {
      assert.deepEqual(
        text(g),
        Array.from({ length: 50 }, (_, n) => `${i}/${n}/${'m'.repeat(n * 7)}`),
      );
      assert.ok(g.every((m) => m.isBinary));
    });
  });
});

describe('the frames a server sends', () => {
  // Small whole messages in a Uint8Array take a short path of their own in send(); whatever the
  // path, the frames on the wire must be what the options say.
  test('small and large, Buffer, Uint8Array, other views and strings, fragments, callbacks', async () => {
    const { wss, socket, reader, server } = await rawPair();
    after(() => shutdown(wss));
    const sent: string[] = [];
    const done = (what: string) => (error?: Error | null) => sent.push(`${what} ${error == null}`);
    server.send(Buffer.from('buffer'), done('buffer'));
    server.send(Buffer.from('as text'), { binary: false }, done('as text'));
    server.send(Uint8Array.of(1, 2, 3));
    server.send(Uint16Array.of(0x0102, 0x0304)); // the bytes of the view, not its elements
    server.send(Buffer.alloc(125, 0x61));
    server.send(Buffer.alloc(126, 0x62));
    server.send('a string');
    server.send(Buffer.from('frag-'), { fin: false });
    server.send(Buffer.from('ment'), { binary: true }); // a continuation, whatever binary says
    server.send(Buffer.from('after'), { binary: false, compress: true }, done('after'));
    const frames = [];
    for (let i = 0; i < 10; i++) frames.push(await reader.nextFrame());
    const u16 = Buffer.from(Uint16Array.of(0x0102, 0x0304).buffer);
    assert.deepEqual(
      frames.map((f) => [f.fin, f.rsv1, f.opcode, f.payload.toString('hex')]),
      [
        [true, false, Opcode.Binary, Buffer.from('buffer').toString('hex')],
        [true, false, Opcode.Text, Buffer.from('as text').toString('hex')],
        [true, false, Opcode.Binary, '010203'],
        [true, false, Opcode.Binary, u16.toString('hex')],
        [true, false, Opcode.Binary, '61'.repeat(125)],
        [true, false, Opcode.Binary, '62'.repeat(126)],
        [true, false, Opcode.Text, Buffer.from('a string').toString('hex')],
        [false, false, Opcode.Binary, Buffer.from('frag-').toString('hex')],
        [true, false, Opcode.Continuation, Buffer.from('ment').toString('hex')],
        [true, false, Opcode.Text, Buffer.from('after').toString('hex')],
      ],
    );
    await waitFor(() => sent.length === 3);
    assert.deepEqual(sent, ['buffer true', 'as text true', 'after true']);
    socket.destroy();
  });

  // Short strings are encoded straight into the output slab, the rest through a Buffer: the bound
  // is 125 bytes of UTF-8, not 125 characters.
  test('strings around 125 bytes of UTF-8, multi-byte and unpaired surrogates, sent as binary', async () => {
    const { wss, socket, reader, server } = await rawPair();
    after(() => shutdown(wss));
    const strings = [
      '',
      'x'.repeat(125),
      'x'.repeat(126),
      '€'.repeat(41), // 123 bytes
      '€'.repeat(42), // 126 bytes in 42 characters
      `${'x'.repeat(121)}😀`, // 125 bytes, a surrogate pair last
      'a\uD800b\uDC00', // unpaired surrogates: U+FFFD each, as Buffer.from gives
    ];
    const sent: string[] = [];
    for (const s of strings) server.send(s, () => sent.push(s));
    server.send('as binary', { binary: true });
    const frames = [];
    for (let i = 0; i < strings.length + 1; i++) frames.push(await reader.nextFrame());
    assert.deepEqual(
      frames.map((f) => [f.fin, f.opcode, f.payload.toString('hex')]),
      [
        ...strings.map((s) => [true, Opcode.Text, Buffer.from(s).toString('hex')]),
        [true, Opcode.Binary, Buffer.from('as binary').toString('hex')],
      ],
    );
    assert.equal(frames[6].payload.toString('hex'), '61efbfbd62efbfbd');
    await waitFor(() => sent.length === strings.length);
    assert.deepEqual(sent, strings);
    socket.destroy();
  });
});
