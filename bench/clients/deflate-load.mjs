// Load generator for (g), permessage-deflate echo, cheap enough that the server is what gets
// measured. wsload cannot negotiate permessage-deflate, and a full client (parley's own, see
// parley-load.mjs) spends as much CPU compressing and inflating as the server does, so it becomes
// the limit. This one does neither at run time:
//   - it offers `permessage-deflate` (context takeover on both sides, 15-bit windows: the defaults),
//   - before connecting it compresses a cycle of K different messages in one deflate context, the
//     way a client with context takeover would, and masks the frames once; every connection sends
//     that cycle in order, again and again (message 0 was compressed with an empty window, so it
//     refers to nothing before it and the cycle can restart at any time),
//   - it counts the echoed frames without inflating them.
// The server's work is the real one: inflate every message, compress every reply.
// If the server answers with client_no_context_takeover, the messages are compressed one by one.
//
//   node bench/clients/deflate-load.mjs --port P [--conns 64] [--pipeline 16] [--size 64]
//        [--secs 2] [--binary]
//
// Output: one JSON line like wsload's echo mode (msgs_per_sec, mb_per_sec of uncompressed payload);
// exit status 1 if any connection failed.
import net from 'node:net';
import zlib from 'node:zlib';
import { createMeter, parseLoadArgs } from './common.mjs';
import { makeMessage } from './payload.mjs';

const { values, port, conns, pipeline, size, secs } = parseLoadArgs('deflate-load', {
  maxSize: 16 * 1024 * 1024,
});
const CYCLE = 64;
const MAX_FRAME = 64 * 1024 * 1024;

/** Compresses `messages` as a permessage-deflate sender would (one context, or one per message). */
async function compressAll(messages, takeover) {
  const out = [];
  let z = null;
  for (const m of messages) {
    if (z === null || !takeover) {
      z?.close();
      z = zlib.createDeflateRaw({ windowBits: 15 });
    }
    const chunks = [];
    const onData = (c) => chunks.push(c);
    z.on('data', onData);
    z.write(m);
    await new Promise((resolve) => z.flush(zlib.constants.Z_SYNC_FLUSH, resolve));
    z.off('data', onData);
    const body = Buffer.concat(chunks);
    out.push(body.subarray(0, body.length - 4)); // RFC 7692 7.2.1: drop the 00 00 ff ff tail
  }
  z?.close();
  return out;
}

/** A masked client frame: FIN, RSV1 (compressed), the opcode, a fixed mask key. */
function maskedFrame(opcode, payload) {
  const len = payload.length;
  const ext = len < 126 ? 0 : len <= 0xffff ? 2 : 8;
  const f = Buffer.alloc(2 + ext + 4 + len);
  f[0] = 0x80 | 0x40 | opcode;
  if (ext === 0) f[1] = 0x80 | len;
  else if (ext === 2) {
    f[1] = 0x80 | 126;
    f.writeUInt16BE(len, 2);
  } else {
    f[1] = 0x80 | 127;
    f.writeBigUInt64BE(BigInt(len), 2);
  }
  const key = [0x37, 0xfa, 0x21, 0x3d];
  const at = 2 + ext;
  for (let i = 0; i < 4; i++) f[at + i] = key[i];
  for (let i = 0; i < len; i++) f[at + 4 + i] = payload[i] ^ key[i & 3];
  return f;
}

const opcode = values.binary ? 2 : 1;
const texts = Array.from({ length: CYCLE }, (_, i) => makeMessage(size, 7919 * (i + 1)));
const framesFor = {
  true: (await compressAll(texts, true)).map((b) => maskedFrame(opcode, b)),
  false: (await compressAll(texts, false)).map((b) => maskedFrame(opcode, b)),
};
const wireBytes = framesFor.true.reduce((a, f) => a + f.length, 0) / CYCLE;

const request =
  `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n' +
  'Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n';

let died = 0; // connections lost after opening (a server that rejects the frames closes them)
const meter = createMeter({
  tool: 'deflate-load',
  conns,
  size,
  pipeline,
  secs,
  fields: () => ({
    mode: 'echo-deflate',
    client: 'deflate-load',
    died,
    wire_bytes_per_message: Math.round(wireBytes),
  }),
  ok: () => meter.failed === 0 && died === 0,
});

function connection() {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  let state = 0; // 0 handshake, 1 open, 2 dead
  let buf = Buffer.alloc(0);
  let frames = framesFor.true;
  let next = 0;
  const dead = (why) => {
    if (state === 2) return;
    if (state === 0) {
      meter.failed++;
      console.error(`deflate-load: connection failed: ${why}`);
      meter.maybeBegin();
    } else if (state === 1) {
      died++;
      console.error(`deflate-load: connection lost: ${why}`);
    }
    state = 2;
    socket.destroy();
  };
  const sendFrames = (n) => {
    if (n === 1) {
      socket.write(frames[next]);
      next = (next + 1) % CYCLE;
      return;
    }
    const list = [];
    for (let i = 0; i < n; i++) {
      list.push(frames[next]);
      next = (next + 1) % CYCLE;
    }
    socket.write(Buffer.concat(list));
  };
  socket.on('connect', () => socket.write(request));
  socket.on('error', (err) => dead(err.message));
  socket.on('close', () => dead('closed'));
  socket.on('data', (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    if (state === 0) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return buf.length > 8192 ? dead('handshake reply too long') : undefined;
      const head = buf.subarray(0, end).toString('latin1');
      if (!head.startsWith('HTTP/1.1 101')) return dead(head.split('\r\n')[0]);
      const ext = /^sec-websocket-extensions:(.*)$/im.exec(head)?.[1] ?? '';
      if (!/permessage-deflate/i.test(ext)) return dead('server did not accept permessage-deflate');
      if (/client_no_context_takeover/i.test(ext)) frames = framesFor.false;
      const bits = /client_max_window_bits\s*=\s*"?(\d+)/i.exec(ext);
      if (bits && Number(bits[1]) < 15) return dead(`server limits the client window (${ext.trim()})`);
      state = 1;
      meter.opened++;
      buf = buf.subarray(end + 4);
      sendFrames(pipeline);
      meter.maybeBegin();
    }
    // count complete frames; payloads are skipped, not inflated
    let off = 0;
    let n = 0;
    for (;;) {
      if (buf.length - off < 2) break;
      const b1 = buf[off + 1];
      let len = b1 & 127;
      let h = 2;
      if (len === 126) {
        if (buf.length - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        h = 4;
      } else if (len === 127) {
        if (buf.length - off < 10) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        h = 10;
      }
      if (len > MAX_FRAME) return dead('frame too large');
      if (buf.length - off < h + len) break;
      const op = buf[off] & 15;
      if (op === 8) return dead('server closed');
      if (op < 8 && buf[off] & 0x80) n++;
      off += h + len;
    }
    buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
    if (n > 0) {
      meter.received += n;
      sendFrames(n);
    }
  });
}

for (let i = 0; i < conns; i++) connection();
