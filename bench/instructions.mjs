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
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WSLOAD = path.join(REPO, '.bench', 'wsload');
const SERVERS = {
  parley: 'bench/servers/parley.mjs',
  ws: 'bench/servers/ws.mjs',
  floor: 'bench/servers/frame-floor.mjs',
};
const WORKLOAD = {
  label: '(a) 64 conns x 16 in flight x 64 B text',
  args: ['-c', '64', '-p', '16', '-s', '64'],
};

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
if (!existsSync(WSLOAD)) {
  console.error(
    'instructions: .bench/wsload is missing; run node bench/run.mjs --only a --quick once to build it',
  );
  process.exit(2);
}

/** Starts `file` under callgrind, instrumentation off; resolves with its port and a stop function. */
function startServer(file, dir) {
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      `--callgrind-out-file=${dir}/cg.out`,
      'node',
      file,
      'echo',
      '0',
    ],
    { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) resolve({ child, port: JSON.parse(line.slice(6)).port });
    });
    child.on('exit', (code) => reject(new Error(`${file} exited (${code}) before it was ready:\n${stderr}`)));
  });
}

/** Runs wsload against `port`; resolves with the messages it had echoed. */
function load(port, args, seconds) {
  const run = spawnSync('taskset', ['-c', '1', WSLOAD, '-P', String(port), ...args, '-d', String(seconds)], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`wsload failed: ${run.stderr}`);
  const report = JSON.parse(run.stdout);
  return report.messages ?? report.received;
}

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
  const { child, port } = await startServer(SERVERS[name], dir);
  try {
    // taskset and valgrind exec in place: the child's pid is the one callgrind counts in.
    const pid = child.pid;
    load(port, workload.args, 2); // warm-up, not counted
    const seen = new Set();
    spawnSync('callgrind_control', ['-i', 'on', String(pid)]);
    dump(pid, dir, seen); // zero: what ran between the warm-up and now
    const m1 = load(port, workload.args, secs);
    const i1 = dump(pid, dir, seen);
    const m2 = load(port, workload.args, 3 * secs);
    const i2 = dump(pid, dir, seen);
    // wsload counts from the moment every connection is open; a run too short for that counts
    // nothing and leaves handshakes out of step between the two runs.
    if (m1 < 1000) throw new Error(`${name}: ${m1} messages in the first run; raise --secs`);
    return { messages: [m1, m2], instructions: [i1, i2], perMessage: (i2 - i1) / (m2 - m1) };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
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
