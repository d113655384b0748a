/**
 * Interop with the `ws` package: parley client <-> ws server and ws client <-> parley server,
 * with and without permessage-deflate, text, binary, fragmented and 16 MiB messages, every close path.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import WS, { WebSocketServer as WSServer } from 'ws';
import { WebSocket } from '../../src/index.js';
import { listen, next, shutdown } from '../helpers/net.js';

type AnyClient = {
  send(data: unknown, options?: { binary?: boolean; fin?: boolean }): void;
  close(code?: number, reason?: string): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
};

const BIG = 16 * 1024 * 1024;

/** Sends a mix of messages through an echo server and checks what comes back. */
async function roundTrips(client: AnyClient): Promise<void> {
  const received: Array<{ data: Buffer; isBinary: boolean }> = [];
  client.on('message', (data: Buffer, isBinary: boolean) =>
    received.push({ data: Buffer.from(data), isBinary }),
  );
  const big = Buffer.alloc(BIG);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  client.send('héllo wörld ✓');
  client.send(Buffer.from([0, 1, 2, 255]));
  client.send('frag-', { fin: false });
  client.send('ment', { fin: false });
  client.send('ed', { fin: true });
  client.send(Buffer.alloc(0));
  client.send('x'.repeat(70_000));
  client.send(big);
  const deadline = Date.now() + 20_000;
  while (received.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(received.length, 6);
  assert.deepEqual(received[0], { data: Buffer.from('héllo wörld ✓'), isBinary: false });
  assert.deepEqual(received[1], { data: Buffer.from([0, 1, 2, 255]), isBinary: true });
  assert.deepEqual(received[2], { data: Buffer.from('frag-mented'), isBinary: false });
  assert.deepEqual(received[3], { data: Buffer.alloc(0), isBinary: true });
  assert.equal(received[4].data.toString(), 'x'.repeat(70_000));
  assert.equal(received[5].isBinary, true);
  assert.ok(received[5].data.equals(big));
}

for (const compression of [false, true]) {
  describe(`ws client -> parley server (permessage-deflate ${compression ? 'on' : 'off'})`, () => {
    test('echoes every kind of message', async () => {
      const { wss, url } = await listen({ perMessageDeflate: compression ? { threshold: 0 } : false });
      after(() => shutdown(wss));
      wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
      const client = new WS(url, { perMessageDeflate: compression });
      await once(client, 'open');
      assert.equal(client.extensions.includes('permessage-deflate'), compression);
      await roundTrips(client as unknown as AnyClient);
      const closed = next(client, 'close');
      client.close(4001, 'done');
      const [code, reason] = await closed;
      assert.equal(code, 4001);
      assert.equal(String(reason), 'done');
    });
  });

  describe(`parley client -> ws server (permessage-deflate ${compression ? 'on' : 'off'})`, () => {
    test('echoes every kind of message', async () => {
      const wss = new WSServer({
        port: 0,
        host: '127.0.0.1',
        perMessageDeflate: compression ? { threshold: 0 } : false,
      });
      await once(wss, 'listening');
      after(() => new Promise((r) => wss.close(r)));
      wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
      const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, {
        perMessageDeflate: compression ? { threshold: 0 } : false,
      });
      await once(client, 'open');
      assert.equal(client.extensions.includes('permessage-deflate'), compression);
      await roundTrips(client as unknown as AnyClient);
      const closed = next(client, 'close');
      client.close(1000);
      const [code] = await closed;
      assert.equal(code, 1000);
    });
  });
}

describe('close paths with ws', () => {
  test('the parley server closes: the ws client sees the code and reason, clean', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    wss.on('connection', (ws) => ws.close(4002, 'server says bye'));
    const client = new WS(url);
    const [code, reason] = await next(client, 'close');
    assert.equal(code, 4002);
    assert.equal(String(reason), 'server says bye');
  });

  test('the ws server closes: the parley client sees the code and reason', async () => {
    const wss = new WSServer({ port: 0, host: '127.0.0.1' });
    await once(wss, 'listening');
    after(() => new Promise((r) => wss.close(r)));
    wss.on('connection', (ws) => ws.close(1001, 'going away'));
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
    const [code, reason] = await next(client, 'close');
    assert.equal(code, 1001);
    assert.equal(String(reason), 'going away');
  });

  test('a close without a code is reported as 1005 on both sides', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const serverClosed = new Promise<unknown[]>((resolve) =>
      wss.on('connection', (ws) => ws.on('close', (...args) => resolve(args))),
    );
    const client = new WS(url);
    await once(client, 'open');
    client.close();
    const [code] = await next(client, 'close');
    assert.equal(code, 1005);
    assert.equal((await serverClosed)[0], 1005);
  });

  test('terminate on the parley side: the ws peer sees 1006', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    wss.on('connection', (ws) => ws.terminate());
    const client = new WS(url);
    const [code] = await next(client, 'close');
    assert.equal(code, 1006);
  });

  test('the ws peer terminates: the parley server sees 1006', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const closed = new Promise<unknown[]>((resolve) =>
      wss.on('connection', (ws) => ws.on('close', (...args) => resolve(args))),
    );
    const client = new WS(url);
    await once(client, 'open');
    client.terminate();
    assert.equal((await closed)[0], 1006);
  });

  test('a protocol violation from a ws client is failed with 1002 and the process lives', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const errors: Error[] = [];
    wss.on('connection', (ws) => ws.on('error', (error) => errors.push(error)));
    const client = new WS(url);
    await once(client, 'open');
    // A ping frame with FIN clear: control frames must not be fragmented.
    (client as unknown as { _socket: { write(b: Buffer): void } })._socket.write(
      Buffer.from([0x09, 0x80, 0, 0, 0, 0]),
    );
    const [code] = await next(client, 'close');
    assert.equal(code, 1002);
    assert.equal((errors[0] as Error & { code: string }).code, 'WS_ERR_EXPECTED_FIN');
  });

  test('a message over maxPayload is failed with 1009', async () => {
    const { wss, url } = await listen({ maxPayload: 1024 });
    after(() => shutdown(wss));
    const client = new WS(url);
    await once(client, 'open');
    client.send(Buffer.alloc(2048));
    const [code] = await next(client, 'close');
    assert.equal(code, 1009);
  });

  test('a compressed message that inflates past maxPayload is failed with 1009', async () => {
    const { wss, url } = await listen({ maxPayload: 64 * 1024, perMessageDeflate: true });
    after(() => shutdown(wss));
    const client = new WS(url, { perMessageDeflate: { threshold: 0 } });
    await once(client, 'open');
    client.send(Buffer.alloc(1024 * 1024)); // compresses to ~1 KiB, inflates to 1 MiB
    const [code] = await next(client, 'close');
    assert.equal(code, 1009);
  });
});
