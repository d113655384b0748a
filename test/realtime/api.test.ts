// Remaining server API surface with socket.io-client: disconnect(true), onAnyOutgoing/offAny,
// volatile/compress, single-node serverSideEmit, socket ids, adapter room events, io.close().
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RealtimeUsageError, Server, type Socket } from '../../src/realtime/index.js';
import { delay, once, type Started, start } from './helpers.js';

describe('parley server: API surface', () => {
  let s: Started;
  after(async () => s?.close());

  it('disconnect(true) closes every namespace of the connection', async () => {
    s = await start();
    const reasons: string[] = [];
    s.io
      .of('/x')
      .on('connection', (socket) => socket.on('disconnect', (r: string) => reasons.push('x:' + r)));
    s.io.on('connection', (socket) => {
      socket.on('disconnect', (r: string) => reasons.push('main:' + r));
      socket.on('close-all', () => socket.disconnect(true));
    });
    const main = s.client('/');
    const x = main.io.socket('/x');
    x.connect();
    await Promise.all([once(main, 'connect'), once(x, 'connect')]);
    const engineId = (main.io.engine as unknown as { id: string }).id;
    assert.notEqual(main.id, engineId, 'the socket id is not the engine session id');
    assert.notEqual(x.id, engineId);
    assert.notEqual(main.id, x.id);
    main.emit('close-all');
    await Promise.all([once(main, 'disconnect'), once(x, 'disconnect')]);
    await delay(50);
    assert.deepEqual(reasons.sort(), ['main:server namespace disconnect', 'x:server namespace disconnect']);
  });

  it('onAny/onAnyOutgoing see traffic, offAny stops it; volatile and compress(false) still deliver', async () => {
    const incoming: unknown[][] = [];
    const outgoing: unknown[][] = [];
    const ready = new Promise<Socket>((resolve) => s.io.once('connection', resolve));
    const c = s.client();
    const socket = await ready;
    const inListener = (...args: unknown[]) => incoming.push(args);
    socket.onAny(inListener);
    socket.onAnyOutgoing((...args: unknown[]) => outgoing.push(args));
    await once(c, 'connect');
    c.emit('one', 1);
    await delay(50);
    socket.offAny(inListener);
    c.emit('two', 2);
    socket.volatile.emit('v', 'volatile');
    socket.compress(false).emit('c', 'uncompressed');
    s.io.emit('b', 'broadcast');
    const got = await Promise.all([once(c, 'v'), once(c, 'c'), once(c, 'b')]);
    assert.deepEqual(got, [['volatile'], ['uncompressed'], ['broadcast']]);
    assert.deepEqual(incoming, [['one', 1]]);
    assert.deepEqual(
      outgoing.map((a) => a[0]),
      ['v', 'c', 'b'],
    );
    assert.throws(() => socket.emit('disconnect'), RealtimeUsageError);
    assert.throws(() => s.io.emit('connect'), RealtimeUsageError);
  });

  it('serverSideEmit acks at once with no other node; room events fire; ids are distinct per namespace', async () => {
    const responses = await s.io.serverSideEmitWithAck('anyone');
    assert.deepEqual(responses, []);
    const events: string[] = [];
    const nsp = s.io.of('/rooms');
    nsp.adapter.on('create-room', (room: string) => events.push('create:' + room));
    nsp.adapter.on('delete-room', (room: string) => events.push('delete:' + room));
    const ids: string[] = [];
    nsp.on('connection', (socket) => {
      ids.push(socket.id);
      void socket.join('r1');
      socket.on('leave', () => void socket.leave('r1'));
    });
    const c = s.client('/rooms');
    await once(c, 'connect');
    assert.equal(ids[0], c.id);
    assert.notEqual(c.id, (c.io.engine as unknown as { id: string }).id);
    c.emit('leave');
    await delay(50);
    assert.ok(events.includes('create:r1'));
    assert.ok(events.includes('delete:r1'));
  });

  it('io.close() disconnects clients with "transport close"', async () => {
    const c = s.client();
    await once(c, 'connect');
    const p = once(c, 'disconnect');
    await s.io.close();
    assert.equal((await p)[0], 'transport close');
  });
});

describe('parley server: options', () => {
  it('refuses a maxAttachments that is not a non-negative integer', () => {
    for (const maxAttachments of [-1, 1.5, Number.NaN]) {
      assert.throws(
        () => new Server({ maxAttachments }),
        (err: unknown) =>
          err instanceof RealtimeUsageError &&
          err.code === 'IO_ERR_INVALID_OPTION' &&
          /maxAttachments must be a non-negative integer/.test(err.message),
      );
    }
  });
});
