// Server transports report to their owning session by a direct call (no listener closures per
// session) and still emit every event to ordinary listeners; the WebSocket under a transport tells
// it of its own events the same way.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Packet } from '../../src/engine/parser.js';
import {
  type Transport,
  type TransportEvents,
  WebSocketTransport,
} from '../../src/engine/server-transport.js';
import type { WebSocket } from '../../src/index.js';
import type { WebSocketOwner } from '../../src/node/websocket.js';

/** Just enough of a WebSocket for the transport: `close`, and an owner told of events. */
function fakeWebSocket() {
  const ws = {
    closed: false,
    owner: null as WebSocketOwner | null,
    close() {
      ws.closed = true;
    },
    _setOwner(owner: WebSocketOwner) {
      ws.owner = owner;
    },
    emit(event: 'message' | 'close' | 'error', arg?: Buffer | Error, isBinary = false) {
      const owner = ws.owner as WebSocketOwner;
      if (event === 'message') owner.onSocketMessage(arg as Buffer, isBinary);
      else if (event === 'close') owner.onSocketClose();
      else owner.onSocketError(arg as Error);
    },
  };
  return ws;
}

describe('server transports', () => {
  it('tell the owner first, then listeners, of packets and close', () => {
    const ws = fakeWebSocket();
    const transport = new WebSocketTransport(ws as unknown as WebSocket);
    const seen: string[] = [];
    transport.owner = {
      onTransportEvent(t: Transport, event: keyof TransportEvents, arg: Packet | Error | undefined) {
        assert.equal(t, transport);
        seen.push(`owner ${event} ${event === 'packet' ? (arg as Packet).data : ''}`);
      },
    };
    transport.on('packet', (p) => seen.push(`listener packet ${p.data}`));
    transport.on('close', () => seen.push('listener close'));
    ws.emit('message', Buffer.from('4hello'), false);
    ws.emit('close');
    ws.emit('close'); // reported once
    assert.deepEqual(seen, ['owner packet hello', 'listener packet hello', 'owner close ', 'listener close']);
  });

  it('drop an error that neither an owner nor a listener takes, instead of throwing', () => {
    const ws = fakeWebSocket();
    const transport = new WebSocketTransport(ws as unknown as WebSocket);
    assert.doesNotThrow(() => ws.emit('error', new Error('boom')));
    let reported: unknown;
    transport.owner = {
      onTransportEvent(_t, event, arg) {
        if (event === 'error') reported = arg;
      },
    };
    ws.emit('message', Buffer.from([0xff, 0xfe]), false); // not UTF-8: an INVALID_PACKET error
    assert.ok(reported instanceof Error);
  });
});
