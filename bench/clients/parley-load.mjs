// Load generator on parley's own client (the WebSocket of dist/src/index.js), for the workloads
// wsload cannot drive: wsload does not negotiate permessage-deflate, so (g) runs on this.
// Same idea and output as wsload's echo mode: C connections each keep P messages of S bytes in
// flight; once all are open, the messages echoed in the next D seconds are counted. One JSON line
// on stdout; exit status 1 if any connection failed.
//
//   node bench/clients/parley-load.mjs --port P [--conns 64] [--pipeline 16] [--size 64]
//        [--secs 2] [--binary] [--deflate]
//
// With --deflate both sides compress every message (threshold 0). Each connection sends a cycle of
// 64 different JSON-like records of pseudo-random words (bench/clients/payload.mjs). This client
// compresses and inflates for real, so it costs about as much CPU as the server: bench/run.mjs uses
// it for (g) only with --deflate-client parley (by default, (g) runs on deflate-load.mjs).
import { createMeter, parseLoadArgs } from './common.mjs';
import { makeMessage } from './payload.mjs';

const { values, port, conns, pipeline, size, secs } = parseLoadArgs('parley-load', {
  maxSize: 64 * 1024 * 1024,
  options: { deflate: { type: 'boolean', default: false } },
});
const { binary, deflate } = values;

const { WebSocket } = await import('../../dist/src/index.js');

const CYCLE = 64;
const payloads = Array.from({ length: CYCLE }, (_, i) => makeMessage(size, 7919 * (i + 1)));
const sendOpts = { binary };
const meter = createMeter({
  tool: 'parley-load',
  conns,
  size,
  pipeline,
  secs,
  fields: () => ({ mode: deflate ? 'echo-deflate' : 'echo', client: 'parley' }),
  ok: () => meter.failed === 0,
});

for (let i = 0; i < conns; i++) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, {
    perMessageDeflate: deflate ? { threshold: 0 } : false,
  });
  let isOpen = false;
  let next = 0;
  const sendNext = () => {
    ws.send(payloads[next], sendOpts);
    next = (next + 1) % CYCLE;
  };
  ws.on('open', () => {
    isOpen = true;
    meter.opened++;
    for (let k = 0; k < pipeline; k++) sendNext();
    meter.maybeBegin();
  });
  ws.on('message', () => {
    meter.received++;
    sendNext();
  });
  ws.on('error', (err) => {
    if (!isOpen) {
      meter.failed++;
      console.error(`parley-load: connection failed: ${err.message}`);
      meter.maybeBegin();
    }
  });
}
