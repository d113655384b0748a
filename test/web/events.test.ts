// CloseEvent and MessageEvent as exported by parley/web, and the Web IDL conversions of CloseEventInit.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CloseEvent, CloseEventPolyfill, MessageEvent } from '../../src/web/index.js';

describe('CloseEvent', () => {
  test('is the global CloseEvent when the runtime has one, else the polyfill', () => {
    const global = (globalThis as { CloseEvent?: unknown }).CloseEvent;
    assert.equal(CloseEvent, global ?? CloseEventPolyfill);
  });

  for (const Ctor of [CloseEvent, CloseEventPolyfill]) {
    test(`${Ctor === CloseEventPolyfill ? 'polyfill' : 'exported'}: defaults and initialisation`, () => {
      const empty = new Ctor('close');
      assert.ok(empty instanceof Event);
      assert.equal(empty.type, 'close');
      assert.equal(empty.wasClean, false);
      assert.equal(empty.code, 0);
      assert.equal(empty.reason, '');
      const full = new Ctor('close', { wasClean: true, code: 4000, reason: 'bye', cancelable: true });
      assert.equal(full.wasClean, true);
      assert.equal(full.code, 4000);
      assert.equal(full.reason, 'bye');
      assert.equal(full.cancelable, true);
      assert.equal(Object.prototype.toString.call(full), '[object CloseEvent]');
    });
  }

  test('polyfill: CloseEventInit members are converted as Web IDL does', () => {
    const event = new CloseEventPolyfill('close', {
      wasClean: 1 as unknown as boolean,
      code: 65536 + 1000.9,
      reason: 'a\ud800' as string,
    });
    assert.equal(event.wasClean, true);
    assert.equal(event.code, 1000);
    assert.equal(event.reason, 'a\ufffd');
    assert.equal(new CloseEventPolyfill('close', { code: -1 }).code, 65535);
    assert.equal(new CloseEventPolyfill('close', { code: Number.NaN }).code, 0);
    assert.throws(() => Reflect.construct(CloseEventPolyfill, []), TypeError);
  });

  test('polyfill: attributes are read-only accessors', () => {
    const event = new CloseEventPolyfill('close', { code: 1000 });
    assert.throws(() => {
      (event as unknown as { code: number }).code = 1;
    }, TypeError);
    assert.equal(event.code, 1000);
    for (const name of ['wasClean', 'code', 'reason']) {
      const descriptor = Object.getOwnPropertyDescriptor(CloseEventPolyfill.prototype, name);
      assert.equal(typeof descriptor?.get, 'function');
      assert.equal(descriptor?.set, undefined);
      assert.equal(descriptor?.enumerable, true);
    }
  });
});

describe('MessageEvent', () => {
  test('is the global MessageEvent', () => {
    assert.equal(MessageEvent, globalThis.MessageEvent);
    const event = new MessageEvent('message', { data: 'x', origin: 'ws://h:1' });
    assert.equal(event.data, 'x');
    assert.equal(event.origin, 'ws://h:1');
  });
});
