import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * parley's version, read once from the package.json next to the compiled CLI
 * (`dist/src/cli/` -> `../../../package.json`). Returns `0.0.0-unknown` if it cannot be read.
 */
export function version(): string {
  if (cached === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
        version?: unknown;
      };
      cached = typeof pkg.version === 'string' ? pkg.version : '0.0.0-unknown';
    } catch {
      cached = '0.0.0-unknown';
    }
  }
  return cached;
}
