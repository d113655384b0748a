/**
 * `parley serve --io` and `parley serve --engine-io`: the reference servers of Socket.IO's
 * language-neutral protocol test suites (docs/socket.io-protocol/v5-test-suite and
 * docs/engine.io-protocol/v4-test-suite), configured exactly as the end of each protocol text asks.
 * The behaviour lives in src/realtime/reference.ts and src/engine/reference.ts; this file adds the
 * command line around them: flags, a log line per session, graceful shutdown.
 */
import { createReferenceServer as createEngineReference } from '../engine/reference.js';
import { createReferenceServer as createIoReference } from '../realtime/reference.js';
import { CliError, describeNetError, usageError } from './errors.js';
import { formatDuration } from './format.js';
import { Logger } from './log.js';
import { bool, type ParsedValues, parsePort, str } from './options.js';
import { type RunningServer, SHUTDOWN_WAIT_MS, untilSignal } from './serve.js';

/** Which reference server to run. */
export type ReferenceKind = 'io' | 'engine-io';

/** `parley serve --io | --engine-io` after flag parsing. */
export interface ReferenceConfig {
  readonly reference: ReferenceKind;
  /** Default 3000, the port both test suites connect to. */
  readonly port: number;
  /** Undefined binds every interface, as the reference (`new Server(3000)`) does. */
  readonly host: string | undefined;
  readonly quiet: boolean;
}

/** The port the protocol test suites connect to (`http://localhost:3000`). */
export const REFERENCE_PORT = 3000;

/**
 * `serve` flags that would change the reference configuration; the suites expect it exactly, so
 * they are refused rather than silently ignored.
 */
const NOT_WITH_REFERENCE = [
  'echo',
  'broadcast',
  'exec',
  'proxy',
  'static',
  'path',
  'tls-cert',
  'tls-key',
  'deflate',
  'origin',
  'max-payload',
  'max-connections',
  'heartbeat',
];

/** Validates the flags of `serve --io` / `serve --engine-io`. */
export function parseReferenceConfig(values: ParsedValues): ReferenceConfig {
  const io = bool(values, 'io');
  if (io && bool(values, 'engine-io')) throw usageError('serve: choose one of --io and --engine-io');
  const flag = io ? '--io' : '--engine-io';
  for (const name of NOT_WITH_REFERENCE) {
    if (values[name] !== undefined && values[name] !== false) {
      throw usageError(`serve ${flag}: --${name} cannot be combined (the reference configuration is fixed)`);
    }
  }
  const port = str(values, 'port');
  return {
    reference: io ? 'io' : 'engine-io',
    port: port === undefined ? REFERENCE_PORT : parsePort('port', port),
    host: str(values, 'host'),
    quiet: bool(values, 'quiet'),
  };
}

const DESCRIPTION: Record<ReferenceKind, string> = {
  io:
    'Socket.IO v5 test-suite reference: pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1000000, ' +
    'connectTimeout 1000 ms, CORS *; namespaces / and /custom',
  'engine-io':
    'Engine.IO v4 test-suite reference: pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1000000, ' +
    'CORS *; echoes every message',
};

/** Starts the reference server; rejects with a CliError (exit 3) when the port cannot be bound. */
export async function startReferenceServer(cfg: ReferenceConfig, logger: Logger): Promise<RunningServer> {
  const listen = { port: cfg.port, ...(cfg.host !== undefined ? { host: cfg.host } : {}) };
  let close: () => Promise<void>;
  let port: number;
  try {
    if (cfg.reference === 'io') {
      const ref = await createIoReference(listen);
      for (const nsp of [ref.io.of('/'), ref.io.of('/custom')]) {
        nsp.on('connection', (socket) => {
          const opened = Date.now();
          const where = `${socket.handshake.address} ${nsp.name} (${socket.conn.transport?.name ?? '?'})`;
          logger.info(`connect    ${socket.id} ${where}`);
          socket.on('disconnect', (reason: string) =>
            logger.info(
              `disconnect ${socket.id} ${where}: ${reason}, ${formatDuration(Date.now() - opened)}`,
            ),
          );
        });
      }
      ({ port, close } = ref);
    } else {
      const ref = await createEngineReference(listen);
      ref.engine.on('connection', (socket) => {
        const opened = Date.now();
        const where = `${socket.remoteAddress} (${socket.transport.name})`;
        logger.info(`open  ${socket.id} ${where}`);
        socket.on('close', (reason: string) =>
          logger.info(`close ${socket.id} ${where}: ${reason}, ${formatDuration(Date.now() - opened)}`),
        );
      });
      ({ port, close } = ref);
    }
  } catch (err) {
    const host = cfg.host ?? '*';
    throw new CliError('PARLEY_CLI_LISTEN', `cannot listen on ${host}:${cfg.port}: ${describeNetError(err)}`);
  }
  const shownHost =
    cfg.host === undefined ? 'localhost' : cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host;
  let shutdownPromise: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    shutdown(waitMs = SHUTDOWN_WAIT_MS) {
      // Bounded: a peer that never finishes closing must not hold the exit up.
      shutdownPromise ??= Promise.race([close(), new Promise<void>((r) => setTimeout(r, waitMs).unref())]);
      return shutdownPromise;
    },
  };
}

/** `parley serve --io | --engine-io`: runs until SIGINT/SIGTERM; resolves with the exit status. */
export async function runReferenceServer(cfg: ReferenceConfig): Promise<number> {
  const logger = new Logger(cfg.quiet);
  const server = await startReferenceServer(cfg, logger);
  const path = cfg.reference === 'io' ? '/socket.io/' : '/engine.io/';
  // Handlers first: a supervisor may signal as soon as it reads the listening line.
  const stopped = untilSignal(server, logger);
  logger.always(
    `parley ${cfg.reference} server listening on ${server.url} (path ${path}; ${DESCRIPTION[cfg.reference]})`,
  );
  await stopped;
  return 0;
}
