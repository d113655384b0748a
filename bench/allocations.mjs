#!/usr/bin/env node
// Bytes of JS heap allocated per echoed message: the echo workloads (a) or (b), each server
// sampled by V8's sampling heap profiler (bench/alloc-sampler.mjs), garbage included. What a server
// allocates per message is what its young-generation collections cost, and unlike a rate it
// hardly moves with what else the machine is doing. It counts JS heap objects only: not the
// memory of Buffers' contents outside the heap, not the kernel's.
//
// Usage: node bench/allocations.mjs [--servers parley,ws,floor] [--workload a|b] [--secs 5]
//        node bench/allocations.mjs --servers parley-io,socket.io --workload i   (issue 5's events)
// Needs .bench/wsload (node bench/run.mjs builds it). Each server runs pinned to CPU 0, wsload to
// CPU 1; after a 2-second warm-up, sampling covers one wsload run of SECS seconds, whose opening
// handshakes are counted too (64 or 256 of them, against millions of messages).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WSLOAD = path.join(REPO, '.bench', 'wsload');
const SERVERS = {
  parley: 'bench/servers/parley.mjs',
  ws: 'bench/servers/ws.mjs',
  floor: 'bench/servers/frame-floor.mjs',
  'parley-io': 'bench/servers/parley-io.mjs',
  'socket.io': 'bench/servers/socketio.mjs',
};
const WORKLOADS = {
  a: { label: '(a) 64 conns x 16 in flight x 64 B text', args: ['-c', '64', '-p', '16', '-s', '64'] },
  b: { label: '(b) 256 conns x 1 x 32 B text', args: ['-c', '256', '-p', '1', '-s', '32'] },
  i: {
    label: '(i) Socket.IO echo, 64 x 16 x 64 B events',
    args: ['-m', 'sio', '-c', '64', '-p', '16', '-s', '64'],
    mode: 'sio',
  },
};

const { values: opt } = parseArgs({
  options: {
    servers: { type: 'string', default: 'parley,ws,floor' },
    workload: { type: 'string', default: 'a' },
    secs: { type: 'string', default: '5' },
  },
});
const workload = WORKLOADS[opt.workload];
if (workload === undefined) throw new Error(`unknown workload ${opt.workload} (a or b)`);
if (!existsSync(WSLOAD)) {
  console.error(
    'allocations: .bench/wsload is missing; run node bench/run.mjs --only a --quick once to build it',
  );
  process.exit(2);
}

/** Starts `file` with the sampler preloaded; resolves with the child, its port and its stderr lines. */
function startServer(file) {
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      process.execPath,
      '--import',
      './bench/alloc-sampler.mjs',
      file,
      workload.mode ?? 'echo',
      '0',
    ],
    { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const lines = [];
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
    const parts = err.split('\n');
    err = parts.pop() ?? '';
    lines.push(...parts);
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve({ child, port: JSON.parse(line.slice(6)).port, lines });
    });
    child.on('exit', (code) =>
      reject(new Error(`${file} exited (${code}) before it was ready:\n${lines.join('\n')}`)),
    );
  });
}

/** Runs wsload against `port`; resolves with the messages it had echoed. */
function load(port, seconds) {
  const run = spawnSync(
    'taskset',
    ['-c', '1', WSLOAD, '-P', String(port), ...workload.args, '-d', String(seconds)],
    {
      encoding: 'utf8',
    },
  );
  if (run.status !== 0) throw new Error(`wsload failed: ${run.stderr}`);
  return JSON.parse(run.stdout).messages;
}

/** Waits until `lines` holds an ALLOC line; returns its report. */
async function report(lines) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = lines.find((l) => l.startsWith('ALLOC '));
    if (line) return JSON.parse(line.slice(6));
    if (Date.now() > deadline) throw new Error(`no ALLOC report:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const results = [];
for (const name of opt.servers.split(',')) {
  if (!SERVERS[name]) throw new Error(`unknown server ${name}`);
  const { child, port, lines } = await startServer(SERVERS[name]);
  try {
    load(port, 2); // warm-up, not sampled
    child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 500)); // sampling has started
    const messages = load(port, Number(opt.secs));
    child.kill('SIGUSR2');
    const { bytes, sites } = await report(lines);
    console.error(
      `${workload.label}  ${name}: ${(bytes / messages).toFixed(1)} bytes/message (${messages} messages)`,
    );
    for (const [where, b] of sites.slice(0, 5))
      console.error(`  ${(b / messages).toFixed(1).padStart(7)}  ${where}`);
    results.push({ server: name, messages, perMessage: bytes / messages });
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
}

console.log(
  `\nnode bench/allocations.mjs --servers ${opt.servers} --workload ${opt.workload} --secs ${opt.secs}`,
);
console.log(`\n${workload.label}\n`);
console.log('| Server | JS heap bytes allocated per message | Messages sampled |');
console.log('| --- | --: | --: |');
for (const r of results) console.log(`| ${r.server} | ${r.perMessage.toFixed(1)} | ${r.messages} |`);
