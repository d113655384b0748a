// Connection state recovery and reconnection across a server restart, with socket.io-client.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, describe, it } from 'node:test';
import { type Socket as ClientSocket, io as ioc } from 'socket.io-client';
import { Server, type Socket } from '../../src/realtime/index.js';
import { delay, engineUnderTest, once, type Started, start } from './helpers.js';

for (const transports of [['websocket'], ['polling']]) {
  describe(`parley server: connection state recovery (${transports.join('+')})`, () => {
    let s: Started;
    after(async () => s?.close());

    it('replays the events missed while disconnected, restoring id, rooms and data', async () => {
      s = await start({ connectionStateRecovery: { maxDisconnectionDuration: 5000 } }, transports);
      const serverSockets: Socket[] = [];
      s.io.on('connection', (socket) => {
        serverSockets.push(socket);
        if (!socket.recovered) {
          void socket.join('news');
          socket.data = { user: 'ada' };
        }
        socket.emit('hello', socket.recovered);
      });
      const c = s.client('/', { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
      const got: unknown[] = [];
      c.on('news', (n: number) => got.push(n));
      const [recoveredFirst] = await once(c, 'hello');
      assert.equal(recoveredFirst, false);
      const firstId = c.id;
      s.io.to('news').emit('news', 1);
      await delay(100);
      // Cut the transport: the client sees "transport close" and reconnects.
      c.io.engine.close();
      await delay(20);
      s.io.to('news').emit('news', 2);
      s.io.emit('news', 3);
      s.io.to('elsewhere').emit('news', 99);
      const [recovered] = await once(c, 'hello');
      assert.equal(recovered, true);
      assert.equal(c.recovered, true);
      assert.equal(c.id, firstId);
      await delay(100);
      assert.deepEqual(
        got.filter((v) => typeof v === 'number'),
        [1, 2, 3],
      );
      const last = serverSockets[serverSockets.length - 1]!;
      assert.equal(last.recovered, true);
      assert.ok(last.rooms.has('news'));
      assert.deepEqual(last.data, { user: 'ada' });
    });

    it('does not recover an unknown session', async () => {
      const c = s.client('/', { auth: { pid: 'nope', offset: 'nope' } });
      const [recovered] = await once(c, 'hello');
      assert.equal(recovered, false);
    });
  });
}

describe('parley server: reconnection across a server restart', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  it('socket.io-client reconnects to a restarted server on the same port', async () => {
    const engine = engineUnderTest();
    const http1 = createServer();
    const io1 = new Server(http1, { engine });
    io1.on('connection', (socket) => socket.emit('server', 1));
    await new Promise<void>((r) => http1.listen(0, '127.0.0.1', r));
    const { port } = http1.address() as { port: number };
    const c: ClientSocket = ioc(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 200,
    });
    cleanup.push(() => {
      c.disconnect();
    });
    const [first] = await once(c, 'server');
    assert.equal(first, 1);
    const disconnected = once(c, 'disconnect');
    await io1.close();
    const [reason] = await disconnected;
    assert.equal(reason, 'transport close');

    const http2 = createServer();
    const io2 = new Server(http2, { engine });
    cleanup.push(() => io2.close());
    io2.on('connection', (socket) => socket.emit('server', 2));
    await new Promise<void>((r) => http2.listen(port, '127.0.0.1', r));
    const [second] = await once(c, 'server', 5000);
    assert.equal(second, 2);
    assert.equal(c.connected, true);
  });
});
