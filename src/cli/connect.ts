import { createInterface } from 'node:readline';
import type { WebSocket } from '../index.js';
import { type ClientConfig, type OpenClient, openClient, parseHeader } from './client.js';
import { IO_ONLY, type IoConnectConfig, parseIoConnectConfig, runIoConnect } from './connect-io.js';
import { toBuffer } from './connection.js';
import { ExitCode, usageError } from './errors.js';
import { createPrompt, hexDump, parseHex } from './format.js';
import { bool, list, parseCommand, parseSeconds, parseSize, parseWsUrl, str } from './options.js';
import { DEFAULT_MAX_PAYLOAD } from './serve.js';

/** Close codes after which `connect` exits 0: normal closure, going away, no status received. */
const CLEAN_CLOSE = new Set([1000, 1001, 1005]);
/** How long `connect` waits for the peer's close frame after sending its own. */
const CLOSE_WAIT_MS = 10_000;
/** Unsent bytes above which pipe mode stops reading stdin until the socket drains. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;

/** Parsed `parley connect` flags. */
export interface ConnectConfig extends ClientConfig {
  readonly binary: boolean;
  readonly json: boolean;
  readonly pingIntervalMs: number;
  /** Pipe mode: how long to keep receiving after end of input before closing, ms. */
  readonly waitMs: number;
}

/** Parses `parley connect` flags (see docs/cli.md). */
export function parseConnectArgs(argv: readonly string[]): ConnectConfig | IoConnectConfig | 'help' {
  const { values, positionals } = parseCommand('connect', argv, {
    header: { type: 'string', short: 'H', multiple: true },
    subprotocol: { type: 'string', short: 's', multiple: true },
    origin: { type: 'string', short: 'o' },
    auth: { type: 'string' },
    insecure: { type: 'boolean', short: 'k' },
    'ping-interval': { type: 'string' },
    deflate: { type: 'boolean' },
    binary: { type: 'boolean', short: 'b' },
    'max-payload': { type: 'string' },
    timeout: { type: 'string', short: 't' },
    json: { type: 'boolean' },
    wait: { type: 'string', short: 'w' },
    io: { type: 'boolean' },
    'io-auth': { type: 'string' },
    'io-path': { type: 'string' },
    transport: { type: 'string', multiple: true },
    ack: { type: 'boolean' },
    'ack-timeout': { type: 'string' },
  });
  if (bool(values, 'help')) return 'help';
  if (positionals.length === 0)
    throw usageError('connect: missing URL (e.g. parley connect ws://localhost:8080)');
  if (positionals.length > 1) throw usageError(`connect: unexpected argument '${positionals[1]}'`);
  if (bool(values, 'io')) return parseIoConnectConfig(values, positionals[0]!);
  for (const name of IO_ONLY) {
    if (values[name] !== undefined && values[name] !== false) throw usageError(`--${name} needs --io`);
  }
  const url = parseWsUrl(positionals[0]!);
  const headers: Record<string, string> = {};
  for (const h of list(values, 'header')) {
    const [name, value] = parseHeader(h);
    headers[name] = value;
  }
  const auth = str(values, 'auth');
  if (auth !== undefined) {
    if (!auth.includes(':')) throw usageError(`--auth: expected user:password`);
    headers.Authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
  } else if (url.username !== '') {
    const user = decodeURIComponent(url.username);
    const pass = decodeURIComponent(url.password);
    headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  }
  url.username = '';
  url.password = '';
  const protocols = list(values, 'subprotocol').flatMap((p) => p.split(',').map((s) => s.trim()));
  for (const p of protocols) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(p)) throw usageError(`--subprotocol: invalid token '${p}'`);
  }
  const ping = str(values, 'ping-interval');
  const timeout = str(values, 'timeout');
  const maxPayload = str(values, 'max-payload');
  const wait = str(values, 'wait');
  return {
    url,
    headers,
    protocols,
    origin: str(values, 'origin'),
    insecure: bool(values, 'insecure'),
    deflate: bool(values, 'deflate'),
    maxPayload:
      maxPayload === undefined ? DEFAULT_MAX_PAYLOAD : parseSize('max-payload', maxPayload, 1, 2 ** 31),
    timeoutMs: timeout === undefined ? 10_000 : parseSeconds('timeout', timeout),
    binary: bool(values, 'binary'),
    json: bool(values, 'json'),
    pingIntervalMs: ping === undefined ? 0 : parseSeconds('ping-interval', ping),
    waitMs: wait === undefined ? 0 : parseSeconds('wait', wait),
  };
}

