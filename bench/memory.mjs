// The memory reading of the benchmarks' memory workloads, shared by the benchmark servers (their
// `stats` and `gc` answers), bench/run.mjs ((e) and (i)m) and bench/upgrade-floor.mjs. No side
// effects: importing it registers nothing.
import { getHeapSpaceStatistics } from 'node:v8';

/**
 * How long the memory workloads leave a server idle before each reading (see memoryPer).
 */
export const SETTLE_MS = 12_000;

/**
 * Node flags for a server whose memory is read: V8's young generation fixed at its usual cap (two
 * 16 MiB semi-spaces). By default V8 grows it with the allocation rate and its memory reducer
 * shrinks it after some idle seconds, or not, by the time of a reading: up to 1.6-3.2 KiB per
 * connection of 10,000 then lands in one reading or the other, whatever the server holds per
 * connection. Fixed, it is the same in both readings and drops out of the difference.
 */
export const FIXED_YOUNG_GENERATION = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

/** This process's memory, in bytes: what `stats` and `gc` report, less the connection count. */
export function memorySnapshot() {
  const m = process.memoryUsage();
  // V8's young generation (committed): sized by the allocation rate, not by the connections held
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, young };
}

/**
 * Memory per connection between two readings (each taken after SETTLE_MS idle and a full GC, the
 * server started with FIXED_YOUNG_GENERATION), in KiB: RSS, the heap, the change in V8's young
 * generation (0 unless V8 resized it anyway: the details show it) and external memory.
 * @param {{ rss: number, heapUsed: number, external: number, young: number }} base
 * @param {{ rss: number, heapUsed: number, external: number, young: number }} held
 * @param {number} conns connections held at the second reading
 */
export function memoryPer(base, held, conns) {
  const per = (k) => (held[k] - base[k]) / conns / 1024;
  return { rss: per('rss'), heap: per('heapUsed'), young: per('young'), external: per('external') };
}
