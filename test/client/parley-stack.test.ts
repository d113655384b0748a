// The parley client against the parley server (both on parley's engine), and the client facing a
// hostile server.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { io, type Socket } from '../../src/client/index.js';
import { Server as EngineServer } from '../../src/engine/index.js';
import { Server } from '../../src/realtime/index.js';

function once<T extends unknown[] = unknown[]>(
  emitter: { once(ev: string, fn: never): unknown },
  event: string,
  ms = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${event}`)), ms);
    emitter.once(event, ((...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    }) as never);
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const transports of [['websocket'], ['polling', 'websocket']]) {
  describe(`parley client -> parley server (${transports.join('+')})`, () => {
    const sockets: Socket[] = [];
    let server: Server | undefined;
    after(async () => {
      for (const s of sockets) s.disconnect();
      await server?.close();
    });

    it('events, acks, binary, rooms and broadcast acks', async () => {
      const http = createServer();
      server = new Server(http);
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
      server.on('connection', (socket) => {
        void socket.join('all');
        socket.on('sum', (a: number, b: number, ack: (r: number) => void) => ack(a + b));
        socket.on('bin', (b: Uint8Array, ack: (r: Uint8Array) => void) => ack(b.slice().reverse()));
        socket.on('relay', (msg: string) => socket.to('all').emit('relayed', msg));
      });
      const c1 = io(url, { transports, forceNew: true, reconnection: false });
      const c2 = io(url, { transports, forceNew: true, reconnection: false });
      sockets.push(c1, c2);
      await Promise.all([once(c1, 'connect'), once(c2, 'connect')]);
      assert.equal(await c1.emitWithAck('sum', 2, 3), 5);
      const rev = (await c1.emitWithAck('bin', new Uint8Array([1, 2, 3]))) as Uint8Array;
      assert.deepEqual([...new Uint8Array(rev)], [3, 2, 1]);
      // A Blob travels as a binary attachment too.
      const fromBlob = (await c1.emitWithAck('bin', new Blob([new Uint8Array([7, 8])]))) as Uint8Array;
      assert.deepEqual([...new Uint8Array(fromBlob)], [8, 7]);
      c1.emit('relay', 'hi');
      assert.deepEqual(await once(c2, 'relayed'), ['hi']);
      c1.on('vote', (ack: (v: string) => void) => ack('yes'));
      c2.on('vote', (ack: (v: string) => void) => ack('no'));
      const votes = (await server.timeout(2000).emitWithAck('vote')) as string[];
      assert.deepEqual(votes.sort(), ['no', 'yes']);
    });
  });
}

describe('parley client facing a hostile server', () => {
  let engine: EngineServer | undefined;
  const sockets: Socket[] = [];
  after(() => {
    for (const s of sockets) s.disconnect();
    engine?.close();
    engine?.httpServer?.close();
  });

  it('closes with "parse error" on malformed packets, and on placeholder abuse', async () => {
    const http = createServer();
    engine = new EngineServer({});
    engine.attach(http, { path: '/socket.io' });
    const payloads = ['2["unterminated"', '51-["x",{"_placeholder":true,"num":9}]'];
    let n = 0;
    engine.on('connection', (conn) => {
      const payload = payloads[n++ % payloads.length]!;
      conn.on('message', (data) => {
        if (String(data).startsWith('0')) {
          conn.send('0{"sid":"abc"}');
          conn.send(payload);
          conn.send(Buffer.from([1]));
        }
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    for (let i = 0; i < payloads.length; i++) {
      const c = io(url, { transports: ['websocket'], forceNew: true, reconnection: false });
      sockets.push(c);
      const connected = once(c, 'connect');
      const disconnected = once(c, 'disconnect');
      await connected;
      const [reason] = await disconnected;
      assert.equal(reason, 'parse error');
    }
    await delay(10);
  });
});
