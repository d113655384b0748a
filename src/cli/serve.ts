import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from '../index.js';
import { type Connection, closeReason, type ModeHandler, OPEN, type ServeContext } from './connection.js';
import { CliError, describeNetError, usageError } from './errors.js';
import { formatBytes, formatDuration } from './format.js';
import { Logger } from './log.js';
import { broadcastMode, echoMode } from './modes.js';
import {
  bool,
  list,
  type OptionSpec,
  parseCommand,
  parseCount,
  parsePort,
  parseSeconds,
  parseSize,
  str,
} from './options.js';
import type { ReferenceConfig } from './reference.js';

/** Default `--max-payload`: 64 MiB, above the largest Autobahn case (16 MiB). */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;
/** How long SIGINT/SIGTERM waits for close handshakes before cutting the remaining sockets. */
export const SHUTDOWN_WAIT_MS = 5000;

/** Everything `parley serve` needs, after flag parsing and validation. */
export interface ServeConfig {
  /** What to do with each connection; undefined means static files only. */
  readonly mode: ModeHandler | undefined;
  /** Human name of the mode for the startup line (`echo`, `broadcast`, ...). */
  readonly modeName: string;
  readonly port: number;
  readonly host: string;
  /** Only upgrade requests for this exact pathname are accepted; undefined accepts any path. */
  readonly path: string | undefined;
  readonly staticDir: string | undefined;
  readonly tls: { cert: Buffer; key: Buffer } | undefined;
  readonly deflate: boolean;
  /** Allowed Origin values (lower-case, normalized); empty means any origin. */
  readonly origins: readonly string[];
  readonly maxPayload: number;
  /** 0 = unlimited. */
  readonly maxConnections: number;
  /** Ping interval in ms; 0 = no heartbeat. */
  readonly heartbeatMs: number;
  readonly quiet: boolean;
  /** Extra request handler for plain HTTP (static files); called before the 426/404 fallback. */
  readonly httpHandler?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

/** A started server. */
export interface RunningServer {
  /** Base WebSocket URL, e.g. `ws://127.0.0.1:8080/`. */
  readonly url: string;
  /** The port actually bound (useful with `--port 0`). */
  readonly port: number;
  /**
   * Stops accepting, closes every connection with 1001 and resolves once all are closed or after
   * `waitMs` (remaining sockets are then terminated). Idempotent.
   */
  shutdown(waitMs?: number): Promise<void>;
}

/** Option table shared by `serve` and `demo`. */
export const serveOptions: OptionSpec = {
  echo: { type: 'boolean' },
  broadcast: { type: 'boolean' },
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  path: { type: 'string' },
  deflate: { type: 'boolean' },
  origin: { type: 'string', multiple: true },
  'max-payload': { type: 'string' },
  'max-connections': { type: 'string' },
  heartbeat: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
};

/** Parses the flags common to every server mode into a {@link ServeConfig} minus the mode. */
export function commonServeConfig(
  values: Record<string, string | boolean | string[] | undefined>,
  defaults: { port: number },
): Omit<ServeConfig, 'mode' | 'modeName' | 'staticDir' | 'httpHandler'> {
  const portText = str(values, 'port');
  const path = str(values, 'path');
  if (path !== undefined && !path.startsWith('/'))
    throw usageError(`--path: must start with '/', got '${path}'`);
  const certFile = str(values, 'tls-cert');
  const keyFile = str(values, 'tls-key');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw usageError('--tls-cert and --tls-key must be given together');
  }
  let tls: ServeConfig['tls'];
  if (certFile !== undefined && keyFile !== undefined) {
    tls = { cert: readOrFail('--tls-cert', certFile), key: readOrFail('--tls-key', keyFile) };
  }
  const origins = list(values, 'origin').map(normalizeOrigin);
  const heartbeat = str(values, 'heartbeat');
  const maxConnections = str(values, 'max-connections');
  const maxPayload = str(values, 'max-payload');
  return {
    port: portText === undefined ? defaults.port : parsePort('port', portText),
    host: str(values, 'host') ?? '127.0.0.1',
    path,
    tls,
    deflate: bool(values, 'deflate'),
    origins,
    maxPayload:
      maxPayload === undefined ? DEFAULT_MAX_PAYLOAD : parseSize('max-payload', maxPayload, 1, 2 ** 31),
    maxConnections:
      maxConnections === undefined ? 0 : parseCount('max-connections', maxConnections, 0, 10_000_000),
    heartbeatMs: heartbeat === undefined ? 0 : parseSeconds('heartbeat', heartbeat),
    quiet: bool(values, 'quiet'),
  };
}

