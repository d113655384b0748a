import { fileURLToPath } from 'node:url';
import { usageError } from './errors.js';
import { Logger } from './log.js';
import { broadcastMode } from './modes.js';
import { bool, parseCommand, parsePort, str } from './options.js';
import { DEFAULT_MAX_PAYLOAD, startServer, untilSignal } from './serve.js';
import { staticHandler } from './static.js';

/** The demo page's directory: `demo/` at the package root (three levels above dist/src/cli/). */
export const DEMO_DIR = fileURLToPath(new URL('../../../demo/', import.meta.url));

/** Largest chat message the demo relays. */
const DEMO_MAX_PAYLOAD = 64 * 1024;

/**
 * `parley demo` (what `npm start` runs): the chat page from demo/ over HTTP and a broadcast endpoint
 * at /chat on the same port, with a heartbeat so closed browser tabs are noticed.
 */
export async function runDemo(argv: readonly string[], printHelp: () => void): Promise<number> {
  const { values, positionals } = parseCommand('demo', argv, {
    port: { type: 'string', short: 'p' },
    host: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  });
  if (bool(values, 'help')) {
    printHelp();
    return 0;
  }
  if (positionals.length > 0) throw usageError(`demo: unexpected argument '${positionals[0]}'`);
  const portText = str(values, 'port');
  const logger = new Logger(bool(values, 'quiet'));
  const server = await startServer(
    {
      mode: broadcastMode,
      modeName: 'broadcast',
      port: portText === undefined ? 8080 : parsePort('port', portText),
      host: str(values, 'host') ?? '127.0.0.1',
      path: '/chat',
      staticDir: DEMO_DIR,
      httpHandler: staticHandler(DEMO_DIR),
      tls: undefined,
      deflate: true,
      origins: [],
      maxPayload: Math.min(DEMO_MAX_PAYLOAD, DEFAULT_MAX_PAYLOAD),
      maxConnections: 1000,
      heartbeatMs: 30_000,
      quiet: bool(values, 'quiet'),
    },
    logger,
  );
  const page = new URL(server.url.replace(/^ws/, 'http'));
  page.pathname = '/';
  if (page.hostname === '127.0.0.1' || page.hostname === '[::1]') page.hostname = 'localhost';
  // Handlers first: a supervisor may signal as soon as it reads the listening line.
  const stopped = untilSignal(server, logger);
  logger.always(`parley chat demo on ${page.href} (WebSocket endpoint ${server.url}); Ctrl+C to stop`);
  await stopped;
  return 0;
}
