// Socket.IO v5 packet encoding/decoding: the protocol text's examples as byte vectors, plus hostile input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RealtimeProtocolError, RealtimeUsageError } from '../../src/realtime/errors.js';
import { Decoder, encode, type Packet, PacketType } from '../../src/realtime/parser.js';

function decodeAll(chunks: unknown[], opts = {}): Packet {
  const d = new Decoder(opts);
  let out: Packet | null = null;
  for (const c of chunks) {
    assert.equal(out, null, 'packet completed before the last chunk');
    out = d.add(c);
  }
  assert.ok(out);
  return out;
}

function rejects(chunks: unknown[], code: string, opts = {}): void {
  const d = new Decoder(opts);
  assert.throws(
    () => {
      for (const c of chunks) d.add(c);
    },
    (err: unknown) => err instanceof RealtimeProtocolError && err.code === code,
    `expected ${code} for ${JSON.stringify(chunks.map(String))}`,
  );
}

describe('parser: protocol text examples', () => {
  const vectors: Array<[Packet, string]> = [
    [{ type: PacketType.CONNECT, nsp: '/' }, '0'],
    [
      { type: PacketType.CONNECT, nsp: '/admin', data: { sid: 'oSO0OpakMV_3jnilAAAA' } },
      '0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}',
    ],
    [
      { type: PacketType.CONNECT_ERROR, nsp: '/', data: { message: 'Not authorized' } },
      '4{"message":"Not authorized"}',
    ],
    [{ type: PacketType.EVENT, nsp: '/', data: ['foo'] }, '2["foo"]'],
    [{ type: PacketType.EVENT, nsp: '/admin', data: ['bar'] }, '2/admin,["bar"]'],
    [{ type: PacketType.EVENT, nsp: '/', data: ['foo'], id: 12 }, '212["foo"]'],
    [{ type: PacketType.ACK, nsp: '/admin', data: ['bar'], id: 13 }, '3/admin,13["bar"]'],
    [{ type: PacketType.DISCONNECT, nsp: '/' }, '1'],
    [{ type: PacketType.DISCONNECT, nsp: '/admin' }, '1/admin,'],
  ];
  for (const [packet, wire] of vectors) {
    it(`${wire} <-> packet`, () => {
      assert.deepEqual(encode(packet), [wire]);
      assert.deepEqual(decodeAll([wire]), packet);
    });
  }

  it('binary event with one attachment', () => {
    const buf = Buffer.from([1, 2, 3, 4]);
    const chunks = encode({ type: PacketType.EVENT, nsp: '/', data: ['baz', buf] });
    assert.equal(chunks[0], '51-["baz",{"_placeholder":true,"num":0}]');
    assert.equal(chunks[1], buf);
    assert.deepEqual(decodeAll(chunks), { type: PacketType.BINARY_EVENT, nsp: '/', data: ['baz', buf] });
  });

  it('binary event with several attachments in a namespace', () => {
    const a = Buffer.from([1, 2]);
    const b = Buffer.from([3, 4]);
    const chunks = encode({ type: PacketType.EVENT, nsp: '/admin', data: ['baz', a, b] });
    assert.equal(chunks[0], '52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]');
    assert.deepEqual(decodeAll(chunks).data, ['baz', a, b]);
  });

  it('binary ack, and binary at any depth (ArrayBuffer, typed arrays, inside objects)', () => {
    const buf = Buffer.from([1, 2, 3, 4]);
    assert.deepEqual(encode({ type: PacketType.ACK, nsp: '/', data: ['bar', buf], id: 15 }), [
      '61-15["bar",{"_placeholder":true,"num":0}]',
      buf,
    ]);
    const ab = new Uint8Array([7]).buffer;
    const data = ['ev', { a: [{ b: { c: ab } }], d: new Uint16Array([1, 2]), e: 'text', f: null }];
    const chunks = encode({ type: PacketType.EVENT, nsp: '/', data, id: 3 });
    assert.equal(chunks.length, 3);
    assert.ok(String(chunks[0]).startsWith('52-3['));
    const decoded = decodeAll(chunks);
    assert.equal(decoded.id, 3);
    assert.deepEqual(decoded.data, data);
  });

  it('does not modify the payload it encodes, and refuses circular payloads', () => {
    const buf = Buffer.from([1]);
    const data = ['x', { buf }];
    encode({ type: PacketType.EVENT, nsp: '/', data });
    assert.equal((data[1] as { buf: Buffer }).buf, buf);
    const loop: Record<string, unknown> = { b: Buffer.from([1]) };
    loop.self = loop;
    assert.throws(() => encode({ type: PacketType.EVENT, nsp: '/', data: ['x', loop] }), RealtimeUsageError);
  });
});

