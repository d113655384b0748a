// Benchmark server on parley's Socket.IO-compatible server (parley/realtime), as built in
// dist/src/realtime/index.js. Usage: node parley-io.mjs sio PORT (see common.mjs, realtime.mjs).
import { parseServerArgs } from './common.mjs';
import { runRealtimeServer } from './realtime.mjs';

const { mode, port } = parseServerArgs();
const realtime = await import('../../dist/src/realtime/index.js');
runRealtimeServer(realtime, mode, port, { engine: 'parley/realtime' });
