// The parley client (parley/client) against a socket.io server (reference implementation).
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { Socket as EngineIoClientSocket } from 'engine.io-client';
import { type ServerOptions as SioOptions, Server as SioServer } from 'socket.io';
import {
  AckTimeoutError,
  Backoff,
  type ClientOptions,
  type EngineClientConstructor,
  io,
  Manager,
  type Socket,
} from '../../src/client/index.js';

interface Ref {
  io: SioServer;
  http: HttpServer;
  port: number;
  url: string;
  sockets: Socket[];
  client(nsp?: string, opts?: ClientOptions): Socket;
  close(): Promise<void>;
}

async function startSio(opts: Partial<SioOptions> = {}, transports = ['websocket'], port = 0): Promise<Ref> {
  const http = createServer();
  const sio = new SioServer(http, opts);
  await new Promise<void>((r) => http.listen(port, '127.0.0.1', r));
  const actual = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${actual}`;
  const sockets: Socket[] = [];
  return {
    io: sio,
    http,
    port: actual,
    url,
    sockets,
    client(nsp = '/', copts = {}) {
      const s = io(url + nsp, { transports, forceNew: true, reconnection: false, ...copts });
      sockets.push(s);
      return s;
    },
    async close() {
      for (const s of sockets) s.disconnect();
      await new Promise<void>((r) => sio.close(() => r()));
    },
  };
}

function once<T extends unknown[] = unknown[]>(
  emitter: { once(ev: string, fn: never): unknown },
  event: string,
  ms = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${event}`)), ms);
    emitter.once(event, ((...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    }) as never);
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
const engineIoClient: EngineClientConstructor = EngineIoClientSocket;

for (const [engineName, transports] of [
  ['parley', ['websocket']],
  ['parley', ['polling']],
  ['parley', ['polling', 'websocket']],
  ['engine.io-client', ['websocket']],
] as const) {
  describe(`parley client on ${engineName} -> socket.io server (${transports.join('+')})`, () => {
    let ref: Ref;
    after(async () => ref?.close());
    const extra: ClientOptions = engineName === 'engine.io-client' ? { engine: engineIoClient } : {};

    it('exchanges events, acks and binary both ways', async () => {
      ref = await startSio({}, [...transports]);
      ref.io.on('connection', (socket) => {
        socket.on('echo', (...args: unknown[]) => {
          const ack = args.pop() as (...r: unknown[]) => void;
          ack(...args);
        });
        socket.emit('welcome', socket.id, async () => {});
        socket.on('ask', async () => {
          const answer = await socket.timeout(2000).emitWithAck('question', Buffer.from([1, 2]));
          socket.emit('answered', answer);
        });
      });
      const c = ref.client('/', extra);
      c.on('question', (b: Uint8Array, ack: (r: unknown) => void) => ack({ len: b.byteLength, back: b }));
      const [id] = await once(c, 'welcome');
      assert.equal(id, c.id);
      const reply = await c.emitWithAck('echo', { deep: [Buffer.from('xyz')] });
      assert.equal(Buffer.from((reply as { deep: Uint8Array[] }).deep[0]!).toString(), 'xyz');
      c.emit('ask');
      const [answered] = await once<[{ len: number; back: Buffer }]>(c, 'answered');
      assert.equal(answered.len, 2);
      assert.deepEqual([...answered.back], [1, 2]);
    });
  });
}

