// Preloaded into a benchmark server by bench/allocations.mjs (`node --import ./bench/alloc-sampler.mjs
// bench/servers/NAME.mjs ...`): V8's sampling heap profiler, counting every sampled allocation,
// the garbage included. The first SIGUSR2 starts sampling; the second stops it and prints one line
// to stderr, `ALLOC {"bytes":N,"sites":[[where, bytes], ...]}`: the bytes allocated meanwhile (an
// estimate from one sample per 512 bytes on average) and the ten sites that allocated most, each
// as its function and two callers.
import { Session } from 'node:inspector/promises';

const SAMPLING_INTERVAL = 512;
const session = new Session();
session.connect();
let sampling = false;

process.on('SIGUSR2', () => {
  sampling = !sampling;
  (sampling ? start() : stop()).catch((error) => {
    process.stderr.write(`alloc-sampler: ${error.message}\n`);
  });
});

async function start() {
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: SAMPLING_INTERVAL,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

async function stop() {
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const sites = new Map();
  let bytes = 0;
  const walk = (node, callers) => {
    const frame = node.callFrame;
    const here = `${frame.functionName || '(anonymous)'} ${frame.url.split('/').pop()}:${frame.lineNumber + 1}`;
    const stack = [here, ...callers].slice(0, 3);
    if (node.selfSize > 0) {
      const key = stack.join(' <- ');
      sites.set(key, (sites.get(key) ?? 0) + node.selfSize);
      bytes += node.selfSize;
    }
    for (const child of node.children) walk(child, stack);
  };
  walk(profile.head, []);
  const top = [...sites].sort((a, b) => b[1] - a[1]).slice(0, 10);
  process.stderr.write(`ALLOC ${JSON.stringify({ bytes, sites: top })}\n`);
}
