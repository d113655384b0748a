#!/usr/bin/env node
// parley's benchmark suite (`npm run bench`): the workloads of issue 3 against parley, the `ws`
// package, a raw node:net echo (the floor for any server on Node's sockets) and uWebSockets.js when
// this machine has it; and the realtime workload of issue 5, parley's Socket.IO-compatible server
// against socket.io. See BENCHMARKS.md for the method and the last full run.
//
//   node bench/run.mjs [--quick] [--only a,c] [--servers parley,ws] [--reps N] [--json out.json]
//                      [--markdown]
//
// Needs: a built parley (`npx tsc -p tsconfig.json`: the parley server loads dist/src/index.js), a C
// compiler (`cc`, or $CC) for the load generator, and preferably taskset and two CPUs: every server
// runs pinned to CPU 0, every load generator to CPU 1. Everything runs on 127.0.0.1.
//
// Environment:
//   PARLEY_SHARED             the shared/ folder (default: ../shared beside the repository)
//   WSLOAD_SRC                wsload.c (default: $PARLEY_SHARED/bench/wsload.c)
//   PARLEY_BENCH_CACHE        where the compiled wsload goes (default: .bench/ in the repository)
//   PARLEY_BENCH_RSS_LIMIT_MB a server above this RSS is killed and its run marked (default 4096)
//   UWS_PATH                  uWebSockets.js to load (else `uWebSockets.js` if it resolves)
//
// Each figure is the median of several runs; within a repetition the servers take turns, and the
// order rotates from one repetition to the next (A/B interleaving), so that drift on a shared
// machine hits every server alike.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FIXED_YOUNG_GENERATION, memoryPer, SETTLE_MS } from './memory.mjs';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = path.resolve(process.env.PARLEY_SHARED ?? path.join(REPO, '..', 'shared'));
const WSLOAD_SRC = path.resolve(process.env.WSLOAD_SRC ?? path.join(SHARED, 'bench', 'wsload.c'));
const CACHE = path.resolve(process.env.PARLEY_BENCH_CACHE ?? path.join(REPO, '.bench'));
const RSS_LIMIT = Number(process.env.PARLEY_BENCH_RSS_LIMIT_MB ?? 4096) * 1024 * 1024;
const SERVER_CPU = 0;
const LOAD_CPU = 1;

// ---------------------------------------------------------------------------------------------
// Options and profiles

const USAGE = `usage: node bench/run.mjs [options]
  --quick            fewer and shorter runs (a smoke check, about 2 minutes)
  --only a,c         workloads to run (a-i; default all; i: realtime, parley vs socket.io)
  --servers LIST     servers to run: parley,ws,net,floor,accept,uws (default all; uws only if it
                     loads; floor: bench/servers/frame-floor.mjs, for (a), (b), (f); accept:
                     bench/servers/net-accept.mjs, for (f));
                     for (i), parley runs parley/realtime and ws runs socket.io
  --reps N           repetitions per figure (default 5, quick 2; (e) and (h) use fewer)
  --json FILE        also write every run and median as JSON
  --markdown         write the results into BENCHMARKS.md (between its results markers)
  --deflate-client C load generator for (g): deflate-load (default: replays pre-compressed frames,
                     counts replies without inflating) or parley (parley's own client, which
                     compresses and inflates for real and so costs as much CPU as the server)
  --deflate-level N  zlib level for (g) on every server (default: each engine's own default,
                     parley 1, ws 6); e.g. 6 compares parley and ws at the same level
  --profile DIR      run the parley servers with --cpu-prof into DIR, one profile per server
                     process, named after the workload (summarize: node bench/cpuprofile-top.mjs)
  --help             this text`;

let opt;
try {
  opt = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      servers: { type: 'string' },
      reps: { type: 'string' },
      json: { type: 'string' },
      markdown: { type: 'boolean', default: false },
      'deflate-client': { type: 'string', default: 'deflate-load' },
      'deflate-level': { type: 'string' },
      profile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (err) {
  console.error(`${err.message}\n${USAGE}`);
  process.exit(2);
}
if (opt.help) {
  console.log(USAGE);
  process.exit(0);
}

const PROFILE = opt.quick
  ? { reps: 2, secs: 1, warm: 1, holdReps: 1, connectSecs: 1, bcastReps: 1, bcastSecs: 1 }
  : { reps: 5, secs: 2, warm: 1, holdReps: 3, connectSecs: 2, bcastReps: 3, bcastSecs: 2 };
if (opt.reps !== undefined) {
  const n = Number(opt.reps);
  if (!Number.isInteger(n) || n < 1 || n > 50) fail('--reps must be an integer in [1, 50]');
  PROFILE.reps = n;
  PROFILE.holdReps = Math.min(PROFILE.holdReps, n);
  PROFILE.bcastReps = Math.min(PROFILE.bcastReps, n);
}
const HOLD_CONNS = 10_000;

const RECEIVERS = [1000, 10_000];
const RAMP_BATCH = 2000; // connections per wsload process when opening thousands (see rampConnect)

if (!['deflate-load', 'parley'].includes(opt['deflate-client']))
  fail('--deflate-client must be deflate-load or parley');
if (opt['deflate-level'] !== undefined) {
  const level = Number(opt['deflate-level']);
  if (!Number.isInteger(level) || level < 0 || level > 9)
    fail('--deflate-level must be an integer in [0, 9]');
  // read by bench/servers/wsapi.mjs in every server process (children inherit the environment)
  process.env.BENCH_DEFLATE_LEVEL = String(level);
}
const ALL_WORKLOADS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
const only = opt.only ? opt.only.split(',').map((s) => s.trim().toLowerCase()) : ALL_WORKLOADS;
for (const w of only) if (!ALL_WORKLOADS.includes(w)) fail(`--only: unknown workload "${w}"`);
const ALL_SERVERS = ['parley', 'ws', 'net', 'floor', 'accept', 'uws'];
const wanted = opt.servers ? opt.servers.split(',').map((s) => s.trim().toLowerCase()) : ALL_SERVERS;
for (const s of wanted) if (!ALL_SERVERS.includes(s)) fail(`--servers: unknown server "${s}"`);

function fail(message) {
  console.error(`bench: ${message}`);
  process.exit(1);
}

const log = (message) => process.stderr.write(`${message}\n`);

// ---------------------------------------------------------------------------------------------
// Children: pinning, fd limit, cleanup

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`bench: ${sig}, stopping`);
    process.exit(130);
  });
}

const canPin =
  os.availableParallelism() >= 2 &&
  spawnSync('taskset', ['-c', String(LOAD_CPU), 'true'], { stdio: 'ignore' }).status === 0;
const hardNofile = Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim()) || 1024;
const NOFILE = Math.min(hardNofile, 65536);