describe('parser: hostile input', () => {
  it('rejects unknown types, bad JSON and invalid payloads', () => {
    rejects([''], 'IO_ERR_INVALID_PACKET_TYPE');
    rejects(['7'], 'IO_ERR_INVALID_PACKET_TYPE');
    rejects(['a["x"]'], 'IO_ERR_INVALID_PACKET_TYPE');
    rejects(['2["x"'], 'IO_ERR_INVALID_JSON');
    rejects(['2{"a":1}'], 'IO_ERR_INVALID_PAYLOAD');
    rejects(['2[]'], 'IO_ERR_INVALID_PAYLOAD');
    rejects(['2'], 'IO_ERR_INVALID_PAYLOAD');
    rejects(['2[{}]'], 'IO_ERR_INVALID_PAYLOAD');
    rejects(['0[1]'], 'IO_ERR_INVALID_PAYLOAD');
    rejects(['0"str"'], 'IO_ERR_INVALID_PAYLOAD');
    rejects(['1{}'], 'IO_ERR_INVALID_PAYLOAD');
    rejects(['3[]'], 'IO_ERR_INVALID_ACK_ID');
    rejects(['31{}'], 'IO_ERR_INVALID_PAYLOAD');
    rejects(['01{}'], 'IO_ERR_INVALID_ACK_ID');
    rejects(['21234567890123456["x"]'], 'IO_ERR_INVALID_ACK_ID');
  });

  it('rejects reserved event names', () => {
    for (const name of [
      'connect',
      'connect_error',
      'disconnect',
      'disconnecting',
      'newListener',
      'removeListener',
    ]) {
      rejects([`2["${name}"]`], 'IO_ERR_RESERVED_EVENT');
    }
  });

  it('bounds the attachment count', () => {
    rejects(['533-["x"]'], 'IO_ERR_TOO_MANY_ATTACHMENTS');
    rejects(['53-["x"]'], 'IO_ERR_TOO_MANY_ATTACHMENTS', { maxAttachments: 2 });
    rejects(['599999999999-["x"]'], 'IO_ERR_INVALID_ATTACHMENTS');
    rejects(['5-["x"]'], 'IO_ERR_INVALID_ATTACHMENTS');
    rejects(['51["x"]'], 'IO_ERR_INVALID_ATTACHMENTS');
  });

  it('rejects placeholder abuse', () => {
    const b = Buffer.from([1]);
    rejects(['51-["x",{"_placeholder":true,"num":1}]', b], 'IO_ERR_INVALID_PLACEHOLDER');
    rejects(['51-["x",{"_placeholder":true,"num":-1}]', b], 'IO_ERR_INVALID_PLACEHOLDER');
    rejects(['51-["x",{"_placeholder":true,"num":0.5}]', b], 'IO_ERR_INVALID_PLACEHOLDER');
    rejects(['51-["x",{"_placeholder":true,"num":"0"}]', b], 'IO_ERR_INVALID_PLACEHOLDER');
    rejects(['51-["x",{"_placeholder":true,"num":"toString"}]', b], 'IO_ERR_INVALID_PLACEHOLDER');
    rejects(['51-["x",{"_placeholder":1,"num":0}]', b], 'IO_ERR_INVALID_PLACEHOLDER');
    rejects(
      ['52-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]', b, b],
      'IO_ERR_INVALID_PLACEHOLDER',
    );
    rejects(['52-["x",{"_placeholder":true,"num":0}]', b, b], 'IO_ERR_INVALID_ATTACHMENTS');
    rejects(['50-["x",{"_placeholder":true,"num":0}]'], 'IO_ERR_INVALID_PLACEHOLDER');
    // A placeholder standing for the event name leaves a non-string name: invalid event.
    rejects(['51-[{"_placeholder":true,"num":0}]', b], 'IO_ERR_INVALID_PAYLOAD');
  });

  it('does not let a placeholder under __proto__ change a prototype', () => {
    const b = Buffer.from([1]);
    const p = decodeAll(['51-["x",{"__proto__":{"_placeholder":true,"num":0}}]', b]);
    const obj = (p.data as unknown[])[1] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(obj, '__proto__')?.value, b);
  });

  it('rejects out-of-sequence chunks', () => {
    rejects([Buffer.from([1])], 'IO_ERR_UNEXPECTED_BINARY');
    rejects(['51-["x",{"_placeholder":true,"num":0}]', '2["y"]'], 'IO_ERR_UNEXPECTED_TEXT');
    rejects([42], 'IO_ERR_UNEXPECTED_BINARY');
  });

  it('handles deeply nested binary payloads without recursion limits', () => {
    let deep = '{"_placeholder":true,"num":0}';
    for (let i = 0; i < 5000; i++) deep = `[${deep}]`;
    const p = decodeAll([`51-["x",${deep}]`, Buffer.from([5])]);
    let node: unknown = (p.data as unknown[])[1];
    let depth = 0;
    while (Array.isArray(node)) {
      node = node[0];
      depth++;
    }
    assert.equal(depth, 5000);
    assert.deepEqual([...(node as Buffer)], [5]);
  });
});
