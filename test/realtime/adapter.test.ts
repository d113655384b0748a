// The in-memory adapter's room bookkeeping, on its own (no sockets): every socket's own room shares
// one Set between `rooms` and `sids` until either side changes, and none of that may show.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Adapter, type AdapterNamespace } from '../../src/realtime/index.js';

function adapter(): { adapter: Adapter; events: string[] } {
  const nsp: AdapterNamespace = {
    name: '/',
    sockets: new Map(),
    nextAckId: () => 1,
    onServerSideEmit: () => {},
  };
  const a = new Adapter(nsp);
  const events: string[] = [];
  for (const ev of ['create-room', 'delete-room', 'join-room', 'leave-room']) {
    a.on(ev, (...args: unknown[]) => events.push(`${ev} ${args.join(' ')}`));
  }
  return { adapter: a, events };
}

const members = (a: Adapter, room: string) => [...(a.rooms.get(room) ?? [])].sort();
const roomsOf = (a: Adapter, id: string) => [...(a.sids.get(id) ?? [])].sort();

describe('in-memory adapter rooms', () => {
  it('a socket in its own room only: one room, one socket, the usual events', () => {
    const { adapter: a, events } = adapter();
    a.addAll('A', ['A']);
    assert.deepEqual(members(a, 'A'), ['A']);
    assert.deepEqual(roomsOf(a, 'A'), ['A']);
    assert.deepEqual(events, ['create-room A', 'join-room A A']);
    a.delAll('A');
    assert.equal(a.rooms.size, 0);
    assert.equal(a.sids.size, 0);
    assert.deepEqual(events.slice(2), ['leave-room A A', 'delete-room A']);
  });

  it("joining another room changes the socket's rooms, not its own room's members", () => {
    const { adapter: a } = adapter();
    a.addAll('A', ['A']);
    a.addAll('A', ['lobby']);
    assert.deepEqual(roomsOf(a, 'A'), ['A', 'lobby']);
    assert.deepEqual(members(a, 'A'), ['A']);
    assert.deepEqual(members(a, 'lobby'), ['A']);
  });

  it("another socket joining a socket's own room changes that room only", () => {
    const { adapter: a } = adapter();
    a.addAll('A', ['A']);
    a.addAll('B', ['B']);
    a.addAll('B', ['A']);
    assert.deepEqual(members(a, 'A'), ['A', 'B']);
    assert.deepEqual(roomsOf(a, 'A'), ['A']);
    assert.deepEqual(roomsOf(a, 'B'), ['A', 'B']);
    a.delAll('B');
    assert.deepEqual(members(a, 'A'), ['A']);
    assert.deepEqual(roomsOf(a, 'A'), ['A']);
  });

  it('leaving its own room empties and deletes that room, with both events', () => {
    const { adapter: a, events } = adapter();
    a.addAll('A', ['A']);
    a.del('A', 'A');
    assert.equal(a.rooms.has('A'), false);
    assert.deepEqual(roomsOf(a, 'A'), []);
    assert.deepEqual(events.slice(2), ['leave-room A A', 'delete-room A']);
    a.addAll('A', ['A']);
    assert.deepEqual(members(a, 'A'), ['A']);
    assert.deepEqual(roomsOf(a, 'A'), ['A']);
  });

  it('joining own room and others in one call, and leaving them one by one', () => {
    const { adapter: a } = adapter();
    a.addAll('A', ['A', 'x', 'y']);
    assert.deepEqual(roomsOf(a, 'A'), ['A', 'x', 'y']);
    assert.deepEqual(members(a, 'A'), ['A']);
    a.del('A', 'x');
    a.del('A', 'A');
    assert.deepEqual(roomsOf(a, 'A'), ['y']);
    assert.deepEqual([...a.rooms.keys()].sort(), ['y']);
  });
});
