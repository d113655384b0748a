import { type ParseArgsConfig, parseArgs } from 'node:util';
import { CliError, usageError } from './errors.js';

/** Option table in node:util parseArgs' format. */
export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Parsed flags: strings, booleans, or arrays of strings for `multiple` options. */
export type ParsedValues = Record<string, string | boolean | string[] | undefined>;

/**
 * Parses `argv` (the arguments after the command name) strictly with node:util parseArgs, turning
 * its errors into one-line usage errors (exit 2). Cost: linear in the number of arguments.
 */
export function parseCommand(
  command: string,
  argv: readonly string[],
  options: OptionSpec,
): { values: ParsedValues; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' }, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedValues, positionals };
  } catch (err) {
    const message = (err as Error).message.split(/\n|\. /)[0]!.replace(/\.$/, '');
    throw usageError(`${command}: ${lowerFirst(message)}`);
  }
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

/** Returns a string flag or undefined (parseArgs guarantees the type from the spec). */
export function str(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Returns a boolean flag (false when absent). */
export function bool(values: ParsedValues, name: string): boolean {
  return values[name] === true;
}

/** Returns a `multiple` string flag as an array (empty when absent). */
export function list(values: ParsedValues, name: string): string[] {
  const v = values[name];
  return Array.isArray(v) ? v : typeof v === 'string' ? [v] : [];
}

/** Parses a TCP port (0-65535); `flag` names the option in the error message. */
export function parsePort(flag: string, text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw usageError(`--${flag}: expected a port number 0-65535, got '${text}'`);
  }
  return Number(text);
}

/** Parses a non-negative integer with an upper bound. */
export function parseCount(flag: string, text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw usageError(`--${flag}: expected an integer ${min}-${max}, got '${text}'`);
  }
  return Number(text);
}

/** Parses seconds (decimals allowed, e.g. `0.5`) into milliseconds; must be > 0 and <= `maxSeconds`. */
export function parseSeconds(flag: string, text: string, maxSeconds = 86_400): number {
  if (!/^\d+(\.\d+)?$/.test(text) || Number(text) <= 0 || Number(text) > maxSeconds) {
    throw usageError(`--${flag}: expected a number of seconds > 0 and <= ${maxSeconds}, got '${text}'`);
  }
  return Math.round(Number(text) * 1000);
}

const sizeUnits = new Map<string, number>([
  ['', 1],
  ['b', 1],
  ['k', 1024],
  ['kb', 1024],
  ['kib', 1024],
  ['m', 1 << 20],
  ['mb', 1 << 20],
  ['mib', 1 << 20],
  ['g', 1 << 30],
  ['gb', 1 << 30],
  ['gib', 1 << 30],
]);

/**
 * Parses a byte size: a plain integer or one with a binary suffix (`64k`, `16MiB`, `1g`; k = 1024).
 * Must be within [min, max].
 */
export function parseSize(flag: string, text: string, min = 0, max = 2 ** 31): number {
  const m = /^(\d+)\s*([a-z]*)$/i.exec(text);
  const unit = m ? sizeUnits.get(m[2]!.toLowerCase()) : undefined;
  if (!m || unit === undefined) {
    throw usageError(`--${flag}: expected a size such as 1024, 64k or 16MiB, got '${text}'`);
  }
  const n = Number(m[1]) * unit;
  if (n < min || n > max) throw usageError(`--${flag}: size must be between ${min} and ${max} bytes`);
  return n;
}

/**
 * Validates a ws:// or wss:// URL (http/https are accepted and mapped to ws/wss, a bare `host:port`
 * gets `ws://`). Throws a usage error (exit 2) naming what is wrong.
 */
export function parseWsUrl(text: string): URL {
  let candidate = text;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(candidate)) candidate = `ws://${candidate}`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new CliError('PARLEY_CLI_BAD_URL', `invalid URL '${text}'`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new CliError('PARLEY_CLI_BAD_URL', `invalid URL '${text}': scheme must be ws: or wss:`);
  }
  if (url.hostname === '') throw new CliError('PARLEY_CLI_BAD_URL', `invalid URL '${text}': no host`);
  if (url.hash !== '')
    throw new CliError('PARLEY_CLI_BAD_URL', `invalid URL '${text}': fragments are not allowed`);
  return url;
}
