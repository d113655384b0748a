// Benchmark server on parley's ws-compatible API, as built in dist/src/index.js (run
// `npx tsc -p tsconfig.json` first). Usage: node parley.mjs MODE PORT (see common.mjs).
// Whatever engine src/index.ts exports at the time is what gets measured: bench/run.mjs reports
// whether that was still the `ws` stand-in.
import { parseServerArgs } from './common.mjs';
import { runWsApiServer } from './wsapi.mjs';

const { mode, port } = parseServerArgs();
const parley = await import('../../dist/src/index.js');
runWsApiServer(parley, mode, port, { engine: 'parley' });
