#!/usr/bin/env node
// Autobahn|Testsuite client testee: parley's ws-compatible WebSocket client (dist/src/index.js)
// with permessage-deflate on, driven by the suite's fuzzingserver (see
// ../shared/conformance/autobahn.sh). Run by `scripts/autobahn.sh client`.
//
//   node scripts/autobahn-testee.mjs [BASE_URL] [AGENT]     (defaults ws://127.0.0.1:9001, parley)
//
// Protocol: GET /getCaseCount (one text message: N); then for i in 1..N connect to
// /runCase?case=i&agent=AGENT and echo every message back with the same type until the suite
// closes; finally connect to /updateReports?agent=AGENT so the suite writes its reports.
// Cases run one at a time. A case that never closes is terminated after CASE_TIMEOUT_MS so one
// hung case cannot stall the run (the suite then records it as failed). Exit code 0 when every
// case was run and the reports were updated, 1 otherwise (the pass/fail verdict is the suite's).
import { WebSocket } from '../dist/src/index.js';

const base = (process.argv[2] ?? 'ws://127.0.0.1:9001').replace(/\/+$/, '');
const agent = process.argv[3] ?? 'parley';
const CASE_TIMEOUT_MS = Number(process.env.AUTOBAHN_CASE_TIMEOUT_MS ?? 120_000);
const MAX_PAYLOAD = 64 * 1024 * 1024;

/**
 * Connects to `url`, optionally echoes every message back with the same type, and resolves once
 * the connection is over: `{ opened, code, first, error }` (`first` is the first message received).
 */
function connect(url, { echo }) {
  return new Promise((resolve) => {
    let first;
    let opened = false;
    let error;
    let settled = false;
    const ws = new WebSocket(url, { perMessageDeflate: true, maxPayload: MAX_PAYLOAD });
    const timer = setTimeout(() => {
      console.error(`autobahn-testee: ${url} did not close within ${CASE_TIMEOUT_MS} ms; terminating`);
      ws.terminate();
      setTimeout(() => done(undefined), 1000).unref();
    }, CASE_TIMEOUT_MS);
    const done = (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ opened, code, first, error });
    };
    ws.on('open', () => {
      opened = true;
    });
    ws.on('message', (data, isBinary) => {
      if (first === undefined) first = { data, isBinary };
      if (echo && ws.readyState === WebSocket.OPEN) ws.send(data, { binary: isBinary });
    });
    // Peer protocol violations and connect failures end up here; 'close' follows. A failed
    // connect is settled right away in case the engine does not emit 'close' after it.
    ws.on('error', (err) => {
      error ??= err;
      if (!opened) done(undefined);
    });
    ws.on('close', (code) => done(code));
  });
}

const countResult = await connect(`${base}/getCaseCount`, { echo: false });
const count = countResult.first ? Number(countResult.first.data.toString('utf8')) : Number.NaN;
if (!Number.isInteger(count) || count < 0) {
  console.error(
    `autobahn-testee: could not get the case count from ${base}/getCaseCount` +
      (countResult.error ? `: ${countResult.error.message}` : ''),
  );
  process.exit(1);
}
console.log(`autobahn-testee: ${count} cases, agent ${agent}`);

let errors = 0;
const started = Date.now();
for (let i = 1; i <= count; i++) {
  const r = await connect(`${base}/runCase?case=${i}&agent=${encodeURIComponent(agent)}`, { echo: true });
  if (!r.opened) {
    errors++;
    console.error(
      `autobahn-testee: case ${i}: could not connect: ${r.error?.message ?? 'closed before open'}`,
    );
  }
  if (i % 50 === 0 || i === count) {
    console.log(`autobahn-testee: ${i}/${count} cases run (${Math.round((Date.now() - started) / 1000)} s)`);
  }
}

const report = await connect(`${base}/updateReports?agent=${encodeURIComponent(agent)}`, { echo: false });
if (!report.opened) {
  console.error(`autobahn-testee: updateReports failed: ${report.error?.message ?? 'not opened'}`);
  process.exit(1);
}
console.log(`autobahn-testee: reports updated (${errors} cases could not connect)`);
process.exit(0);
