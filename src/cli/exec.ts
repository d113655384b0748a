import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  type Connection,
  closeReason,
  type ModeHandler,
  OPEN,
  type ServeContext,
  sendTo,
  toBuffer,
} from './connection.js';
import { version } from './version.js';

/** Grace period between SIGTERM and SIGKILL when a connection's process must end. */
export const EXEC_KILL_GRACE_MS = 2000;
/** Unsent bytes above which the child's stdout is paused until the socket drains. */
const STDOUT_HIGH_WATER = 1024 * 1024;
/** Longest stderr line copied to the server log (longer lines are cut). */
const STDERR_LINE_MAX = 4096;

/** Headers never exported as HTTP_* variables: `Proxy` would become HTTP_PROXY ("httpoxy"). */
const SKIPPED_HEADERS = new Set(['proxy']);

/**
 * Returns where to end a piece of `buf` that starts at `start` and may be at most `index - start`
 * bytes long, moving back (at most 3 bytes) so as not to split a UTF-8 sequence. Always greater
 * than `start` when `index > start`, so a loop over pieces always progresses; bytes that are not
 * UTF-8 are cut at `index`.
 */
export function utf8Cut(buf: Buffer, start: number, index: number): number {
  if (index >= buf.length) return buf.length;
  let i = index;
  while (i > start + 1 && i > index - 3 && (buf[i]! & 0xc0) === 0x80) i--;
  return (buf[i]! & 0xc0) === 0x80 ? index : i;
}

/**
 * Builds the CGI-like environment websocketd gives its processes: the server's own environment plus
 * GATEWAY_INTERFACE, SERVER_*, REMOTE_ADDR/HOST/PORT, REQUEST_METHOD, REQUEST_URI, SCRIPT_NAME,
 * PATH_INFO, QUERY_STRING, HTTPS, UNIQUE_ID, and every request header as HTTP_NAME (dashes become
 * underscores). Cost: linear in the number of headers (bounded by Node's header limits).
 */
export function cgiEnvironment(conn: Connection, tls: boolean, serverPort: number): NodeJS.ProcessEnv {
  const req = conn.req;
  const target = req.url ?? '/';
  const q = target.indexOf('?');
  const pathname = q === -1 ? target : target.slice(0, q);
  const host = req.headers.host ?? '';
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GATEWAY_INTERFACE: 'websocketd-CGI/0.1',
    SERVER_SOFTWARE: `parley/${version()}`,
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    SERVER_NAME: host.replace(/:\d+$/, '').replace(/^\[|\]$/g, ''),
    SERVER_PORT: String(conn.socket.localPort ?? serverPort),
    REQUEST_METHOD: req.method ?? 'GET',
    REQUEST_URI: target,
    SCRIPT_NAME: pathname,
    PATH_INFO: '',
    QUERY_STRING: q === -1 ? '' : target.slice(q + 1),
    REMOTE_ADDR: conn.socket.remoteAddress ?? '',
    REMOTE_HOST: conn.socket.remoteAddress ?? '',
    REMOTE_PORT: String(conn.socket.remotePort ?? ''),
    UNIQUE_ID: randomBytes(12).toString('hex'),
  };
  if (tls) env.HTTPS = 'on';
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || SKIPPED_HEADERS.has(name)) continue;
    env[`HTTP_${name.toUpperCase().replace(/-/g, '_')}`] = Array.isArray(value) ? value.join(', ') : value;
  }
  return env;
}

/**
 * `--exec CMD` (websocketd): one process per connection, started through the shell. Each received
 * message is written to its stdin followed by `\n`; each line it prints on stdout (without `\n` or
 * `\r\n`) is sent as a text message; a line longer than the max payload is sent in max-payload
 * pieces. stderr lines go to the server log. When the socket closes, stdin is closed and the
 * process group gets SIGTERM (SIGKILL after {@link EXEC_KILL_GRACE_MS}); when the process exits, the
 * socket is closed with 1000 (exit status 0) or 1011 (anything else). Backpressure flows both ways.
 */
