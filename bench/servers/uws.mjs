// Benchmark server on uWebSockets.js, only when this machine has it: `UWS_PATH` (a path to the
// package) or a resolvable `uWebSockets.js`. It is never a dependency of parley; without it this
// exits with status 3 and bench/run.mjs leaves the column out. Usage: node uws.mjs MODE PORT.
//   echo / deflate  every message straight back (deflate: dedicated compressor and decompressor)
//   broadcast       every connection subscribes to one topic; app.publish() reaches all of them, the
//                   sender included
import { createRequire } from 'node:module';
import { parseServerArgs, ready, unsupported } from './common.mjs';

const { mode, port } = parseServerArgs();
const spec = process.env.UWS_PATH || 'uWebSockets.js';
let uWS;
try {
  uWS = createRequire(import.meta.url)(spec);
} catch (err) {
  unsupported(`cannot load ${spec}: ${err.code ?? err.message}`);
}
if (mode !== 'echo' && mode !== 'deflate' && mode !== 'broadcast') unsupported(`mode ${mode}`);

let conns = 0;
const deflate = mode === 'deflate';
const app = uWS.App().ws('/*', {
  compression: deflate ? uWS.DEDICATED_COMPRESSOR | (uWS.DEDICATED_DECOMPRESSOR ?? 0) : uWS.DISABLED,
  maxPayloadLength: 64 * 1024 * 1024,
  maxBackpressure: 64 * 1024 * 1024,
  idleTimeout: 0,
  open: (ws) => {
    conns++;
    if (mode === 'broadcast') ws.subscribe('all');
  },
  message:
    mode === 'broadcast'
      ? (_ws, message, isBinary) => app.publish('all', message, isBinary)
      : (ws, message, isBinary) => ws.send(message, isBinary, deflate),
  close: () => {
    conns--;
  },
});
app.listen('127.0.0.1', port, (token) => {
  if (!token) {
    console.error(`uws: cannot listen on ${port}`);
    process.exit(1);
  }
  ready(uWS.us_socket_local_port(token), () => conns, { engine: 'uWebSockets.js' });
});
