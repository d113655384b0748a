// The floor: a raw node:net server with no WebSocket framing at all (drive it with wsload -r).
// Usage: node net.mjs MODE PORT (see common.mjs).
//   echo      every chunk straight back
//   broadcast every chunk a connection sends goes to every connection, the sender included,
//             pausing the sender while any receiver's write buffer is full (chunks are forwarded
//             whole, not per message)
//   handshake the least a server on Node's sockets can do for (f): no HTTP parser, the request
//             head scanned for its Sec-WebSocket-Key and answered with a 101; no checks, no
//             framing after it (the connection is only held until the client closes it)
import net from 'node:net';
import { parseServerArgs, readUpgradeKey, ready, switchingProtocols, unsupported } from './common.mjs';

const { mode, port } = parseServerArgs();
const noop = () => {};
let server;
if (mode === 'echo') {
  server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', noop);
    socket.on('data', (chunk) => socket.write(chunk));
  });
} else if (mode === 'broadcast') {
  const sockets = new Set();
  server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('error', noop);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (chunk) => {
      let waiting = 0;
      const drained = () => {
        if (--waiting === 0) socket.resume();
      };
      for (const other of sockets) {
        if (!other.destroyed && !other.write(chunk)) {
          waiting++;
          other.once('drain', drained);
        }
      }
      if (waiting > 0) socket.pause();
    });
  });
} else if (mode === 'handshake') {
  server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', noop);
    readUpgradeKey(socket, (key) => {
      socket.resume();
      socket.write(switchingProtocols(key));
      socket.on('end', () => socket.end());
    });
  });
} else unsupported(`mode ${mode} (raw TCP has no WebSocket extensions)`);

server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  const count = () => new Promise((resolve) => server.getConnections((_err, n) => resolve(n ?? -1)));
  ready(server.address().port, count, { engine: `node:net ${process.version}` });
});
