// Benchmark server on the socket.io package (dev dependency; its websocket transport runs on ws).
// Usage: node socketio.mjs sio PORT (see common.mjs, realtime.mjs).
import { parseServerArgs } from './common.mjs';
import { runRealtimeServer } from './realtime.mjs';

const { mode, port } = parseServerArgs();
const { Server } = await import('socket.io');
runRealtimeServer({ Server }, mode, port, { engine: 'socket.io' });
