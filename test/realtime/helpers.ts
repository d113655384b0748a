// Shared helpers for the realtime tests: a parley Socket.IO server on an ephemeral loopback port,
// with an injectable Engine.IO server (engine.io by default, parley's own engine when available).
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as EngineIoServer } from 'engine.io';
import {
  type Socket as ClientSocket,
  io as ioc,
  type ManagerOptions,
  type SocketOptions,
} from 'socket.io-client';
import { Server as ParleyEngine } from '../../src/engine/index.js';
import type { EngineServerConstructor } from '../../src/realtime/engine.js';
import { Server, type ServerOptions } from '../../src/realtime/index.js';

/** Engines the server can run on: parley's own (the default) and the engine.io package. */
export type EngineName = 'parley' | 'engine.io';

/** The engine under test: parley's unless PARLEY_ENGINE=engine.io. */
export function engineUnderTest(name: EngineName | undefined = undefined): EngineServerConstructor {
  const chosen = name ?? (process.env.PARLEY_ENGINE === 'engine.io' ? 'engine.io' : 'parley');
  return chosen === 'engine.io' ? EngineIoServer : ParleyEngine;
}

export interface Started {
  io: Server;
  http: HttpServer;
  port: number;
  url: string;
  clients: ClientSocket[];
  client(nsp?: string, opts?: Partial<ManagerOptions & SocketOptions>): ClientSocket;
  close(): Promise<void>;
}

/** Starts a parley server on 127.0.0.1:0 and returns a factory of socket.io-client sockets. */
export async function start(
  opts: ServerOptions = {},
  transports: string[] = ['websocket'],
  engineName?: EngineName,
): Promise<Started> {
  const http = createServer();
  const engine = engineUnderTest(engineName);
  const io = new Server(http, { engine, ...opts });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const clients: ClientSocket[] = [];
  return {
    io,
    http,
    port,
    url,
    clients,
    client(nsp = '/', copts = {}) {
      const socket = ioc(url + nsp, { transports, forceNew: true, reconnection: false, ...copts });
      clients.push(socket);
      return socket;
    },
    async close() {
      for (const c of clients) c.disconnect();
      await io.close();
    },
  };
}

/** Resolves with the arguments of the next `event` of `emitter`, or rejects after `ms`. */
export function once<T extends unknown[] = unknown[]>(
  emitter: { once(ev: string, fn: (...args: never[]) => void): unknown },
  event: string,
  ms = 3000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${event}`)), ms);
    emitter.once(event, ((...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as T);
    }) as (...args: never[]) => void);
  });
}

/** Waits `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