/** `parley connect URL`: interactive on a TTY, pipe mode otherwise. Resolves with the exit status. */
export async function runConnect(argv: readonly string[], printHelp: () => void): Promise<number> {
  const cfg = parseConnectArgs(argv);
  if (cfg === 'help') {
    printHelp();
    return 0;
  }
  if ('io' in cfg) return runIoConnect(cfg);
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  const client = await openClient(cfg);
  const ws = client.ws;
  let pinger: NodeJS.Timeout | undefined;
  if (cfg.pingIntervalMs > 0) {
    pinger = setInterval(() => {
      if (ws.readyState === 1) ws.ping();
    }, cfg.pingIntervalMs);
  }
  try {
    return interactive ? await interactiveMode(client, cfg) : await pipeMode(client, cfg);
  } finally {
    if (pinger) clearInterval(pinger);
  }
}

/** Result of waiting for the socket to close. */
interface Closed {
  code: number;
  reason: string;
  error: string | undefined;
}

function whenClosed(ws: WebSocket): Promise<Closed> {
  return new Promise<Closed>((resolve) => {
    let error: string | undefined;
    ws.on('error', (err: Error) => {
      error ??= err.message;
    });
    ws.on('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString(), error }));
  });
}

/**
 * Maps how the connection ended to an exit status: 0 for 1000/1001/1005 or for the peer echoing
 * the code we closed with (`/close 4000`), 5 otherwise. Writes a line about anything unusual.
 */
function closeStatus(
  closed: Closed,
  weClosed: boolean,
  write: (line: string) => void,
  sentCode = 1000,
): number {
  const detail = `${closed.code}${closed.reason ? ` ${closed.reason}` : ''}${closed.error ? ` (${closed.error})` : ''}`;
  if (CLEAN_CLOSE.has(closed.code) || (weClosed && closed.code === sentCode)) {
    if (!weClosed && closed.code !== 1000) write(`connection closed by the server: ${detail}`);
    return ExitCode.OK;
  }
  write(
    closed.code === 1006
      ? `connection closed abnormally (1006, no close frame)${closed.error ? `: ${closed.error}` : ''}`
      : `connection closed with ${detail}`,
  );
  return ExitCode.ABNORMAL_CLOSE;
}

/**
 * Pipe mode: each stdin line is a message; each received message is written to stdout followed by
 * a newline (binary messages as raw bytes). At end of input the socket is closed with 1000 and the
 * function resolves once the close handshake finishes, with everything received printed.
 */
async function pipeMode(client: OpenClient, cfg: ConnectConfig): Promise<number> {
  const ws = client.ws;
  const closed = whenClosed(ws);
  let weClosed = false;
  let interrupted = false;
  client.start((data: unknown, isBinary: boolean) => {
    const buf = toBuffer(data);
    const ok = isBinary
      ? process.stdout.write(buf) && process.stdout.write('\n')
      : process.stdout.write(`${buf}\n`);
    if (!ok) {
      ws.pause();
      process.stdout.once('drain', () => ws.resume());
    }
  });
  process.stdout.on('error', () => {
    // Reader went away (EPIPE): stop receiving, close normally.
    if (ws.readyState === 1) {
      weClosed = true;
      ws.close(1000);
    }
  });
  const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  let onInterrupt: (() => void) | undefined;
  const onSignal = () => {
    interrupted = true;
    rl.close();
    onInterrupt?.();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const serverGone = closed.then(() => rl.close());
  try {
    for await (const line of rl) {
      if (ws.readyState !== 1) break;
      await sendWithBackpressure(ws, cfg.binary ? Buffer.from(line) : line, cfg.binary);
    }
  } catch {
    // stdin read error: treat like end of input.
  }
  if (cfg.waitMs > 0 && !interrupted && ws.readyState === 1) {
    // Replies from asynchronous servers (--exec) may still be on their way: keep reading a while.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      closed,
      new Promise<void>((r) => {
        onInterrupt = r;
        timer = setTimeout(r, cfg.waitMs);
      }),
    ]);
    clearTimeout(timer);
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (ws.readyState === 1) {
    weClosed = true;
    ws.close(1000);
    const timer = setTimeout(() => ws.terminate(), CLOSE_WAIT_MS);
    await closed;
    clearTimeout(timer);
  }
  await serverGone;
  process.stdin.destroy();
  const status = closeStatus(await closed, weClosed, (l) => process.stderr.write(`parley: ${l}\n`));
  return interrupted && status === ExitCode.OK ? ExitCode.INTERRUPTED : status;
}

function sendWithBackpressure(ws: WebSocket, data: string | Buffer, binary: boolean): Promise<void> {
  return new Promise<void>((resolve) => {
    const high = ws.bufferedAmount > SEND_HIGH_WATER;
    ws.send(data, { binary }, () => {
      if (high) resolve();
    });
    if (!high) resolve();
  });
}

/**
 * Interactive mode: a readline prompt with history; received messages are printed above it.
 * Slash commands: /ping [data], /close [code] [reason], /binary <hex>, /help, /quit.
 */
async function interactiveMode(client: OpenClient, cfg: ConnectConfig): Promise<number> {
  const ws = client.ws;
  const out = process.stdout;
  const { rl, c, print, info, close: closePrompt } = createPrompt();
  const closed = whenClosed(ws);
  let weClosed = false;
  const proto = ws.protocol ? `, subprotocol ${ws.protocol}` : '';
  const ext = ws.extensions ? `, extensions ${ws.extensions}` : '';
  out.write(c.dim(`* connected to ${cfg.url.href}${proto}${ext} (/help for commands, Ctrl+D to close)\n`));
  const onMessage = (data: unknown, isBinary: boolean) => {
    const buf = toBuffer(data);
    if (isBinary) {
      print(`${c.cyan('<')} ${c.magenta(`binary, ${buf.length} bytes`)}\n${hexDump(buf)}`);
      return;
    }
    const text = buf.toString();
    print(`${c.cyan('<')} ${cfg.json ? prettyJson(text) : text}`);
  };
  ws.on('ping', (data: Buffer) =>
    info(`ping received${data.length ? ` (${data.toString()})` : ''}, pong sent`),
  );
  const pingsSent: number[] = [];
  ws.on('pong', (data: Buffer) => {
    const sent = pingsSent.shift();
    const rtt = sent === undefined ? '' : ` in ${(performance.now() - sent).toFixed(1)}ms`;
    info(`pong${data.length ? ` (${data.toString()})` : ''}${rtt}`);
  });
  let sentCode = 1000;
  const closeWith = (code: number, reason: string) => {
    if (ws.readyState !== 1) return;
    weClosed = true;
    sentCode = code;
    ws.close(code, reason);
    setTimeout(() => ws.terminate(), CLOSE_WAIT_MS).unref();
  };
  rl.on('line', (line: string) => {
    if (ws.readyState !== 1) return;
    if (line.startsWith('/') && !line.startsWith('//')) {
      const [cmd, ...rest] = line.slice(1).split(' ');
      const arg = rest.join(' ');
      switch (cmd) {
        case 'ping':
          pingsSent.push(performance.now());
          ws.ping(arg);
          break;
        case 'close':
        case 'quit': {
          const [codeText, ...reasonParts] = rest;
          const code = codeText === undefined || codeText === '' ? 1000 : Number(codeText);
          const reason = reasonParts.join(' ');
          if (!(code === 1000 || (Number.isInteger(code) && code >= 3000 && code <= 4999))) {
            info('close code must be 1000 or 3000-4999');
          } else if (Buffer.byteLength(reason) > 123) {
            info('close reason must be at most 123 bytes');
          } else {
            closeWith(code, reason);
          }
          break;
        }
        case 'binary': {
          const bytes = parseHex(arg);
          if (bytes === undefined) info('usage: /binary <hex>, e.g. /binary 48 65 6c 6c 6f');
          else ws.send(bytes, { binary: true });
          break;
        }
        case 'help':
          info(
            '/ping [data]  /close [code] [reason]  /binary <hex>  /quit  (start a message with // to send a leading /)',
          );
          break;
        default:
          info(`unknown command /${cmd} (try /help)`);
      }
    } else {
      const text = line.startsWith('//') ? line.slice(1) : line;
      if (cfg.binary) ws.send(Buffer.from(text), { binary: true });
      else ws.send(text);
    }
    rl.prompt();
  });
  let interrupts = 0;
  rl.on('SIGINT', () => {
    interrupts++;
    if (interrupts > 1 || ws.readyState !== 1) {
      ws.terminate();
      return;
    }
    info('closing (Ctrl+C again to quit now)');
    closeWith(1000, '');
  });
  rl.on('close', () => closeWith(1000, ''));
  rl.prompt();
  client.start(onMessage);
  const result = await closed;
  closePrompt();
  const status = closeStatus(result, weClosed, (l) => out.write(`${c.red(`* ${l}`)}\n`), sentCode);
  if (status === ExitCode.OK)
    out.write(c.dim(`* disconnected (${result.code}${result.reason ? ` ${result.reason}` : ''})\n`));
  return status;
}

function prettyJson(text: string): string {
  const t = text.trimStart();
  if (!(t.startsWith('{') || t.startsWith('['))) return text;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
