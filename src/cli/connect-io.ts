/**
 * `parley connect --io URL`: a Socket.IO client on the command line, on parley/client.
 *
 * Input, one line per emit: `event [json args...]` — the event name (a bare word, or a JSON string
 * when it has spaces) followed by zero or more JSON values separated by whitespace. Output, one
 * JSON object per line: `{"event":NAME,"args":[...]}` for every incoming event and
 * `{"ack":NAME,"args":[...]}` for every acknowledgement (emits ask for one with `--ack`). Binary
 * values travel as `{"$binary":"<base64>"}` both ways.
 */
import { createInterface } from 'node:readline';
import { io, type Socket } from '../client/index.js';
import { parseHeader } from './client.js';
import { CliError, ExitCode, usageError } from './errors.js';
import { createPrompt } from './format.js';
import { bool, list, type ParsedValues, parseSeconds, str } from './options.js';

/** `parley connect --io` after flag parsing. */
export interface IoConnectConfig {
  readonly io: true;
  /** Origin URL (http: or https:) of the server. */
  readonly origin: string;
  /** Namespace: the URL's path ('/' by default). */
  readonly namespace: string;
  /** Engine.IO endpoint path (`--io-path`, default /socket.io). */
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  /** CONNECT payload (`--io-auth JSON`). */
  readonly auth: Record<string, unknown> | undefined;
  /** Allowed transports, in order (`--transport`, default polling then websocket upgrade). */
  readonly transports: string[] | undefined;
  /** Every emit asks for an acknowledgement. */
  readonly ack: boolean;
  readonly ackTimeoutMs: number;
  readonly timeoutMs: number;
  /** Pipe mode: after end of input, keep receiving until this long passes with no incoming event. */
  readonly quietMs: number;
  readonly json: boolean;
}

/** `connect` flags that only mean something for raw WebSocket connections. */
const WEBSOCKET_ONLY = [
  'subprotocol',
  'origin',
  'auth',
  'insecure',
  'ping-interval',
  'deflate',
  'binary',
  'max-payload',
];
/** `connect` flags that only mean something with `--io`. */
export const IO_ONLY = ['io-auth', 'io-path', 'transport', 'ack', 'ack-timeout'];

/** Default quiet period of pipe mode before disconnecting (see {@link IoConnectConfig.quietMs}). */
export const DEFAULT_QUIET_MS = 500;

/** Validates the flags of `parley connect --io URL`. */
export function parseIoConnectConfig(values: ParsedValues, target: string): IoConnectConfig {
  for (const name of WEBSOCKET_ONLY) {
    if (values[name] !== undefined && values[name] !== false) {
      throw usageError(`connect --io: --${name} applies to WebSocket connections only`);
    }
  }
  const url = parseIoUrl(target);
  const headers: Record<string, string> = {};
  for (const h of list(values, 'header')) {
    const [name, value] = parseHeader(h);
    headers[name] = value;
  }
  let auth: Record<string, unknown> | undefined;
  const authText = str(values, 'io-auth');
  if (authText !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(authText);
    } catch {
      throw usageError(`--io-auth: expected a JSON object, got '${authText}'`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw usageError(`--io-auth: expected a JSON object, got '${authText}'`);
    }
    auth = parsed as Record<string, unknown>;
  }
  const transports = list(values, 'transport').flatMap((t) => t.split(',').map((s) => s.trim()));
  for (const t of transports) {
    if (t !== 'polling' && t !== 'websocket') {
      throw usageError(`--transport: expected polling or websocket, got '${t}'`);
    }
  }
  const ioPath = str(values, 'io-path') ?? '/socket.io';
  if (!ioPath.startsWith('/')) throw usageError(`--io-path: must start with '/', got '${ioPath}'`);
  const query: Record<string, string> = {};
  for (const [k, v] of url.searchParams) query[k] = v;
  const wait = str(values, 'wait');
  const ackTimeout = str(values, 'ack-timeout');
  const timeout = str(values, 'timeout');
  return {
    io: true,
    origin: url.origin,
    namespace: url.pathname === '' ? '/' : url.pathname,
    path: ioPath,
    query,
    headers,
    auth,
    transports: transports.length > 0 ? transports : undefined,
    ack: bool(values, 'ack'),
    ackTimeoutMs: ackTimeout === undefined ? 5000 : parseSeconds('ack-timeout', ackTimeout),
    timeoutMs: timeout === undefined ? 10_000 : parseSeconds('timeout', timeout),
    quietMs: wait === undefined ? DEFAULT_QUIET_MS : parseSeconds('wait', wait),
    json: bool(values, 'json'),
  };
}