function readOrFail(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw usageError(`${flag}: cannot read '${file}': ${describeNetError(err)}`);
  }
}

function normalizeOrigin(text: string): string {
  if (text === 'null') return 'null';
  try {
    const u = new URL(text);
    if (u.origin === 'null') throw new Error('opaque');
    return u.origin.toLowerCase();
  } catch {
    throw usageError(`--origin: expected an origin such as https://example.com, got '${text}'`);
  }
}

/**
 * Parses `parley serve` flags. Exactly one mode is required unless `--static` is given; `--io` and
 * `--engine-io` select a protocol test-suite reference server instead (src/cli/reference.ts).
 */
export async function parseServeArgs(
  argv: readonly string[],
): Promise<ServeConfig | ReferenceConfig | 'help'> {
  const { values, positionals } = parseCommand('serve', argv, {
    ...serveOptions,
    exec: { type: 'string' },
    proxy: { type: 'string' },
    static: { type: 'string' },
    io: { type: 'boolean' },
    'engine-io': { type: 'boolean' },
  });
  if (bool(values, 'help')) return 'help';
  if (positionals.length > 0) throw usageError(`serve: unexpected argument '${positionals[0]}'`);
  if (bool(values, 'io') || bool(values, 'engine-io')) {
    const { parseReferenceConfig } = await import('./reference.js');
    return parseReferenceConfig(values);
  }
  const common = commonServeConfig(values, { port: 8080 });
  const chosen = ['echo', 'broadcast', 'exec', 'proxy'].filter(
    (m) => values[m] !== undefined && values[m] !== false,
  );
  if (chosen.length > 1) throw usageError(`serve: choose one mode, got --${chosen.join(' and --')}`);
  const staticDir = str(values, 'static');
  if (chosen.length === 0 && staticDir === undefined) {
    throw usageError(
      'serve: choose a mode: --echo, --broadcast, --exec CMD, --proxy tcp://HOST:PORT, --io, --engine-io (or --static DIR)',
    );
  }
  let mode: ModeHandler | undefined;
  const modeName = chosen[0] ?? 'static';
  if (modeName === 'echo') mode = echoMode;
  else if (modeName === 'broadcast') mode = broadcastMode;
  else if (modeName === 'exec') {
    const { execMode } = await import('./exec.js');
    const cmd = str(values, 'exec')!;
    if (cmd.trim() === '') throw usageError('--exec: empty command');
    mode = execMode(cmd, { port: common.port });
  } else if (modeName === 'proxy') {
    const { proxyMode, parseProxyTarget } = await import('./proxy.js');
    mode = proxyMode(parseProxyTarget(str(values, 'proxy')!));
  }
  let httpHandler: ServeConfig['httpHandler'];
  if (staticDir !== undefined) {
    const { staticHandler } = await import('./static.js');
    httpHandler = staticHandler(staticDir);
  }
  return { ...common, mode, modeName, staticDir, httpHandler };
}

/**
 * Starts the HTTP(S) server and the WebSocket endpoint described by `cfg`. Resolves once listening;
 * rejects with a CliError (exit 3) if the port cannot be bound.
 */
