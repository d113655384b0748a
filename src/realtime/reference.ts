/**
 * The reference server of the Socket.IO v5 protocol test suite (`docs/socket.io-protocol/
 * v5-test-suite` in socketio/socket.io), configured exactly as the protocol text's "Test suite"
 * section asks: `pingInterval` 300, `pingTimeout` 200, `maxPayload` 1e6, `connectTimeout` 1000,
 * CORS `origin: '*'`; on `/` it emits `auth` with the handshake's auth, echoes `message` as
 * `message-back` and acknowledges `message-with-ack` with its arguments; on `/custom` it emits `auth`.
 * For `parley serve --io` and the conformance run.
 *
 * @module
 */

import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REFERENCE_SETTINGS as ENGINE_REFERENCE_SETTINGS } from '../engine/reference.js';
import type { EngineServerConstructor } from './engine.js';
import { Server } from './server.js';

/** Where the reference server listens. */
export interface ReferenceServerOptions {
  /** TCP port (default 3000, the port the test suite connects to; 0 picks a free one). */
  port?: number;
  /** Interface to bind (default: all interfaces). */
  host?: string;
  /** Engine.IO server constructor (default: parley's engine). */
  engine?: EngineServerConstructor;
}

/** A running reference server. */
export interface ReferenceServer {
  /** The Socket.IO server. */
  readonly io: Server;
  /** The http server it listens on. */
  readonly httpServer: HttpServer;
  /** The bound port. */
  readonly port: number;
  /** Closes every session and the http server. */
  close(): Promise<void>;
}

/** The reference settings from the protocol text: the Engine.IO reference's, and a 1 s connect timeout. */
export const REFERENCE_SETTINGS = { ...ENGINE_REFERENCE_SETTINGS, connectTimeout: 1000 } as const;

/** Starts the reference server and resolves once it listens. Rejects when the port cannot be bound. */
export function createReferenceServer(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  return new Promise((resolve, reject) => {
    const httpServer = createServer();
    const io = new Server(httpServer, {
      ...REFERENCE_SETTINGS,
      cors: { origin: '*' },
      ...(options.engine ? { engine: options.engine } : {}),
    });
    io.on('connection', (socket) => {
      socket.emit('auth', socket.handshake.auth);
      socket.on('message', (...args: unknown[]) => {
        socket.emit('message-back', ...args);
      });
      socket.on('message-with-ack', (...args: unknown[]) => {
        const ack = args.pop();
        if (typeof ack === 'function') ack(...args);
      });
    });
    io.of('/custom').on('connection', (socket) => {
      socket.emit('auth', socket.handshake.auth);
    });
    const onError = (err: Error): void => {
      void io.close();
      reject(err);
    };
    httpServer.once('error', onError);
    httpServer.once('listening', () => {
      httpServer.off('error', onError);
      resolve({
        io,
        httpServer,
        port: (httpServer.address() as AddressInfo).port,
        close: () => io.close(),
      });
    });
    httpServer.listen(options.port ?? 3000, options.host);
  });
}