describe('parley client: acks, auth, middleware, multiplexing, buffering', () => {
  let ref: Ref;
  after(async () => ref?.close());

  it('times out acknowledgements', async () => {
    ref = await startSio();
    ref.io.on('connection', (socket) => {
      socket.on('silent', () => {});
      socket.on('slow', (ack: (v: string) => void) => setTimeout(() => ack('late'), 50));
    });
    const c = ref.client();
    await once(c, 'connect');
    await assert.rejects(c.timeout(100).emitWithAck('silent'), AckTimeoutError);
    const [err, value] = await new Promise<unknown[]>((resolve) =>
      c.timeout(2000).emit('slow', (...args: unknown[]) => resolve(args)),
    );
    assert.equal(err, null);
    assert.equal(value, 'late');
    const c2 = ref.client('/', { ackTimeout: 80 });
    await once(c2, 'connect');
    await assert.rejects(c2.emitWithAck('silent'), AckTimeoutError);
  });

  it('retries until acknowledged (retries + ackTimeout)', async () => {
    let attempts = 0;
    ref.io.on('connection', (socket) => {
      socket.on('flaky', (v: number, ack: (r: number) => void) => {
        attempts++;
        if (attempts >= 3) ack(v * 2);
      });
    });
    const c = ref.client('/', { retries: 5, ackTimeout: 100 });
    const [err, result] = await new Promise<unknown[]>((resolve) =>
      c.emit('flaky', 21, (...args: unknown[]) => resolve(args)),
    );
    assert.equal(err, null);
    assert.equal(result, 42);
    assert.equal(attempts, 3);
  });

  it('sends auth (object or function) and surfaces middleware refusals with data', async () => {
    const nsp = ref.io.of('/secure');
    nsp.use((socket, next) => {
      if (socket.handshake.auth.token === 'ok') return next();
      const err = new Error('denied') as Error & { data?: unknown };
      err.data = { hint: 'token' };
      next(err);
    });
    nsp.on('connection', (socket) => socket.emit('auth', socket.handshake.auth));
    const bad = ref.client('/secure', { auth: { token: 'no' } });
    const [err] = await once<[Error & { data?: unknown }]>(bad, 'connect_error');
    assert.equal(err.message, 'denied');
    assert.deepEqual(err.data, { hint: 'token' });
    assert.equal(bad.connected, false);
    const good = ref.client('/secure', { auth: (cb) => cb({ token: 'ok', n: 1 }) });
    const [auth] = await once(good, 'auth');
    assert.deepEqual(auth, { token: 'ok', n: 1 });
    const nowhere = ref.client('/nowhere');
    const [e2] = await once<[Error]>(nowhere, 'connect_error');
    assert.equal(e2.message, 'Invalid namespace');
  });

  it('multiplexes namespaces over one manager and buffers emits until connected', async () => {
    const seen: string[] = [];
    ref.io.of('/a').on('connection', (s) => s.on('m', (v: string) => seen.push('a:' + v)));
    ref.io.of('/b').on('connection', (s) => s.on('m', (v: string) => seen.push('b:' + v)));
    const manager = new Manager(ref.url, { transports: ['websocket'], reconnection: false });
    const a = manager.socket('/a');
    const b = manager.socket('/b');
    a.emit('m', 'buffered');
    b.emit('m', 'buffered');
    a.volatile.emit('m', 'dropped');
    await Promise.all([once(a, 'connect'), once(b, 'connect')]);
    await delay(100);
    assert.deepEqual(seen.sort(), ['a:buffered', 'b:buffered']);
    assert.equal(ref.io.engine.clientsCount >= 1, true);
    const ids = new Set(
      [...ref.io.of('/a').sockets.values(), ...ref.io.of('/b').sockets.values()].map(
        (s) => (s.conn as unknown as { id: string }).id,
      ),
    );
    assert.equal(ids.size, 1, 'one engine connection for both namespaces');
    a.disconnect();
    b.disconnect();
    const shared1 = io(ref.url + '/a', { transports: ['websocket'] });
    const shared2 = io(ref.url + '/b', { transports: ['websocket'] });
    assert.equal(shared1.io, shared2.io);
    shared1.disconnect();
    shared2.disconnect();
  });

  it('passes query, extraHeaders, path and upgrade settings to the engine', async () => {
    const seen = new Promise<Record<string, unknown>>((resolve) =>
      ref.io.of('/opts').on('connection', (socket) =>
        resolve({
          query: socket.handshake.query.q,
          header: socket.handshake.headers['x-parley'],
          transport: socket.conn.transport.name,
        }),
      ),
    );
    const c = io(`${ref.url}/opts?q=from-url`, {
      transports: ['polling', 'websocket'],
      upgrade: false,
      forceNew: true,
      reconnection: false,
      extraHeaders: { 'x-parley': 'yes' },
    });
    ref.sockets.push(c);
    const got = await seen;
    assert.deepEqual(got, { query: 'from-url', header: 'yes', transport: 'polling' });
    await delay(200);
    const [server] = [...ref.io.of('/opts').sockets.values()];
    assert.equal(server!.conn.transport.name, 'polling', 'upgrade: false keeps polling');
  });

  it('reports disconnect reasons', async () => {
    ref.io.of('/kick').on('connection', (s) => s.on('kick', () => s.disconnect()));
    const c = ref.client('/kick');
    await once(c, 'connect');
    c.emit('kick');
    const [reason] = await once(c, 'disconnect');
    assert.equal(reason, 'io server disconnect');
    const c2 = ref.client('/kick');
    await once(c2, 'connect');
    const p = once(c2, 'disconnect');
    c2.disconnect();
    assert.equal((await p)[0], 'io client disconnect');
    // A disconnected socket can connect again.
    const again = once(c2, 'connect');
    c2.connect();
    await again;
    assert.equal(c2.connected, true);
  });
});

