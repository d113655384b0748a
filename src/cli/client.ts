import type { ClientRequest, IncomingMessage } from 'node:http';
import { WebSocket } from '../index.js';
import { CliError, describeNetError } from './errors.js';

/** Client options shared by `connect` and `bench`. */
export interface ClientConfig {
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly protocols: string[];
  readonly origin: string | undefined;
  readonly insecure: boolean;
  readonly deflate: boolean;
  readonly maxPayload: number;
  /** Opening handshake timeout, ms. */
  readonly timeoutMs: number;
}

const netCodes = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOENT',
  'EACCES',
]);

/** Parses `-H 'Name: value'` into [name, value]; throws a usage error when malformed. */
export function parseHeader(text: string): [string, string] {
  const i = text.indexOf(':');
  const name = i > 0 ? text.slice(0, i).trim() : '';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new CliError('PARLEY_CLI_USAGE', `--header: expected 'Name: value', got '${text}'`, true);
  }
  return [name, text.slice(i + 1).trim()];
}

/** Listener for received messages, as the ws-compatible `message` event delivers them. */
export type MessageListener = (data: unknown, isBinary: boolean) => void;

/** An open client socket whose reading is paused until {@link OpenClient.start} is called. */
export interface OpenClient {
  readonly ws: WebSocket;
  /**
   * Installs the caller's message listener, delivers (in order) any message that arrived with the
   * handshake response, and resumes reading. Call it once, after installing every other listener.
   */
  start(onMessage: MessageListener): void;
}

/**
 * Opens a client WebSocket and resolves once it is open, paused: messages that arrive in the same
 * read as the 101 response are kept and handed to the listener given to {@link OpenClient.start}, so
 * none is lost between 'open' and the caller's listeners. Rejects with a CliError: exit 3 for network,
 * DNS, TLS and timeout failures, exit 4 when the server answers the handshake with a non-101 status
 * (the message carries the status line) or an invalid 101.
 */
export function openClient(cfg: ClientConfig): Promise<OpenClient> {
  return new Promise<OpenClient>((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(cfg.url.href, cfg.protocols, {
        headers: cfg.headers,
        ...(cfg.origin !== undefined ? { origin: cfg.origin } : {}),
        handshakeTimeout: cfg.timeoutMs,
        maxPayload: cfg.maxPayload,
        perMessageDeflate: cfg.deflate,
        rejectUnauthorized: !cfg.insecure,
        followRedirects: false,
      });
    } catch (err) {
      reject(new CliError('PARLEY_CLI_BAD_URL', `invalid URL '${cfg.url.href}': ${(err as Error).message}`));
      return;
    }
    let httpStatus: string | undefined;
    let settled = false;
    const fail = (err: CliError) => {
      if (settled) return;
      settled = true;
      reject(err);
    };
    ws.on('unexpected-response', (_req: ClientRequest, res: IncomingMessage) => {
      httpStatus = `HTTP ${res.statusCode}${res.statusMessage ? ` ${res.statusMessage}` : ''}`;
      res.resume();
      fail(new CliError('PARLEY_CLI_HANDSHAKE', `handshake failed: ${httpStatus} from ${cfg.url.href}`));
      ws.terminate();
    });
    ws.on('error', (err: Error) => {
      if (settled) return;
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (netCodes.has(code)) {
        fail(
          new CliError('PARLEY_CLI_CONNECT', `cannot connect to ${cfg.url.href}: ${describeNetError(err)}`),
        );
      } else if (/timed out/i.test(err.message)) {
        fail(
          new CliError(
            'PARLEY_CLI_CONNECT',
            `cannot connect to ${cfg.url.href}: opening handshake timed out`,
          ),
        );
      } else if (
        /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/i.test(code) ||
        /certificate/i.test(err.message)
      ) {
        fail(
          new CliError(
            'PARLEY_CLI_CONNECT',
            `TLS error connecting to ${cfg.url.href}: ${err.message} (--insecure skips verification)`,
          ),
        );
      } else {
        fail(new CliError('PARLEY_CLI_HANDSHAKE', `handshake failed with ${cfg.url.href}: ${err.message}`));
      }
    });
    ws.on('close', (code: number) => {
      fail(
        new CliError(
          'PARLEY_CLI_HANDSHAKE',
          `connection to ${cfg.url.href} closed during the handshake (${code})`,
        ),
      );
    });
    ws.on('open', () => {
      if (settled) return;
      settled = true;
      // The listeners above stay installed (they do nothing once settled) so that an error between
      // 'open' and the caller's own listeners can never go unhandled.
      const early: [unknown, boolean][] = [];
      const keep = (data: unknown, isBinary: boolean) => early.push([data, isBinary]);
      ws.on('message', keep);
      ws.pause();
      resolve({
        ws,
        start(onMessage: MessageListener) {
          ws.off('message', keep);
          ws.on('message', onMessage);
          for (const [data, isBinary] of early) onMessage(data, isBinary);
          early.length = 0;
          ws.resume();
        },
      });
    });
  });
}
