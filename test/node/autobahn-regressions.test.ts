/**
 * Regressions found while running the Autobahn|Testsuite (see CONFORMANCE.md), reproduced on real
 * sockets with raw TCP peers, so that each stays fixed without the suite at hand.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import type { WebSocketServer } from '../../src/index.js';
import { Opcode } from '../../src/protocol/constants.js';
import { clientFrame, delay, listen, portOf, type RawFrame, rawClient, shutdown } from '../helpers/net.js';

const servers: WebSocketServer[] = [];
after(async () => {
  for (const wss of servers) await shutdown(wss);
});

/** A permessage-deflate echo server, like `parley serve --echo --deflate`. */
async function echoServer(): Promise<number> {
  const { wss } = await listen({ perMessageDeflate: true });
  servers.push(wss);
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.on('error', () => {});
  });
  return portOf(wss);
}

describe('failing the connection while a message is being compressed', () => {
  test('the close frame still goes out, after the message, before TCP is closed', async () => {
    const port = await echoServer();
    const { socket, reader, response } = await rawClient(port, '/', {
      'Sec-WebSocket-Extensions': 'permessage-deflate',
    });
    assert.match(response, /permessage-deflate/i);
    const ended = once(socket, 'end');
    // A message large enough to be compressed off the main thread, and in the same TCP chunk a
    // frame with a reserved opcode: the connection is failed while the echo is being compressed.
    const message = randomBytes(256 * 1024);
    socket.write(Buffer.concat([clientFrame(Opcode.Binary, message), clientFrame(0x3, 'x')]));
    await Promise.race([ended, delay(10_000)]);
    await delay(50); // frames that arrived with the FIN are parsed by now
    const frames: RawFrame[] = reader.frames;
    const close = frames.find((f) => f.opcode === Opcode.Close);
    assert.ok(
      close !== undefined,
      `a close frame before the end of TCP (got opcodes ${frames.map((f) => f.opcode)})`,
    );
    assert.equal(close.payload.readUInt16BE(0), 1002);
    assert.equal(frames.at(-1), close, 'nothing after the close frame');
    socket.destroy();
  });
});

describe('the peer half-closes TCP while a reply is being compressed', () => {
  test('the reply and the close frame still go out before our side of TCP is closed', async () => {
    const port = await echoServer();
    const { socket, reader } = await rawClient(port, '/', {
      'Sec-WebSocket-Extensions': 'permessage-deflate',
    });
    const ended = once(socket, 'end');
    const message = randomBytes(256 * 1024);
    const close = Buffer.alloc(2);
    close.writeUInt16BE(1000);
    // The message, our close frame, then our FIN, all at once.
    socket.end(Buffer.concat([clientFrame(Opcode.Binary, message), clientFrame(Opcode.Close, close)]));
    await Promise.race([ended, delay(10_000)]);
    await delay(50);
    const opcodes = reader.frames.map((f) => f.opcode);
    assert.deepEqual(opcodes, [Opcode.Binary, Opcode.Close], 'the echo, then the close frame');
    assert.equal(reader.frames[1].payload.readUInt16BE(0), 1000);
    socket.destroy();
  });
});
