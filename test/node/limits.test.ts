/**
 * Limits and hostile peers, with hand-made frames from raw TCP clients: maxPayload before and
 * after inflation, the fragments-per-message limit, protocol violations (each failed with the
 * RFC's close code), and floods of garbage that must not hurt the process or other connections.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { after, describe, test } from 'node:test';
import zlib from 'node:zlib';
import type { ServerOptions, WebSocket } from '../../src/index.js';
import { Opcode } from '../../src/protocol/constants.js';
import {
  clientFrame,
  closed,
  delay,
  exchange,
  listen,
  next,
  open,
  portOf,
  rawClient,
  rawPair,
  shutdown,
  waitFor,
} from '../helpers/net.js';

const DEFLATE = { 'Sec-WebSocket-Extensions': 'permessage-deflate' };

/** `data` compressed as one permessage-deflate message (the trailing 00 00 ff ff removed). */
function deflated(data: Buffer): Buffer {
  const out = zlib.deflateRawSync(data, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

/** A frame header alone, unmasked-length form with a mask key, claiming `length` bytes. */
function headerClaiming(opcode: number, length: bigint): Buffer {
  const header = Buffer.alloc(14);
  header[0] = 0x80 | opcode;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(length, 2);
  return header; // the last 4 bytes are the (zero) mask key
}

/**
 * Connects a raw client to a fresh server with `options` (and `headers` on the upgrade), writes
 * `bytes`, and resolves with how the server ended the connection: the close event's code, the
 * error code, and the code of the close frame the raw client received (if any).
 */
async function violate(
  bytes: Buffer | Buffer[],
  options: Omit<ServerOptions, 'port'> = {},
  headers: Record<string, string> = {},
): Promise<{ code: number; error: string | undefined; sent: number | undefined; messages: number }> {
  const { wss } = await listen(options);
  after(() => shutdown(wss));
  const connected = next(wss, 'connection');
  const { socket, reader } = await rawClient(portOf(wss), '/', headers);
  const [server] = (await connected) as [WebSocket];
  let messages = 0;
  server.on('message', () => messages++);
  const result = closed(server);
  for (const chunk of Array.isArray(bytes) ? bytes : [bytes]) socket.write(chunk);
  const { code, error } = await result;
  await waitFor(() => socket.destroyed || socket.readableEnded, 5000, 'the server to drop the socket');
  const frame = reader.frames.find((f) => f.opcode === Opcode.Close);
  return {
    code,
    error: (error as (Error & { code?: string }) | undefined)?.code,
    sent: frame === undefined || frame.payload.length < 2 ? undefined : frame.payload.readUInt16BE(0),
    messages,
  };
}

describe('maxPayload', () => {
  test('a frame whose header claims more than maxPayload is failed with 1009 at once', async () => {
    const result = await violate(headerClaiming(Opcode.Binary, 1n << 40n), { maxPayload: 1024 });
    assert.deepEqual(result, {
      code: 1009,
      error: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      sent: 1009,
      messages: 0,
    });
  });

  test('fragments adding up past maxPayload are failed with 1009', async () => {
    const part = Buffer.alloc(600);
    const result = await violate(
      [clientFrame(Opcode.Binary, part, false), clientFrame(Opcode.Continuation, part, true)],
      { maxPayload: 1024 },
    );
    assert.equal(result.code, 1009);
    assert.equal(result.sent, 1009);
    assert.equal(result.messages, 0);
  });

  test('a small compressed message inflating past maxPayload is failed with 1009', async () => {
    const bomb = deflated(Buffer.alloc(1024 * 1024));
    assert.ok(bomb.length < 2048);
    const result = await violate(
      clientFrame(Opcode.Binary, bomb, true, true),
      {
        maxPayload: 64 * 1024,
        perMessageDeflate: true,
      },
      DEFLATE,
    );
    assert.deepEqual(result, {
      code: 1009,
      error: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      sent: 1009,
      messages: 0,
    });
  });

  test('a larger compressed message (inflated off the event loop) past maxPayload is failed with 1009', async () => {
    const data = Buffer.concat([randomBytes(40 * 1024), Buffer.alloc(4 * 1024 * 1024)]);
    const compressed = deflated(data);
    assert.ok(compressed.length > 32 * 1024 && compressed.length < 100 * 1024);
    const result = await violate(
      clientFrame(Opcode.Binary, compressed, true, true),
      {
        maxPayload: 256 * 1024,
        perMessageDeflate: true,
      },
      DEFLATE,
    );
    assert.deepEqual(result, {
      code: 1009,
      error: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      sent: 1009,
      messages: 0,
    });
  });

  test('a compressed message inflating to exactly maxPayload is delivered', async () => {
    const { wss } = await listen({ maxPayload: 64 * 1024, perMessageDeflate: true });
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const { socket } = await rawClient(portOf(wss), '/', DEFLATE);
    const [server] = (await connected) as [WebSocket];
    const got = next(server, 'message');
    socket.write(clientFrame(Opcode.Binary, deflated(Buffer.alloc(64 * 1024, 7)), true, true));
    const [data] = await got;
    assert.ok((data as Buffer).equals(Buffer.alloc(64 * 1024, 7)));
    socket.destroy();
  });
});

describe('input while a message inflates', () => {
  test('the socket is not read while a large message inflates; nothing is lost', async () => {
    const { wss } = await listen({ perMessageDeflate: true });
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const { socket } = await rawClient(portOf(wss), '/', DEFLATE);
    const [server, req] = (await connected) as [WebSocket, IncomingMessage];
    // Slow inflation down, so that the test can look while it is in flight.
    const deflate = server._deflate as NonNullable<WebSocket['_deflate']>;
    const decompress = deflate.decompress.bind(deflate);
    deflate.decompress = (parts, callback) =>
      decompress(parts, (error, data) => setTimeout(() => callback(error, data), 300));
    const received: number[] = [];
    server.on('message', (data: Buffer) => received.push(data.length));

    const large = Buffer.concat([randomBytes(64 * 1024), Buffer.alloc(64 * 1024)]);
    socket.write(clientFrame(Opcode.Binary, deflated(large), true, true));
    const following = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 16; i++) socket.write(clientFrame(Opcode.Binary, following));
    await delay(150);
    assert.equal(received.length, 0);
    assert.equal(req.socket.isPaused(), true, 'the server stopped reading');
    await waitFor(() => received.length === 17, 10_000, 'every message');
    assert.deepEqual(received, [large.length, ...Array(16).fill(following.length)]);
    assert.equal(req.socket.isPaused(), false);
    socket.destroy();
  });
});

describe('fragments per message', () => {
  /** `count` frames of one text message, 'x' each. */
  function fragments(count: number): Buffer[] {
    return Array.from({ length: count }, (_, i) =>
      clientFrame(i === 0 ? Opcode.Text : Opcode.Continuation, 'x', i === count - 1),
    );
  }

  test('up to maxFragments frames make a message; one more is failed with 1009', async () => {
    const { wss, socket, server } = await rawPair({ maxFragments: 8 });
    after(() => shutdown(wss));
    const got = next(server, 'message');
    for (const frame of fragments(8)) socket.write(frame);
    assert.equal(String((await got)[0]), 'xxxxxxxx');
    socket.destroy();

    const result = await violate(fragments(9), { maxFragments: 8 });
    assert.deepEqual(result, { code: 1009, error: 'WS_ERR_TOO_MANY_FRAGMENTS', sent: 1009, messages: 0 });
  });
});

describe('protocol violations are failed with the RFC close code', () => {
  const cases: Array<[string, Buffer, number, string]> = [
    [
      'a ping over 125 bytes',
      clientFrame(Opcode.Ping, Buffer.alloc(126)),
      1002,
      'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
    ],
    [
      'a close over 125 bytes',
      clientFrame(Opcode.Close, Buffer.alloc(200)),
      1002,
      'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
    ],
    ['a fragmented ping', clientFrame(Opcode.Ping, 'x', false), 1002, 'WS_ERR_EXPECTED_FIN'],
    ['an unmasked frame', Buffer.from([0x81, 0x01, 0x78]), 1002, 'WS_ERR_EXPECTED_MASK'],
    ['RSV1 without an extension', clientFrame(Opcode.Text, 'x', true, true), 1002, 'WS_ERR_UNEXPECTED_RSV_1'],
    ['RSV2 set', Buffer.from([0xa1, 0x80, 0, 0, 0, 0]), 1002, 'WS_ERR_UNEXPECTED_RSV_2_3'],
    ['a reserved opcode', clientFrame(0x3, 'x'), 1002, 'WS_ERR_INVALID_OPCODE'],
    [
      'a continuation with no message',
      clientFrame(Opcode.Continuation, 'x'),
      1002,
      'WS_ERR_UNEXPECTED_CONTINUATION',
    ],
    [
      'a 64-bit length with the top bit set',
      headerClaiming(Opcode.Binary, 1n << 63n),
      1002,
      'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
    ],
    ['invalid UTF-8 text', clientFrame(Opcode.Text, Buffer.from([0xc3, 0x28])), 1007, 'WS_ERR_INVALID_UTF8'],
    [
      'a close code that may not be sent',
      clientFrame(Opcode.Close, Buffer.from([0x03, 0xee])),
      1002,
      'WS_ERR_INVALID_CLOSE_CODE',
    ],
  ];
  for (const [name, bytes, code, error] of cases) {
    test(name, async () => {
      const result = await violate(bytes);
      assert.deepEqual(result, { code, error, sent: code, messages: 0 });
    });
  }

  test('a UTF-8 sequence split across fragments is valid', async () => {
    const { wss, socket, server } = await rawPair();
    after(() => shutdown(wss));
    const got = next(server, 'message');
    const euro = Buffer.from('€'); // e2 82 ac
    socket.write(clientFrame(Opcode.Text, euro.subarray(0, 1), false));
    socket.write(clientFrame(Opcode.Continuation, euro.subarray(1), true));
    assert.equal(String((await got)[0]), '€');
    socket.destroy();
  });
});

describe('ping floods', () => {
  /** `count` pings with a 100-byte payload, in one write. */
  const pings = (count: number): Buffer =>
    Buffer.concat(Array.from({ length: count }, () => clientFrame(Opcode.Ping, Buffer.alloc(100, 1))));

  test('50 pings in one write are all answered', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    const { socket, reader } = await rawClient(portOf(wss));
    socket.write(pings(50));
    await waitFor(() => reader.frames.filter((f) => f.opcode === Opcode.Pong).length === 50);
    socket.destroy();
  });

  test('a peer that pings without reading the pongs is cut off (as ws 8.23)', async () => {
    const { wss } = await listen();
    after(() => shutdown(wss));
    const connected = next(wss, 'connection');
    const { socket } = await rawClient(portOf(wss));
    socket.pause(); // never reads: the pongs cannot leave once the kernel buffers are full
    const [server] = (await connected) as [WebSocket];
    const result = closed(server);
    for (let i = 0; i < 400 && !socket.destroyed; i++) {
      socket.write(pings(500));
      await delay(2);
    }
    assert.equal((await result).code, 1006);
  });
});

