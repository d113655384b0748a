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
import { parseArgs } from 'node:util';
import { makeMessage } from './payload.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    conns: { type: 'string', default: '64' },
    pipeline: { type: 'string', default: '16' },
    size: { type: 'string', default: '64' },
    secs: { type: 'string', default: '2' },
    binary: { type: 'boolean', default: false },
    deflate: { type: 'boolean', default: false },
  },
});
const num = (name, min, max) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`parley-load: --${name} must be an integer in [${min}, ${max}]`);
    process.exit(2);
  }
  return n;
};
const port = num('port', 1, 65535);
const conns = num('conns', 1, 20000);
const pipeline = num('pipeline', 1, 1024);
const size = num('size', 1, 64 * 1024 * 1024);
const secs = num('secs', 1, 600);
const { binary, deflate } = values;

const { WebSocket } = await import('../../dist/src/index.js');

const CYCLE = 64;
const payloads = Array.from({ length: CYCLE }, (_, i) => makeMessage(size, 7919 * (i + 1)));
const sendOpts = { binary };
let opened = 0;
let failed = 0;
let received = 0;
let startedAt = 0;
let base = 0;
let openedAt = 0;
const t0 = performance.now();

function maybeBegin() {
  if (startedAt || opened + failed < conns) return;
  startedAt = performance.now();
  openedAt = (startedAt - t0) / 1000;
  base = received;
  setTimeout(finish, secs * 1000);
}

function finish() {
  const el = (performance.now() - startedAt) / 1000;
  const messages = received - base;
  const out = {
    mode: deflate ? 'echo-deflate' : 'echo',
    client: 'parley',
    connections: conns,
    open: opened,
    failed,
    open_secs: Number(openedAt.toFixed(3)),
    size,
    pipeline,
    messages,
    secs: Number(el.toFixed(3)),
    msgs_per_sec: Math.round(messages / el),
    mb_per_sec: Number(((messages * size) / el / 1e6).toFixed(2)),
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  process.exit(failed ? 1 : 0);
}

setTimeout(() => {
  console.error(`parley-load: only ${opened} of ${conns} connections opened in 60 s`);
  process.exit(1);
}, 60_000).unref();

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
    opened++;
    for (let k = 0; k < pipeline; k++) sendNext();
    maybeBegin();
  });
  ws.on('message', () => {
    received++;
    sendNext();
  });
  ws.on('error', (err) => {
    if (!isOpen) {
      failed++;
      console.error(`parley-load: connection failed: ${err.message}`);
      maybeBegin();
    }
  });
}
