// SmallMap: the one-entry-inline map behind emitters and connections behaves like a Map.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SmallMap } from '../../src/realtime/small-map.js';

describe('SmallMap', () => {
  it('gets, sets, deletes and keeps insertion order across the inline entry and the rest', () => {
    const m = new SmallMap<number>();
    assert.equal(m.size, 0);
    m.set('a', 1).set('b', 2).set('c', 3);
    assert.deepEqual(m.values(), [1, 2, 3]);
    m.set('a', 10);
    assert.equal(m.get('a'), 10);
    assert.equal(m.delete('a'), true);
    assert.equal(m.delete('a'), false);
    assert.equal(m.has('a'), false);
    m.set('a', 4); // newest: after b and c
    assert.deepEqual(m.values(), [2, 3, 4]);
    assert.equal(m.size, 3);
    m.delete('b');
    m.delete('c');
    m.delete('a');
    assert.equal(m.size, 0);
    m.set('d', 5);
    assert.deepEqual(m.values(), [5]);
    assert.equal(m.get('__proto__'), undefined);
    m.clear();
    assert.equal(m.size, 0);
    assert.equal(m.get('d'), undefined);
  });
});
