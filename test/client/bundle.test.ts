// The browser bundle of parley/client: builds for the browser platform (no Node built-ins), ESM,
// minified; scripts/build-browser.mjs (run by `npm run build` and `prepare`) writes it, and the
// written bundle talks to a Socket.IO server. Sizes are reported as diagnostics (not asserted).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { WebSocket } from 'ws';
import { type Started, start } from '../realtime/helpers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

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

  it('is built by npm run build and prepare', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    for (const script of ['build', 'prepare']) {
      assert.match(pkg.scripts[script] ?? '', /node scripts\/build-browser\.mjs/, script);
    }
  });

  describe('scripts/build-browser.mjs output', () => {
    let dir: string;
    let file: string;
    let server: Started;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'parley-bundle-'));
      file = join(dir, 'parley-client.min.js');
      const out = execFileSync(
        process.execPath,
        [join(root, 'scripts/build-browser.mjs'), '--outfile', file],
        {
          encoding: 'utf8',
        },
      );
      assert.match(out, /browser bundle: .* \d+ bytes minified, \d+ bytes gzipped/);
      // Default heartbeat (not the reference's 300 + 200 ms): the test must not depend on machine load.
      server = await start();
      server.io.on('connection', (socket) => {
        socket.emit('auth', socket.handshake.auth);
        socket.on('message-with-ack', (value: unknown, ack: (v: unknown) => void) => ack(value));
      });
    });
    after(async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('writes a minified ESM file and its source map, without Node built-ins', (t) => {
      assert.ok(existsSync(`${file}.map`));
      const code = readFileSync(file, 'utf8');
      assert.doesNotMatch(code, /from\s*["']node:/);
      assert.match(code, /export\s*\{/);
      // minified: few, long lines
      assert.ok(code.split('\n').length < 10, 'minified');
      t.diagnostic(
        `written bundle: ${code.length} bytes, ${gzipSync(code, { level: 9 }).length} bytes gzipped`,
      );
    });

    for (const transport of ['polling', 'websocket'] as const) {
      it(`connects, receives events and acks over ${transport}`, async () => {
        const bundle = (await import(pathToFileURL(file).href)) as typeof import('../../src/client/index.js');
        // In Node the bundle has no WebSocket of its own to load: hand it ws's, as a page has the global one.
        const socket = bundle.io(`http://127.0.0.1:${server.port}`, {
          forceNew: true,
          reconnection: false,
          transports: [transport],
          auth: { from: 'bundle' },
          ...(transport === 'websocket' ? { WebSocket: WebSocket as never } : {}),
        });
        try {
          const auth = await new Promise<unknown>((resolve) => socket.once('auth', resolve));
          assert.deepEqual(auth, { from: 'bundle' });
          const acked = await socket.timeout(2000).emitWithAck('message-with-ack', { n: 1 });
          assert.deepEqual(acked, { n: 1 });
        } finally {
          socket.disconnect();
        }
      });
    }
  });
});
