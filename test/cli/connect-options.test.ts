import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocketServer } from 'ws';
import { runCli } from './helpers.js';

test('connect sends -H headers, --auth, --origin and --subprotocol, and pings with --ping-interval', async (t) => {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    handleProtocols: (protocols) => (protocols.has('chat.v2') ? 'chat.v2' : false),
  });
  await once(wss, 'listening');
  t.after(() => new Promise((r) => wss.close(r)));
  let pings = 0;
  wss.on('connection', (ws, req: IncomingMessage) => {
    ws.on('ping', () => pings++);
    ws.send(
      JSON.stringify({
        token: req.headers['x-token'],
        auth: req.headers.authorization,
        origin: req.headers.origin,
        offered: String(req.headers['sec-websocket-protocol']).split(/\s*,\s*/),
        chosen: ws.protocol,
      }),
    );
  });
  const port = (wss.address() as AddressInfo).port;
  const r = await runCli(
    [
      'connect',
      `ws://127.0.0.1:${port}/`,
      '-H',
      'X-Token: abc 123',
      '--auth',
      'ann:s3cret',
      '--origin',
      'https://app.example',
      '--subprotocol',
      'chat.v1,chat.v2',
      '--ping-interval',
      '0.2',
      '--wait',
      '1',
    ],
    { input: '' },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    token: 'abc 123',
    auth: `Basic ${Buffer.from('ann:s3cret').toString('base64')}`,
    origin: 'https://app.example',
    offered: ['chat.v1', 'chat.v2'],
    chosen: 'chat.v2',
  });
  assert.ok(pings >= 2, `expected pings during the 1 s wait, got ${pings}`);
});

test('credentials in the URL become Basic authorization', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(wss, 'listening');
  t.after(() => new Promise((r) => wss.close(r)));
  wss.on('connection', (ws, req) => ws.send(String(req.headers.authorization)));
  const port = (wss.address() as AddressInfo).port;
  const r = await runCli(['connect', `ws://bob:pw%21@127.0.0.1:${port}/`, '--wait', '0.5'], { input: '' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `Basic ${Buffer.from('bob:pw!').toString('base64')}\n`);
});
