// The most an accept path of parley's own on `node:net` could do for (f), with no HTTP parser: the
// handshake of `net.mjs handshake` (the request head scanned for its Sec-WebSocket-Key, the 101
// written, no header checked), then parley's WebSocket on the socket as WebSocketServer attaches
// it (`setSocket`, a `message` and an `error` listener, kept in a set of clients until `close`).
// A real accept path would parse and check the request and build the `req` that ws's API hands
// to `connection` listeners on top of this. Not a usable server; bench/run.mjs runs it in (f)
// only (`--servers accept`). Usage: node net-accept.mjs echo PORT (see common.mjs).
import net from 'node:net';
import { WebSocket } from '../../dist/src/index.js';
import { Defaults } from '../../dist/src/protocol/constants.js';
import { parseServerArgs, readUpgradeKey, ready, switchingProtocols, unsupported } from './common.mjs';

const { mode, port } = parseServerArgs();
if (mode !== 'echo') unsupported(`mode ${mode}`);
const EMPTY = Buffer.alloc(0);
// What WebSocketServer hands every connection by default (src/node/server.ts, #plainSettings).
const settings = {
  maxPayload: Defaults.maxPayload,
  maxFragments: Defaults.maxFragments,
  skipUTF8Validation: false,
  autoPong: true,
  closeTimeout: Defaults.closeTimeout,
  deflate: null,
};
const clients = new Set();
const noop = () => {};

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('error', noop);
  readUpgradeKey(socket, (key) => {
    socket.off('error', noop);
    socket.write(switchingProtocols(key));
    const ws = new WebSocket(null);
    ws.setSocket(socket, EMPTY, settings, '', '');
    clients.add(ws);
    ws.on('close', () => clients.delete(ws));
    ws.on('error', noop);
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  ready(server.address().port, () => clients.size, { engine: 'parley on node:net, no HTTP parser' });
});
