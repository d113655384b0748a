// The memory floor under (e) and (i)m for any server built on `node:http`: a plain http server that
// answers the WebSocket upgrade by hand and then keeps only the socket, or the socket and the request
// (what `socket.request` keeps alive in Engine.IO and Socket.IO: `--keep-request`), with no framing,
// session or namespace state at all. Measured the way bench/run.mjs measures (e) and (i)m: RSS and
// heap per connection over a warmed-up idle baseline, after a full GC, connections opened 2,000 at
// a time. Usage (after a bench run has built .bench/wsload):
//   taskset -c 0 node --expose-gc bench/upgrade-floor.mjs [--keep-request] [CONNECTIONS=10000]
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { collectedMemory, FIXED_YOUNG_GENERATION, memoryPer, SETTLE_MS } from './memory.mjs';
import { switchingProtocols } from './servers/common.mjs';

// Memory is read with the young generation fixed, as bench/run.mjs runs its memory servers.
if (!FIXED_YOUNG_GENERATION.every((flag) => process.execArgv.includes(flag))) {
  const args = [...process.execArgv, ...FIXED_YOUNG_GENERATION, ...process.argv.slice(1)];
  process.exit(spawnSync(process.execPath, args, { stdio: 'inherit' }).status ?? 1);
}

const keepRequest = process.argv.includes('--keep-request');
const total = Number(process.argv.slice(2).find((a) => !a.startsWith('--')) ?? 10_000);
const wsloadBin = fileURLToPath(new URL('../.bench/wsload', import.meta.url));
if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');

const kept = new Set();
const server = createServer();
server.on('upgrade', (req, socket) => {
  socket.write(switchingProtocols(req.headers['sec-websocket-key']));
  socket.on('data', () => {});
  socket.on('end', () => socket.destroy());
  socket.on('error', () => socket.destroy());
  const entry = keepRequest ? req : socket;
  socket.on('close', () => kept.delete(entry));
  kept.add(entry);
});
await new Promise((resolve) => server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve));
const { port } = server.address();

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const hold = (n, secs) =>
  spawn(
    'taskset',
    ['-c', '1', wsloadBin, '-m', 'hold', '-c', String(n), '-d', String(secs), '-P', String(port)],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
async function until(condition) {
  for (let i = 0; i < 1200 && !condition(); i++) await sleep(50);
  if (!condition()) throw new Error(`gave up waiting: ${kept.size} connections held`);
}
/** A reading as bench/run.mjs takes it: after SETTLE_MS idle, a full GC and a second's quiet. */
async function settledMemory() {
  await sleep(SETTLE_MS);
  return collectedMemory();
}

// Warm-up as in bench/run.mjs: 1,000 connections opened and closed.
const warm = hold(1000, 1);
await new Promise((resolve) => warm.on('exit', resolve));
await until(() => kept.size === 0);
const base = await settledMemory();
const loads = [];
for (let opened = 0; opened < total; ) {
  const n = Math.min(2000, total - opened);
  loads.push(hold(n, 60));
  opened += n;
  await until(() => kept.size >= opened);
}
const held = await settledMemory();
for (const load of loads) load.kill();
const m = memoryPer(base, held, kept.size);
console.log(
  `${kept.size} upgraded connections held (${keepRequest ? 'socket and request' : 'socket only'}): ${m.rss.toFixed(2)} KiB RSS (young generation resident ${m.young.toFixed(2)}, left out), ${m.heap.toFixed(2)} KiB heap per connection`,
);
process.exit(0);
