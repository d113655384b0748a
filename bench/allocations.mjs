#!/usr/bin/env node
// Bytes of JS heap allocated per echoed message: the echo workloads (a) or (b), each server
// sampled by V8's sampling heap profiler (bench/alloc-sampler.mjs), garbage included. What a server
// allocates per message is what its young-generation collections cost, and unlike a rate it
// hardly moves with what else the machine is doing. It counts JS heap objects only: not the
// memory of Buffers' contents outside the heap, not the kernel's.
//
// Usage: node bench/allocations.mjs [--servers parley,ws,floor] [--workload a|b|f] [--secs 5]
//        (f: bytes per handshake, wsload -m connect -c 32)
//        node bench/allocations.mjs --servers parley-io,socket.io --workload i   (issue 5's events)
// Needs .bench/wsload (node bench/run.mjs builds it). Each server runs pinned to CPU 0, wsload to
// CPU 1; after a 2-second warm-up, sampling covers one wsload run of SECS seconds, whose opening
// handshakes are counted too (64 or 256 of them, against millions of messages).
import { parseArgs } from 'node:util';
import { load, requireWsload, SERVERS, startPinned, stopPinned, WORKLOADS } from './pinned.mjs';

const { values: opt } = parseArgs({
  options: {
    servers: { type: 'string', default: 'parley,ws,floor' },
    workload: { type: 'string', default: 'a' },
    secs: { type: 'string', default: '5' },
  },
});
const workload = WORKLOADS[opt.workload];
if (workload === undefined) throw new Error(`unknown workload ${opt.workload} (a, b, f or i)`);
requireWsload('allocations');

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
  const { child, port, lines } = await startPinned([
    process.execPath,
    '--import',
    './bench/alloc-sampler.mjs',
    SERVERS[name],
    workload.mode,
    '0',
  ]);
  try {
    load(port, workload, 2); // warm-up, not sampled
    child.kill('SIGUSR2');
    await new Promise((r) => setTimeout(r, 500)); // sampling has started
    const messages = load(port, workload, Number(opt.secs));
    child.kill('SIGUSR2');
    const { bytes, sites } = await report(lines);
    console.error(
      `${workload.label}  ${name}: ${(bytes / messages).toFixed(1)} bytes/message (${messages} messages)`,
    );
    for (const [where, b] of sites.slice(0, 5))
      console.error(`  ${(b / messages).toFixed(1).padStart(7)}  ${where}`);
    results.push({ server: name, messages, perMessage: bytes / messages });
  } finally {
    await stopPinned(child);
  }
}

console.log(
  `\nnode bench/allocations.mjs --servers ${opt.servers} --workload ${opt.workload} --secs ${opt.secs}`,
);
console.log(`\n${workload.label}\n`);
console.log('| Server | JS heap bytes allocated per message | Messages sampled |');
console.log('| --- | --: | --: |');
for (const r of results) console.log(`| ${r.server} | ${r.perMessage.toFixed(1)} | ${r.messages} |`);
