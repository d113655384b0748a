/**
 * The reference server of the Engine.IO v4 protocol test suite (`docs/engine.io-protocol/
 * v4-test-suite` in socketio/socket.io), configured exactly as the protocol text's "Test suite"
 * section asks: `pingInterval` 300, `pingTimeout` 200, `maxPayload` 1e6, CORS `origin: '*'`, and
 * every message echoed back. Used by `parley serve --engine-io`.
 *
 * @module
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { attach, type Server } from './server.js';

/** Where the reference server listens. */
export interface ReferenceServerOptions {
  /** TCP port (default 3000, the port the test suite connects to; 0 picks a free one). */
  port?: number;
  /** Interface to bind (default: all interfaces, so `localhost` works over IPv4 and IPv6). */
  host?: string;
}

/** A running reference server. */
export interface ReferenceServer {
  /** The Engine.IO server. */
  readonly engine: Server;
  /** The http server it listens on. */
  readonly httpServer: HttpServer;
  /** The bound port. */
  readonly port: number;
  /** Closes every session and the http server. */
  close(): Promise<void>;
}

/** The reference settings from the protocol text. */
export const REFERENCE_SETTINGS = {
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  cors: { origin: '*' },
} as const;

/**
 * Starts the reference server and resolves once it listens. Rejects when the port cannot be bound.
 */
export function createReferenceServer(options: ReferenceServerOptions = {}): Promise<ReferenceServer> {
  return new Promise((resolve, reject) => {
    const httpServer = createServer((_req, res) => {
      res.writeHead(501);
      res.end('Not Implemented');
    });
    const engine = attach(httpServer, { ...REFERENCE_SETTINGS, cors: { origin: '*' } });
    engine.ownHttpServer();
    engine.on('connection', (socket) => {
      socket.on('data', (data) => socket.send(data));
    });
    const onError = (err: Error): void => {
      engine.close();
      reject(err);
    };
    httpServer.once('error', onError);
    httpServer.once('listening', () => {
      httpServer.off('error', onError);
      resolve({
        engine,
        httpServer,
        port: (httpServer.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            if (!httpServer.listening) {
              engine.close();
              done();
              return;
            }
            httpServer.once('close', () => done());
            engine.close();
          }),
      });
    });
    httpServer.listen(options.port ?? 3000, options.host);
  });
}
