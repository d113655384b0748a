// socket.io-client (reference client) against the parley Socket.IO server.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { AckTimeoutError } from '../../src/realtime/index.js';
import { delay, once, type Started, start } from './helpers.js';

for (const [engineName, transports] of [
  ['parley', ['websocket']],
  ['parley', ['polling']],
  ['parley', ['polling', 'websocket']],
  ['engine.io', ['websocket']],
  ['engine.io', ['polling', 'websocket']],
] as const) {
  describe(`parley server on ${engineName} engine <- socket.io-client (${transports.join('+')})`, () => {
    let s: Started;
    after(async () => s?.close());

    it('connects, exchanges events and acks both ways', async () => {
      s = await start({}, [...transports], engineName);
      s.io.on('connection', (socket) => {
        socket.emit('welcome', { id: socket.id });
        socket.on('echo', (...args: unknown[]) => {
          const ack = args.pop() as (...r: unknown[]) => void;
          ack(...args);
        });
        socket.on('ask', async () => {
          const answer = await socket.timeout(2000).emitWithAck('question', 41);
          socket.emit('answered', answer);
        });
      });
      const c = s.client();
      c.on('question', (n: number, ack: (r: number) => void) => ack(n + 1));
      const [welcome] = await once<[{ id: string }]>(c, 'welcome');
      assert.equal(welcome.id, c.id);
      const reply = await c.emitWithAck('echo', 'a', 1, { b: [true, null] });
      assert.deepEqual(reply, 'a');
      c.emit('ask');
      const [answered] = await once(c, 'answered');
      assert.equal(answered, 42);
    });

    it('carries binary payloads at any depth, both ways', async () => {
      s.io.once('connection', (socket) => {
        socket.on('bin', (payload: unknown, ack: (r: unknown) => void) => {
          ack({ got: payload, extra: [Buffer.from([9, 9])] });
        });
      });
      const c = s.client();
      await once(c, 'connect');
      const reply = (await c.emitWithAck('bin', {
        deep: { list: [1, Buffer.from([1, 2, 3]), { x: Buffer.from('hé') }] },
      })) as { got: { deep: { list: [number, Buffer, { x: Buffer }] } }; extra: Buffer[] };
      assert.deepEqual([...reply.got.deep.list[1]], [1, 2, 3]);
      assert.equal(Buffer.from(reply.got.deep.list[2].x).toString(), 'hé');
      assert.deepEqual([...reply.extra[0]!], [9, 9]);
    });
  });
}

describe('parley server: acks with timeouts', () => {
  let s: Started;
  after(async () => s?.close());

  it('times out when the client does not acknowledge, and for broadcasts collects responses', async () => {
    s = await start();
    const done = new Promise<unknown[]>((resolve) => {
      s.io.on('connection', (socket) => {
        socket.timeout(100).emit('ignored', (err: Error | null) => resolve([err]));
      });
    });
    const c1 = s.client();
    c1.on('ignored', () => {});
    const [err] = await done;
    assert.ok(err instanceof AckTimeoutError);
    assert.equal((err as Error).message, 'operation has timed out');

    const c2 = s.client();
    c2.on('poll', (ack: (v: string) => void) => ack('c2'));
    c1.on('poll', (ack: (v: string) => void) => ack('c1'));
    await once(c2, 'connect');
    const responses = (await s.io.timeout(2000).emitWithAck('poll')) as string[];
    assert.deepEqual(responses.sort(), ['c1', 'c2']);

    const c3 = s.client();
    c3.on('poll', () => {}); // never answers
    await once(c3, 'connect');
    await assert.rejects(s.io.timeout(150).emitWithAck('poll'), AckTimeoutError);
  });
});