describe('garbage', () => {
  test('a flood of random bytes after the handshake fails that connection only', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    const bystander = await open(url);
    const floods = await Promise.all(Array.from({ length: 4 }, () => rawClient(portOf(wss))));
    for (const { socket } of floods) {
      for (let i = 0; i < 64; i++) {
        if (socket.destroyed) break;
        socket.write(randomBytes(16 * 1024));
      }
    }
    await waitFor(() => floods.every(({ socket }) => socket.destroyed || socket.readableEnded), 10_000);
    const echo = next(bystander, 'message');
    bystander.send('still here');
    assert.equal(String((await echo)[0]), 'still here');
    const fresh = await open(url);
    fresh.terminate();
    bystander.terminate();
  });

  test('garbage instead of an HTTP request gets 400 and the server goes on', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const responses = await Promise.all(
      Array.from({ length: 8 }, () => exchange(portOf(wss), randomBytes(8 * 1024), 5000)),
    );
    for (const response of responses) {
      assert.ok(response === '' || /^HTTP\/1\.1 4\d\d/.test(response), response.slice(0, 40));
    }
    await delay(20);
    const ws = await open(url);
    ws.terminate();
  });

  test('an upgrade request cut short and then silent does not stop other handshakes', async () => {
    const { wss, url } = await listen();
    after(() => shutdown(wss));
    const partial = exchange(portOf(wss), 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n', 300);
    const ws = await open(url);
    ws.terminate();
    await partial;
  });
});