describe('parley client: reconnection and recovery', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const fn of cleanups.reverse()) await fn();
  });

  it('reconnects across a server restart with reconnect_* events', async () => {
    const ref1 = await startSio();
    ref1.io.on('connection', (s) => s.emit('gen', 1));
    const c = io(ref1.url, {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
    });
    cleanups.push(() => {
      c.disconnect();
    });
    const events: string[] = [];
    c.io.on('reconnect_attempt', () => events.push('attempt'));
    c.io.on('reconnect_error', () => events.push('error'));
    c.io.on('reconnect', () => events.push('reconnect'));
    assert.deepEqual(await once(c, 'gen'), [1]);
    const p = once(c, 'disconnect');
    await new Promise<void>((r) => ref1.io.close(() => r()));
    assert.equal((await p)[0], 'transport close');
    await delay(300);
    const ref2 = await startSio({}, ['websocket'], ref1.port);
    cleanups.push(() => ref2.close());
    ref2.io.on('connection', (s) => s.emit('gen', 2));
    assert.deepEqual(await once(c, 'gen', 5000), [2]);
    assert.ok(events.includes('attempt'));
    assert.ok(events.includes('error'));
    assert.equal(events[events.length - 1], 'reconnect');
  });

  it('gives up after reconnectionAttempts with reconnect_failed', async () => {
    const ref = await startSio();
    const c = io(ref.url, {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 20,
      reconnectionDelayMax: 40,
      reconnectionAttempts: 2,
    });
    cleanups.push(() => {
      c.disconnect();
    });
    await once(c, 'connect');
    await new Promise<void>((r) => ref.io.close(() => r()));
    await once(c.io, 'reconnect_failed', 5000);
  });

  it('recovers the events missed while disconnected (connectionStateRecovery)', async () => {
    const ref = await startSio({ connectionStateRecovery: { maxDisconnectionDuration: 5000 } });
    cleanups.push(() => ref.close());
    ref.io.on('connection', (s) => {
      s.emit('hello', s.recovered);
    });
    const c = ref.client('/', { reconnection: true, reconnectionDelay: 50, reconnectionDelayMax: 100 });
    const got: number[] = [];
    c.on('n', (v: number) => got.push(v));
    // With recovery on, the server appends each event's offset as a last argument.
    assert.equal((await once(c, 'hello'))[0], false);
    ref.io.emit('n', 1);
    await delay(100);
    (c.io.engine as { close(): void }).close();
    await delay(20);
    ref.io.emit('n', 2);
    ref.io.emit('n', 3);
    assert.equal((await once(c, 'hello'))[0], true);
    assert.equal(c.recovered, true);
    await delay(100);
    assert.deepEqual(got, [1, 2, 3]);
  });
});

describe('parley client: backoff', () => {
  it('grows exponentially, jitters both ways and caps', () => {
    const b = new Backoff({ min: 100, max: 1000, random: () => 0 });
    assert.deepEqual(
      [b.duration(), b.duration(), b.duration(), b.duration(), b.duration()],
      [100, 200, 400, 800, 1000],
    );
    b.reset();
    assert.equal(b.duration(), 100);
    const down = new Backoff({ min: 1000, max: 10_000, jitter: 0.5, random: () => 0.4 });
    assert.equal(down.duration(), 800);
    const up = new Backoff({ min: 1000, max: 10_000, jitter: 0.5, random: () => 0.3 });
    assert.equal(up.duration(), 1150);
  });
});
