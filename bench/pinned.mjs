// What bench/instructions.mjs and bench/allocations.mjs share: one benchmark server at a time,
// started on CPU 0 under a wrapper (valgrind, or node with a preloaded module), driven by
// `.bench/wsload` on CPU 1 with one workload's command.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WSLOAD = path.join(REPO, '.bench', 'wsload');

/** The server scripts, by the names the tools take in `--servers`. */
export const SERVERS = {
  parley: 'bench/servers/parley.mjs',
  ws: 'bench/servers/ws.mjs',
  floor: 'bench/servers/frame-floor.mjs',
  'parley-io': 'bench/servers/parley-io.mjs',
  'socket.io': 'bench/servers/socketio.mjs',
};

/** The workloads, as in bench/run.mjs: wsload's arguments and the servers' mode. */
export const WORKLOADS = {
  a: {
    label: '(a) 64 conns x 16 in flight x 64 B text',
    args: ['-c', '64', '-p', '16', '-s', '64'],
    mode: 'echo',
  },
  b: { label: '(b) 256 conns x 1 x 32 B text', args: ['-c', '256', '-p', '1', '-s', '32'], mode: 'echo' },
  f: { label: '(f) handshakes, 32 at a time', args: ['-m', 'connect', '-c', '32'], mode: 'echo' },
  i: {
    label: '(i) Socket.IO echo, 64 x 16 x 64 B events',
    args: ['-m', 'sio', '-c', '64', '-p', '16', '-s', '64'],
    mode: 'sio',
  },
};

/** Exits with status 2 and says so when wsload has not been built. */
export function requireWsload(tool) {
  if (existsSync(WSLOAD)) return;
  console.error(
    `${tool}: .bench/wsload is missing; run node bench/run.mjs --only a --quick once to build it`,
  );
  process.exit(2);
}

/**
 * Starts `command` (whose last arguments run the server script, its mode and port 0) on CPU 0;
 * resolves with the child, the port of its READY line and the lines it wrote to stderr so far
 * (the array keeps filling).
 */
export function startPinned(command) {
  const child = spawn('taskset', ['-c', '0', ...command], { cwd: REPO, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  let partial = '';
  child.stderr.on('data', (d) => {
    const parts = (partial + d).split('\n');
    partial = parts.pop() ?? '';
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
      reject(
        new Error(
          `${command.join(' ')} exited (${code}) before it was ready:\n${lines.join('\n')}${partial}`,
        ),
      ),
    );
  });
}

/** Runs wsload with `workload`'s command against `port` on CPU 1; returns the messages it had echoed. */
export function load(port, workload, seconds) {
  const run = spawnSync(
    'taskset',
    ['-c', '1', WSLOAD, '-P', String(port), ...workload.args, '-d', String(seconds)],
    {
      encoding: 'utf8',
    },
  );
  if (run.status !== 0) throw new Error(`wsload failed: ${run.stderr}`);
  const report = JSON.parse(run.stdout);
  return report.messages ?? report.received ?? report.handshakes;
}

/** Stops a server started by {@link startPinned} and waits for it to exit. */
export async function stopPinned(child) {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}
