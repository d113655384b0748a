import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

/** Absolute path of the compiled CLI entry (dist/src/cli/main.js). */
export const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Result of a finished CLI run. */
export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `parley ARGS` with `input` on stdin (closed afterwards) and resolves when it exits. The
 * process is killed after `timeoutMs` so a hung CLI fails the test instead of hanging it.
 */
export function runCli(
  args: string[],
  opts: {
    input?: string | Buffer;
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    keepStdinOpenMs?: number;
  } = {},
): Promise<CliRun> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  proc.stdin.on('error', () => {});
  if (opts.input !== undefined) proc.stdin.write(opts.input);
  if (opts.keepStdinOpenMs !== undefined) setTimeout(() => proc.stdin.end(), opts.keepStdinOpenMs);
  else proc.stdin.end();
  const timer = setTimeout(() => proc.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
  return new Promise<CliRun>((resolve) => {
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A `parley serve`/`demo` process that has printed its listening line. */
export interface CliServer {
  proc: ChildProcess;
  /** URL from the listening line, e.g. ws://127.0.0.1:41234/ (http://localhost:PORT/ for --io). */
  url: string;
  port: number;
  /** Everything written to stderr so far. */
  log(): string;
  /** Resolves when the log matches `re` (rejects after `timeoutMs`). */
  waitForLog(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code. Safe to call twice. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `parley ARGS` (a server command; pass `--port 0`) and waits for its listening line. */
export async function startCliServer(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliServer> {
  const proc = spawn(process.execPath, [CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let stderr = '';
  const waiters: (() => void)[] = [];
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of waiters.splice(0)) w();
  });
  proc.stdout!.resume();
  const exited = once(proc, 'exit').then(([code]) => code as number | null);
  const waitForLog = (re: RegExp, timeoutMs = 10_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${re} in:\n${stderr}`)),
        timeoutMs,
      );
      const check = () => {
        const m = stderr.match(re);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        } else if (proc.exitCode !== null) {
          clearTimeout(timer);
          reject(new Error(`server exited (${proc.exitCode}) before ${re}:\n${stderr}`));
        } else waiters.push(check);
      };
      check();
    });
  const m = await waitForLog(
    /listening on ((?:wss?|https?):\/\/[^\s]+)|demo on \S+ \(WebSocket endpoint (ws:\/\/\S+)\)/,
  );
  const url = (m[1] ?? m[2])!;
  const port = Number(new URL(url).port);
  return {
    proc,
    url,
    port,
    log: () => stderr,
    waitForLog,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Opens a `ws` client (the independent peer) and resolves once open. */
export async function wsClient(url: string, opts: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, opts);
  await once(ws, 'open');
  return ws;
}

/** Resolves with the next message on `ws` as [text or Buffer, isBinary]. */
export function nextMessage(ws: WebSocket, timeoutMs = 5000): Promise<[Buffer, boolean]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no message')), timeoutMs);
    ws.once('message', (data: WebSocket.RawData, isBinary: boolean) => {
      clearTimeout(timer);
      resolve([data as Buffer, isBinary]);
    });
  });
}

/** Resolves with [code, reason] when `ws` closes. */
export function closed(ws: WebSocket, timeoutMs = 10_000): Promise<[number, string]> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === WebSocket.CLOSED) return reject(new Error('already closed'));
    const timer = setTimeout(() => reject(new Error('did not close')), timeoutMs);
    ws.once('close', (code: number, reason: Buffer) => {
      clearTimeout(timer);
      resolve([code, reason.toString()]);
    });
  });
}