/** Accepts http(s)://, ws(s):// (mapped to http(s)) and a bare host:port (http://). */
export function parseIoUrl(text: string): URL {
  const candidate = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new CliError('PARLEY_CLI_BAD_URL', `invalid URL '${text}'`);
  }
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(
      'PARLEY_CLI_BAD_URL',
      `invalid URL '${text}': scheme must be http:, https:, ws: or wss:`,
    );
  }
  if (url.hostname === '') throw new CliError('PARLEY_CLI_BAD_URL', `invalid URL '${text}': no host`);
  if (url.username !== '' || url.password !== '' || url.hash !== '') {
    throw new CliError('PARLEY_CLI_BAD_URL', `invalid URL '${text}': no credentials or fragment allowed`);
  }
  return url;
}

/** One parsed input line. */
export interface EmitLine {
  event: string;
  args: unknown[];
}

/**
 * Parses `event [json args...]`. Returns undefined for a blank line; throws an Error naming the
 * offending token otherwise. Cost: linear in the line length.
 */
export function parseEmitLine(line: string): EmitLine | undefined {
  const tokens = splitJsonTokens(line);
  if (tokens.length === 0) return undefined;
  const [first, ...rest] = tokens as [string, ...string[]];
  let event = first;
  if (first.startsWith('"')) {
    const parsed = parseToken(first);
    if (typeof parsed !== 'string') throw new Error(`bad event name ${first}`);
    event = parsed;
  }
  return { event, args: rest.map((t) => fromWire(parseToken(t))) };
}

function parseToken(token: string): unknown {
  try {
    return JSON.parse(token);
  } catch {
    throw new Error(`not JSON: ${token.length > 40 ? `${token.slice(0, 40)}...` : token}`);
  }
}

/**
 * Splits a line into whitespace-separated tokens, where a token is a JSON value: whitespace inside
 * strings, objects and arrays does not split.
 */
export function splitJsonTokens(line: string): string[] {
  const tokens: string[] = [];
  let start = -1;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (start === -1) {
      if (/\s/.test(ch)) continue;
      start = i;
    }
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    else if (depth <= 0 && /\s/.test(ch)) {
      tokens.push(line.slice(start, i));
      start = -1;
      depth = 0;
    }
  }
  if (start !== -1) tokens.push(line.slice(start));
  return tokens;
}

/** `{"$binary":"base64"}` objects become Buffers, at any depth. */
function fromWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromWire);
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj);
    if (keys.length === 1 && keys[0] === '$binary' && typeof obj.$binary === 'string') {
      return Buffer.from(obj.$binary, 'base64');
    }
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = fromWire(obj[k]);
    return out;
  }
  return value;
}

