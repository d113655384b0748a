// The one server body behind parley-io.mjs and socketio.mjs, for the realtime workloads of issue 5:
// both take socket.io's documented API (`new Server(httpServer, opts)`, 'connection', socket.on /
// socket.emit), so the code under test is identical and only the implementation differs.
//   sio   every `echo` event goes straight back to its sender as an `echo` event (wsload -m sio);
//         the connection count of the stats line is the main namespace's connected sockets
// Both run with their defaults (websocket and polling allowed, no compression: permessage-deflate
// is off by default in both).
import { createServer } from 'node:http';
import { ready, unsupported } from './common.mjs';

/**
 * @param {{ Server: any }} api the implementation's exports
 * @param {string} mode
 * @param {number} port
 * @param {Record<string, unknown>} info extra fields for the ready line
 */
export function runRealtimeServer(api, mode, port, info) {
  if (mode !== 'sio') unsupported(`mode ${mode}`);
  const http = createServer();
  const io = new api.Server(http, { serveClient: false });
  io.on('connection', (socket) => {
    socket.on('echo', (data) => socket.emit('echo', data));
  });
  http.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
    ready(http.address().port, () => io.of('/').sockets.size, info);
  });
}
