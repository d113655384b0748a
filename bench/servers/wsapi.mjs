// The one server body behind parley.mjs and ws.mjs: both take the `ws` package's documented API
// (WebSocketServer with the `server` option, 'connection'/'message' events, send(data, { binary })),
// so the code under test is identical and only the engine differs.
import { createServer } from 'node:http';
import { ready, unsupported } from './common.mjs';

const noop = () => {};

/**
 * Starts a ws-API server on 127.0.0.1 in one of the benchmark modes.
 *   echo          every message straight back, same type; no compression
 *   deflate       echo with permessage-deflate (threshold 0: every message compressed; each engine's
 *                 zlib defaults, or the level in $BENCH_DEFLATE_LEVEL)
 *   broadcast     ws's usual broadcast loop: each message goes to every open client, the sender
 *                 included (the publisher counts its own copies to pace itself)
 *   broadcast-api the engine's own broadcast entry point, parley's
 *                 `wss.broadcast(data, { binary })` (frame built once for all), when it
 *                 has one (exit status 3 otherwise)
 * @param {{ WebSocketServer: any, WebSocket: any }} api the engine's exports
 * @param {string} mode
 * @param {number} port
 * @param {Record<string, unknown>} info extra fields for the ready line
 */
export function runWsApiServer(api, mode, port, info) {
  const { WebSocketServer, WebSocket } = api;
  const OPEN = WebSocket.OPEN;
  const http = createServer((_req, res) => {
    res.writeHead(426, { connection: 'close' });
    res.end();
  });
  // BENCH_DEFLATE_LEVEL (bench/run.mjs --deflate-level): the same zlib level for every engine
  const level = process.env.BENCH_DEFLATE_LEVEL;
  const deflate = { threshold: 0, ...(level ? { zlibDeflateOptions: { level: Number(level) } } : {}) };
  const wss = new WebSocketServer({
    server: http,
    perMessageDeflate: mode === 'deflate' ? deflate : false,
  });
  wss.on('error', (err) => console.error(`server error: ${err.message}`));

  if (mode === 'echo' || mode === 'deflate') {
    wss.on('connection', (ws) => {
      ws.on('error', noop);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  } else if (mode === 'broadcast') {
    // As in ws's README ("broadcast to all connected clients, including itself").
    wss.on('connection', (ws) => {
      ws.on('error', noop);
      ws.on('message', (data, isBinary) => {
        wss.clients.forEach((client) => {
          if (client.readyState === OPEN) client.send(data, { binary: isBinary });
        });
      });
    });
  } else if (mode === 'broadcast-api') {
    if (typeof wss.broadcast !== 'function') unsupported('this engine has no WebSocketServer#broadcast');
    wss.on('connection', (ws) => {
      ws.on('error', noop);
      ws.on('message', (data, isBinary) => wss.broadcast(data, { binary: isBinary }));
    });
  } else unsupported(`mode ${mode}`);

  http.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
    ready(http.address().port, () => wss.clients.size, info);
  });
}
