// permessage-deflate's compression on node:zlib (src/node/deflate.ts): the synchronous path for
// small messages and the thread-pool path for large ones share one context (context takeover), and
// what they produce is what a plain RFC 7692 receiver inflates; hostile input fails cleanly.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { PerMessageDeflate } from '../../src/node/deflate.js';
import { ProtocolError } from '../../src/protocol/errors.js';
import type { DeflateParams } from '../../src/protocol/index.js';

const TAKEOVER: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Compresses one whole message the way WebSocket.send does: sync when it may, else on the pool. */
function compress(pmd: PerMessageDeflate, data: Buffer): Promise<Buffer> {
  const out = pmd.compressSync(data, true);
  if (out !== null) return Promise.resolve(out);
  return new Promise((resolve, reject) =>
    pmd.compress(data, true, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

/** Inflates one message the way WebSocket does: sync when it may, else on the pool. */
function decompress(pmd: PerMessageDeflate, parts: Buffer[]): Promise<Buffer> {
  const out = pmd.decompressSync(parts);
  if (out instanceof ProtocolError) return Promise.reject(out);
  if (out !== null) return Promise.resolve(out);
  return new Promise((resolve, reject) =>
    pmd.decompress(parts, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

/** A plain receiver: one raw inflate context, 00 00 ff ff appended to every message. */
function peerInflater(): (payload: Buffer) => Promise<Buffer> {
  const inflate = zlib.createInflateRaw({ windowBits: 15 });
  const chunks: Buffer[] = [];
  inflate.on('data', (chunk: Buffer) => chunks.push(chunk));
  return (payload) =>
    new Promise((resolve) => {
      inflate.write(payload);
      inflate.write(TRAILER);
      inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve(Buffer.concat(chunks.splice(0))));
    });
}

describe('PerMessageDeflate', () => {
  test('small (sync) and large (thread pool) messages share one context a plain receiver follows', async () => {
    const pmd = new PerMessageDeflate(TAKEOVER, true, 0, { threshold: 0, syncMaxSize: 1024 });
    const inflate = peerInflater();
    const messages = [
      Buffer.from('hello hello hello'),
      Buffer.alloc(0), // an empty message right after a flush: zlib writes nothing, we must write 0x00
      Buffer.alloc(0),
      Buffer.from('x'.repeat(70_000)), // over syncMaxSize: thread pool
      Buffer.from('hello again'),
      Buffer.alloc(0),
      Buffer.from('y'.repeat(5000)),
    ];
    for (const message of messages) {
      const payload = await compress(pmd, message);
      assert.deepEqual(await inflate(payload), message);
    }
    pmd.close();
  });

  test('an idle deflate context is released; the next message starts afresh, still readable', async () => {
    const pmd = new PerMessageDeflate(TAKEOVER, true, 0, { threshold: 0, releaseIdleAfter: 40 });
    const inflate = peerInflater();
    const first = Buffer.from('the same words, the same words, again');
    assert.deepEqual(await inflate(await compress(pmd, first)), first);
    assert.equal(pmd.hasDeflateContext, true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(pmd.hasDeflateContext, false);
    // The peer keeps its window (context takeover); ours refers to nothing before this message.
    const again = await compress(pmd, first);
    assert.deepEqual(await inflate(again), first);
    assert.equal(pmd.hasDeflateContext, true);
    pmd.close();
  });

  test('syncMaxSize 0 sends everything to the thread pool', () => {
    const pmd = new PerMessageDeflate(TAKEOVER, true, 0, { syncMaxSize: 0 });
    assert.equal(pmd.compressSync(Buffer.from('abc'), true), null);
    assert.equal(pmd.decompressSync([Buffer.from([0x4b, 0x4c, 0x4a, 0x06, 0x00])]), null);
    pmd.close();
  });

  test('inflates what a peer with context takeover sends, sync and pooled alike', async () => {
    const sender = zlib.createDeflateRaw({ windowBits: 15 });
    const chunks: Buffer[] = [];
    sender.on('data', (chunk: Buffer) => chunks.push(chunk));
    const send = (data: Buffer): Promise<Buffer> =>
      new Promise((resolve) => {
        sender.write(data);
        sender.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          const out = Buffer.concat(chunks.splice(0));
          resolve(out.subarray(0, out.length - 4));
        });
      });
    const pmd = new PerMessageDeflate(TAKEOVER, true, 0, { syncMaxSize: 64 });
    const messages = ['abcabcabc', 'z'.repeat(100_000), 'abcabcabc', 'random-ish text 0123456789'.repeat(20)];
    for (const text of messages) {
      const payload = await send(Buffer.from(text));
      // Split in two frames' payloads, as a fragmented message arrives.
      const cut = payload.length >> 1;
      const out = await decompress(pmd, [payload.subarray(0, cut), payload.subarray(cut)]);
      assert.equal(out.toString(), text);
    }
    sender.close();
    pmd.close();
  });

  test('a message over maxPayload once inflated fails with 1009 on the sync path', async () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    assert.ok(bomb.length < 16 * 1024);
    const pmd = new PerMessageDeflate(TAKEOVER, true, 64 * 1024, {});
    const result = pmd.decompressSync([bomb.subarray(0, bomb.length - 4)]);
    assert.ok(result instanceof ProtocolError);
    assert.equal(result.closeCode, 1009);
    pmd.close();
  });

  test('invalid deflate data fails with 1007 on the sync path, with no uncaught error', async () => {
    const pmd = new PerMessageDeflate(TAKEOVER, true, 0, {});
    const result = pmd.decompressSync([Buffer.from([0xff, 0xff, 0xff, 0xff, 0x00])]);
    assert.ok(result instanceof ProtocolError);
    assert.equal(result.closeCode, 1007);
    // The destroyed zlib stream emits its error on a later tick: it must find a listener.
    await new Promise((resolve) => setImmediate(resolve));
    pmd.close();
  });
});
