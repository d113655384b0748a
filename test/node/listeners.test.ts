// compactListeners swaps an emitter's listener table for a smaller one, releaseListeners drops an
// empty one; nothing may change for the emitter's users, including events with names the Object
// prototype has.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { compactListeners, releaseListeners } from '../../src/node/listeners.js';

describe('compactListeners', () => {
  it('keeps listeners already registered, in order, and later ones work as before', () => {
    const e = new EventEmitter();
    const calls: string[] = [];
    e.on('data', () => calls.push('data 1'));
    e.on('data', () => calls.push('data 2'));
    e.once('end', () => calls.push('end'));
    compactListeners(e);
    e.prependListener('data', () => calls.push('data 0'));
    e.emit('data');
    e.emit('end');
    e.emit('end');
    assert.deepEqual(calls, ['data 0', 'data 1', 'data 2', 'end']);
    assert.deepEqual(e.eventNames(), ['data']);
    assert.equal(e.listenerCount('data'), 3);
  });

  it('treats __proto__, toString and constructor as plain event names', () => {
    const e = new EventEmitter();
    compactListeners(e);
    const got: string[] = [];
    for (const name of ['__proto__', 'toString', 'constructor', 'hasOwnProperty']) {
      assert.equal(e.listenerCount(name), 0);
      e.on(name, () => got.push(name));
      e.emit(name);
    }
    assert.deepEqual(got, ['__proto__', 'toString', 'constructor', 'hasOwnProperty']);
    e.removeAllListeners('__proto__');
    assert.equal(e.listenerCount('__proto__'), 0);
    assert.equal(e.listenerCount('toString'), 1);
  });

  it('leaves an unhandled error throwing and removal working', () => {
    const e = new EventEmitter();
    compactListeners(e);
    assert.throws(() => e.emit('error', new Error('boom')), /boom/);
    const f = () => {};
    e.on('x', f);
    e.off('x', f);
    assert.equal(e.listenerCount('x'), 0);
    assert.deepEqual(e.eventNames(), []);
  });
});

describe('compactListeners: what is copied', () => {
  it('keeps events named by symbols', () => {
    const e = new EventEmitter();
    const name = Symbol('event');
    const got: string[] = [];
    e.on(name, () => got.push('symbol'));
    e.on('data', () => got.push('data'));
    compactListeners(e);
    e.emit(name);
    e.emit('data');
    assert.deepEqual(got, ['symbol', 'data']);
    assert.deepEqual(e.eventNames(), ['data', name]);
  });

  it('copies no key made enumerable on Object.prototype (a stream table inherits from it)', () => {
    const stream = new PassThrough();
    stream.on('data', () => {});
    const polluted = Object.prototype as Record<string, unknown>;
    polluted.polluted = () => {};
    try {
      compactListeners(stream);
    } finally {
      delete polluted.polluted;
    }
    assert.ok(stream.eventNames().includes('data'));
    assert.ok(!stream.eventNames().includes('polluted'));
    assert.equal(stream.listenerCount('polluted'), 0);
  });

  it('leaves a table it made as it is', () => {
    const e = new EventEmitter();
    e.on('data', () => {});
    compactListeners(e);
    const table = (e as unknown as { _events: object })._events;
    compactListeners(e);
    assert.equal((e as unknown as { _events: object })._events, table);
  });
});

describe('compactListeners on a stream', () => {
  it('copies only the events listened to; the stream works as before', async () => {
    const stream = new PassThrough();
    const got: string[] = [];
    stream.on('data', (chunk: Buffer) => got.push(chunk.toString()));
    compactListeners(stream);
    // a stream's table starts with keys for its usual events, holding undefined until listened to
    const table = (stream as unknown as { _events: Record<string, unknown> })._events;
    const proto = Object.getPrototypeOf(table);
    assert.deepEqual(Reflect.ownKeys(proto), []);
    assert.equal(Object.getPrototypeOf(proto), null);
    assert.ok(Reflect.ownKeys(table).includes('data'));
    assert.ok(!Reflect.ownKeys(table).includes('readable'));
    assert.ok(Object.values(table).every((v) => v !== undefined));
    const ended = new Promise((resolve) => stream.on('end', resolve));
    stream.write('a');
    stream.end('b');
    await ended;
    assert.deepEqual(got, ['a', 'b']);
  });
});

describe('releaseListeners', () => {
  const table = (e: EventEmitter) => (e as unknown as { _events?: object })._events;

  it('drops an empty table; the emitter works as before and makes a new one when listened to', () => {
    const e = new EventEmitter();
    const f = () => {};
    e.on('x', f);
    e.off('x', f);
    releaseListeners(e);
    assert.equal(table(e), undefined);
    assert.equal(e.emit('x'), false);
    assert.equal(e.listenerCount('x'), 0);
    assert.deepEqual(e.eventNames(), []);
    assert.deepEqual(e.listeners('x'), []);
    e.removeAllListeners();
    assert.throws(() => e.emit('error', new Error('boom')), /boom/);
    const got: string[] = [];
    e.once('x', (v: string) => got.push(v));
    e.on('toString', (v: string) => got.push(v));
    e.emit('x', 'a');
    e.emit('x', 'b');
    e.emit('toString', 'c');
    assert.deepEqual(got, ['a', 'c']);
  });

  it('leaves a table that holds listeners alone', () => {
    const e = new EventEmitter();
    const calls: number[] = [];
    e.on('x', () => calls.push(1));
    const before = table(e);
    releaseListeners(e);
    assert.equal(table(e), before);
    e.emit('x');
    assert.deepEqual(calls, [1]);
  });
});
