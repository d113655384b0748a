// parley/web next to Node's own WHATWG WebSocket (undici's, the global since Node 22): the same
// inputs must give the same exceptions, events and close codes. Skipped where there is no global
// WebSocket (Node 20).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebSocket } from '../../src/web/index.js';
import { freePort, nextEvent, startServer } from './helpers.js';

type AnyWebSocketClass = new (
  url: string,
  protocols?: string | string[],
) => EventTarget & {
  readonly readyState: number;
  readonly url: string;
  close(code?: number, reason?: string): void;
};

const NodeWebSocket = (globalThis as unknown as { WebSocket?: AnyWebSocketClass }).WebSocket;
const skip = NodeWebSocket === undefined ? 'no global WebSocket in this Node version' : false;
const implementations: [string, AnyWebSocketClass][] =
  NodeWebSocket === undefined
    ? []
    : [
        ['parley', WebSocket as unknown as AnyWebSocketClass],
        ['node', NodeWebSocket],
      ];

// The name of the error `fn` throws, or 'ok'.
function outcome(fn: () => unknown): string {
  try {
    const value = fn() as { close?: () => void } | undefined;
    value?.close?.();
    return 'ok';
  } catch (error) {
    return error instanceof Error || error instanceof DOMException ? error.name : typeof error;
  }
}

// The events a socket dispatches until its close event, or for at most `ms` milliseconds (some Node
// versions never dispatch close for a connection that failed while CONNECTING).
function settle(
  ws: InstanceType<AnyWebSocketClass>,
  ms = 1500,
): Promise<{ log: string[]; readyState: number }> {
  return new Promise((resolve) => {
    const log: string[] = [];
    const done = () => {
      clearTimeout(timer);
      resolve({ log, readyState: ws.readyState });
    };
    const timer = setTimeout(done, ms);
    ws.addEventListener('open', () => log.push('open'));
    ws.addEventListener('error', () => log.push('error'));
    ws.addEventListener('close', (event) => {
      const { code, wasClean } = event as Event & { code: number; wasClean: boolean };
      log.push(`close:${code}:${wasClean}`);
      setImmediate(done);
    });
  });
}

// Where Node's own WebSocket departs from the standard (its undici versions differ on failures
// while CONNECTING), that is reported, not failed: parley is held to the standard by the caller.
function compareOrNote(t: import('node:test').TestContext, seen: string[]): void {
  if (seen[0] !== seen[1]) {
    t.diagnostic(`Node ${process.version}'s WebSocket differs from the standard here: ${seen[1]}`);
  }
}

describe('same behaviour as Node’s global WebSocket', { skip }, () => {
  test('constructor exceptions', () => {
    const inputs: [string, unknown][] = [
      ['', undefined],
      ['ftp://127.0.0.1/', undefined],
      ['ws://127.0.0.1:1/#x', undefined],
      ['ws://127.0.0.1:1/#', undefined],
      ['ws://127.0.0.1:1/', ''],
      ['ws://127.0.0.1:1/', ['a', 'a']],
      ['ws://127.0.0.1:1/', ['a', 'A']],
      ['ws://127.0.0.1:1/', 'a b'],
      ['ws://127.0.0.1:1/', ['ok', 'x;y']],
      ['ws://127.0.0.1:1/', ['ok', 'fine']],
      ['http://127.0.0.1:1/', undefined],
    ];
    for (const [url, protocols] of inputs) {
      const results = implementations.map(([, Impl]) => outcome(() => new Impl(url, protocols as string[])));
      assert.equal(
        results[0],
        results[1],
        `${url} ${JSON.stringify(protocols)}: parley ${results[0]}, node ${results[1]}`,
      );
    }
  });

  test('url serialization and the http(s) -> ws(s) mapping', () => {
    for (const url of ['http://127.0.0.1:1', 'HTTPS://Example.COM:443/a/./b?c=d e', 'ws://[::1]:1/x']) {
      const results = implementations.map(([, Impl]) => {
        const ws = new Impl(url);
        const serialized = ws.url;
        ws.close();
        return serialized;
      });
      assert.equal(results[0], results[1]);
    }
  });

  test('close() argument exceptions', async (t) => {
    const { url } = await startServer(t);
    const calls: [number | undefined, string | undefined][] = [
      [999, undefined],
      [1001, undefined],
      [2999, undefined],
      [5000, undefined],
      [1000, 'x'.repeat(124)],
      [1000, '\u00e9'.repeat(62)],
      [0, 'x'.repeat(200)],
    ];
    for (const [, Impl] of implementations) {
      const ws = new Impl(url);
      await nextEvent(ws, 'open');
      const results = calls.map(([code, reason]) => outcome(() => ws.close(code, reason)));
      assert.deepEqual(results, [
        'InvalidAccessError',
        'InvalidAccessError',
        'InvalidAccessError',
        'InvalidAccessError',
        'SyntaxError',
        'SyntaxError',
        'InvalidAccessError',
      ]);
      ws.close();
      await nextEvent(ws, 'close');
    }
  });

  test("connection refused: the standard's events (and Node's, where it follows the standard)", async (t) => {
    const port = await freePort();
    const seen: string[] = [];
    for (const [, Impl] of implementations) {
      const ws = new Impl(`ws://127.0.0.1:${port}/`);
      seen.push(JSON.stringify(await settle(ws)));
    }
    assert.equal(seen[0], JSON.stringify({ log: ['error', 'close:1006:false'], readyState: 3 }));
    compareOrNote(t, seen);
  });

  test('server-initiated close: the same code, reason and wasClean', async (t) => {
    const { url, server } = await startServer(t);
    server.on('connection', (socket) => socket.close(4321, 'bye now'));
    const seen: string[] = [];
    for (const [, Impl] of implementations) {
      const ws = new Impl(url);
      const log: string[] = [];
      for (const type of ['open', 'error', 'close']) ws.addEventListener(type, () => log.push(type));
      const event = (await nextEvent(ws, 'close')) as Event & {
        code: number;
        reason: string;
        wasClean: boolean;
      };
      seen.push(JSON.stringify({ log, code: event.code, reason: event.reason, wasClean: event.wasClean }));
    }
    assert.equal(seen[0], seen[1]);
  });

  test('client close(code, reason) and the close event', async (t) => {
    const { url } = await startServer(t);
    const seen: string[] = [];
    for (const [, Impl] of implementations) {
      const ws = new Impl(url);
      await nextEvent(ws, 'open');
      ws.close(3003, 'done');
      const state = ws.readyState;
      const event = (await nextEvent(ws, 'close')) as Event & {
        code: number;
        reason: string;
        wasClean: boolean;
      };
      seen.push(JSON.stringify({ state, code: event.code, reason: event.reason, wasClean: event.wasClean }));
    }
    assert.equal(seen[0], seen[1]);
  });

  test("close() while CONNECTING: the standard's events (and Node's, where it follows the standard)", async (t) => {
    const { url } = await startServer(t);
    const seen: string[] = [];
    for (const [, Impl] of implementations) {
      const ws = new Impl(url);
      const pending = settle(ws);
      ws.close();
      const state = ws.readyState;
      seen.push(JSON.stringify({ state, ...(await pending) }));
    }
    assert.equal(seen[0], JSON.stringify({ state: 2, log: ['error', 'close:1006:false'], readyState: 3 }));
    compareOrNote(t, seen);
  });
});
