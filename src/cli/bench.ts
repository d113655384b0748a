import { randomBytes } from 'node:crypto';
import { type ClientConfig, type OpenClient, openClient } from './client.js';
import { toBuffer } from './connection.js';
import { ExitCode, usageError } from './errors.js';
import { formatBytes } from './format.js';
import { bool, parseCommand, parseCount, parseSeconds, parseSize, parseWsUrl } from './options.js';

/** Parsed `parley bench` flags. */
export interface BenchConfig extends ClientConfig {
  readonly connections: number;
  readonly inFlight: number;
  readonly size: number;
  readonly durationMs: number;
  readonly binary: boolean;
  readonly json: boolean;
}

/** Result of one run; what `--json` prints. */
export interface BenchResult {
  readonly url: string;
  readonly connections: number;
  readonly inFlight: number;
  readonly size: number;
  readonly binary: boolean;
  readonly deflate: boolean;
  /** Seconds between the first send and the last reply. */
  readonly seconds: number;
  /** Round trips completed. */
  readonly messages: number;
  readonly messagesPerSecond: number;
  /** Payload megabytes (10^6) per second, one direction. */
  readonly megabytesPerSecond: number;
  /** Round-trip latency percentiles in milliseconds. */
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
  };
  readonly errors: number;
}

/** Latency samples kept (reservoir sampling beyond this), i.e. 8 MB of memory at most. */
const MAX_SAMPLES = 1_000_000;
/** How long to wait for outstanding replies after the duration ends. */
const DRAIN_MS = 5000;
/** Connections opened at the same time while ramping up. */
const OPEN_CONCURRENCY = 32;

/** Parses `parley bench` flags. */
export function parseBenchArgs(argv: readonly string[]): BenchConfig | 'help' {
  const { values, positionals } = parseCommand('bench', argv, {
    connections: { type: 'string', short: 'c' },
    'in-flight': { type: 'string', short: 'i' },
    size: { type: 'string' },
    duration: { type: 'string', short: 'd' },
    binary: { type: 'boolean', short: 'b' },
    deflate: { type: 'boolean' },
    json: { type: 'boolean' },
    insecure: { type: 'boolean', short: 'k' },
  });
  if (bool(values, 'help')) return 'help';
  if (positionals.length === 0)
    throw usageError('bench: missing URL (e.g. parley bench ws://127.0.0.1:8080)');
  if (positionals.length > 1) throw usageError(`bench: unexpected argument '${positionals[1]}'`);
  const get = (k: string) => values[k] as string | undefined;
  return {
    url: parseWsUrl(positionals[0]!),
    headers: {},
    protocols: [],
    origin: undefined,
    insecure: bool(values, 'insecure'),
    deflate: bool(values, 'deflate'),
    maxPayload: 2 ** 31,
    timeoutMs: 10_000,
    connections:
      get('connections') === undefined ? 10 : parseCount('connections', get('connections')!, 1, 50_000),
    inFlight: get('in-flight') === undefined ? 1 : parseCount('in-flight', get('in-flight')!, 1, 10_000),
    size: get('size') === undefined ? 64 : parseSize('size', get('size')!, 0, 256 * 1024 * 1024),
    durationMs: get('duration') === undefined ? 10_000 : parseSeconds('duration', get('duration')!, 3600),
    binary: bool(values, 'binary'),
    json: bool(values, 'json'),
  };
}

class Samples {
  readonly #buf = new Float64Array(MAX_SAMPLES);
  #seen = 0;

