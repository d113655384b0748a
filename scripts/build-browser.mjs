#!/usr/bin/env node
// Builds the browser bundle of parley/client: dist/browser/parley-client.min.js, ESM, minified, no
// Node built-ins, with a source map. Run by `npm run build` and `prepare` after tsc; bundles the
// TypeScript sources directly, so it does not depend on the tsc output. Prints the size.
// `--outfile PATH` writes elsewhere (test/client/bundle.test.ts builds into a temporary directory).
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { outfile: { type: 'string' } } });
const outfile = values.outfile ? resolve(values.outfile) : join(root, 'dist/browser/parley-client.min.js');
mkdirSync(dirname(outfile), { recursive: true });

await build({
  entryPoints: [join(root, 'src/client/index.ts')],
  outfile,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const code = readFileSync(outfile);
console.log(
  `browser bundle: ${relative(process.cwd(), outfile)} ${code.length} bytes minified, ` +
    `${gzipSync(code, { level: 9 }).length} bytes gzipped`,
);