for (const transports of [['websocket'], ['polling']]) {
  describe(`parley server: rooms and broadcast (${transports.join('+')})`, () => {
    let s: Started;
    after(async () => s?.close());

    it('routes to rooms across many clients, with except, socketsJoin and fetchSockets', async () => {
      s = await start({}, transports);
      const N = 24;
      s.io.on('connection', (socket) => {
        const i = Number(socket.handshake.query.i);
        void socket.join(i % 2 === 0 ? 'even' : 'odd');
        if (i % 3 === 0) void socket.join('three');
        socket.data = { i };
        socket.on('shout', (room: string, msg: string) => socket.to(room).emit('heard', msg));
      });
      const clients = Array.from({ length: N }, (_, i) => s.client('/', { query: { i: String(i) } }));
      await Promise.all(clients.map((c) => once(c, 'connect')));
      const received = new Map<number, string[]>();
      clients.forEach((c, i) => {
        received.set(i, []);
        c.on('heard', (m: string) => received.get(i)!.push(m));
      });
      s.io.to('even').except('three').emit('heard', 'even-not-three');
      s.io.to(['odd', 'three']).emit('heard', 'odd-or-three');
      clients[1]!.emit('shout', 'odd', 'from-1');
      const all = await s.io.fetchSockets();
      assert.equal(all.length, N);
      const three = await s.io.in('three').fetchSockets();
      assert.deepEqual(
        three.map((r) => (r.data as { i: number }).i).sort((a, b) => a - b),
        [0, 3, 6, 9, 12, 15, 18, 21],
      );
      s.io.in('three').socketsJoin('vip');
      s.io.to('vip').emit('heard', 'vip');
      await delay(300);
      for (let i = 0; i < N; i++) {
        const expected: string[] = [];
        if (i % 2 === 0 && i % 3 !== 0) expected.push('even-not-three');
        if (i % 2 === 1 || i % 3 === 0) expected.push('odd-or-three');
        if (i % 2 === 1 && i !== 1) expected.push('from-1');
        if (i % 3 === 0) expected.push('vip');
        assert.deepEqual(received.get(i)!.sort(), expected.sort(), `client ${i}`);
      }
      s.io.in('vip').disconnectSockets();
      await delay(200);
      assert.equal(clients.filter((c) => c.connected).length, N - 8);
    });
  });
}

