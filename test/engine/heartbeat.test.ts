// The shared heartbeat queues: entries come due in order, never early, and leave in O(1).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DeadlineEntry, DeadlineQueue } from '../../src/engine/heartbeat.js';
import { sleep } from './helpers.js';

describe('DeadlineQueue', () => {
  it('reports entries in order, not before their delay, and skips removed ones', async () => {
    const due: { name: string; after: number }[] = [];
    const start = performance.now();
    const q = new DeadlineQueue<string>(40, (name) => due.push({ name, after: performance.now() - start }));
    const a = new DeadlineEntry('a');
    const b = new DeadlineEntry('b');
    const c = new DeadlineEntry('c');
    q.add(a);
    await sleep(15);
    q.add(b);
    q.add(c);
    b.leave();
    await sleep(150);
    assert.deepEqual(
      due.map((d) => d.name),
      ['a', 'c'],
    );
    assert.ok(due[0]!.after >= 39, `a after ${due[0]!.after} ms`);
    assert.ok(due[1]!.after >= 54, `c after ${due[1]!.after} ms`);
  });

  it('moves an entry between queues and re-adds it at the tail', async () => {
    const seen: string[] = [];
    const first = new DeadlineQueue<string>(30, (n) => seen.push(`first ${n}`));
    const second = new DeadlineQueue<string>(10, (n) => seen.push(`second ${n}`));
    const a = new DeadlineEntry('a');
    const b = new DeadlineEntry('b');
    first.add(a);
    first.add(b);
    first.add(a); // a is now after b
    second.add(b); // b leaves `first`
    await sleep(100);
    assert.deepEqual(seen, ['second b', 'first a']);
    assert.equal(a.queue, undefined);
  });
});
