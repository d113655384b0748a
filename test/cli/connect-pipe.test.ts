import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type CliServer, closed, nextMessage, runCli, startCliServer, wsClient } from './helpers.js';

describe('parley serve --echo with parley connect in pipe mode', () => {
  let server: CliServer;
  before(async () => {
    server = await startCliServer(['serve', '--echo', '--port', '0']);
  });
  after(async () => {
    await server.stop();
  });

  test('each stdin line is one message and every echo is printed before exit 0', async () => {
    const run = await runCli(['connect', server.url], { input: 'hello\nworld\n\nlast line without newline' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'hello\nworld\n\nlast line without newline\n');
  });

  test('echo hi | parley connect prints the echo', async () => {
    const run = await runCli(['connect', server.url.replace('ws://', '')], { input: 'hi\n' });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'hi\n');
  });

  test('--binary sends binary messages and --deflate negotiates compression', async () => {
    const run = await runCli(['connect', server.url, '--binary', '--deflate'], {
      input: `${'x'.repeat(5000)}\nbytes\n`,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${'x'.repeat(5000)}\nbytes\n`);
  });

  test('many lines keep their order', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i}`);
    const run = await runCli(['connect', server.url], { input: `${lines.join('\n')}\n` });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(run.stdout.split('\n').slice(0, -1), lines);
  });

  test('the echo server keeps the message type (text stays text, binary stays binary)', async () => {
    const ws = await wsClient(server.url);
    ws.send('text');
    const [t, tBinary] = await nextMessage(ws);
    assert.equal(t.toString(), 'text');
    assert.equal(tBinary, false);
    ws.send(Buffer.from([0, 1, 2, 255]));
    const [b, bBinary] = await nextMessage(ws);
    assert.deepEqual([...b], [0, 1, 2, 255]);
    assert.equal(bBinary, true);
    const done = closed(ws);
    ws.close(1000);
    assert.deepEqual(await done, [1000, '']);
  });

  test('a 1 MiB message is echoed whole (default max payload is large)', async () => {
    const ws = await wsClient(server.url);
    const big = Buffer.alloc(1 << 20, 7);
    ws.send(big);
    const [echo] = await nextMessage(ws);
    assert.equal(echo.length, big.length);
    ws.close();
    await closed(ws);
  });

  test('the server logs one line per connection opened and closed', async () => {
    await runCli(['connect', `${server.url}logged?x=1`], { input: 'a\n' });
    await server.waitForLog(/open {2}#\d+ 127\.0\.0\.1:\d+ \/logged\?x=1/);
    const m = await server.waitForLog(
      /close #\d+ 127\.0\.0\.1:\d+ \/logged\?x=1 code=1000 \S+ in=.*\/1 msgs out=.*\/1 msgs/,
    );
    assert.ok(m);
  });
});

describe('serve --deflate', () => {
  test('negotiates permessage-deflate with a client that offers it', async (t) => {
    const server = await startCliServer(['serve', '--echo', '--deflate', '--port', '0', '--quiet']);
    t.after(() => server.stop());
    const ws = await wsClient(server.url, { perMessageDeflate: true });
    assert.match(ws.extensions, /permessage-deflate/);
    ws.send('z'.repeat(10_000));
    const [echo] = await nextMessage(ws);
    assert.equal(echo.toString(), 'z'.repeat(10_000));
    ws.close();
    await closed(ws);
    assert.doesNotMatch(server.log(), /open {2}#/, '--quiet drops per-connection lines');
  });
});