/** argv for a child: raise the fd limit to the hard limit, then pin to `cpu`. */
function wrap(cpu, argv) {
  const pinned = canPin ? ['taskset', '-c', String(cpu), ...argv] : argv;
  return ['sh', '-c', `ulimit -n ${NOFILE} 2>/dev/null; exec "$@"`, 'sh', ...pinned];
}

function spawnChild(cpu, argv, stdin = 'ignore') {
  const [cmd, ...args] = wrap(cpu, argv);
  const child = spawn(cmd, args, { cwd: REPO, stdio: [stdin, 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => stderr };
}

// ---------------------------------------------------------------------------------------------
// /proc readings

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU seconds (user + system) used so far by `pid`, or NaN. */
function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/** [busy, total] jiffies of CPU `n` since boot, from /proc/stat (busy excludes idle and iowait). */
function coreTimes(n) {
  try {
    const line = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${n} `));
    const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return [total - v[3] - v[4], total];
  } catch {
    return [Number.NaN, Number.NaN];
  }
}

/** Fraction of CPU `n` busy (by anything) between two coreTimes readings. */
const coreBusy = (a, b) => (b[0] - a[0]) / (b[1] - a[1]);

/** Resident set size of `pid` in bytes, or NaN. */
function rssBytes(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

// ---------------------------------------------------------------------------------------------
// Servers

const SERVER_MODES = {
  parley: ['echo', 'deflate', 'broadcast', 'broadcast-api'],
  ws: ['echo', 'deflate', 'broadcast'],
  net: ['echo', 'broadcast', 'handshake'],
  // the frame floor (frame-floor.mjs) runs for (a), (b) and (f) only, net-accept.mjs for (f)
  // only: see runEcho, runConnect
  floor: [],
  accept: [],
  uws: ['echo', 'deflate', 'broadcast'],
  // (i): parley's Socket.IO-compatible server and socket.io, standing for parley and ws
  'parley-io': ['sio'],
  socketio: ['sio'],
};
/** For (i): the realtime server run for each selected server, and its key in the results. */
const REALTIME = {
  parley: { script: 'parley-io', key: 'parley' },
  ws: { script: 'socketio', key: 'socket.io' },
};
const unavailable = new Map(); // "server mode" -> reason
const PROFILE_DIR = opt.profile ? path.resolve(opt.profile) : null;
let currentWorkload = '';
let profileCount = 0;

/**
 * Starts bench/servers/NAME.mjs in MODE on CPU 0. Resolves to a handle, or to null when the server
 * says it cannot run that mode here (exit status 3; the reason is kept for the report).
 */
async function startServer(name, mode, { memory = false } = {}) {
  const key = `${name} ${mode}`;
  if (unavailable.has(key)) return null;
  const file = { floor: 'frame-floor', accept: 'net-accept' }[name] ?? name;
  const script = path.join(REPO, 'bench', 'servers', `${file}.mjs`);
  const flags = ['--expose-gc', ...(memory ? FIXED_YOUNG_GENERATION : [])];
  if (PROFILE_DIR && name === 'parley') {
    const file = `parley-${currentWorkload}-${mode}-${++profileCount}.cpuprofile`;
    flags.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${file}`);
  }
  const proc = spawnChild(SERVER_CPU, [process.execPath, ...flags, script, mode, '0'], 'pipe');
  const { child } = proc;
  child.stdin.on('error', () => {});
  const waiters = [];
  const rl = createInterface({ input: child.stdout });
  let readyInfo = null;
  let readyResolve;
  const readyPromise = new Promise((resolve) => {
    readyResolve = resolve;
  });
  rl.on('line', (line) => {
    const sp = line.indexOf(' ');
    const tag = line.slice(0, sp);
    let body;
    try {
      body = JSON.parse(line.slice(sp + 1));
    } catch {
      return;
    }
    if (tag === 'READY') {
      readyInfo = body;
      readyResolve(true);
      return;
    }
    const i = waiters.findIndex((w) => w.tag === tag);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(body);
  });
  let peak = 0;
  let overLimit = false;
  const monitor = setInterval(() => {
    const rss = rssBytes(child.pid);
    if (rss > peak) peak = rss;
    if (rss > RSS_LIMIT && !overLimit) {
      overLimit = true;
      log(`bench: ${key} passed the RSS limit (${(rss / 1048576).toFixed(0)} MiB), killing it`);
      child.kill('SIGKILL');
    }
  }, 200);
  proc.exited.then(() => {
    clearInterval(monitor);
    readyResolve(false);
    for (const w of waiters.splice(0)) w.resolve(null);
  });
  const timer = setTimeout(() => readyResolve(false), 20_000);
  const ok = await readyPromise;
  clearTimeout(timer);
  if (!ok) {
    child.kill('SIGKILL');
    const { code } = await proc.exited;
    const reason = proc.stderr().trim().split('\n').pop() || `exit status ${code}`;
    if (code === 3) {
      unavailable.set(key, reason.replace(/^unsupported: /, ''));
      return null;
    }
    throw new Error(`${key} did not start: ${reason}`);
  }
  const ask = (tag) =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve(null);
      waiters.push({ tag, resolve });
      child.stdin.write(`${tag.toLowerCase()}\n`);
    });
  return {
    name,
    mode,
    port: readyInfo.port,
    pid: child.pid,
    info: readyInfo,
    stats: () => ask('STATS'),
    gc: () => ask('GC'),
    cpu: () => cpuSeconds(child.pid),
    resetPeak() {
      peak = rssBytes(child.pid);
    },
    peak: () => peak,
    overLimit: () => overLimit,
    alive: () => child.exitCode === null && child.signalCode === null,
    stderr: proc.stderr,
    async stop() {
      if (this.alive()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), PROFILE_DIR ? 15_000 : 2000);
        await proc.exited;
        clearTimeout(t);
      }
      clearInterval(monitor);
    },
  };
}

/** Polls the server until it reports at least `n` open connections (or exactly n when `exact`). */
async function waitConns(server, n, timeoutMs, exact = false) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await server.stats();
    if (!s) return -1;
    if (exact ? s.conns === n : s.conns >= n) return s.conns;
    if (Date.now() > deadline) return s.conns;
    await sleep(100);
  }
}

// ---------------------------------------------------------------------------------------------
// Load generators

let WSLOAD;