  add(ms: number): void {
    if (this.#seen < MAX_SAMPLES) this.#buf[this.#seen] = ms;
    else {
      const j = Math.floor(Math.random() * (this.#seen + 1));
      if (j < MAX_SAMPLES) this.#buf[j] = ms;
    }
    this.#seen++;
  }

  sorted(): Float64Array {
    return this.#buf.slice(0, Math.min(this.#seen, MAX_SAMPLES)).sort();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Runs the benchmark: opens the connections (failing fast, exit 3/4, if the first one cannot open),
 * keeps `inFlight` messages outstanding on each for the duration, then waits up to 5 s for replies.
 */
export async function bench(cfg: BenchConfig, progress?: (line: string) => void): Promise<BenchResult> {
  const payload: string | Buffer = cfg.binary
    ? randomBytes(cfg.size)
    : randomBytes(Math.ceil(cfg.size / 2))
        .toString('hex')
        .slice(0, cfg.size);
  const samples = new Samples();
  let messages = 0;
  let errors = 0;
  let stopping = false;
  let outstanding = 0;
  let onIdle: (() => void) | undefined;
  const sockets: OpenClient[] = [];

  // The first connection proves the URL; its failure is the command's failure.
  sockets.push(await openClient(cfg));
  for (let i = 1; i < cfg.connections; i += OPEN_CONCURRENCY) {
    const batch = Math.min(OPEN_CONCURRENCY, cfg.connections - i);
    const opened = await Promise.allSettled(Array.from({ length: batch }, () => openClient(cfg)));
    for (const r of opened) {
      if (r.status === 'fulfilled') sockets.push(r.value);
      else errors++;
    }
  }

  const started = performance.now();
  let lastReply = started;
  for (const client of sockets) {
    const ws = client.ws;
    const sentAt: number[] = [];
    let head = 0;
    const sendOne = () => {
      sentAt.push(performance.now());
      outstanding++;
      ws.send(payload, { binary: cfg.binary });
    };
    ws.on('error', () => {});
    ws.on('close', () => {
      if (!stopping) {
        errors++;
        outstanding -= sentAt.length - head;
        head = sentAt.length;
      }
    });
    client.start((data: unknown) => {
      const now = performance.now();
      const t = sentAt[head++];
      if (head > 1024) {
        sentAt.splice(0, head);
        head = 0;
      }
      if (t === undefined) {
        errors++;
        return;
      }
      outstanding--;
      if (toBuffer(data).length !== cfg.size) errors++;
      messages++;
      samples.add(now - t);
      lastReply = now;
      if (!stopping) sendOne();
      else if (outstanding === 0) onIdle?.();
    });
    for (let k = 0; k < cfg.inFlight; k++) sendOne();
  }

  let ticker: NodeJS.Timeout | undefined;
  if (progress) {
    let prev = 0;
    let prevT = started;
    ticker = setInterval(() => {
      const now = performance.now();
      const rate = ((messages - prev) * 1000) / (now - prevT);
      prev = messages;
      prevT = now;
      progress(
        `${((now - started) / 1000).toFixed(0).padStart(4)}s  ${messages.toLocaleString('en-US')} msgs  ` +
          `${Math.round(rate).toLocaleString('en-US')} msg/s  errors ${errors}`,
      );
    }, 1000);
  }
  await new Promise((r) => setTimeout(r, cfg.durationMs));
  stopping = true;
  if (ticker) clearInterval(ticker);
  if (outstanding > 0) {
    await new Promise<void>((r) => {
      onIdle = r;
      setTimeout(r, DRAIN_MS).unref();
    });
  }
  errors += Math.max(0, outstanding);
  await Promise.all(
    sockets.map(
      ({ ws }) =>
        new Promise<void>((r) => {
          if (ws.readyState === 3) return r();
          ws.once('close', () => r());
          ws.close(1000);
          setTimeout(() => {
            ws.terminate();
            r();
          }, 2000).unref();
        }),
    ),
  );
  const seconds = Math.max(1e-6, (lastReply - started) / 1000);
  const sorted = samples.sorted();
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    url: cfg.url.href,
    connections: cfg.connections,
    inFlight: cfg.inFlight,
    size: cfg.size,
    binary: cfg.binary,
    deflate: cfg.deflate,
    seconds: round(seconds),
    messages,
    messagesPerSecond: Math.round(messages / seconds),
    megabytesPerSecond: round((messages * cfg.size) / seconds / 1e6),
    latencyMs: {
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.length ? sorted[sorted.length - 1]! : 0),
    },
    errors,
  };
}

/** Formats a result as the table `parley bench` prints. */
export function formatBenchTable(r: BenchResult): string {
  const rows: [string, string][] = [
    ['target', r.url],
    ['connections', `${r.connections} x ${r.inFlight} in flight`],
    [
      'message',
      `${formatBytes(r.size)} ${r.binary ? 'binary' : 'text'}${r.deflate ? ', deflate offered' : ''}`,
    ],
    ['duration', `${r.seconds.toFixed(2)} s`],
    ['round trips', r.messages.toLocaleString('en-US')],
    ['messages/s', r.messagesPerSecond.toLocaleString('en-US')],
    ['MB/s', `${r.megabytesPerSecond.toFixed(2)} (payload, each way)`],
    ['latency p50', `${r.latencyMs.p50.toFixed(3)} ms`],
    ['latency p90', `${r.latencyMs.p90.toFixed(3)} ms`],
    ['latency p99', `${r.latencyMs.p99.toFixed(3)} ms`],
    ['latency max', `${r.latencyMs.max.toFixed(3)} ms`],
    ['errors', String(r.errors)],
  ];
  return `${rows.map(([k, v]) => `${k.padEnd(13)} ${v}`).join('\n')}\n`;
}

/** `parley bench URL`: exit 0 when no error was counted, 1 otherwise (3/4 if it cannot connect). */
export async function runBench(argv: readonly string[], printHelp: () => void): Promise<number> {
  const cfg = parseBenchArgs(argv);
  if (cfg === 'help') {
    printHelp();
    return 0;
  }
  const tty = process.stderr.isTTY === true;
  const progress = tty ? (line: string) => process.stderr.write(`\r\x1b[2K${line}`) : undefined;
  const result = await bench(cfg, progress);
  if (tty) process.stderr.write('\r\x1b[2K');
  process.stdout.write(cfg.json ? `${JSON.stringify(result, null, 2)}\n` : formatBenchTable(result));
  return result.errors === 0 ? ExitCode.OK : ExitCode.FAILURE;
}
