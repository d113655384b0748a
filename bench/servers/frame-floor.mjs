// The least a WebSocket echo server on Node's sockets can do, for comparison with (a) and (b): a
// plain `node:http` server that answers the upgrade by hand and then echoes each small masked
// frame unmasked, with no checks at all (no UTF-8 validation, no limits, no control frames, no
// close handshake, no message objects: payloads up to 125 bytes only). Not a usable server, and
// not part of `npm run bench`; run by hand next to the others, for instance:
//   taskset -c 0 node bench/servers/frame-floor.mjs echo 0     # prints READY {"port":N,...}
//   taskset -c 1 .bench/wsload -c 64 -p 16 -s 64 -d 5 -P N     # (a)
//   taskset -c 1 .bench/wsload -c 256 -p 1 -s 32 -d 5 -P N     # (b)
import { createServer } from 'node:http';
import { parseServerArgs, ready, switchingProtocols, unsupported } from './common.mjs';

const { mode, port } = parseServerArgs();
if (mode !== 'echo') unsupported(`mode ${mode}`);
let open = 0;

function echoFrames(socket) {
  socket.setNoDelay(true);
  let carry = null;
  socket.on('data', (chunk) => {
    const data = carry === null ? chunk : Buffer.concat([carry, chunk]);
    carry = null;
    const out = Buffer.allocUnsafe(data.length);
    let i = 0;
    let o = 0;
    // client frames: [opcode byte, 0x80 | length (< 126), 4 mask bytes, payload]
    while (i + 6 <= data.length) {
      const length = data[i + 1] & 0x7f;
      if (i + 6 + length > data.length) break;
      out[o] = data[i];
      out[o + 1] = length;
      for (let k = 0; k < length; k++) out[o + 2 + k] = data[i + 6 + k] ^ data[i + 2 + (k & 3)];
      o += 2 + length;
      i += 6 + length;
    }
    if (i < data.length) carry = data.subarray(i);
    if (o > 0) socket.write(out.subarray(0, o));
  });
}

const server = createServer((_req, res) => {
  res.writeHead(426, { connection: 'close' });
  res.end();
});
server.on('upgrade', (req, socket) => {
  socket.write(switchingProtocols(req.headers['sec-websocket-key']));
  socket.on('error', () => socket.destroy());
  socket.on('end', () => socket.end());
  socket.on('close', () => open--);
  open++;
  echoFrames(socket);
});
server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
  ready(server.address().port, () => open, { engine: `frame floor on node:http ${process.version}` });
});
