/** Test helpers: servers on ephemeral loopback ports, and awaiting events with a bound. */

import type { EventEmitter } from 'node:events';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from '../../src/index.js';
import type { ServerOptions } from '../../src/node/options.js';

/** A parley server on 127.0.0.1 with an ephemeral port; resolves once listening. */
export async function listen(
  options: Omit<ServerOptions, 'port'> = {},
): Promise<{ wss: WebSocketServer; url: string }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await once(wss, 'listening');
  return { wss, url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}` };
}

/** Resolves with the arguments of the next `event`, or rejects after `ms` (a generous bound). */
export async function next(emitter: EventEmitter, event: string, ms = 5000): Promise<unknown[]> {
  const timer = AbortSignal.timeout(ms);
  return once(emitter, event, { signal: timer });
}

/** Closes a server and every connection on it. */
export async function shutdown(wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients ?? []) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
}
