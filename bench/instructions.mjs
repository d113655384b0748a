#!/usr/bin/env node
// Instructions per message: the echo workload (a) measured in CPU instructions that each
// server process executes in user space, counted by valgrind's callgrind. The count moves far
// less than messages per second with what else the machine (or its host) is doing, so two
// servers, or two commits, compare on a busy or shared machine too (it still moves a few percent
// with how many frames each read brings). It leaves out the kernel (the
// read and write system calls) and says nothing of latency.
//
// Usage: node bench/instructions.mjs [--servers parley,ws,floor] [--secs 20]
// (the two counted runs last SECS and 3 x SECS seconds; under callgrind a server is about 50 times
// slower, and the first run must outlast the handshakes of all connections)
// Needs valgrind (callgrind_control) and .bench/wsload (node bench/run.mjs builds it).
//
// Only (a): with one message in flight per connection, as in (b) and (d), a server under valgrind
// is paced by valgrind's switching between its threads (about 17 round trips per second were
// seen), and the count would be mostly the work of an idle process.
//
// How: each server runs under callgrind with instrumentation off (so that its start and a
// warm-up run go faster and are not counted), then is counted over two
// wsload runs of different lengths with a dump after each; instructions per message are the
// difference of the two dumps over the difference of the messages echoed, which cancels what each
// run costs apart from its messages (the connections' handshakes and closes).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { load, requireWsload, SERVERS, startPinned, stopPinned, WORKLOADS } from './pinned.mjs';

const WORKLOAD = WORKLOADS.a;

const { values: opt } = parseArgs({
  options: {
    servers: { type: 'string', default: 'parley,ws,floor' },
    secs: { type: 'string', default: '20' },
  },
});
const secs = Number(opt.secs);
for (const tool of ['valgrind', 'callgrind_control']) {
  if (spawnSync('which', [tool], { stdio: 'ignore' }).status !== 0) {
    console.error(`instructions: ${tool} is not installed (Debian: apt-get install valgrind)`);
    process.exit(2);
  }
}
requireWsload('instructions');

/** Tells callgrind in process `pid` to dump; returns the instructions counted since the last dump. */
function dump(pid, dir, before) {
  const control = spawnSync('callgrind_control', ['-d', String(pid)], { encoding: 'utf8' });
  if (control.status !== 0) throw new Error(`callgrind_control failed: ${control.stderr}${control.stdout}`);
  const files = readdirSync(dir).filter((f) => f.startsWith('cg.out.') && !before.has(f));
  if (files.length !== 1) throw new Error(`expected one new dump in ${dir}, found ${files.join(', ')}`);
  before.add(files[0]);
  const text = readFileSync(path.join(dir, files[0]), 'utf8');
  const total = /^(?:summary|totals):\s*(\d+)/m.exec(text);
  if (!total) throw new Error(`no totals in ${files[0]}`);
  return Number(total[1]);
}

/** Instructions per message of server `name` in `workload`. */
async function measure(name, workload) {
  const dir = mkdtempSync(path.join(tmpdir(), 'parley-icount-'));
  const { child, port } = await startPinned([
    'valgrind',
    '--tool=callgrind',
    '--instr-atstart=no',
    `--callgrind-out-file=${dir}/cg.out`,
    'node',
    SERVERS[name],
    'echo',
    '0',
  ]);
  try {
    // taskset and valgrind exec in place: the child's pid is the one callgrind counts in.
    const pid = child.pid;
    load(port, workload, 2); // warm-up, not counted
    const seen = new Set();
    spawnSync('callgrind_control', ['-i', 'on', String(pid)]);
    dump(pid, dir, seen); // zero: what ran between the warm-up and now
    const m1 = load(port, workload, secs);
    const i1 = dump(pid, dir, seen);
    const m2 = load(port, workload, 3 * secs);
    const i2 = dump(pid, dir, seen);
    // wsload counts from the moment every connection is open; a run too short for that counts
    // nothing and leaves handshakes out of step between the two runs.
    if (m1 < 1000) throw new Error(`${name}: ${m1} messages in the first run; raise --secs`);
    return { messages: [m1, m2], instructions: [i1, i2], perMessage: (i2 - i1) / (m2 - m1) };
  } finally {
    await stopPinned(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [];
for (const name of opt.servers.split(',')) {
  if (!SERVERS[name]) throw new Error(`unknown server ${name}`);
  const r = await measure(name, WORKLOAD);
  console.error(
    `${WORKLOAD.label}  ${name}: ${Math.round(r.perMessage)} instructions/message (${r.messages.join(' and ')} messages)`,
  );
  results.push({ server: name, ...r });
}

console.log(`\nnode bench/instructions.mjs --servers ${opt.servers} --secs ${secs}`);
console.log(`\n${WORKLOAD.label}\n`);
console.log('| Server | Instructions per message | Messages counted | x parley |');
console.log('| --- | --: | --: | --: |');
const parley = results.find((r) => r.server === 'parley');
for (const r of results) {
  const ratio = parley ? (r.perMessage / parley.perMessage).toFixed(2) : '–';
  console.log(`| ${r.server} | ${Math.round(r.perMessage)} | ${r.messages[1] - r.messages[0]} | ${ratio} |`);
}
