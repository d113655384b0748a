#!/usr/bin/env node
// Prints where a V8 CPU profile (node --cpu-prof, or bench/run.mjs --profile DIR) spent its time:
// self time per function, as a share of the busy (non-idle) time, heaviest first.
//
//   node bench/cpuprofile-top.mjs FILE.cpuprofile [N=25]
import fs from 'node:fs';

const [file, count = '25'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/cpuprofile-top.mjs FILE.cpuprofile [N]');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const perNode = new Map();
profile.samples.forEach((id, i) => {
  perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const perFunction = new Map();
let busy = 0;
let idle = 0;
for (const [id, us] of perNode) {
  const { functionName, url, lineNumber } = nodes.get(id).callFrame;
  if (functionName === '(idle)') {
    idle += us;
    continue;
  }
  const where = url
    ? ` ${url
        .replace(/^file:\/\//, '')
        .split('/')
        .slice(-2)
        .join('/')}:${lineNumber + 1}`
    : '';
  const key = `${functionName || '(anonymous)'}${where}`;
  perFunction.set(key, (perFunction.get(key) ?? 0) + us);
  busy += us;
}
console.log(`${file}: busy ${(busy / 1e6).toFixed(2)} s, idle ${(idle / 1e6).toFixed(2)} s`);
const top = [...perFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(count));
for (const [key, us] of top) console.log(`${((100 * us) / busy).toFixed(1).padStart(5)}%  ${key}`);
