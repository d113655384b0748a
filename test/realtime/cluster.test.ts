// Two parley servers joined by a ClusterAdapter over an in-process bus (standing in for Redis):
// broadcasts, rooms, fetchSockets, serverSideEmit with acks and broadcast acks cross nodes.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  type AdapterConstructor,
  type AdapterNamespace,
  ClusterAdapter,
  type ClusterMessage,
  type ClusterResponse,
  type ServerId,
} from '../../src/realtime/index.js';
import { delay, once, type Started, start } from './helpers.js';

/** An in-process message bus; messages are structured-cloned, as a real backend would copy them. */
class Bus {
  readonly adapters = new Set<BusAdapter>();
}

abstract class BusAdapter extends ClusterAdapter {}

function busAdapter(bus: Bus): AdapterConstructor {
  return class extends BusAdapter {
    constructor(nsp: AdapterNamespace) {
      super(nsp, { heartbeatInterval: 500, requestsTimeout: 1000 });
      bus.adapters.add(this);
    }
    protected override async doPublish(message: ClusterMessage): Promise<void> {
      for (const a of bus.adapters) {
        if (a !== this) setImmediate(() => a.onMessage(structuredClone(message)));
      }
    }
    protected override async doPublishResponse(uid: ServerId, response: ClusterResponse): Promise<void> {
      for (const a of bus.adapters) {
        if (a.uid === uid) setImmediate(() => a.onResponse(structuredClone(response)));
      }
    }
    override close(): void {
      super.close();
      bus.adapters.delete(this);
    }
  };
}

describe('cluster adapter over a bus', () => {
  let a: Started;
  let b: Started;
  after(async () => {
    await a?.close();
    await b?.close();
  });

  it('spans broadcasts, rooms, fetchSockets, serverSideEmit and acks across nodes', async () => {
    const bus = new Bus();
    a = await start({ adapter: busAdapter(bus) });
    b = await start({ adapter: busAdapter(bus) });
    for (const [node, name] of [
      [a, 'A'],
      [b, 'B'],
    ] as const) {
      node.io.on('connection', (socket) => {
        void socket.join('room');
        socket.data = { node: name };
      });
      node.io.on('whoami', (...args: unknown[]) => {
        const ack = args.pop() as (v: string) => void;
        ack(`node ${name} got ${String(args[0])}`);
      });
    }
    const cA = a.client();
    const cB = b.client();
    cA.on('vote', (ack: (v: string) => void) => ack('a'));
    cB.on('vote', (ack: (v: string) => void) => ack('b'));
    await Promise.all([once(cA, 'connect'), once(cB, 'connect')]);
    await delay(50);

    const gotB = once(cB, 'news');
    a.io.to('room').emit('news', 'from A', Buffer.from([1, 2]));
    const [text, bin] = await gotB;
    assert.equal(text, 'from A');
    assert.deepEqual([...(bin as Buffer)], [1, 2]);

    const sockets = await a.io.fetchSockets();
    assert.deepEqual(sockets.map((s) => (s.data as { node: string }).node).sort(), ['A', 'B']);
    const remote = sockets.find((s) => (s.data as { node: string }).node === 'B')!;
    assert.equal(remote.id, cB.id);
    assert.ok(remote.rooms.has('room'));

    const responses = await a.io.serverSideEmitWithAck('whoami', 'ping');
    assert.deepEqual(responses, ['node B got ping']);

    const votes = (await a.io.timeout(2000).emitWithAck('vote')) as string[];
    assert.deepEqual(votes.sort(), ['a', 'b']);

    const localOnly: unknown[] = [];
    cB.on('local', (v: unknown) => localOnly.push(v));
    a.io.local.emit('local', 1);
    a.io.in(cB.id!).socketsJoin('vip');
    await delay(100);
    assert.deepEqual(localOnly, []);
    assert.ok([...b.io.sockets.sockets.values()][0]!.rooms.has('vip'));

    const gone = once(cB, 'disconnect');
    a.io.in('vip').disconnectSockets();
    assert.equal((await gone)[0], 'io server disconnect');
  });
});