describe('parley server: namespaces and middleware', () => {
  let s: Started;
  after(async () => s?.close());

  it('refuses with connect_error carrying data, and serves dynamic namespaces', async () => {
    s = await start();
    s.io.use((socket, next) => {
      if (socket.handshake.auth.token === 'good') next();
      else {
        const err = new Error('not authorized') as Error & { data?: unknown };
        err.data = { reason: 'bad token' };
        next(err);
      }
    });
    const bad = s.client('/', { auth: { token: 'bad' } });
    const [err] = await once<[Error & { data?: unknown }]>(bad, 'connect_error');
    assert.equal(err.message, 'not authorized');
    assert.deepEqual(err.data, { reason: 'bad token' });
    const good = s.client('/', { auth: { token: 'good' } });
    await once(good, 'connect');

    const dyn = s.io.of(/^\/room-\d+$/);
    dyn.on('connection', (socket) => socket.emit('where', socket.nsp.name));
    const d = s.client('/room-42');
    const [where] = await once(d, 'where');
    assert.equal(where, '/room-42');
    const d2 = s.client('/room-7');
    await once(d2, 'where');
    d.on('q', (ack: (v: string) => void) => ack('42'));
    d2.on('q', (ack: (v: string) => void) => ack('7'));
    // The parent namespace reaches every child: emit, acks, fetchSockets, rooms.
    const all = once(d2, 'all');
    dyn.emit('all', 1);
    assert.deepEqual(await all, [1]);
    assert.deepEqual(((await dyn.timeout(2000).emitWithAck('q')) as string[]).sort(), ['42', '7']);
    assert.equal((await dyn.fetchSockets()).length, 2);
    dyn.in(d.id!).socketsJoin('picked');
    const picked = once(d, 'picked');
    dyn.to('picked').emit('picked', 'yes');
    assert.deepEqual(await picked, ['yes']);
    const nope = s.client('/other');
    const [e2] = await once<[Error]>(nope, 'connect_error');
    assert.equal(e2.message, 'Invalid namespace');
  });

  it('exposes the handshake and per-socket middleware', async () => {
    const seen: unknown[] = [];
    s.io.of('/h').on('connection', (socket) => {
      // data is created on first read, then stays the same object until replaced
      const firstData = socket.data;
      const dataKept = firstData === socket.data;
      socket.data = { n: 1 };
      socket.use(([ev], next) => (ev === 'forbidden' ? next(new Error('nope')) : next()));
      socket.on('error', (e: Error) => socket.emit('mw-error', e.message));
      socket.onAny((ev: string) => seen.push(ev));
      socket.emit('hs', {
        query: socket.handshake.query.x,
        auth: socket.handshake.auth,
        address: socket.handshake.address,
        url: socket.handshake.url,
        ua: socket.handshake.headers['x-test'],
        time: typeof socket.handshake.time,
        // the time string (shared by the sockets of one second) still says when the socket came
        timeSkew: Math.abs(Date.parse(socket.handshake.time) - socket.handshake.issued),
        // as in socket.io: the query is the engine's parsed `_query` (not a copy per socket)
        engineQuery: socket.handshake.query === (socket.request as { _query?: unknown })._query,
        data: [firstData, dataKept, socket.data],
      });
    });
    const c = s.client('/h', { query: { x: '1' }, auth: { a: 2 }, extraHeaders: { 'x-test': 'yes' } });
    const [hs] = await once<[Record<string, unknown>]>(c, 'hs');
    assert.equal(hs.query, '1');
    assert.deepEqual(hs.auth, { a: 2 });
    assert.match(String(hs.address), /127\.0\.0\.1/);
    assert.match(String(hs.url), /^\/socket\.io\/\?/);
    assert.equal(hs.ua, 'yes');
    assert.equal(hs.time, 'string');
    assert.ok(Number(hs.timeSkew) <= 2000, `handshake time ${hs.timeSkew} ms off`);
    assert.equal(hs.engineQuery, true);
    assert.deepEqual(hs.data, [{}, true, { n: 1 }]);
    c.emit('forbidden');
    const [msg] = await once(c, 'mw-error');
    assert.equal(msg, 'nope');
    assert.deepEqual(seen, ['forbidden']);
  });

  it('builds the handshake on first read, as of the connection, and keeps it', async () => {
    let connectedAt = 0;
    s.io.of('/late').on('connection', (socket) => {
      connectedAt = Date.now();
      // read for the first time over a second after the connection
      socket.on('read', () => {
        const hs = socket.handshake;
        socket.emit('hs', {
          connectedAt,
          issued: hs.issued,
          time: Date.parse(hs.time),
          auth: hs.auth,
          same: hs === socket.handshake && hs.auth === socket.handshake.auth,
        });
      });
    });
    const c = s.client('/late');
    await once(c, 'connect');
    await delay(1100);
    c.emit('read');
    const [hs] = await once<[Record<string, number | boolean | object>]>(c, 'hs');
    assert.ok(Number(hs.issued) <= Number(hs.connectedAt), `issued ${hs.issued} after ${hs.connectedAt}`);
    assert.ok(Number(hs.connectedAt) - Number(hs.issued) < 1000, 'issued long before the connection');
    // Date#toString has whole seconds
    assert.equal(hs.time, Math.floor(Number(hs.issued) / 1000) * 1000);
    assert.deepEqual(hs.auth, {});
    assert.equal(hs.same, true);
  });

  it('reports disconnect reasons on both sides', async () => {
    const reasons: string[] = [];
    s.io.of('/bye').on('connection', (socket) => {
      socket.on('disconnect', (r: string) => reasons.push(r));
      socket.on('kick', () => socket.disconnect());
    });
    const c = s.client('/bye');
    await once(c, 'connect');
    c.emit('kick');
    const [clientReason] = await once(c, 'disconnect');
    assert.equal(clientReason, 'io server disconnect');
    const c2 = s.client('/bye');
    await once(c2, 'connect');
    c2.disconnect();
    await delay(100);
    assert.deepEqual(reasons, ['server namespace disconnect', 'client namespace disconnect']);
  });
});

describe('parley server on its own engine: the engine session tells the connection directly', () => {
  it('holds no listener table on an idle session; listeners added later still hear it', async (t) => {
    const s = await start({}, ['websocket'], 'parley');
    t.after(() => s.close());
    const connected = once<[{ conn: object; on: (e: string, f: (...a: unknown[]) => void) => void }]>(
      s.io,
      'connection',
    );
    const c = s.client();
    const [socket] = await connected;
    const conn = socket.conn as unknown as {
      _events?: object;
      on(event: string, fn: (...args: unknown[]) => void): void;
    };
    assert.equal(conn._events, undefined);
    const heard: unknown[] = [];
    conn.on('message', (data) => heard.push(data));
    const closed = new Promise((resolve) => conn.on('close', (reason) => resolve(reason)));
    const reasons: string[] = [];
    socket.on('disconnect', (r) => reasons.push(String(r)));
    const got = new Promise((resolve) => socket.on('ping', (n) => resolve(n)));
    c.emit('ping', 1);
    assert.equal(await got, 1);
    assert.deepEqual(heard, ['2["ping",1]']);
    c.io.engine.close();
    assert.equal(await closed, 'transport close');
    await delay(20);
    assert.deepEqual(reasons, ['transport close']);
  });
});