export async function startServer(cfg: ServeConfig, logger: Logger): Promise<RunningServer> {
  const connections = new Set<Connection>();
  const ctx: ServeContext = { connections, logger, maxPayload: cfg.maxPayload, tls: cfg.tls !== undefined };
  let nextId = 1;
  let closing = false;
  /** Set during shutdown: called when the last connection has closed. */
  let allClosed: (() => void) | undefined;

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (cfg.httpHandler?.(req, res)) return;
    const body = cfg.mode
      ? 'This is a WebSocket endpoint (parley). Connect with a WebSocket client.\n'
      : 'Not found\n';
    res.writeHead(cfg.mode ? 426 : 404, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      ...(cfg.mode ? { upgrade: 'websocket' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  let server: Server;
  try {
    server = cfg.tls
      ? createHttpsServer({ cert: cfg.tls.cert, key: cfg.tls.key }, onRequest)
      : createServer(onRequest);
  } catch (err) {
    // Bad PEM, or a key that does not match the certificate.
    throw usageError(`--tls-cert/--tls-key: ${(err as Error).message}`);
  }
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.on('tlsClientError', (err: Error) => logger.info(`TLS handshake failed: ${err.message}`));

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: cfg.maxPayload,
    perMessageDeflate: cfg.deflate,
    clientTracking: false,
  });
  wss.on('error', (err: Error) => logger.warn(`server error: ${err.message}`));

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, text: string, why: string) => {
      logger.info(`refused ${peer(req.socket)} ${req.url ?? ''}: ${status} ${why}`);
      socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      // A client that never closes its side must not keep the socket (and shutdown) waiting.
      setTimeout(() => socket.destroy(), 2000).unref();
    };
    if (closing) return refuse(503, 'Service Unavailable', 'shutting down');
    if (!cfg.mode) return refuse(404, 'Not Found', 'no WebSocket mode');
    if (cfg.path !== undefined && pathnameOf(req.url) !== cfg.path)
      return refuse(404, 'Not Found', 'wrong path');
    if (cfg.origins.length > 0) {
      const origin = (req.headers.origin ?? '').toLowerCase();
      if (!cfg.origins.includes(origin)) return refuse(403, 'Forbidden', `origin '${origin}' not allowed`);
    }
    if (cfg.maxConnections > 0 && connections.size >= cfg.maxConnections) {
      return refuse(503, 'Service Unavailable', 'too many connections');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const tcp = req.socket as Socket;
      const conn: Connection = {
        id: nextId++,
        ws,
        req,
        socket: tcp,
        remote: peer(tcp),
        target: req.url ?? '/',
        openedAt: Date.now(),
        messagesIn: 0,
        messagesOut: 0,
        alive: true,
      };
      connections.add(conn);
      logger.info(`open  #${conn.id} ${conn.remote} ${conn.target} (${connections.size} open)`);
      let lastError = '';
      ws.on('error', (err: Error) => {
        lastError = err.message;
      });
      ws.on('pong', () => {
        conn.alive = true;
      });
      ws.on('close', (code: number, reason: Buffer) => {
        connections.delete(conn);
        const why = reason.length > 0 ? ` "${reason.toString()}"` : '';
        const err = lastError ? ` error="${lastError}"` : '';
        logger.info(
          `close #${conn.id} ${conn.remote} ${conn.target} code=${code}${why}${err} ` +
            `${formatDuration(Date.now() - conn.openedAt)} in=${formatBytes(tcp.bytesRead)}/${conn.messagesIn} msgs ` +
            `out=${formatBytes(tcp.bytesWritten)}/${conn.messagesOut} msgs (${connections.size} open)`,
        );
        if (closing && connections.size === 0) allClosed?.();
      });
      try {
        cfg.mode!(conn, ctx);
      } catch (e) {
        logger.warn(`#${conn.id} mode failed: ${(e as Error).message}`);
        ws.close(1011, closeReason('server error'));
      }
    });
  });

  let heartbeat: NodeJS.Timeout | undefined;
  if (cfg.heartbeatMs > 0) {
    heartbeat = setInterval(() => {
      for (const conn of connections) {
        if (!conn.alive) {
          logger.info(`#${conn.id} ${conn.remote} missed a heartbeat: terminating`);
          conn.ws.terminate();
          continue;
        }
        conn.alive = false;
        if (conn.ws.readyState === OPEN) conn.ws.ping();
      }
    }, cfg.heartbeatMs);
    heartbeat.unref();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => {
      reject(
        new CliError(
          'PARLEY_CLI_LISTEN',
          `cannot listen on ${cfg.host}:${cfg.port}: ${describeNetError(err)}`,
        ),
      );
    });
    server.listen(cfg.port, cfg.host, () => resolve());
  });
  server.on('error', (err) => logger.warn(`server error: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  const url = `${cfg.tls ? 'wss' : 'ws'}://${hostForUrl}:${port}${cfg.path ?? '/'}`;

  let shutdownPromise: Promise<void> | undefined;
  const shutdown = (waitMs = SHUTDOWN_WAIT_MS): Promise<void> => {
    if (shutdownPromise) return shutdownPromise;
    closing = true;
    if (heartbeat) clearInterval(heartbeat);
    shutdownPromise = new Promise<void>((resolve) => {
      const serverClosed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      const done = new Promise<void>((r) => {
        allClosed = r;
        if (connections.size === 0) r();
      });
      for (const conn of connections) conn.ws.close(1001, 'server shutting down');
      const timer = setTimeout(() => {
        for (const conn of connections) {
          logger.warn(`#${conn.id} ${conn.remote} did not finish the close handshake: terminating`);
          conn.ws.terminate();
        }
        server.closeAllConnections();
        allClosed?.();
      }, waitMs);
      done
        .then(() => {
          clearTimeout(timer);
          server.closeAllConnections();
          wss.close();
          // Bounded: a half-closed socket must not hold the exit up.
          return Promise.race([serverClosed, new Promise((r) => setTimeout(r, 1000).unref())]);
        })
        .then(() => resolve(), resolve);
    });
    return shutdownPromise;
  };
  return { url, port, shutdown };
}

function peer(socket: Socket): string {
  const addr = socket.remoteAddress ?? '?';
  return `${addr.includes(':') ? `[${addr}]` : addr}:${socket.remotePort ?? '?'}`;
}

function pathnameOf(target: string | undefined): string {
  const t = target ?? '/';
  const q = t.indexOf('?');
  return q === -1 ? t : t.slice(0, q);
}

/**
 * Installs SIGINT/SIGTERM handlers that shut `server` down gracefully (1001 to every connection,
 * bounded wait) and resolve; a second signal exits immediately with status 130.
 */
export function untilSignal(server: RunningServer, logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    let count = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      count++;
      if (count > 1) {
        logger.always(`${sig} again: exiting now`);
        process.exit(130);
      }
      logger.always(`${sig}: closing connections (1001) and shutting down`);
      server.shutdown().then(() => {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        resolve();
      });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** `parley serve ...`: runs until SIGINT/SIGTERM; resolves with the exit status. */
export async function runServe(argv: readonly string[], printHelp: () => void): Promise<number> {
  const cfg = await parseServeArgs(argv);
  if (cfg === 'help') {
    printHelp();
    return 0;
  }
  if ('reference' in cfg) return (await import('./reference.js')).runReferenceServer(cfg);
  const logger = new Logger(cfg.quiet);
  const server = await startServer(cfg, logger);
  const extras = [
    cfg.deflate ? 'permessage-deflate' : '',
    cfg.staticDir !== undefined ? `static files from ${cfg.staticDir}` : '',
    cfg.tls ? 'TLS' : '',
  ].filter(Boolean);
  // Handlers first: a supervisor may signal as soon as it reads the listening line.
  const stopped = untilSignal(server, logger);
  logger.always(
    `parley ${cfg.modeName} server listening on ${server.url}${extras.length ? ` (${extras.join(', ')})` : ''}`,
  );
  await stopped;
  return 0;
}
