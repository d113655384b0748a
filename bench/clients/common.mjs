// What the Node load generators (deflate-load.mjs, parley-load.mjs) share: their command line, the
// measurement window, and the JSON line they print, shaped like wsload's echo mode.
import { parseArgs } from 'node:util';

/**
 * Parses `--port --conns --pipeline --size --secs --binary` plus `options`; a bad number exits 2.
 * @param {string} tool name used in error messages
 * @param {{ maxSize: number, options?: import('node:util').ParseArgsConfig['options'] }} config
 */
export function parseLoadArgs(tool, { maxSize, options = {} }) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      conns: { type: 'string', default: '64' },
      pipeline: { type: 'string', default: '16' },
      size: { type: 'string', default: '64' },
      secs: { type: 'string', default: '2' },
      binary: { type: 'boolean', default: false },
      ...options,
    },
  });
  const num = (name, min, max) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min || n > max) {
      console.error(`${tool}: --${name} must be an integer in [${min}, ${max}]`);
      process.exit(2);
    }
    return n;
  };
  return {
    values,
    port: num('port', 1, 65535),
    conns: num('conns', 1, 20000),
    pipeline: num('pipeline', 1, 1024),
    size: num('size', 1, maxSize),
    secs: num('secs', 1, 600),
  };
}

/**
 * Counts echoed messages: the window opens once every connection has opened or failed, and after
 * `secs` seconds the JSON line is printed and the process exits (1 if `ok()` says so).
 * @param {{ tool: string, conns: number, size: number, pipeline: number, secs: number,
 *   fields: () => object, ok: () => boolean }} config
 */
export function createMeter({ tool, conns, size, pipeline, secs, fields, ok }) {
  const t0 = performance.now();
  const meter = {
    opened: 0,
    failed: 0,
    received: 0,
    /** Starts the window when the last connection has opened or failed. */
    maybeBegin() {
      if (startedAt || meter.opened + meter.failed < conns) return;
      startedAt = performance.now();
      base = meter.received;
      setTimeout(finish, secs * 1000);
    },
  };
  let startedAt = 0;
  let base = 0;
  function finish() {
    const el = (performance.now() - startedAt) / 1000;
    const messages = meter.received - base;
    const out = {
      ...fields(),
      connections: conns,
      open: meter.opened,
      failed: meter.failed,
      open_secs: Number(((startedAt - t0) / 1000).toFixed(3)),
      size,
      pipeline,
      messages,
      secs: Number(el.toFixed(3)),
      msgs_per_sec: Math.round(messages / el),
      mb_per_sec: Number(((messages * size) / el / 1e6).toFixed(2)),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exit(ok() ? 0 : 1);
  }
  setTimeout(() => {
    console.error(`${tool}: only ${meter.opened} of ${conns} connections opened in 60 s`);
    process.exit(1);
  }, 60_000).unref();
  return meter;
}
