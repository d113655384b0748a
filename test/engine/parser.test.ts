import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeBase64,
  decodePacket,
  decodePayload,
  EngineProtocolError,
  EngineUsageError,
  encodeBase64,
  encodedPayloadLength,
  encodePacket,
  encodePayload,
  type Packet,
  utf8Length,
} from '../../src/engine/index.js';

const opts = { maxPackets: 100, binaryType: 'nodebuffer' as const };

describe('engine parser: packets', () => {
  it('encodes every packet type with its digit (protocol text, "Protocol")', () => {
    const types = ['open', 'close', 'ping', 'pong', 'message', 'upgrade', 'noop'] as const;
    for (const [i, type] of types.entries()) assert.equal(encodePacket({ type }, true), String(i));
    assert.equal(encodePacket({ type: 'ping', data: 'probe' }, true), '2probe');
    assert.equal(encodePacket({ type: 'message', data: 'hello' }, false), '4hello');
    assert.equal(encodePacket({ type: 'message', data: '€' }, true), '4€');
  });

  it('sends binary as-is over WebSocket and as b+base64 over polling', () => {
    const bytes = Buffer.from([1, 2, 3, 4]);
    assert.deepEqual(encodePacket({ type: 'message', data: bytes }, true), bytes);
    assert.equal(encodePacket({ type: 'message', data: bytes }, false), 'bAQIDBA==');
    assert.equal(
      encodePacket({ type: 'message', data: new Uint8Array([1, 2, 3, 4]).buffer }, false),
      'bAQIDBA==',
    );
    const view = new DataView(new Uint8Array([9, 1, 2, 3, 4, 9]).buffer, 1, 4);
    assert.equal(encodePacket({ type: 'message', data: view }, false), 'bAQIDBA==');
  });

  it('refuses binary data in non-message packets (caller error)', () => {
    assert.throws(() => encodePacket({ type: 'ping', data: Buffer.from([1]) }, true), EngineUsageError);
  });

  it('decodes text packets', () => {
    assert.deepEqual(decodePacket('4hello', 'nodebuffer'), { type: 'message', data: 'hello' });
    assert.deepEqual(decodePacket('2', 'nodebuffer'), { type: 'ping' });
    assert.deepEqual(decodePacket('3probe', 'nodebuffer'), { type: 'pong', data: 'probe' });
    assert.deepEqual(decodePacket('6', 'nodebuffer'), { type: 'noop' });
  });

  it('decodes binary frames and base64 packets into the requested binary type', () => {
    const p = decodePacket(new Uint8Array([1, 2, 3, 4]), 'nodebuffer');
    assert.equal(p.type, 'message');
    assert.ok(Buffer.isBuffer(p.data));
    assert.deepEqual([...(p.data as Buffer)], [1, 2, 3, 4]);
    const ab = decodePacket('bAQIDBA==', 'arraybuffer');
    assert.ok(ab.data instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(ab.data as ArrayBuffer)], [1, 2, 3, 4]);
    const u8 = decodePacket('bAQIDBA==', 'uint8array');
    assert.ok(u8.data instanceof Uint8Array);
  });

  it('rejects malformed packets with a stable code', () => {
    for (const bad of ['', 'abc', '7', '9x', '/', 'b!!!!', 'bA']) {
      assert.throws(
        () => decodePacket(bad, 'nodebuffer'),
        (err: unknown) => err instanceof EngineProtocolError && err.code === 'ENGINE_ERR_INVALID_PACKET',
        JSON.stringify(bad),
      );
    }
  });
});

describe('engine parser: payloads', () => {
  it('encodes the protocol text examples', () => {
    const packets: Packet[] = [
      { type: 'message', data: 'hello' },
      { type: 'ping' },
      { type: 'message', data: 'world' },
    ];
    assert.equal(encodePayload(packets), '4hello\x1e2\x1e4world');
    assert.equal(
      encodePayload([
        { type: 'message', data: 'hello' },
        { type: 'message', data: Buffer.from([1, 2, 3, 4]) },
      ]),
      '4hello\x1ebAQIDBA==',
    );
  });

  it('decodes the protocol text examples', () => {
    assert.deepEqual(decodePayload('4hello\x1e2\x1e4world', opts), [
      { type: 'message', data: 'hello' },
      { type: 'ping' },
      { type: 'message', data: 'world' },
    ]);
    const mixed = decodePayload('4hello\x1ebAQIDBA==', opts);
    assert.equal(mixed.length, 2);
    assert.deepEqual([...(mixed[1]!.data as Buffer)], [1, 2, 3, 4]);
  });

  it('round-trips UTF-8 text, empty messages and binary', () => {
    const packets: Packet[] = [
      { type: 'message', data: 'héllo €𝄞' },
      { type: 'message', data: '' },
      { type: 'message', data: Buffer.alloc(0) },
      { type: 'message', data: Buffer.from('abc') },
    ];
    const decoded = decodePayload(encodePayload(packets), opts);
    assert.equal(decoded[0]!.data, 'héllo €𝄞');
    // an empty text message has no data part on the wire
    assert.equal(decoded[1]!.type, 'message');
    assert.equal(decoded[1]!.data, undefined);
    assert.equal((decoded[2]!.data as Buffer).length, 0);
    assert.equal((decoded[3]!.data as Buffer).toString(), 'abc');
  });

  it('bounds the number of packets before decoding any', () => {
    assert.equal(decodePayload(Array(100).fill('4a').join('\x1e'), opts).length, 100);
    assert.throws(
      () => decodePayload(Array(101).fill('4a').join('\x1e'), opts),
      (err: unknown) => err instanceof EngineProtocolError && err.code === 'ENGINE_ERR_TOO_MANY_PACKETS',
    );
    // separators alone count too
    assert.throws(() => decodePayload('\x1e'.repeat(1000), opts), EngineProtocolError);
  });

  it('rejects a payload with any malformed record', () => {
    assert.throws(() => decodePayload('4ok\x1e\x1e4ok', opts), EngineProtocolError);
    assert.throws(() => decodePayload('4ok\x1ex', opts), EngineProtocolError);
    assert.throws(() => decodePayload('', opts), EngineProtocolError);
  });

  it('computes encoded lengths in bytes (used to split at maxPayload)', () => {
    assert.equal(utf8Length('a€𝄞'), 1 + 3 + 4);
    assert.equal(encodedPayloadLength({ type: 'message', data: 'a€' }), 2 + 4);
    assert.equal(encodedPayloadLength({ type: 'message', data: Buffer.alloc(4) }), 2 + 8);
    assert.equal(encodedPayloadLength({ type: 'ping' }), 2);
  });

  it('base64 helpers agree with Buffer and accept unpadded input', () => {
    const bytes = new Uint8Array(256).map((_, i) => i);
    assert.equal(encodeBase64(bytes), Buffer.from(bytes).toString('base64'));
    assert.deepEqual([...decodeBase64('AQID')], [1, 2, 3]);
    assert.deepEqual([...decodeBase64('AQ')], [1]);
  });
});
