// takeWholeMessages, the receiver-less shortcut for whole single-frame messages: on every stream it
// must deliver what a Receiver alone would, stop where it cannot, leave the bytes from there as
// they came (still masked), and stop when the handler pauses.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Defaults,
  Opcode,
  Receiver,
  type ReceiverOptions,
  takeWholeMessages,
  type WholeMessageHandler,
} from '../../src/protocol/index.js';
import { type Event, feedWhole, frame, Recorder, RFC_MASK } from './helpers.js';

const SERVER: ReceiverOptions = { isServer: true };
const CLIENT: ReceiverOptions = { isServer: false };
const MASKS = [RFC_MASK, Uint8Array.of(0xff, 0x80, 0x01, 0x7e), Uint8Array.of(0, 0, 0, 0)];

/** Records into `recorder`; `pauseAfter` messages in, reports itself paused. */
class Shortcut implements WholeMessageHandler {
  delivered = 0;
  constructor(
    readonly recorder: Recorder,
    readonly pauseAfter = Number.POSITIVE_INFINITY,
  ) {}
  get isPaused(): boolean {
    return this.delivered >= this.pauseAfter;
  }
  onMessage(data: Buffer, isBinary: boolean): void {
    this.delivered++;
    this.recorder.onMessage(data, isBinary);
  }
}

/** The shortcut on a copy of `bytes`, then a Receiver on the rest: the events, and where it stopped. */
function viaShortcut(options: ReceiverOptions, bytes: Uint8Array): { events: Event[]; offset: number } {
  const chunk = Buffer.from(bytes);
  const recorder = new Recorder();
  const offset = takeWholeMessages(
    chunk,
    new Shortcut(recorder),
    options.isServer,
    options.maxPayload ?? Defaults.maxPayload,
    options.skipUtf8Validation ?? false,
  );
  // What it did not take is still as it came.
  assert.deepEqual(chunk.subarray(offset), Buffer.from(bytes).subarray(offset));
  if (offset < chunk.length) new Receiver(recorder, options).push(chunk.subarray(offset));
  return { events: recorder.events, offset };
}

/** A frame of `opcode`, masked when the receiving side is a server. */
function f(options: ReceiverOptions, opcode: number, payload: string | Uint8Array, extra = {}): Buffer {
  return frame(opcode, payload, { mask: options.isServer ? MASKS[payload.length % 3] : null, ...extra });
}

const INVALID_UTF8 = Uint8Array.of(0x68, 0xc3, 0x28, 0x69);

