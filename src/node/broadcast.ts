/**
 * One message to many connections, framed (and compressed) once.
 * @module
 */
import zlib from 'node:zlib';
import { Opcode } from '../protocol/constants.js';
import { encodeFrame } from '../protocol/frame.js';
import { type SendData, toBuffer, type WebSocket } from './websocket.js';

/**
 * Sends `data` to each open connection of `clients` but `options.except`. The unmasked frame is
 * built once and shared. A connection that negotiated permessage-deflate gets a frame compressed
 * once per window size with a fresh context, which any peer inflater can read; that connection's
 * own compressor then starts a fresh context too, so its later back-references stay valid.
 */
export function encodeBroadcast(
  clients: Iterable<WebSocket>,
  data: SendData,
  options: { binary?: boolean; compress?: boolean; except?: WebSocket },
): void {
  const payload = toBuffer(data);
  const opcode = (options.binary ?? typeof data !== 'string') ? Opcode.Binary : Opcode.Text;
  let plain: Buffer | null = null;
  let compressed: Map<number, Buffer> | null = null;
  for (const ws of clients) {
    if (ws === options.except || ws.readyState !== 1) continue;
    const deflate = ws._deflate;
    if (deflate !== null && options.compress !== false && payload.length >= deflate.threshold) {
      const bits = deflate.params.serverMaxWindowBits;
      compressed ??= new Map();
      let frame = compressed.get(bits);
      if (frame === undefined) {
        const body = zlib.deflateRawSync(payload, {
          finishFlush: zlib.constants.Z_SYNC_FLUSH,
          windowBits: bits,
        });
        frame = encodeFrame(opcode, body.subarray(0, body.length - 4), { fin: true, rsv1: true, mask: null });
        compressed.set(bits, frame);
      }
      ws._sendPrepared(frame, true, payload, opcode);
    } else {
      plain ??= encodeFrame(opcode, payload, { fin: true, rsv1: false, mask: null });
      ws._sendPrepared(plain, false, payload, opcode);
    }
  }
}