export function execMode(command: string, opts: { port: number }): ModeHandler {
  return (conn: Connection, ctx: ServeContext) => {
    const { ws } = conn;
    let child: ChildProcess;
    try {
      child = spawn(command, {
        shell: true,
        env: cgiEnvironment(conn, ctx.tls, opts.port),
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: process.platform !== 'win32',
      });
    } catch (err) {
      ctx.logger.warn(`#${conn.id} cannot start '${command}': ${(err as Error).message}`);
      ws.close(1011, 'cannot start process');
      return;
    }
    let exited = false;
    let killTimer: NodeJS.Timeout | undefined;
    const kill = (signal: NodeJS.Signals) => {
      if (exited || child.pid === undefined) return;
      try {
        if (process.platform !== 'win32') process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // Already gone.
      }
    };
    child.on('error', (err) => {
      ctx.logger.warn(`#${conn.id} process error: ${err.message}`);
      if (ws.readyState === OPEN) ws.close(1011, 'process error');
    });
    child.stdin!.on('error', () => {
      // EPIPE when the process stops reading; its exit closes the socket.
    });
    child.stdin!.on('drain', () => ws.resume());

    // stdout -> messages, one per line.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let inFlight = 0;
    const sendPiece = (piece: Buffer) => {
      inFlight++;
      sendTo(conn, piece.toString('utf8'), false, () => {
        inFlight--;
        if (child.stdout!.isPaused() && ws.bufferedAmount < STDOUT_HIGH_WATER) child.stdout!.resume();
      });
    };
    /** Sends one stdout line (without its newline), in max-payload pieces if it is longer. */
    const flushLine = (line: Buffer) => {
      let text = line;
      if (text.length > 0 && text[text.length - 1] === 0x0d) text = text.subarray(0, -1);
      if (text.length === 0) return sendPiece(text);
      let off = 0;
      while (off < text.length) {
        const end = utf8Cut(text, off, off + ctx.maxPayload);
        sendPiece(text.subarray(off, end));
        off = end;
      }
    };
    child.stdout!.on('data', (chunk: Buffer) => {
      let start = 0;
      for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
        const part = chunk.subarray(start, nl);
        if (pendingBytes > 0) {
          pending.push(part);
          flushLine(Buffer.concat(pending));
          pending = [];
          pendingBytes = 0;
        } else {
          flushLine(part);
        }
        start = nl + 1;
      }
      if (start < chunk.length) {
        pending.push(chunk.subarray(start));
        pendingBytes += chunk.length - start;
        while (pendingBytes >= ctx.maxPayload) {
          const all = Buffer.concat(pending);
          const cut = utf8Cut(all, 0, ctx.maxPayload);
          flushLine(all.subarray(0, cut));
          const restBuf = all.subarray(cut);
          pending = restBuf.length > 0 ? [restBuf] : [];
          pendingBytes = restBuf.length;
        }
      }
      if (ws.bufferedAmount >= STDOUT_HIGH_WATER && inFlight > 0) child.stdout!.pause();
    });
    child.stdout!.on('end', () => {
      if (pendingBytes > 0) flushLine(Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
    });

    // stderr -> server log, line by line.
    let errLine = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      const lines = (errLine + text).split('\n');
      errLine = lines.pop()!.slice(0, STDERR_LINE_MAX);
      for (const l of lines) ctx.logger.warn(`#${conn.id} stderr: ${l.slice(0, STDERR_LINE_MAX)}`);
    });
    child.stderr!.on('end', () => {
      if (errLine) ctx.logger.warn(`#${conn.id} stderr: ${errLine}`);
    });

    child.on('close', (code, signal) => {
      exited = true;
      if (killTimer) clearTimeout(killTimer);
      if (ws.readyState !== OPEN) return;
      if (code === 0) {
        ws.close(1000);
      } else {
        const why = signal ? `killed by ${signal}` : `exited with status ${code}`;
        ctx.logger.info(`#${conn.id} process ${why}`);
        ws.close(1011, closeReason(`process ${why}`));
      }
    });

    ws.on('message', (data: unknown) => {
      conn.messagesIn++;
      const stdin = child.stdin!;
      if (!stdin.writable) return;
      stdin.write(toBuffer(data));
      if (!stdin.write('\n')) ws.pause();
    });
    ws.on('close', () => {
      child.stdin!.end();
      if (exited) return;
      kill('SIGTERM');
      killTimer = setTimeout(() => kill('SIGKILL'), EXEC_KILL_GRACE_MS);
      killTimer.unref();
    });
  };
}
