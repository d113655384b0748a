// The browser bundle of parley/client: builds for the browser platform (no Node built-ins), ESM,
// minified; its size is reported as a diagnostic (not asserted).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

describe('parley/client browser bundle', () => {
  it('bundles for browsers without Node built-ins', async (t) => {
    const entry = fileURLToPath(new URL('../../src/client/index.js', import.meta.url));
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      minify: true,
      write: false,
      logLevel: 'silent',
    });
    assert.equal(result.errors.length, 0);
    const code = result.outputFiles[0]!.text;
    assert.doesNotMatch(code, /from\s*["']node:/);
    assert.doesNotMatch(code, /require\(["'](node:)?(http|net|zlib|crypto|stream)["']\)/);
    assert.match(code, /export\s*\{/);
    t.diagnostic(
      `parley/client bundle: ${code.length} bytes minified, ${gzipSync(code).length} bytes gzipped`,
    );
  });
});