/** Compiles wsload.c with cc -O2 into the cache, unless the cached binary is from the same source. */
function buildWsload() {
  if (!fs.existsSync(WSLOAD_SRC))
    fail(`wsload.c not found at ${WSLOAD_SRC} (set PARLEY_SHARED or WSLOAD_SRC)`);
  const cc = process.env.CC || 'cc';
  const flags = ['-O2'];
  const hash = createHash('sha256')
    .update(fs.readFileSync(WSLOAD_SRC))
    .update(`${cc} ${flags.join(' ')}`)
    .digest('hex');
  const bin = path.join(CACHE, 'wsload');
  const stamp = path.join(CACHE, 'wsload.sha256');
  if (fs.existsSync(bin) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash) return bin;
  fs.mkdirSync(CACHE, { recursive: true });
  log(`bench: compiling ${WSLOAD_SRC} with ${cc} ${flags.join(' ')}`);
  try {
    execFileSync(cc, [...flags, '-o', `${bin}.tmp`, WSLOAD_SRC], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch {
    fail(`could not compile wsload with ${cc}`);
  }
  fs.renameSync(`${bin}.tmp`, bin);
  fs.writeFileSync(stamp, hash);
  return bin;
}

/** Starts a load generator on CPU 1; `result` resolves to its JSON line (or null) and exit status. */
function startLoad(argv, timeoutMs) {
  const proc = spawnChild(LOAD_CPU, argv);
  let out = '';
  proc.child.stdout.setEncoding('utf8');
  proc.child.stdout.on('data', (d) => {
    out += d;
  });
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  // CPU used by the load generator: the last reading before it exits (sampled every 50 ms)
  const t0 = performance.now();
  let cpu = 0;
  const sampler = setInterval(() => {
    const c = cpuSeconds(proc.child.pid);
    if (Number.isFinite(c)) cpu = c;
  }, 50);
  const result = proc.exited.then(({ code, signal }) => {
    clearTimeout(timer);
    clearInterval(sampler);
    const loadCpu = cpu / ((performance.now() - t0) / 1000);
    const line = out.trim().split('\n').pop() ?? '';
    let json = null;
    try {
      json = JSON.parse(line);
    } catch {}
    return { json, code, signal, stderr: proc.stderr(), loadCpu };
  });
  return { result, kill: () => proc.child.kill('SIGKILL'), pid: proc.child.pid };
}

const wsload = (port, args, timeoutMs) =>
  startLoad([WSLOAD, '-P', String(port), ...args.map(String)], timeoutMs);

/**
 * Opens `total` connections held by several wsload processes of at most RAMP_BATCH each, starting
 * the next one only when the server has accepted the previous ones: ten thousand simultaneous
 * connects overflow the listen queue (somaxconn), and the SYN retries then cost seconds.
 * `argsFor(n, last)` gives the wsload arguments of a batch of n (`last`: the final batch).
 */
async function rampConnect(server, total, argsFor, timeoutMs) {
  const loads = [];
  let opened = 0;
  while (opened < total) {
    const n = Math.min(RAMP_BATCH, total - opened);
    loads.push(wsload(server.port, argsFor(n, opened + n === total), timeoutMs));
    opened += n;
    const got = await waitConns(server, opened, 30_000);
    if (got < opened) return { loads, ok: false, got };
  }
  return { loads, ok: true, got: opened };
}

// ---------------------------------------------------------------------------------------------
// Results

/** results[row][server] = [{ value, cpu, peakRss, note }] */
const results = {};
const notes = [];
const record = (row, server, run) => {
  results[row] ??= {};
  (results[row][server] ??= []).push(run);
};

function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return Number.NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Rotation r of a list: repetition r starts with a different server. */
const rotate = (list, r) => list.map((_, i) => list[(i + r) % list.length]);

function loadFailure(r) {
  if (!r.json) {
    const lines = r.stderr.trim().split('\n');
    const why = lines.find((l) => /Error|error:/.test(l)) ?? lines.pop() ?? '';
    return `no result (exit ${r.code ?? r.signal}): ${why.trim()}`;
  }
  if (r.json.failed) return `${r.json.failed} connections failed`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Workloads

// floor: also run bench/servers/frame-floor.mjs (small frames only, no checks) as the floor
const ECHO = {
  a: { row: 'a', c: 64, p: 16, s: 64, binary: false, metric: 'msgs_per_sec', floor: true },
  b: { row: 'b', c: 256, p: 1, s: 32, binary: false, metric: 'msgs_per_sec', floor: true },
  c: { row: 'c', c: 16, p: 4, s: 65536, binary: true, metric: 'mb_per_sec' },
  d: { row: 'd50', c: 1, p: 1, s: 16, binary: false, metric: 'p50_us' },
};

function echoArgs(server, w, secs) {
  const args = ['-c', w.c, '-p', w.p, '-s', w.s, '-d', secs];
  if (w.binary) args.push('-b');
  if (server === 'net') args.push('-r');
  return args;
}

/** Starts one server of each name in `mode`, leaving out the ones that cannot run it. */
async function startAll(names, mode) {
  const out = [];
  for (const name of names) {
    if (!SERVER_MODES[name].includes(mode)) continue;
    const s = await startServer(name, mode);
    if (s) out.push(s);
  }
  return out;
}

function progress(id, server, value, what, m) {
  const cpu = `server CPU ${pct(m.cpu)} of CPU ${SERVER_CPU} busy ${pct(m.core)}, load generator ${pct(m.loadCpu)}`;
  log(`  (${id}) ${server.padEnd(10)} ${fmtNum(value).padStart(7)} ${what}   ${cpu}`);
}

/** Runs one measurement; adds the server's CPU share, how busy CPU 0 was, and the peak RSS. */
async function timed(server, run) {
  const c0 = server.cpu();
  const k0 = coreTimes(SERVER_CPU);
  const t0 = performance.now();
  server.resetPeak();
  const r = await run();
  const wall = (performance.now() - t0) / 1000;
  const cpu = (server.cpu() - c0) / wall;
  return { r, cpu, core: coreBusy(k0, coreTimes(SERVER_CPU)), loadCpu: r.loadCpu, peakRss: server.peak() };
}

async function runEcho(id, names) {
  const w = ECHO[id];
  const servers = await startAll(names, 'echo');
  if (w.floor && names.includes('floor')) {
    const floor = await startServer('floor', 'echo');
    if (floor) servers.push(floor);
  }
  const timeout = (PROFILE.secs + 60) * 1000;
  for (const s of servers) await wsload(s.port, echoArgs(s.name, w, PROFILE.warm), timeout).result;
  for (let rep = 0; rep < PROFILE.reps; rep++) {
    for (const s of rotate(servers, rep)) {
      const { r, ...m } = await timed(
        s,
        () => wsload(s.port, echoArgs(s.name, w, PROFILE.secs), timeout).result,
      );
      const bad = loadFailure(r);
      if (bad) notes.push(`(${id}) ${s.name}: ${bad}`);
      const j = r.json ?? {};
      record(w.row, s.name, { value: j[w.metric] ?? Number.NaN, ...m });
      if (id === 'd') record('d99', s.name, { value: j.p99_us ?? Number.NaN, ...m });
      progress(id, s.name, j[w.metric], w.metric, m);
    }
  }
  for (const s of servers) await s.stop();
}

/**
 * (e) server RSS per idle connection: 10,000 held connections against a warmed-up idle baseline.
 * The floor (the net column) is a raw node:net socket that has read the client's opening request
 * and written the 101 reply, with no HTTP parser (net.mjs `handshake`): the least a server on
 * Node's sockets holds for a connection that has exchanged the handshake's bytes. A raw socket that
 * never reads or writes a byte holds less (reading and writing leave per-socket state in Node and
 * in the allocator); it is measured too, as row e0, for the record.
 */
async function runHold(names) {
  const timeout = 120_000;
  const variants = [];
  for (const name of names) {
    if (name === 'net') {
      variants.push({ name, mode: 'handshake', row: 'e', args: [] });
      variants.push({ name, mode: 'echo', row: 'e0', args: ['-r', '-p', '0'] });
    } else if (SERVER_MODES[name].includes('echo')) {
      variants.push({ name, mode: 'echo', row: 'e', args: [] });
    }
  }
  for (let rep = 0; rep < PROFILE.holdReps; rep++) {
    for (const v of rotate(variants, rep)) {
      const s = await startServer(v.name, v.mode, { memory: true });
      if (!s) continue;
      // warm up the accept/handshake path so that its code and heap are part of the baseline
      await wsload(s.port, ['-m', 'hold', '-c', 1000, '-d', 1, ...v.args], timeout).result;
      await waitConns(s, 0, 10_000, true);
      await sleep(SETTLE_MS);
      const base = await s.gc();
      const ramp = await rampConnect(
        s,
        HOLD_CONNS,
        (n) => ['-m', 'hold', '-c', n, '-d', 60, ...v.args],
        timeout,
      );
      await sleep(SETTLE_MS);
      const held = await s.gc();
      for (const l of ramp.loads) l.kill();
      await s.stop();
      if (!ramp.ok || !base || !held) {
        notes.push(`(${v.row}) ${v.name}: only ${ramp.got} of ${HOLD_CONNS} connections held`);
        record(v.row, v.name, { value: Number.NaN });
        continue;
      }
      const m = memoryPer(base, held, held.conns);
      record(v.row, v.name, { value: m.rss, ...m, conns: held.conns });
      log(
        `  (${v.row}) ${v.name.padEnd(6)} ${m.rss.toFixed(2)} KiB/conn RSS (heap ${m.heap.toFixed(2)}; young generation resident ${m.young.toFixed(2)}, left out)`,
      );
    }
  }
}

/**
 * The most connections per second one client address can open to one server address here, or
 * NaN: wsload closes first, so each of its ports waits in TIME_WAIT, and Linux (net.ipv4.tcp_tw_reuse
 * 2, its default) hands such a port to a new loopback connection only once it is a second old;
 * connect() takes the even ports of net.ipv4.ip_local_port_range. With the usual range, 32768-60999,
 * that is about 14.1k a second, below what a server on one CPU can take on a fast machine.
 */
function connectCap() {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    return Math.floor((Number(hi) - Number(lo) + 1) / 2);
  } catch {
    return Number.NaN;
  }
}
const CONNECT_CAP = connectCap();

/** (f) handshakes per second: wsload -m connect (open, upgrade, close, again), 32 at a time. */
async function runConnect(names) {
  // raw net answers the upgrade with no HTTP parser and nothing after it: the floor for (f) on
  // Node's sockets; the frame floor answers it by hand on node:http, which parley and ws accept
  // through here (WebSocketServer({ server })): the floor for (f) on node:http
  const servers = [
    ...(await startAll(
      names.filter((n) => n !== 'net'),
      'echo',
    )),
    ...(await startAll(
      names.filter((n) => n === 'net'),
      'handshake',
    )),
  ];
  // net-accept.mjs: parley's WebSocket on the raw net handshake, the most an accept path of
  // parley's own on node:net could do
  for (const name of ['floor', 'accept']) {
    if (!names.includes(name)) continue;
    const s = await startServer(name, 'echo');
    if (s) servers.push(s);
  }
  const args = (secs) => ['-m', 'connect', '-c', 32, '-d', secs];
  const timeout = 120_000;
  for (const s of servers) await wsload(s.port, args(PROFILE.warm), timeout).result;
  for (let rep = 0; rep < PROFILE.reps; rep++) {
    for (const s of rotate(servers, rep)) {
      const { r, ...m } = await timed(s, () => wsload(s.port, args(PROFILE.connectSecs), timeout).result);
      const bad = loadFailure(r);
      if (bad) notes.push(`(f) ${s.name}: ${bad}`);
      record('f', s.name, { value: r.json?.handshakes_per_sec ?? Number.NaN, ...m });
      progress('f', s.name, r.json?.handshakes_per_sec, 'handshakes/s', m);
    }
  }
  for (const s of servers) await s.stop();
  const held = servers.filter(
    (s) => median(results.f?.[s.name]?.map((x) => x.value) ?? []) >= 0.9 * CONNECT_CAP,
  );
  if (held.length)
    notes.push(
      `(f) ${held.map((s) => s.name).join(', ')} within 10% of the ${fmtNum(CONNECT_CAP)} connections per second that the client's ports allow (net.ipv4.ip_local_port_range, TIME_WAIT reuse after 1 s): held by the ports, not by the server: compare per server CPU-second (a wider range raises the cap: sysctl -w net.ipv4.ip_local_port_range='1024 65535')`,
    );
}

/** (g) (a) and (c) with permessage-deflate, driven by a Node client (wsload has no deflate). */
async function runDeflate(names) {
  const file = opt['deflate-client'] === 'parley' ? 'parley-load.mjs' : 'deflate-load.mjs';
  const client = path.join(REPO, 'bench', 'clients', file);
  const shapes = [
    { ...ECHO.a, row: 'ga' },
    { ...ECHO.c, row: 'gc' },
  ];
  for (const w of shapes) {
    const servers = await startAll(names, 'deflate');
    const args = (port, secs) => {
      const a = [process.execPath, client, '--port', port, '--conns', w.c, '--pipeline', w.p];
      if (opt['deflate-client'] === 'parley') a.push('--deflate');
      a.push('--size', w.s, '--secs', secs);
      if (w.binary) a.push('--binary');
      return a.map(String);
    };
    const timeout = 120_000;
    for (const s of servers) await startLoad(args(s.port, PROFILE.warm), timeout).result;
    for (let rep = 0; rep < PROFILE.reps; rep++) {
      for (const s of rotate(servers, rep)) {
        const { r, ...m } = await timed(s, () => startLoad(args(s.port, PROFILE.secs), timeout).result);
        const bad = loadFailure(r);
        if (bad) notes.push(`(g) ${s.name}: ${bad}`);
        const j = r.json ?? {};
        record(w.row, s.name, { value: j[w.metric] ?? Number.NaN, ...m });
        progress(w.row, s.name, j[w.metric], w.metric, m);
      }
    }
    for (const s of servers) await s.stop();
  }
}

/**
 * (h) broadcast: N receivers (wsload -m sub, opened in batches), then one publisher; every message
 * goes to all connections, the publisher's included. The publisher is wsload in echo mode with 16
 * messages in flight: it sends the next message when a copy of one comes back, which paces it to
 * the server. (wsload -m pub is open-loop: it refills its pipeline once per 50 ms wake-up, which caps
 * it at 20 x -p messages/s, and past the server's speed it fills the socket, so that every read hands
 * the server ~900 messages x N receivers of work in one go.) The figure is messages delivered per
 * second, summed over the receiving wsload processes.
 */
async function runBroadcast(names) {
  const variants = [];
  for (const n of names) {
    if (!SERVER_MODES[n].includes('broadcast')) continue;
    variants.push({ key: n, name: n, mode: 'broadcast' });
    if (n === 'parley') variants.push({ key: 'parley-api', name: n, mode: 'broadcast-api' });
  }
  for (const receivers of RECEIVERS) {
    const row = receivers >= 10_000 ? 'h10k' : 'h1k';
    // The measuring wsload waits at most -d seconds for its first message (its own connections
    // and the publisher's handshake must fit in that), then measures for -d seconds.
    const secs = Math.max(PROFILE.bcastSecs, 3);
    for (let rep = 0; rep < PROFILE.bcastReps; rep++) {
      for (const v of rotate(variants, rep)) {
        const s = await startServer(v.name, v.mode);
        if (!s) continue;
        const raw = v.name === 'net' ? ['-r', '-p', '0'] : [];
        // All but the last batch just hold their connections (wsload -m hold reads and counts
        // what arrives, and waits for the others without a deadline); the last batch, opened
        // once the rest are in, measures. Every receiver gets every message, so the total is
        // the measured receivers' rate x receivers / measured receivers.
        let measured = 0;
        const ramp = await rampConnect(
          s,
          receivers,
          (n, last) => {
            if (!last) return ['-m', 'hold', '-c', n, '-d', 120, ...raw];
            measured = n;
            return ['-m', 'sub', '-c', n, '-s', 64, '-d', secs, ...raw];
          },
          180_000,
        );
        if (!ramp.ok) {
          for (const l of ramp.loads) l.kill();
          await s.stop();
          notes.push(`(h) ${v.key} ${receivers}: only ${ramp.got} receivers connected`);
          record(row, v.key, { value: Number.NaN });
          continue;
        }
        const c0 = s.cpu();
        const k0 = coreTimes(SERVER_CPU);
        const t0 = performance.now();
        s.resetPeak();
        const pubArgs = ['-m', 'echo', '-c', 1, '-p', 16, '-s', 64, '-d', secs + 30];
        if (raw.length) pubArgs.push('-r');
        const pub = wsload(s.port, pubArgs, 120_000);
        const sub = await ramp.loads[ramp.loads.length - 1].result;
        const m = {
          cpu: (s.cpu() - c0) / ((performance.now() - t0) / 1000),
          core: coreBusy(k0, coreTimes(SERVER_CPU)),
          loadCpu: sub.loadCpu,
          peakRss: s.peak(),
        };
        pub.kill();
        for (const l of ramp.loads) l.kill();
        const overLimit = s.overLimit();
        await s.stop();
        const bad = overLimit ? 'server passed the RSS limit' : loadFailure(sub);
        const total = ((sub.json?.msgs_per_sec ?? 0) * receivers) / measured;
        if (bad) notes.push(`(h) ${v.key} ${receivers}: ${bad}`);
        record(row, v.key, { value: bad ? Number.NaN : total, ...m });
        progress(row, v.key, total, `msg/s delivered to ${receivers}`, m);
      }
    }
  }
}

/**
 * (i) issue 5's realtime workload, parley/realtime against socket.io, both driven by wsload -m sio
 * (Socket.IO v5 over Engine.IO v4 on WebSocket, pings answered):
 *   ie: 64 clients each keeping 16 `echo` events of 64 B in flight, echoed back; events/s;
 *   im: 10,000 idle clients connected to the main namespace (opened in batches, as for (e)); server
 *       RSS per client over a warmed-up idle baseline, after a full GC.
 */
async function runRealtime(names) {
  const picked = names.filter((n) => REALTIME[n]).map((n) => REALTIME[n]);
  const timeout = 120_000;
  const echo = ['-m', 'sio', '-c', 64, '-p', 16, '-s', 64];
  for (let rep = 0; rep < PROFILE.reps; rep++) {
    for (const rt of rotate(picked, rep)) {
      const s = await startServer(rt.script, 'sio');
      if (!s) continue;
      await wsload(s.port, [...echo, '-d', PROFILE.warm], timeout).result;
      const { r, ...m } = await timed(s, () => wsload(s.port, [...echo, '-d', PROFILE.secs], timeout).result);
      await s.stop();
      const bad = loadFailure(r);
      if (bad) notes.push(`(i) ${rt.key}: ${bad}`);
      record('ie', rt.key, { value: r.json?.msgs_per_sec ?? Number.NaN, ...m });
      progress('ie', rt.key, r.json?.msgs_per_sec, 'events/s', m);
    }
  }
  for (let rep = 0; rep < PROFILE.holdReps; rep++) {
    for (const rt of rotate(picked, rep)) {
      const s = await startServer(rt.script, 'sio', { memory: true });
      if (!s) continue;
      await wsload(s.port, ['-m', 'sio', '-c', 1000, '-p', 0, '-d', 1], timeout).result;
      await waitConns(s, 0, 10_000, true);
      await sleep(SETTLE_MS);
      const base = await s.gc();
      const ramp = await rampConnect(
        s,
        HOLD_CONNS,
        (n) => ['-m', 'sio', '-c', n, '-p', 0, '-d', 60],
        timeout,
      );
      await sleep(SETTLE_MS);
      const held = await s.gc();
      for (const l of ramp.loads) l.kill();
      await s.stop();
      if (!ramp.ok || !base || !held) {
        notes.push(`(i) ${rt.key}: only ${ramp.got} of ${HOLD_CONNS} idle clients held`);
        record('im', rt.key, { value: Number.NaN });
        continue;
      }
      const m = memoryPer(base, held, held.conns);
      record('im', rt.key, { value: m.rss, ...m, conns: held.conns });
      log(
        `  (im) ${rt.key.padEnd(9)} ${m.rss.toFixed(2)} KiB/client RSS (heap ${m.heap.toFixed(2)}; young generation resident ${m.young.toFixed(2)}, left out)`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Report

const ROWS = [
  { id: 'a', label: '(a) 64 conns x 16 in flight x 64 B text', unit: 'msg/s', better: 'higher' },
  { id: 'b', label: '(b) 256 conns x 1 x 32 B text', unit: 'msg/s', better: 'higher' },
  { id: 'c', label: '(c) 16 conns x 4 x 64 KiB binary', unit: 'MB/s', better: 'higher' },
  { id: 'd50', label: '(d) 1 x 1 x 16 B round trip, p50', unit: 'µs', better: 'lower' },
  { id: 'd99', label: '(d) 1 x 1 x 16 B round trip, p99', unit: 'µs', better: 'lower' },
  {
    id: 'e',
    label: '(e) RSS per idle connection (10,000 held) ³ ⁵',
    unit: 'KiB/conn',
    better: 'lower',
  },
  {
    id: 'e0',
    label: '(e) the same, raw TCP that never reads or writes ³',
    unit: 'KiB/conn',
    better: 'lower',
  },
  { id: 'f', label: '(f) handshakes (32 at a time)', unit: 'conn/s', better: 'higher' },
  { id: 'ga', label: '(g) = (a) with permessage-deflate ¹', unit: 'msg/s', better: 'higher' },
  { id: 'gc', label: '(g) = (c) with permessage-deflate ¹', unit: 'MB/s', better: 'higher' },
  { id: 'h1k', label: '(h) broadcast 64 B to 1,000 receivers', unit: 'msg/s', better: 'higher' },
  { id: 'h10k', label: '(h) broadcast 64 B to 10,000 receivers', unit: 'msg/s', better: 'higher' },
  // (i): the ws column holds socket.io's figure
  {
    id: 'ie',
    label: '(i) Socket.IO echo, 64 x 16 x 64 B ²',
    unit: 'events/s',
    better: 'higher',
    versus: 'socket.io',
  },
  {
    id: 'im',
    label: '(i) Socket.IO, 10,000 idle clients ² ⁵',
    unit: 'KiB/client',
    better: 'lower',
    versus: 'socket.io',
  },
];

/** Targets of issue 3: text and a check over the medians (undefined: not measurable here). */
const TARGETS = {
  a: {
    text: '>= 10x ws and >= uWS',
    check: (m) => {
      if (!(m.parley > 0 && m.ws > 0)) return undefined;
      const vsWs = m.parley >= 10 * m.ws;
      if (!(m.uws > 0)) return { pass: vsWs, note: 'uWS not measured: ws part only' };
      const vsUws = m.parley >= m.uws;
      if (vsWs === vsUws) return { pass: vsWs };
      return { pass: false, note: vsWs ? 'uWS part not met' : 'ws part not met, uWS part met' };
    },
  },
  b: { text: '>= 1.2x ws', check: (m) => ratioCheck(m.parley, m.ws, 1.2) },
  c: { text: '>= 1.4x ws', check: (m) => ratioCheck(m.parley, m.ws, 1.4) },
  d50: {
    text: '<= ws',
    check: (m) => (m.parley > 0 && m.ws > 0 ? { pass: m.parley <= m.ws } : undefined),
  },
  e: {
    text: '<= net + 1 KiB',
    check: (m) =>
      Number.isFinite(m.parley) && Number.isFinite(m.net) ? { pass: m.parley <= m.net + 1 } : undefined,
  },
  f: { text: '>= 1.5x ws', check: (m) => ratioCheck(m.parley, m.ws, 1.5) },
  ga: { text: '>= 2x ws', check: (m) => ratioCheck(m.parley, m.ws, 2) },
  gc: { text: '>= 2x ws', check: (m) => ratioCheck(m.parley, m.ws, 2) },
  h1k: { text: ">= 3x ws's loop", check: (m) => ratioCheck(m.parley, m.ws, 3) },
  h10k: { text: ">= 3x ws's loop", check: (m) => ratioCheck(m.parley, m.ws, 3) },
  ie: { text: '>= 3x socket.io', check: (m) => ratioCheck(m.parley, m.ws, 3) },
  im: {
    text: '<= 0.5x socket.io',
    check: (m) => (m.parley > 0 && m.ws > 0 ? { pass: m.parley <= 0.5 * m.ws } : undefined),
  },
};

function ratioCheck(a, b, k) {
  return a > 0 && b > 0 ? { pass: a >= k * b } : undefined;
}

function fmtNum(x) {
  if (x === undefined || x === null || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}
const pct = (x) => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '–');
const ratio = (a, b) => (a > 0 && b > 0 ? `${(a / b).toFixed(2)}x` : '–');

/** Medians per row; parley's (h) figure is the better of its loop and its broadcast API. */
function summarize() {
  const rows = [];
  for (const r of ROWS) {
    const per = results[r.id];
    if (!per) continue;
    const m = {};
    const perCpu = {}; // throughput per CPU-second of the server: steadier on a shared machine
    for (const [server, runs] of Object.entries(per)) {
      m[server] = median(runs.map((x) => x.value));
      if (r.better === 'higher') perCpu[server] = median(runs.map((x) => x.value / x.cpu));
    }
    let parleyVia = null;
    let parleyKey = 'parley';
    if (r.id.startsWith('h') && Number.isFinite(m['parley-api'])) {
      parleyVia = !(m['parley-api'] <= m.parley) ? 'broadcast API' : 'loop';
      if (parleyVia === 'broadcast API') parleyKey = 'parley-api';
    }
    const main = { ...m, parley: m[parleyKey] };
    const versus = r.versus ?? 'ws';
    main.ws = m[versus];
    main.cpuRatio = perCpu[parleyKey] / perCpu[versus];
    const target = TARGETS[r.id];
    const verdict = target ? target.check(main) : undefined;
    rows.push({ ...r, medians: m, main, parleyVia, target: target?.text ?? '', verdict, runs: per });
  }
  return rows;
}

function resultText(v, target) {
  if (!target) return '';
  if (!v) return 'n/a';
  return `${v.pass ? 'PASS' : 'FAIL'}${v.note ? ` (${v.note})` : ''}`;
}

function tables(rows, haveUws) {
  const haveFloor = rows.some((r) => Number.isFinite(r.main.floor));
  const head = ['Workload', 'Unit', 'parley', 'ws', 'net', ...(haveFloor ? ['floor ⁴'] : [])];
  if (haveUws) head.push('uWS');
  head.push(
    'parley/ws',
    'parley/net',
    ...(haveUws ? ['parley/uWS'] : []),
    ...(haveFloor ? ['floor/ws'] : []),
  );
  head.push('parley/ws per CPU-s', 'Target', 'Result');
  const main = rows.map((r) => {
    const m = r.main;
    const cells = [
      r.label,
      r.unit,
      fmtNum(m.parley) + (r.parleyVia ? ` (${r.parleyVia})` : ''),
      fmtNum(m.ws),
    ];
    cells.push(fmtNum(m.net));
    if (haveFloor) cells.push(fmtNum(m.floor));
    if (haveUws) cells.push(fmtNum(m.uws));
    cells.push(ratio(m.parley, m.ws), ratio(m.parley, m.net));
    if (haveUws) cells.push(ratio(m.parley, m.uws));
    if (haveFloor) cells.push(ratio(m.floor, m.ws));
    cells.push(Number.isFinite(m.cpuRatio) ? `${m.cpuRatio.toFixed(2)}x` : '–');
    cells.push(r.target, resultText(r.verdict, r.target));
    return cells;
  });
  const detailHead = ['Workload', 'Server', 'Median', 'Min – max', 'Runs', 'Per server CPU-second'];
  detailHead.push('Server CPU', 'CPU 0 busy', 'Load gen. CPU', 'Peak server RSS');
  const detail = [];
  for (const r of rows) {
    for (const [server, runs] of Object.entries(r.runs)) {
      const vals = runs.map((x) => x.value).filter(Number.isFinite);
      const memory = r.id === 'e' || r.id === 'e0' || r.id === 'im';
      const extra = memory
        ? ` (young gen. left out ${runs.map((x) => fmtNum(x.young)).join(' ')}; heap ${fmtNum(median(runs.map((x) => x.heap)))})`
        : '';
      detail.push([
        r.label.slice(0, 3) + (r.id.length > 1 ? ` ${r.id.slice(1)}` : ''),
        server,
        fmtNum(r.medians[server]) + extra,
        vals.length ? `${fmtNum(Math.min(...vals))} – ${fmtNum(Math.max(...vals))}` : '–',
        String(runs.length),
        r.better === 'higher' ? fmtNum(median(runs.map((x) => x.value / x.cpu))) : '–',
        memory ? '–' : pct(median(runs.map((x) => x.cpu))),
        memory ? '–' : pct(median(runs.map((x) => x.core))),
        memory ? '–' : pct(median(runs.map((x) => x.loadCpu))),
        memory ? '–' : `${fmtNum(median(runs.map((x) => x.peakRss)) / 1048576)} MiB`,
      ]);
    }
  }
  return { head, main, detailHead, detail };
}

function textTable(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A Markdown table; `numeric(i)` tells which columns are right-aligned. */
function mdTable(head, rows, numeric) {
  const esc = (c) => String(c).replace(/\|/g, '\\|');
  return [
    `| ${head.map(esc).join(' | ')} |`,
    `| ${head.map((_, i) => (numeric(i) ? '--:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Main

function machine() {
  const cpuModel = os.cpus()[0]?.model ?? 'unknown';
  let commit = 'unknown';
  let dirty = false;
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO, encoding: 'utf8' }).trim() !==
      '';
  } catch {}
  return {
    nproc: os.availableParallelism(),
    cpu: cpuModel,
    memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    commit,
    srcDirty: dirty,
    pinned: canPin,
    nofile: NOFILE,
    connectCap: CONNECT_CAP,
  };
}

/** Which engine the parley server loads: dist/src/index.js re-exporting `ws` is the stand-in. */
function parleyEngine() {
  const dist = path.join(REPO, 'dist', 'src', 'index.js');
  if (!fs.existsSync(dist)) return null;
  const text = fs.readFileSync(dist, 'utf8');
  const standIn = /^\s*(?:import|export)\b[^;]*?\bfrom\s*['"]ws['"]/m.test(text);
  const src = path.join(REPO, 'src', 'index.ts');
  const stale = fs.existsSync(src) && fs.statSync(src).mtimeMs > fs.statSync(dist).mtimeMs;
  return {
    standIn,
    stale,
    text: standIn
      ? 'the `ws` stand-in: dist/src/index.js still re-exports the ws package, so the parley figures measure ws itself'
      : "parley's own engine (dist/src/index.js does not import ws)",
  };
}

function command() {
  const args = process.argv.slice(2).join(' ');
  if (process.env.npm_lifecycle_event === 'bench') return `npm run bench${args ? ` -- ${args}` : ''}`;
  return `node bench/run.mjs${args ? ` ${args}` : ''}`;
}

const DEFLATE_NOTE = {
  'deflate-load':
    '¹ (g) is driven by bench/clients/deflate-load.mjs (Node, separate process on CPU 1), because wsload does not negotiate permessage-deflate: it replays frames compressed beforehand with context takeover and counts the compressed replies without inflating them, so the server does all the zlib work of the exchange and the client stays cheap.',
  parley:
    "¹ (g) is driven by parley's own client (bench/clients/parley-load.mjs, separate process on CPU 1), because wsload does not negotiate permessage-deflate. That client compresses and inflates every message, so it costs about as much CPU as the server: check the load generator column.",
};

const YOUNG_NOTE =
  "⁵ Memory rows: RSS per connection between two readings, each after 12 s idle, two full GCs and 1 s quiet (V8 and the allocator hand freed pages back on background threads for some tens of ms after a GC), less the pages of V8's young generation that are resident at the reading. The young generation is fixed at V8's usual cap (`--min-semi-space-size=16 --max-semi-space-size=16`, for every server), but after a full GC V8 hands its pages back and whatever runs next touches them again, so 0.5 to 32 MiB of RSS sits there at a reading depending on what ran since the GC, not on the connections held. The details give each run's heap and the change in the young generation's resident pages that was left out.";

const HOLD_NOTE =
  "³ (e)'s floor, the net column, is a raw node:net server that reads the client's opening request and writes the 101 reply with no HTTP parser (bench/servers/net.mjs handshake), then holds the socket: what any server on Node's sockets keeps for a connection that has exchanged the handshake's bytes. The row below it is a raw socket that never reads or writes a byte (wsload -r -p 0), which no WebSocket connection can be; the issue's own reference figures (raw net.Socket 4.6 KB, ws 6.9 KB) are of the first kind.";

const FLOOR_NOTE =
  "⁴ The floor column is bench/servers/frame-floor.mjs: a node:http server that echoes each small masked frame unmasked with no checks at all (no UTF-8 validation, no limits, no control frames, no close handshake, no message objects). It is not a usable server; it shows the most any WebSocket server on Node's sockets can do for (a) and (b) on this machine, so floor/ws is the highest ratio to ws that such a server can reach here. In (f) the same server answers the upgrade by hand on node:http (the Sec-WebSocket-Accept hash, no checks): the most any server that accepts through node:http, as WebSocketServer({ server }) does, can do per handshake.";

const REALTIME_NOTE =
  "² (i) is issue 5's realtime workload: parley's Socket.IO-compatible server (parley/realtime) in the parley column, the socket.io package (on ws) in the ws column, the same server code (bench/servers/realtime.mjs) and the same client, wsload -m sio (Socket.IO v5 over Engine.IO v4 on WebSocket).";

function writeMarkdown(report, t) {
  const file = path.join(REPO, 'BENCHMARKS.md');
  const START = '<!-- bench:results:start -->';
  const END = '<!-- bench:results:end -->';
  const m = report.machine;
  const block = [
    START,
    `Generated by \`${report.command}\` on ${report.date}, in ${report.durationSecs} s.`,
    '',
    `- Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpu}, ${m.memGiB} GiB, ${m.os}; load average (1, 5, 15 min) ${report.loadBefore} before the run, ${report.loadAfter} after; the client's ports allow at most ${fmtNum(m.connectCap)} new loopback connections per second (net.ipv4.ip_local_port_range)`,
    `- Node ${m.node}; parley commit ${m.commit}${m.srcDirty ? ' (with uncommitted changes in src/)' : ''}`,
    `- **parley was ${report.engine.text}.**`,
    `- Servers pinned to CPU ${SERVER_CPU}, load generators to CPU ${LOAD_CPU}${m.pinned ? '' : ' (NOT pinned: taskset or a second CPU missing)'}; ${report.profile.reps} repetitions per figure (${report.profile.holdReps} for (e), ${report.profile.bcastReps} for (h)), ${report.profile.secs} s each.`,
    ...(report.skipped.length ? [`- Not measured: ${report.skipped.join('; ')}`] : []),
    '',
    mdTable(t.head, t.main, (i) => i >= 2 && i < t.head.length - 2),
    '',
    DEFLATE_NOTE[opt['deflate-client']] +
      (opt['deflate-level'] !== undefined
        ? ` Every server deflated at zlib level ${opt['deflate-level']} (--deflate-level).`
        : ' Each server deflated at its default zlib level: parley 1, ws 6 (zlib default).'),
    '',
    REALTIME_NOTE,
    '',
    HOLD_NOTE,
    '',
    YOUNG_NOTE,
    '',
    ...(t.head.includes('floor ⁴') ? [FLOOR_NOTE, ''] : []),
    '<details><summary>Every figure: spread, server CPU, peak server RSS</summary>',
    '',
    mdTable(t.detailHead, t.detail, (i) => i >= 2),
    '',
    '</details>',
    ...(report.notes.length ? ['', 'Notes from this run:', '', ...report.notes.map((n) => `- ${n}`)] : []),
    END,
  ].join('\n');
  let text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  text =
    a >= 0 && b > a
      ? text.slice(0, a) + block + text.slice(b + END.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(file, text);
  // The tables as biome formats Markdown (padded columns), so that `biome check` (CI) passes.
  const biome = path.join(REPO, 'node_modules', '@biomejs', 'biome', 'bin', 'biome');
  const formatted = spawnSync(process.execPath, [biome, 'format', '--write', file], { encoding: 'utf8' });
  if (formatted.status !== 0) log(`bench: warning: biome format BENCHMARKS.md failed: ${formatted.stderr}`);
  log(`bench: wrote ${path.relative(process.cwd(), file)}`);
}

async function main() {
  const engine = parleyEngine();
  let names = wanted.slice();
  if (names.includes('parley')) {
    if (!engine) fail('dist/src/index.js is missing: build parley first (npx tsc -p tsconfig.json)');
    if (engine.stale)
      log('bench: warning: src/index.ts is newer than dist/src/index.js; rebuild for current figures');
  }
  WSLOAD = buildWsload();
  if (!canPin)
    log('bench: warning: cannot pin to two CPUs (taskset or a second CPU missing); figures are unpinned');
  if (NOFILE < HOLD_CONNS + 100 && (only.includes('e') || only.includes('h') || only.includes('i')))
    fail(`the hard fd limit is ${NOFILE}; (e), (h) and (i) need ${HOLD_CONNS + 100}`);
  if (names.includes('uws')) {
    const probe = await startServer('uws', 'echo');
    if (probe) await probe.stop();
    else names = names.filter((n) => n !== 'uws');
  }
  const started = Date.now();
  const loadBefore = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  log(
    `bench: servers ${names.join(', ')}; workloads ${only.join(', ')}; parley = ${engine?.text ?? 'not run'}`,
  );
  if (PROFILE_DIR) fs.mkdirSync(PROFILE_DIR, { recursive: true });
  for (const w of only) {
    currentWorkload = w;
    const t = Date.now();
    log(`bench: workload (${w})`);
    if (ECHO[w]) await runEcho(w, names);
    else if (w === 'e') await runHold(names);
    else if (w === 'f') await runConnect(names);
    else if (w === 'g') await runDeflate(names);
    else if (w === 'h') await runBroadcast(names);
    else if (w === 'i') await runRealtime(names);
    log(`bench: workload (${w}) took ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  const rows = summarize();
  const haveUws = rows.some((r) => Number.isFinite(r.main.uws));
  const skipped = [...unavailable].map(([k, why]) => `${k} (${why})`);
  for (const r of rows) {
    if (r.id.startsWith('d') || r.id.startsWith('e') || r.id === 'im') continue;
    const parts = [];
    let shared = false;
    for (const [server, runs] of Object.entries(r.runs)) {
      const ok = runs.filter((x) => Number.isFinite(x.value));
      if (!ok.length) continue;
      const cpu = median(ok.map((x) => x.cpu));
      const core = median(ok.map((x) => x.core));
      const loadCpu = median(ok.map((x) => x.loadCpu));
      if (core - cpu > 0.1) shared = true;
      if (cpu < 0.85) parts.push(`${server} ${pct(cpu)} (load generator ${pct(loadCpu)})`);
    }
    if (parts.length)
      notes.push(
        `${r.label}: servers below 85% of a CPU: ${parts.join(', ')}` +
          (shared
            ? `; CPU ${SERVER_CPU} was shared with other processes, see the per-CPU-second figures`
            : ''),
      );
  }
  const report = {
    date: new Date().toISOString(),
    command: command(),
    durationSecs: Math.round((Date.now() - started) / 1000),
    loadBefore,
    loadAfter: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    machine: machine(),
    engine: engine ?? { text: 'not run' },
    profile: { quick: opt.quick, ...PROFILE, holdConns: HOLD_CONNS, receivers: RECEIVERS },
    servers: names,
    skipped,
    notes,
    rows: rows.map(({ runs, ...r }) => ({ ...r, runs })),
  };
  const t = tables(rows, haveUws);
  console.log(`\nparley = ${report.engine.text}`);
  console.log(
    `${report.machine.nproc} CPUs, ${report.machine.cpu}, Node ${report.machine.node}; ${report.command}\n`,
  );
  console.log(textTable(t.head, t.main));
  console.log(`\n${textTable(t.detailHead, t.detail)}`);
  if (skipped.length) console.log(`\nNot measured: ${skipped.join('; ')}`);
  if (notes.length) console.log(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
  if (opt.json) {
    fs.writeFileSync(path.resolve(opt.json), `${JSON.stringify(report, null, 2)}\n`);
    log(`bench: wrote ${opt.json}`);
  }
  if (opt.markdown) writeMarkdown(report, t);
}

main().catch((err) => {
  console.error(`bench: ${err.stack ?? err}`);
  process.exit(1);
});
