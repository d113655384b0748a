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
 * connection. Fixed, its size is the same in both readings; the part of it that is resident still
 * varies, and memoryPer leaves that out.
 */
export const FIXED_YOUNG_GENERATION = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

/**
 * How long a reading waits after its full GC. V8 and the allocator hand freed pages back to the
 * system on background threads for up to about 100 ms after a GC: an RSS read at once still held
 * 20-40 MiB of that with 10,000 connections (parley 115 MiB at once, 76 MiB from 100 ms on).
 */
export const AFTER_GC_MS = 1000;

/**
 * This process's memory, in bytes: what `stats` and `gc` report, less the connection count.
 * `youngResident` is the part of V8's young generation in RAM: after a full GC V8 hands the young
 * generation's pages back, and whatever runs next touches them again, so it holds anything from 0.5
 * to 32 MiB of RSS at a reading, depending on what ran since the GC, not on the connections held.
 */
export function memorySnapshot() {
  const m = process.memoryUsage();
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    youngResident: young?.physical_space_size ?? 0,
  };
}

/**
 * A memory reading: two full GCs (needs --expose-gc), AFTER_GC_MS idle, then memorySnapshot().
 */
export async function collectedMemory() {
  globalThis.gc();
  globalThis.gc();
  await new Promise((resolve) => setTimeout(resolve, AFTER_GC_MS));
  return memorySnapshot();
}

/**
 * Memory per connection between two readings (each a collectedMemory() after SETTLE_MS idle, the
 * server started with FIXED_YOUNG_GENERATION), in KiB:
 *   rss    RSS less the young generation's resident pages (see memorySnapshot)
 *   young  the change in those resident pages, left out of rss (the details show it)
 *   heap   V8's heap in use
 *   external  external memory (Buffers and the like)
 * @param {ReturnType<typeof memorySnapshot>} base
 * @param {ReturnType<typeof memorySnapshot>} held
 * @param {number} conns connections held at the second reading
 */
export function memoryPer(base, held, conns) {
  const per = (k) => (held[k] - base[k]) / conns / 1024;
  return {
    rss: per('rss') - per('youngResident'),
    heap: per('heapUsed'),
    young: per('youngResident'),
    external: per('external'),
  };
}
