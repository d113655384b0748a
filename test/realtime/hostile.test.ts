// Hostile peers against the parley server: the offending session is closed, the process lives and
// other clients do not notice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { delay, once, type Started, start } from './helpers.js';

interface RawPeer {
  ws: WebSocket;
  messages: (string | Buffer)[];
  closed: Promise<void>;
}

/** Opens a raw Engine.IO websocket session (no Socket.IO client). */
async function raw(s: Started): Promise<RawPeer> {
  const ws = new WebSocket(`ws://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=websocket`);
  const messages: (string | Buffer)[] = [];
  ws.on('message', (data, isBinary) => messages.push(isBinary ? (data as Buffer) : data.toString()));
  ws.on('error', () => {});
  const closed = new Promise<void>((resolve) => ws.on('close', () => resolve()));
  await once(ws, 'open');
  for (let i = 0; i < 100 && messages.length === 0; i++) await delay(10);
  assert.match(String(messages[0]), /^0\{"sid"/);
  return { ws, messages, closed };
}

async function connected(s: Started): Promise<RawPeer> {
  const peer = await raw(s);
  peer.ws.send('40');
  for (let i = 0; i < 100 && peer.messages.length < 2; i++) await delay(10);
  assert.match(String(peer.messages[1]), /^40\{"sid":"/);
  return peer;
}

function closedWithin(peer: RawPeer, ms = 2000): Promise<boolean> {
  return Promise.race([peer.closed.then(() => true), delay(ms).then(() => false)]);
}

describe('parley server: hostile input', () => {
  let s: Started;
  const disconnects: string[] = [];
  before(async () => {
    s = await start({ connectTimeout: 500, maxAttachments: 4 });
    s.io.on('connection', (socket) => {
      socket.on('echo', (v: unknown, ack: (v: unknown) => void) => ack(v));
      socket.on('disconnect', (reason: string) => disconnects.push(reason));
    });
  });
  after(async () => s.close());

  const cases: Array<[string, Array<string | Buffer>]> = [
    ['malformed JSON', ['42["x"']],
    ['unknown packet type', ['49']],
    ['event payload not an array', ['42{"a":1}']],
    ['empty event array', ['42[]']],
    // CVE-2023-32695: an event "name" that is not a string or number crashed EventEmitter.emit
    ['event name that is an object with toString (CVE-2023-32695)', ['42[{"toString":"foo"}]']],
    ['event name true (CVE-2023-32695)', ['42[true,"foo"]']],
    ['event name null (CVE-2023-32695)', ['42[null,"bar"]']],
    ['reserved event name', ['42["disconnect"]']],
    ['reserved event name "connect"', ['42["connect"]']],
    ['reserved event name "connect_error"', ['42["connect_error"]']],
    ['reserved event name "disconnecting"', ['42["disconnecting"]']],
    ['reserved event name "newListener"', ['42["newListener","x"]']],
    ['reserved event name "removeListener"', ['42["removeListener","x"]']],
    ['too many attachments', ['455-["x"]']],
    ['an attachment count that overflows', ['4599999999999999999999-["x"]']],
    ['placeholder out of range', ['451-["x",{"_placeholder":true,"num":7}]', Buffer.from([1])]],
    [
      'placeholder with non-integer index',
      ['451-["x",{"_placeholder":true,"num":"__proto__"}]', Buffer.from([1])],
    ],
    // CVE-2022-2421: a placeholder index such as "toString" used to resolve to a function
    [
      'placeholder index "toString" (CVE-2022-2421)',
      ['451-["x",{"_placeholder":true,"num":"toString"}]', Buffer.from([1])],
    ],
    ['negative placeholder index', ['451-["x",{"_placeholder":true,"num":-1}]', Buffer.from([1])]],
    ['fractional placeholder index', ['451-["x",{"_placeholder":true,"num":0.5}]', Buffer.from([1])]],
    ['placeholder with extra keys', ['451-["x",{"_placeholder":true,"num":0,"more":1}]', Buffer.from([1])]],
    ['placeholder flag not true', ['451-["x",{"_placeholder":"yes","num":0}]', Buffer.from([1])]],
    [
      'one attachment referenced twice',
      ['451-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]', Buffer.from([1])],
    ],
    [
      'an attachment no placeholder refers to',
      ['452-["x",{"_placeholder":true,"num":0}]', Buffer.from([1]), Buffer.from([2])],
    ],
    ['binary without a binary packet', [Buffer.from([1, 2, 3])]],
    ['text while attachments are pending', ['451-["x",{"_placeholder":true,"num":0}]', '42["y"]']],
    ['event on a namespace never connected', ['42/admin,["x"]']],
    ['second CONNECT to the same namespace', ['40']],
    ['CONNECT_ERROR from the client', ['44{"message":"x"}']],
  ];

  for (const [name, frames] of cases) {
    it(`closes the session on ${name}`, async () => {
      const witness = s.client();
      await once(witness, 'connect');
      const peer = await connected(s);
      for (const f of frames) peer.ws.send(f);
      assert.equal(await closedWithin(peer), true, 'hostile session closed');
      assert.equal(witness.connected, true);
      assert.equal(await witness.timeout(2000).emitWithAck('echo', name), name);
    });
  }

  it('closes a session that piles up pending namespace connections', async () => {
    // A dynamic namespace matcher that never answers for /hang-*: each CONNECT stays pending.
    s.io.of((name, _auth, next) => {
      if (!name.startsWith('/hang-')) next(null, false);
    });
    const witness = s.client();
    await once(witness, 'connect');
    const peer = await connected(s);
    for (let i = 0; i < 65; i++) peer.ws.send(`40/hang-${i},`);
    assert.equal(await closedWithin(peer), true);
    assert.equal(await witness.timeout(2000).emitWithAck('echo', 'still here'), 'still here');
  });

  it('survives a peer event named "error" (CVE-2024-38355 class): no crash, session kept', async () => {
    const peer = await connected(s);
    peer.ws.send('42["error","boom"]');
    peer.ws.send('421["echo","after"]');
    for (let i = 0; i < 100 && peer.messages.length < 3; i++) await delay(10);
    assert.equal(peer.messages[2], '431["after"]');
    peer.ws.close();
  });

  it('closes a polling session on a malformed packet', async () => {
    const base = `http://127.0.0.1:${s.port}/socket.io/?EIO=4&transport=polling`;
    const open = await (await fetch(base)).text();
    const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
    const url = `${base}&sid=${sid}`;
    assert.equal(await (await fetch(url, { method: 'POST', body: '40' })).text(), 'ok');
    assert.match(await (await fetch(url)).text(), /^40\{"sid":"/);
    await fetch(url, { method: 'POST', body: '42["x"' });
    const after = await fetch(url);
    const body = await after.text();
    // Either the pending poll carries the close packet, or the session is already gone.
    assert.ok(body === '1' || after.status === 400, `unexpected ${after.status} ${body}`);
  });

  it('closes a session that sends events before CONNECT', async () => {
    const peer = await raw(s);
    peer.ws.send('42["x"]');
    assert.equal(await closedWithin(peer), true);
  });

  const beforeConnect: Array<[string, Array<string | Buffer>]> = [
    ['a binary event', ['451-["x",{"_placeholder":true,"num":0}]', Buffer.from([1])]],
    ['an ack', ['431["x"]']],
    ['an event for another namespace', ['42/other,["x"]']],
  ];
  for (const [name, frames] of beforeConnect) {
    it(`closes a session that sends ${name} before CONNECT`, async () => {
      const witness = s.client();
      await once(witness, 'connect');
      const peer = await raw(s);
      for (const f of frames) peer.ws.send(f);
      assert.equal(await closedWithin(peer), true);
      assert.equal(await witness.timeout(2000).emitWithAck('echo', name), name);
    });
  }

  it('leaves a placeholder-shaped object in a plain EVENT as data (CVE-2022-2421)', async () => {
    const peer = await connected(s);
    peer.ws.send('421["echo",{"_placeholder":true,"num":0}]');
    for (let i = 0; i < 100 && peer.messages.length < 3; i++) await delay(10);
    assert.equal(peer.messages[2], '431[{"_placeholder":true,"num":0}]');
    peer.ws.close();
  });

  it('keeps an own "__proto__" key holding an attachment a key when echoing it', async () => {
    // Regression: the encoder assigned copy["__proto__"] = placeholder, which set the copy's
    // prototype instead: the reply declared one attachment and carried no placeholder.
    const peer = await connected(s);
    peer.ws.send('451-1["echo",{"__proto__":{"_placeholder":true,"num":0}}]');
    peer.ws.send(Buffer.from([7]));
    for (let i = 0; i < 100 && peer.messages.length < 4; i++) await delay(10);
    assert.equal(peer.messages[2], '461-1[{"__proto__":{"_placeholder":true,"num":0}}]');
    assert.deepEqual([...(peer.messages[3] as Buffer)], [7]);
    assert.equal(Object.getPrototypeOf({}), Object.prototype);
    peer.ws.close();
  });

  it('closes a session that never connects to a namespace (connectTimeout)', async () => {
    const peer = await raw(s);
    assert.equal(await closedWithin(peer, 3000), true);
  });

  it('reports protocol violations as "parse error" to the server socket', async () => {
    const before = disconnects.length;
    const peer = await connected(s);
    peer.ws.send('42["x"');
    await closedWithin(peer);
    await delay(50);
    assert.equal(disconnects[before], 'parse error');
  });

  it('ignores an ack for an unknown id and answers the next event', async () => {
    const peer = await connected(s);
    peer.ws.send('4399[1]');
    peer.ws.send('421["echo","v"]');
    for (let i = 0; i < 100 && peer.messages.length < 3; i++) await delay(10);
    assert.equal(peer.messages[2], '431["v"]');
    assert.equal(await closedWithin(peer, 200), false);
    peer.ws.close();
  });
});
