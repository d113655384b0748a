// Benchmark server on the `ws` package (the reference). Usage: node ws.mjs MODE PORT (see common.mjs).
import { createRequire } from 'node:module';
import { WebSocket, WebSocketServer } from 'ws';
import { parseServerArgs } from './common.mjs';
import { runWsApiServer } from './wsapi.mjs';

const { mode, port } = parseServerArgs();
const { version } = createRequire(import.meta.url)('ws/package.json');
runWsApiServer({ WebSocket, WebSocketServer }, mode, port, { engine: `ws ${version}` });
