// The memory reading of the benchmarks' memory workloads, shared by the benchmark servers (their
// `stats` and `gc` answers), bench/run.mjs ((e) and (i)m) and bench/upgrade-floor.mjs. No side
// effects: importing it registers nothing.
import { getHeapSpaceStatistics } from 'node:v8';

/**
 * How long the memory workloads leave a server idle before each reading (see memoryPer).
 */
export const SETTLE_MS = 12_000;

/** This process's memory, in bytes: what `stats` and `gc` report, less the connection count. */
export function memorySnapshot() {
  const m = process.memoryUsage();
  // V8's young generation (committed): sized by the allocation rate, not by the connections held
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, young };
}

/**
 * Memory per connection between two readings (each taken after SETTLE_MS idle and a full GC), in
 * KiB: RSS less the change in V8's young generation (`rss`), and, as they are, the raw RSS
 * (`rawRss`), the heap, the young generation and external memory. V8 sizes the young generation by
 * the allocation rate, caps it, and never sizes it by the connections held; its memory reducer,
 * which shrinks it after about 8 s without allocation, does not always run by a reading, and up to
 * 16 MiB (1.6-3.2 KiB per connection of 10,000) of it then lands in one reading or the other.
 * @param {{ rss: number, heapUsed: number, external: number, young: number }} base
 * @param {{ rss: number, heapUsed: number, external: number, young: number }} held
 * @param {number} conns connections held at the second reading
 */
export function memoryPer(base, held, conns) {
  const per = (k) => (held[k] - base[k]) / conns / 1024;
  return {
    rss: per('rss') - per('young'),
    rawRss: per('rss'),
    heap: per('heapUsed'),
    young: per('young'),
    external: per('external'),
  };
}
