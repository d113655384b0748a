/**
 * How messages reach the application: whole small messages taken from a read without a parser
 * object (takeWholeMessages), the parser taking over in the middle of a read, and the `message`
 * event called as `emit` would call it (directly when there is one listener).
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, describe, test } from 'node:test';
import { WebSocket, type WebSocketServer } from '../../src/index.js';
import { Opcode } from '../../src/protocol/constants.js';
import {
  clientFrame,
  collect,
  listen,
  next,
  open,
  pair,
  portOf,
  rawPair,
  shutdown,
  waitFor,
} from '../helpers/net.js';

describe('whole messages and the parser in one read', () => {
  test('simple frames, then a fragmented message with a ping inside, then simple frames again', async () => {
    const { wss, socket, reader, server } = await rawPair();
    after(() => shutdown(wss));
    const got = collect(server);
    socket.write(
      Buffer.concat([
        clientFrame(Opcode.Text, 'one'),
        clientFrame(Opcode.Binary, Buffer.alloc(200, 7)),
        clientFrame(Opcode.Text, 'fra', false),
        clientFrame(Opcode.Ping, 'p'),
        clientFrame(Opcode.Continuation, 'gment'),
        clientFrame(Opcode.Text, 'x'.repeat(70_000)), // a 64-bit length: the parser's
        clientFrame(Opcode.Text, 'two'),
        clientFrame(Opcode.Text, 'héllo'),
      ]),
    );
    const pong = await reader.nextFrame();
    assert.deepEqual([pong.opcode, String(pong.payload)], [Opcode.Pong, 'p']);
    await waitFor(() => got.length === 6);
    assert.deepEqual(
      got.map((m) => (m.isBinary ? `binary ${(m.data as Buffer).length}` : String(m.data).slice(0, 10))),
      ['one', 'binary 200', 'fragment', 'xxxxxxxxxx', 'two', 'héllo'],
    );
    socket.destroy();
  });

  test('invalid UTF-8 after valid messages in the same read: those are delivered, then 1007', async () => {
    const { wss, socket, reader, server } = await rawPair();
    after(() => shutdown(wss));
    const got = collect(server);
    socket.write(
      Buffer.concat([
        clientFrame(Opcode.Text, 'fine'),
        clientFrame(Opcode.Text, Buffer.from([0x61, 0xc3, 0x28])),
        clientFrame(Opcode.Text, 'never'),
      ]),
    );
    const close = await reader.nextFrame();
    assert.equal(close.opcode, Opcode.Close);
    assert.equal(close.payload.readUInt16BE(0), 1007);
    assert.deepEqual(
      got.map((m) => String(m.data)),
      ['fine'],
    );
    socket.destroy();
  });
});

describe('the message event', () => {
  test('a sole listener gets the connection as this; several, once and off behave as with emit', async () => {
    const { wss, client, server } = await pair();
    after(() => shutdown(wss));
    const seen: string[] = [];
    function sole(this: WebSocket, data: Buffer, isBinary: boolean): void {
      assert.equal(this, server);
      seen.push(`sole ${String(data)} ${isBinary}`);
    }
    server.on('message', sole);
    client.send('a');
    await waitFor(() => seen.length === 1);
    server.once('message', (data: Buffer) => seen.push(`once ${String(data)}`));
    client.send('b');
    await waitFor(() => seen.length === 3);
    client.send('c');
    await waitFor(() => seen.length === 4);
    server.off('message', sole);
    server.on('message', (data: Buffer) => seen.push(`last ${String(data)}`));
    client.send(Buffer.from('d'));
    await waitFor(() => seen.length === 5);
    assert.deepEqual(seen, ['sole a false', 'sole b false', 'once b', 'sole c false', 'last d']);
  });

  test('a subclass that overrides emit sees every message', async () => {
    const emitted: string[] = [];
    class Traced extends WebSocket {
      override emit(event: string | symbol, ...args: unknown[]): boolean {
        if (event === 'message') emitted.push(String(args[0]));
        return super.emit(event, ...args);
      }
    }
    const { wss, client, server } = await pair({ WebSocket: Traced });
    after(() => shutdown(wss));
    const got = collect(server);
    client.send('one');
    client.send('two');
    await waitFor(() => got.length === 2);
    assert.deepEqual(emitted, ['one', 'two']);
  });

  test('with captureRejections, a listener that rejects gives an error event, as emit does', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    EventEmitter.captureRejections = true;
    let wss: WebSocketServer;
    let server: WebSocket;
    try {
      ({ wss } = await listen());
      const connected = next(wss, 'connection');
      const client = await open(`ws://127.0.0.1:${portOf(wss)}`);
      [server] = (await connected) as [WebSocket];
      client.send('boom');
    } finally {
      EventEmitter.captureRejections = false;
    }
    after(() => {
      process.off('unhandledRejection', onUnhandled);
      return shutdown(wss);
    });
    const failed = next(server, 'error');
    server.on('message', async (data: Buffer) => {
      throw new Error(`rejected ${String(data)}`);
    });
    const [error] = (await failed) as [Error];
    assert.equal(error.message, 'rejected boom');
    assert.deepEqual(unhandled, []);
  });
});