/** Binary values become `{"$binary":"base64"}` and functions (ack callbacks) are dropped. */
export function toWire(value: unknown): unknown {
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) {
    return { $binary: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (value instanceof ArrayBuffer) return { $binary: Buffer.from(value).toString('base64') };
  if (ArrayBuffer.isView(value)) {
    return { $binary: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.filter((v) => typeof v !== 'function').map(toWire);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (typeof v !== 'function') out[k] = toWire(v);
    return out;
  }
  return value;
}

/** Formats an incoming event or ack as one output line (pretty-printed with `--json`). */
export function formatIncoming(kind: 'event' | 'ack', name: string, args: unknown[], pretty = false): string {
  return JSON.stringify({ [kind]: name, args: toWire(args) }, null, pretty ? 2 : undefined);
}

/**
 * Opens the socket and resolves once connected; rejects with a CliError (exit 3 or 4) otherwise.
 * `onEvent` is installed before the CONNECT arrives: the reference server emits `auth` at once.
 */
async function openSocket(
  cfg: IoConnectConfig,
  onEvent: (event: string, args: unknown[]) => void,
): Promise<Socket> {
  const socket = io(`${cfg.origin}${cfg.namespace}`, {
    forceNew: true,
    reconnection: false,
    path: cfg.path,
    timeout: cfg.timeoutMs,
    ...(Object.keys(cfg.query).length > 0 ? { query: cfg.query } : {}),
    ...(Object.keys(cfg.headers).length > 0 ? { extraHeaders: cfg.headers } : {}),
    ...(cfg.auth ? { auth: cfg.auth } : {}),
    ...(cfg.transports ? { transports: cfg.transports } : {}),
  });
  socket.onAny((event: string, ...args: unknown[]) => onEvent(event, args));
  let transportFailed = false;
  socket.io.on('error', () => {
    transportFailed = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err: Error & { data?: unknown }) => {
      socket.disconnect();
      // The manager's 'error' (a transport failure, not a refusal by the server) is emitted to
      // the socket first and to our listener after: decide once both have run.
      setImmediate(() => fail(err));
    });
    const fail = (err: Error & { data?: unknown }): void => {
      const target = `${cfg.origin}${cfg.namespace}`;
      if (transportFailed) {
        reject(new CliError('PARLEY_CLI_CONNECT', `cannot connect to ${target}: ${err.message}`));
      } else {
        const data = err.data === undefined ? '' : ` ${JSON.stringify(toWire(err.data))}`;
        reject(
          new CliError('PARLEY_CLI_HANDSHAKE', `${target} refused the connection: ${err.message}${data}`),
        );
      }
    };
  });
  return socket;
}

/** `parley connect --io URL`: interactive on a TTY, pipe mode otherwise. Resolves with the exit status. */
export async function runIoConnect(cfg: IoConnectConfig): Promise<number> {
  const pending: [string, unknown[]][] = [];
  let printer: ((event: string, args: unknown[]) => void) | undefined;
  const socket = await openSocket(cfg, (event, args) => {
    if (printer) printer(event, args);
    else pending.push([event, args]);
  });
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  return interactive
    ? interactiveIo(socket, cfg, pending, (p) => {
        printer = p;
      })
    : pipeIo(socket, cfg, pending, (p) => {
        printer = p;
      });
}

type SetPrinter = (p: (event: string, args: unknown[]) => void) => void;

/** Why the server side ended the session, if it did. */
function watchDisconnect(socket: Socket): { reason: () => string | undefined; done: Promise<void> } {
  let reason: string | undefined;
  const done = new Promise<void>((resolve) => {
    socket.once('disconnect', (r: string) => {
      reason = r;
      resolve();
    });
  });
  return { reason: () => reason, done };
}

/** Emits one line; resolves when its ack arrived (or at once without `--ack`). */
function emitLine(
  socket: Socket,
  cfg: IoConnectConfig,
  line: EmitLine,
  onAck: (args: unknown[]) => void,
  onTimeout: () => void,
): Promise<void> {
  if (!cfg.ack) {
    socket.emit(line.event, ...line.args);
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    socket
      .timeout(cfg.ackTimeoutMs)
      .emit(line.event, ...line.args, (err: Error | null, ...args: unknown[]) => {
        if (err) onTimeout();
        else onAck(args);
        resolve();
      });
  });
}