describe('takeWholeMessages', () => {
  for (const options of [SERVER, CLIENT]) {
    const side = options.isServer ? 'server' : 'client';

    test(`${side}: whole frames are taken and the rest is left where it starts`, () => {
      const messages = [
        f(options, Opcode.Text, 'hello'),
        f(options, Opcode.Binary, Uint8Array.of(0, 0xff, 0x80, 1, 2, 3, 4, 5, 6)),
        f(options, Opcode.Text, 'héllo wörld, long enough for the word loop: '.repeat(3)),
        f(options, Opcode.Text, 'x'.repeat(300)), // a 16-bit length
        f(options, Opcode.Text, ''),
      ];
      const whole = Buffer.concat(messages);
      const got = viaShortcut(options, whole);
      assert.equal(got.offset, whole.length);
      assert.deepEqual(got.events, feedWhole(options, whole));
      assert.equal(got.events.length, messages.length);

      // Cut anywhere: everything before the cut frame is taken, the cut frame is left whole.
      for (let cut = 0; cut < whole.length; cut++) {
        const part = whole.subarray(0, cut);
        const { offset, events } = viaShortcut(options, part);
        let end = 0;
        for (const m of messages) {
          if (end + m.length > cut) break;
          end += m.length;
        }
        assert.equal(offset, end, `cut at ${cut}`);
        assert.deepEqual(events, feedWhole(options, part), `cut at ${cut}`);
      }
    });

    test(`${side}: any other frame stops it, and the Receiver reports that frame as it would alone`, () => {
      const first = f(options, Opcode.Text, 'first');
      const stoppers: [string, Buffer][] = [
        ['a ping', f(options, Opcode.Ping, 'p')],
        ['a close', f(options, Opcode.Close, Uint8Array.of(0x03, 0xe8))],
        ['a first fragment', f(options, Opcode.Text, 'frag', { fin: false })],
        ['a continuation', f(options, Opcode.Continuation, 'c')],
        ['RSV1 without compression', f(options, Opcode.Text, 'z', { rsv1: true })],
        ['RSV2', f(options, Opcode.Binary, 'z', { rsv2: true })],
        ['a reserved opcode', f(options, 0x3, 'z')],
        ['a 64-bit length', f(options, Opcode.Binary, 'z', { lengthBits: 64 })],
        ['invalid UTF-8', f(options, Opcode.Text, INVALID_UTF8)],
        ['the wrong masking', frame(Opcode.Text, 'm', { mask: options.isServer ? null : RFC_MASK })],
      ];
      for (const [what, stopper] of stoppers) {
        const bytes = Buffer.concat([first, stopper, f(options, Opcode.Text, 'after')]);
        const got = viaShortcut(options, bytes);
        assert.equal(got.offset, first.length, what);
        assert.deepEqual(got.events, feedWhole(options, bytes), what);
      }
    });

    test(`${side}: a message over maxPayload is left to the Receiver, which fails it with 1009`, () => {
      const limited = { ...options, maxPayload: 10 };
      const bytes = Buffer.concat([
        f(options, Opcode.Text, 'short'),
        f(options, Opcode.Text, 'much too long'),
      ]);
      const got = viaShortcut(limited, bytes);
      assert.equal(got.offset, f(options, Opcode.Text, 'short').length);
      assert.deepEqual(got.events, feedWhole(limited, bytes));
      assert.deepEqual(got.events.at(-1), ['error', 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009]);
    });

    test(`${side}: skipUtf8Validation delivers invalid UTF-8 as the Receiver does`, () => {
      const trusting = { ...options, skipUtf8Validation: true };
      const bytes = f(options, Opcode.Text, INVALID_UTF8);
      const got = viaShortcut(trusting, bytes);
      assert.equal(got.offset, bytes.length);
      assert.deepEqual(got.events, feedWhole(trusting, bytes));
    });
  }

  test('stops after the message the handler paused on', () => {
    const bytes = Buffer.concat([
      frame(Opcode.Text, 'one', { mask: RFC_MASK }),
      frame(Opcode.Text, 'two', { mask: RFC_MASK }),
    ]);
    const recorder = new Recorder();
    const chunk = Buffer.from(bytes);
    const offset = takeWholeMessages(chunk, new Shortcut(recorder, 1), true, 0, false);
    assert.equal(offset, frame(Opcode.Text, 'one', { mask: RFC_MASK }).length);
    assert.deepEqual(recorder.events, [['message', 'text', Buffer.from('one').toString('hex')]]);
    assert.deepEqual(chunk.subarray(offset), bytes.subarray(offset));
  });

  test('many frames in one chunk, at every alignment, unmask as one by one', () => {
    // The frames of one chunk share the word view of that chunk; offsets move through all four
    // alignments, payloads cross the word thresholds.
    for (let lead = 0; lead < 4; lead++) {
      const frames: Buffer[] = [];
      for (let n = 0; n < 40; n++) {
        const payload =
          n % 2 === 0 ? Buffer.alloc(n * 3, n * 37 + 128) : Buffer.from(`${n}é${'abc'.repeat(n)}`);
        frames.push(frame(n % 2 === 0 ? Opcode.Binary : Opcode.Text, payload, { mask: MASKS[n % 3] }));
      }
      const bytes = Buffer.concat([Buffer.alloc(lead), ...frames]).subarray(lead);
      const got = viaShortcut(SERVER, bytes);
      const expected: Event[] = [];
      for (const one of frames) expected.push(...feedWhole(SERVER, one));
      assert.deepEqual(got.events, expected, `lead ${lead}`);
    }
  });
});
