// Manager and io() behaviour that needs no Socket.IO server: URL handling, manager reuse,
// connection timeout, refused connections.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { createServer, type Server as NetServer, type Socket as NetSocket } from 'node:net';
import { after, describe, it } from 'node:test';
import { io, Manager, RealtimeUsageError, type Socket } from '../../src/client/index.js';

function once<T extends unknown[] = unknown[]>(
  emitter: { once(ev: string, fn: never): unknown },
  event: string,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${event}`)), ms);
    emitter.once(event, ((...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    }) as never);
  });
}

describe('io() and Manager without a server', () => {
  const sockets: Socket[] = [];
  const servers: NetServer[] = [];
  const conns: NetSocket[] = [];
  after(() => {
    for (const s of sockets) s.disconnect();
    for (const c of conns) c.destroy();
    for (const s of servers) s.close();
  });

  it('maps the URL path to the namespace and shares managers per origin', () => {
    const opts = { autoConnect: false, transports: ['websocket'] };
    const a = io('http://127.0.0.1:9/chat?x=1', opts);
    const b = io('ws://127.0.0.1:9/news', opts);
    const c = io('http://127.0.0.1:9/chat', opts);
    const d = io('http://127.0.0.1:9/news', { ...opts, forceNew: true });
    sockets.push(a, b, c, d);
    assert.equal(a.nsp, '/chat');
    assert.equal(b.nsp, '/news');
    assert.equal(a.io, b.io, 'same origin, different namespaces: one manager');
    assert.notEqual(a.io, c.io, 'same namespace again: a new manager');
    assert.notEqual(b.io, d.io, 'forceNew: a new manager');
    assert.equal(io('127.0.0.1:9', opts).nsp, '/');
    assert.throws(() => io('http://[bad', opts), RealtimeUsageError);
    assert.equal(a.connected, false);
    assert.equal(a.active, false);
  });

  it('reports connect_error on a refused connection', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as AddressInfo;
    await new Promise<void>((r) => probe.close(() => r()));
    const s = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    sockets.push(s);
    const [err] = await once<[Error]>(s, 'connect_error');
    assert.ok(err instanceof Error);
    assert.equal(s.connected, false);
  });

  it('times out a connection that never answers (timeout option)', async () => {
    const silent = createServer((c) => conns.push(c));
    servers.push(silent);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const { port } = silent.address() as AddressInfo;
    const manager = new Manager(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      reconnection: false,
      timeout: 200,
    });
    const s = manager.socket('/');
    sockets.push(s);
    const [err] = await once<[Error]>(s, 'connect_error');
    assert.equal(err.message, 'timeout');
    manager.close();
  });
});