async function pipeIo(
  socket: Socket,
  cfg: IoConnectConfig,
  pending: [string, unknown[]][],
  setPrinter: SetPrinter,
): Promise<number> {
  let lastIncoming = Date.now();
  const write = (text: string) => {
    lastIncoming = Date.now();
    process.stdout.write(`${text}\n`);
  };
  const printEvent = (event: string, args: unknown[]) =>
    write(formatIncoming('event', event, args, cfg.json));
  for (const [event, args] of pending.splice(0)) printEvent(event, args);
  setPrinter(printEvent);
  const disconnect = watchDisconnect(socket);
  let failures = 0;
  const acks: Promise<void>[] = [];
  const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    rl.close();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  void disconnect.done.then(() => rl.close());
  let lineNo = 0;
  try {
    for await (const text of rl) {
      lineNo++;
      if (!socket.connected) break;
      let line: EmitLine | undefined;
      try {
        line = parseEmitLine(text);
      } catch (err) {
        failures++;
        process.stderr.write(`parley: line ${lineNo} not sent: ${(err as Error).message}\n`);
        continue;
      }
      if (!line) continue;
      const name = line.event;
      acks.push(
        emitLine(
          socket,
          cfg,
          line,
          (args) => write(formatIncoming('ack', name, args, cfg.json)),
          () => {
            failures++;
            process.stderr.write(
              `parley: no ack for '${name}' (line ${lineNo}) within ${cfg.ackTimeoutMs} ms\n`,
            );
          },
        ),
      );
    }
  } catch {
    // stdin read error: treat like end of input.
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await Promise.race([Promise.all(acks), disconnect.done]);
  // Replies to the last emits may still be on their way: keep reading until the line goes quiet.
  while (!interrupted && socket.connected) {
    const idle = Date.now() - lastIncoming;
    if (idle >= cfg.quietMs) break;
    await Promise.race([new Promise((r) => setTimeout(r, cfg.quietMs - idle)), disconnect.done]);
  }
  process.stdin.destroy();
  const reason = disconnect.reason();
  if (reason === undefined) {
    socket.disconnect();
  } else {
    process.stderr.write(`parley: disconnected: ${reason}\n`);
    if (reason !== 'io server disconnect') return ExitCode.ABNORMAL_CLOSE;
  }
  if (interrupted) return ExitCode.INTERRUPTED;
  return failures > 0 ? ExitCode.FAILURE : ExitCode.OK;
}

async function interactiveIo(
  socket: Socket,
  cfg: IoConnectConfig,
  pending: [string, unknown[]][],
  setPrinter: SetPrinter,
): Promise<number> {
  const out = process.stdout;
  const { rl, c, print, info, close: closePrompt } = createPrompt();
  out.write(
    c.dim(
      `* connected to ${cfg.origin}${cfg.namespace} as ${socket.id} (type: event [json args...]; /help, Ctrl+D to leave)\n`,
    ),
  );
  const printEvent = (event: string, args: unknown[]) =>
    print(`${c.cyan('<')} ${formatIncoming('event', event, args, cfg.json)}`);
  for (const [event, args] of pending.splice(0)) printEvent(event, args);
  setPrinter(printEvent);
  const disconnect = watchDisconnect(socket);
  rl.on('line', (text: string) => {
    if (!socket.connected) return;
    const command = text.trim();
    if (command === '/quit' || command === '/close') {
      rl.close();
      return;
    }
    if (command === '/help') {
      info('event [json args...]  e.g.  message "hello" {"n":1}   /quit to leave');
    } else {
      try {
        const line = parseEmitLine(text);
        if (line) {
          const name = line.event;
          void emitLine(
            socket,
            cfg,
            line,
            (args) => print(`${c.magenta('ack')} ${formatIncoming('ack', name, args, cfg.json)}`),
            () => info(`no ack for '${name}' within ${cfg.ackTimeoutMs} ms`),
          );
        }
      } catch (err) {
        info(`not sent: ${(err as Error).message}`);
      }
    }
    rl.prompt();
  });
  let interrupted = false;
  rl.on('SIGINT', () => {
    interrupted = true;
    rl.close();
  });
  const closed = new Promise<void>((resolve) => rl.on('close', () => resolve()));
  rl.prompt();
  await Promise.race([closed, disconnect.done]);
  closePrompt();
  const reason = disconnect.reason();
  if (reason === undefined) {
    socket.disconnect();
    out.write(c.dim('* disconnected\n'));
    return interrupted ? ExitCode.INTERRUPTED : ExitCode.OK;
  }
  out.write(`${c.red(`* disconnected: ${reason}`)}\n`);
  return reason === 'io server disconnect' ? ExitCode.OK : ExitCode.ABNORMAL_CLOSE;
}
