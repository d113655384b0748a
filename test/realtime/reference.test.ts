// The Socket.IO protocol test suite's reference server, as parley builds it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type Socket as ClientSocket, io as ioc } from 'socket.io-client';
import { createReferenceServer, type ReferenceServer } from '../../src/realtime/index.js';
import { once } from './helpers.js';

describe('reference server (Socket.IO v5 test suite configuration)', () => {
  let ref: ReferenceServer | undefined;
  const clients: ClientSocket[] = [];
  after(async () => {
    for (const c of clients) c.disconnect();
    await ref?.close();
  });

  it('emits auth, echoes message and acks message-with-ack, on / and /custom', async () => {
    ref = await createReferenceServer({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${ref.port}`;
    const c = ioc(url, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { t: 1 } });
    clients.push(c);
    assert.deepEqual(await once(c, 'auth'), [{ t: 1 }]);
    c.emit('message', 1, '2', { 3: Buffer.from([4]) });
    const back = await once(c, 'message-back');
    assert.equal(back[0], 1);
    assert.equal(back[1], '2');
    assert.deepEqual([...(back[2] as { 3: Buffer })[3]], [4]);
    assert.deepEqual(await c.emitWithAck('message-with-ack', 'a', 'b'), 'a');
    const custom = ioc(url + '/custom', {
      transports: ['polling'],
      forceNew: true,
      reconnection: false,
      auth: { c: 2 },
    });
    clients.push(custom);
    assert.deepEqual(await once(custom, 'auth'), [{ c: 2 }]);
  });
});
