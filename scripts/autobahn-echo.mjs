#!/usr/bin/env node
// Fallback echo server for the Autobahn|Testsuite (server mode), used by scripts/autobahn.sh only
// when parley's CLI (`parley serve --echo --deflate`) is not available. It is built on the
// ws-compatible API in dist/src/index.js, so it tests whatever engine src/index.ts exports.
//
//   node scripts/autobahn-echo.mjs [--port 9001] [--host 127.0.0.1]
//
// Every message is echoed back with the same type (text stays text, binary stays binary).
// permessage-deflate is on (the suite's 12.* and 13.* cases need it) and maxPayload is 64 MiB
// (the 9.* limits cases send messages of up to 16 MiB). Prints 'listening on ws://HOST:PORT' once
// bound; stops on SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { WebSocketServer } from '../dist/src/index.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9001' },
    host: { type: 'string', default: '127.0.0.1' },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`autobahn-echo: invalid --port ${values.port}`);
  process.exit(2);
}

const wss = new WebSocketServer({
  host: values.host,
  port,
  perMessageDeflate: true,
  maxPayload: 64 * 1024 * 1024,
});

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
  // Protocol violations by the peer surface here; the engine closes the connection itself.
  ws.on('error', () => {});
});
wss.on('listening', () => {
  const addr = wss.address();
  const where = typeof addr === 'string' ? addr : `${addr.address}:${addr.port}`;
  console.log(`listening on ws://${where}`);
});
wss.on('error', (err) => {
  console.error(`autobahn-echo: ${err.message}`);
  process.exit(1);
});

const stop = () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
