// Shared fixtures for the engine tests: servers on 127.0.0.1:0, raw HTTP helpers, event waiting.
import { createServer, type Server as HttpServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AttachOptions, attach, type Server, type ServerOptions } from '../../src/engine/index.js';

export interface Running {
  engine: Server;
  http: HttpServer;
  port: number;
  url: string;
  close: () => Promise<void>;
}

/** Starts a parley engine server attached to a fresh http server on an ephemeral loopback port. */
export async function startParley(opts: ServerOptions & AttachOptions = {}): Promise<Running> {
  const http = createServer((_req, res) => {
    res.writeHead(404);
    res.end('other');
  });
  const engine = attach(http, opts);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    engine,
    http,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () => closeHttp(http, () => engine.close()),
  };
}

/** Closes `http` after `before`, dropping kept-alive and pending connections. */
export function closeHttp(http: HttpServer, before?: () => void): Promise<void> {
  return new Promise((resolve) => {
    before?.();
    http.close(() => resolve());
    http.closeAllConnections();
  });
}

/** Resolves with the arguments of the next `event`, or rejects after `ms`. */
// biome-ignore lint/suspicious/noExplicitAny: any emitter flavour (Node, component-emitter, parley's)
type AnyListener = (...args: any[]) => void;

export function once<T extends unknown[] = unknown[]>(
  emitter: { once(event: string, listener: AnyListener): unknown },
  event: string,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${event}`)), ms);
    emitter.once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    });
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw HTTP request on a fresh connection (no keep-alive), for hostile-input tests. */
export function raw(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer | Buffer[],
  headers: Record<string, string | number> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk);
      req.end();
    } else req.end(body);
  });
}

/** Opens a polling session over raw HTTP and returns its sid and handshake. */
export async function handshake(
  port: number,
  path = '/engine.io/',
): Promise<{ sid: string; data: Record<string, unknown> }> {
  const res = await raw(port, 'GET', `${path}?EIO=4&transport=polling`);
  if (res.status !== 200 || !res.body.startsWith('0'))
    throw new Error(`handshake failed: ${res.status} ${res.body}`);
  const data = JSON.parse(res.body.slice(1)) as Record<string, unknown>;
  return { sid: data.sid as string, data };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Either end of an Engine.IO session, as far as {@link exchangeBothWays} needs it. */
interface MessageEnd {
  send(data: string): unknown;
  on(event: 'message', listener: (data: unknown) => void): unknown;
}

/**
 * Sends `n` numbered messages each way, one pair per millisecond (so that an upgrade happens in the
 * middle of the traffic), and resolves with what each side received once all have arrived.
 */
export async function exchangeBothWays(
  server: MessageEnd,
  client: MessageEnd,
  n: number,
): Promise<{ atServer: string[]; atClient: string[] }> {
  const receive = (end: MessageEnd): { got: string[]; done: Promise<void> } => {
    const got: string[] = [];
    const done = new Promise<void>((resolve) =>
      end.on('message', (d: unknown) => {
        got.push(String(d));
        if (got.length === n) resolve();
      }),
    );
    return { got, done };
  };
  const atServer = receive(server);
  const atClient = receive(client);
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      client.send(`c${i}`);
      server.send(`s${i}`);
      if (++i === n) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  await Promise.all([atServer.done, atClient.done]);
  return { atServer: atServer.got, atClient: atClient.got };
}
