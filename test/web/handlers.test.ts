// The onopen/onmessage/onerror/onclose event handler IDL attributes, as the HTML standard defines
// them, next to addEventListener.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CloseEvent, WebSocket } from '../../src/web/index.js';
import { nextEvent, startEchoServer } from './helpers.js';

async function connected(t: import('node:test').TestContext): Promise<WebSocket> {
  const { url } = await startEchoServer(t);
  const ws = new WebSocket(url);
  await nextEvent(ws, 'open');
  t.after(() => ws.close());
  return ws;
}

describe('event handler attributes', () => {
  test('setting replaces the handler but keeps its place among the listeners', async (t) => {
    const ws = await connected(t);
    const log: string[] = [];
    ws.addEventListener('message', () => log.push('a'));
    ws.onmessage = () => log.push('h1');
    ws.addEventListener('message', () => log.push('b'));
    ws.onmessage = () => log.push('h2');
    ws.dispatchEvent(new Event('message'));
    assert.deepEqual(log, ['a', 'h2', 'b']);
  });

  test('null removes the handler; setting it again appends it at the end', async (t) => {
    const ws = await connected(t);
    const log: string[] = [];
    ws.onmessage = () => log.push('h1');
    ws.addEventListener('message', () => log.push('a'));
    ws.onmessage = null;
    assert.equal(ws.onmessage, null);
    ws.dispatchEvent(new Event('message'));
    assert.deepEqual(log, ['a']);
    ws.onmessage = () => log.push('h3');
    ws.dispatchEvent(new Event('message'));
    assert.deepEqual(log, ['a', 'a', 'h3']);
  });

  test('the getter returns what was set; non-objects become null', async (t) => {
    const ws = await connected(t);
    const handler = () => {};
    ws.onclose = handler;
    assert.equal(ws.onclose, handler);
    for (const value of ['string', 1, true, undefined, Symbol('s')]) {
      ws.onclose = handler;
      (ws as unknown as { onclose: unknown }).onclose = value;
      assert.equal(ws.onclose, null, String(value));
    }
  });

  test('a non-callable object is kept but never called, and does not throw', async (t) => {
    const ws = await connected(t);
    const object = { handleEvent: () => assert.fail('handleEvent is not used for event handlers') };
    (ws as unknown as { onmessage: unknown }).onmessage = object;
    assert.equal(ws.onmessage, object);
    assert.equal(ws.dispatchEvent(new Event('message')), true);
  });

  test('handlers are called with this = the WebSocket and the event; each type is separate', async (t) => {
    const ws = await connected(t);
    const seen: [string, unknown][] = [];
    ws.onmessage = function (event) {
      seen.push(['message', this]);
      assert.equal(event.type, 'message');
    };
    ws.onerror = function () {
      seen.push(['error', this]);
    };
    ws.dispatchEvent(new Event('message'));
    ws.dispatchEvent(new Event('error'));
    ws.dispatchEvent(new Event('open'));
    assert.deepEqual(seen, [
      ['message', ws],
      ['error', ws],
    ]);
  });

  test('returning false cancels a cancelable event', async (t) => {
    const ws = await connected(t);
    ws.onmessage = () => false;
    const event = new Event('message', { cancelable: true });
    assert.equal(ws.dispatchEvent(event), false);
    assert.equal(event.defaultPrevented, true);
  });

  test('all four handlers on a real connection: onopen, onmessage, onclose (and not onerror)', async (t) => {
    const { url } = await startEchoServer(t);
    const ws = new WebSocket(url);
    const log: string[] = [];
    ws.onopen = (event) => {
      log.push(`open:${event.type}`);
      ws.send('ping');
    };
    ws.onmessage = (event) => {
      log.push(`message:${String(event.data)}`);
      ws.close(1000);
    };
    ws.onerror = () => log.push('error');
    const closed = new Promise<CloseEvent>((resolve) => {
      ws.onclose = (event) => {
        log.push(`close:${event.code}`);
        resolve(event);
      };
    });
    const event = await closed;
    assert.deepEqual(log, ['open:open', 'message:ping', 'close:1000']);
    assert.equal(event.wasClean, true);
  });
});
