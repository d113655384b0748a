// The frame parser fed byte vectors with no sockets: RFC 6455 section 5.7's examples in both
// directions, input split at every byte, every violation with its error code and close code, the
// close-code matrix, fragmentation with interleaved control frames, fragments mode, pause/resume,
// and compressed messages held until the caller hands back the inflated bytes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CloseCode,
  Defaults,
  Opcode,
  ProtocolError,
  Receiver,
  type ReceiverOptions,
} from '../../src/protocol/index.js';
import {
  binary,
  type Event,
  error,
  feedBytes,
  feedChunks,
  feedSplit,
  feedWhole,
  frame,
  hex,
  Recorder,
  RFC_MASK,
  setup,
  stream,
  text,
} from './helpers.js';

const CLIENT: ReceiverOptions = { isServer: false };
const SERVER: ReceiverOptions = { isServer: true };
const MASK = { mask: RFC_MASK };

/** Options for the side that receives frames built with `masked`. */
const sideFor = (masked: boolean): ReceiverOptions => (masked ? SERVER : CLIENT);

/** The same frame, masked when `masked` (as a client sends) or not (as a server sends). */
function f(masked: boolean, opcode: number, payload: string | Uint8Array = '', fin = true): Buffer {
  return frame(opcode, payload, { fin, mask: masked ? RFC_MASK : null });
}

/** Asserts that `input` gives the same events whole, byte by byte, and split in two at every byte. */
function assertSplitInvariant(
  options: ReceiverOptions,
  input: Buffer,
  expected: Event[],
  fragments = false,
): void {
  assert.deepEqual(feedWhole(options, input, fragments), expected, 'whole');
  assert.deepEqual(feedBytes(options, input, fragments), expected, '1-byte chunks');
  for (let at = 0; at <= input.length; at++) {
    assert.deepEqual(feedSplit(options, input, at, fragments), expected, `split at ${at}`);
  }
}

const bytes256 = Buffer.alloc(256, 0);
for (let i = 0; i < 256; i++) bytes256[i] = i;
const bytes64k = Buffer.alloc(65536);
for (let i = 0; i < bytes64k.length; i++) bytes64k[i] = (i * 31 + 7) & 0xff;

describe('RFC 6455 section 5.7 examples', () => {
  test('a single-frame unmasked text message, as a client receives it', () => {
    assert.deepEqual(feedWhole(CLIENT, hex('81 05 48 65 6c 6c 6f')), [text('Hello')]);
  });

  test('a single-frame masked text message, as a server receives it', () => {
    assert.deepEqual(feedWhole(SERVER, hex('81 85 37 fa 21 3d 7f 9f 4d 51 58')), [text('Hello')]);
  });

  test('a fragmented unmasked text message "Hel" + "lo"', () => {
    assert.deepEqual(feedWhole(CLIENT, hex('01 03 48 65 6c 80 02 6c 6f')), [text('Hello')]);
  });

  test('the fragmented message masked, as a server receives it', () => {
    const input = stream(f(true, Opcode.Text, 'Hel', false), f(true, Opcode.Continuation, 'lo'));
    assert.deepEqual(feedWhole(SERVER, input), [text('Hello')]);
  });

  test('an unmasked ping and a masked pong', () => {
    assert.deepEqual(feedWhole(CLIENT, hex('89 05 48 65 6c 6c 6f')), [['ping', '48656c6c6f']]);
    assert.deepEqual(feedWhole(SERVER, hex('8a 85 37 fa 21 3d 7f 9f 4d 51 58')), [['pong', '48656c6c6f']]);
  });

  test('a masked ping and an unmasked pong (the other directions)', () => {
    assert.deepEqual(feedWhole(SERVER, hex('89 85 37 fa 21 3d 7f 9f 4d 51 58')), [['ping', '48656c6c6f']]);
    assert.deepEqual(feedWhole(CLIENT, hex('8a 05 48 65 6c 6c 6f')), [['pong', '48656c6c6f']]);
  });

  test('256 bytes of binary in one unmasked frame (16-bit length)', () => {
    const input = Buffer.concat([hex('82 7e 01 00'), bytes256]);
    assert.deepEqual(frame(Opcode.Binary, bytes256), input, 'the builder agrees with the RFC');
    assert.deepEqual(feedWhole(CLIENT, input), [binary(bytes256)]);
    assert.deepEqual(feedBytes(CLIENT, input), [binary(bytes256)]);
  });

  test('64 KiB of binary in one unmasked frame (64-bit length)', () => {
    const input = Buffer.concat([hex('82 7f 00 00 00 00 00 01 00 00'), bytes64k]);
    assert.deepEqual(frame(Opcode.Binary, bytes64k), input, 'the builder agrees with the RFC');
    assert.deepEqual(feedWhole(CLIENT, input), [binary(bytes64k)]);
    assert.deepEqual(feedBytes(CLIENT, input), [binary(bytes64k)]);
  });

  test('256 bytes and 64 KiB masked, as a server receives them', () => {
    const input = stream(f(true, Opcode.Binary, bytes256), f(true, Opcode.Binary, bytes64k));
    assert.equal(input[1], 0x80 | 126);
    assert.equal(input[2 + 2 + 4 + 256 + 1], 0x80 | 127);
    const expected = [binary(bytes256), binary(bytes64k)];
    assert.deepEqual(feedWhole(SERVER, input), expected);
    assert.deepEqual(feedBytes(SERVER, input), expected);
    // A sample of 2-way splits, including every header byte and the first payload bytes.
    for (const at of [1, 2, 3, 4, 5, 7, 8, 9, 100, 264, 265, 266, 267, 270, 275, 276, 277, 278, 40000]) {
      assert.deepEqual(feedSplit(SERVER, input, at), expected, `split at ${at}`);
    }
  });

  for (const masked of [false, true]) {
    const side = masked ? 'server' : 'client';
    test(`each example sent the wrong way is refused (${side} receiving ${masked ? 'un' : ''}masked frames)`, () => {
      const wrong = sideFor(!masked);
      const expected = masked
        ? error('WS_ERR_UNEXPECTED_MASK', CloseCode.ProtocolError)
        : error('WS_ERR_EXPECTED_MASK', CloseCode.ProtocolError);
      for (const input of [
        f(masked, Opcode.Text, 'Hello'),
        f(masked, Opcode.Text, 'Hel', false),
        f(masked, Opcode.Ping, 'Hello'),
        f(masked, Opcode.Pong, 'Hello'),
        f(masked, Opcode.Close, hex('03e8')),
        f(masked, Opcode.Binary, bytes256),
      ]) {
        assert.deepEqual(feedWhole(wrong, input), [expected], input.subarray(0, 2).toString('hex'));
      }
    });
  }
});

describe('input split at any byte', () => {
  for (const masked of [false, true]) {
    const side = masked ? 'server, masked' : 'client, unmasked';
    test(`a mixed stream gives identical events whole, in 1-byte chunks and at every 2-way split (${side})`, () => {
      const input = stream(
        f(masked, Opcode.Text, 'Hello'),
        f(masked, Opcode.Text, 'Hel', false),
        f(masked, Opcode.Ping, 'p1'),
        f(masked, Opcode.Continuation, '', false),
        f(masked, Opcode.Pong, ''),
        f(masked, Opcode.Continuation, 'lo \u20ac!'),
        f(masked, Opcode.Binary, bytes256.subarray(0, 200)),
        f(masked, Opcode.Binary, bytes256.subarray(0, 126)),
        f(masked, Opcode.Binary, ''),
        f(masked, Opcode.Text, '\u{1f600} \u00e9', false),
        f(masked, Opcode.Continuation, '\u{10ffff}'),
        f(masked, Opcode.Ping, 'x'.repeat(125)),
        f(masked, Opcode.Close, Buffer.concat([hex('0bb8'), Buffer.from('bye \u00e9')])),
      );
      assertSplitInvariant(sideFor(masked), input, [
        text('Hello'),
        ['ping', Buffer.from('p1').toString('hex')],
        ['pong', ''],
        text('Hello \u20ac!'),
        binary(bytes256.subarray(0, 200)),
        binary(bytes256.subarray(0, 126)),
        binary(Buffer.alloc(0)),
        text('\u{1f600} \u00e9\u{10ffff}'),
        ['ping', Buffer.from('x'.repeat(125)).toString('hex')],
        ['close', 3000, Buffer.from('bye \u00e9').toString('hex')],
      ]);
    });
  }

  test('a multi-byte character split across fragments, and across chunks inside a frame', () => {
    const euro = Buffer.from('\u20ac'); // e2 82 ac
    const input = stream(
      f(false, Opcode.Text, euro.subarray(0, 1), false),
      f(false, Opcode.Continuation, euro.subarray(1, 2), false),
      f(false, Opcode.Continuation, euro.subarray(2)),
    );
    assertSplitInvariant(CLIENT, input, [text('\u20ac')]);
  });

  test('violations are found at the same point whatever the split', () => {
    const cases: [Buffer, Event[]][] = [
      [
        stream(f(false, Opcode.Text, 'ok'), hex('a1 00')),
        [text('ok'), error('WS_ERR_UNEXPECTED_RSV_2_3', 1002)],
      ],
      [
        stream(
          f(false, Opcode.Text, 'ab', false),
          f(false, Opcode.Continuation, hex('ff'), false),
          f(false, 0, 'c'),
        ),
        [error('WS_ERR_INVALID_UTF8', 1007)],
      ],
      [
        stream(f(false, Opcode.Ping, 'a'), hex('88 01 03'), f(false, Opcode.Text, 'x')),
        [['ping', '61'], error('WS_ERR_INVALID_CLOSE_PAYLOAD', 1002)],
      ],
      [stream(f(false, Opcode.Close, hex('03e8')), f(false, Opcode.Text, 'x')), [['close', 1000, '']]],
    ];
    for (const [input, expected] of cases) assertSplitInvariant(CLIENT, input, expected);
  });

  test('empty pushes between bytes change nothing', () => {
    const input = stream(f(true, Opcode.Text, 'Hello'), f(true, Opcode.Ping, 'p'));
    const chunks: Uint8Array[] = [Buffer.alloc(0)];
    for (let i = 0; i < input.length; i++) chunks.push(input.subarray(i, i + 1), Buffer.alloc(0));
    assert.deepEqual(feedChunks(SERVER, chunks), [text('Hello'), ['ping', '70']]);
  });
});

describe('zero-copy slicing', () => {
  test('an unmasked single-frame message is a view of the pushed chunk', () => {
    const got: Buffer[] = [];
    const recorder = new Recorder();
    recorder.onMessage = (data) => void got.push(data as Buffer);
    const receiver = new Receiver(recorder, CLIENT);
    const chunk = stream(f(false, Opcode.Binary, 'abcdef'), f(false, Opcode.Binary, 'gh'));
    receiver.push(chunk);
    assert.equal(got.length, 2);
    assert.equal(got[0].buffer, chunk.buffer);
    assert.equal(got[0].byteOffset, chunk.byteOffset + 2);
    assert.equal(got[0].toString(), 'abcdef');
    assert.equal(got[1].byteOffset, chunk.byteOffset + 10);
  });

  test('a masked payload is unmasked in place in the pushed chunk', () => {
    const s = setup(SERVER);
    const chunk = f(true, Opcode.Text, 'Hello');
    s.receiver.push(chunk);
    assert.deepEqual(s.recorder.events, [text('Hello')]);
    assert.equal(chunk.subarray(6).toString(), 'Hello');
  });
});

describe('violations', () => {
  const violation = (options: ReceiverOptions, input: Buffer, code: string, closeCode: number): void => {
    for (const events of [feedWhole(options, input), feedBytes(options, input)]) {
      assert.deepEqual(events, [error(code, closeCode)], input.subarray(0, 12).toString('hex'));
    }
  };

  test('errors are ProtocolErrors with a stable code and the close code', () => {
    const s = setup(CLIENT);
    s.receiver.push(hex('a1 00'));
    assert.equal(s.recorder.errors.length, 1);
    const [err] = s.recorder.errors;
    assert.ok(err instanceof ProtocolError);
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'ProtocolError');
    assert.equal(err.code, 'WS_ERR_UNEXPECTED_RSV_2_3');
    assert.equal(err.closeCode, CloseCode.ProtocolError);
    assert.equal(s.receiver.done, true);
  });

  for (const masked of [false, true]) {
    const side = sideFor(masked);
    const name = masked ? 'server' : 'client';
    const opts = masked ? MASK : {};

    test(`RSV2 and RSV3 (${name})`, () => {
      violation(side, frame(Opcode.Text, 'a', { ...opts, rsv2: true }), 'WS_ERR_UNEXPECTED_RSV_2_3', 1002);
      violation(side, frame(Opcode.Text, 'a', { ...opts, rsv3: true }), 'WS_ERR_UNEXPECTED_RSV_2_3', 1002);
      violation(
        side,
        frame(Opcode.Ping, 'a', { ...opts, rsv2: true, rsv3: true }),
        'WS_ERR_UNEXPECTED_RSV_2_3',
        1002,
      );
      // Even with compression negotiated.
      violation(
        { ...side, compression: true },
        frame(Opcode.Text, 'a', { ...opts, rsv2: true }),
        'WS_ERR_UNEXPECTED_RSV_2_3',
        1002,
      );
    });

    test(`RSV1 without compression, and on continuation and control frames with it (${name})`, () => {
      violation(side, frame(Opcode.Text, 'a', { ...opts, rsv1: true }), 'WS_ERR_UNEXPECTED_RSV_1', 1002);
      violation(side, frame(Opcode.Binary, 'a', { ...opts, rsv1: true }), 'WS_ERR_UNEXPECTED_RSV_1', 1002);
      const deflate = { ...side, compression: true };
      violation(deflate, frame(Opcode.Ping, 'a', { ...opts, rsv1: true }), 'WS_ERR_UNEXPECTED_RSV_1', 1002);
      violation(deflate, frame(Opcode.Close, '', { ...opts, rsv1: true }), 'WS_ERR_UNEXPECTED_RSV_1', 1002);
      violation(deflate, frame(Opcode.Pong, '', { ...opts, rsv1: true }), 'WS_ERR_UNEXPECTED_RSV_1', 1002);
      for (const first of [
        frame(Opcode.Text, 'a', { ...opts, fin: false, rsv1: true }),
        frame(Opcode.Text, 'a', { ...opts, fin: false }),
      ]) {
        const input = stream(first, frame(Opcode.Continuation, 'b', { ...opts, rsv1: true }));
        violation(deflate, input, 'WS_ERR_UNEXPECTED_RSV_1', 1002);
      }
    });

    test(`reserved opcodes 3-7 and 11-15 (${name})`, () => {
      for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
        violation(side, frame(opcode, '', opts), 'WS_ERR_INVALID_OPCODE', 1002);
        violation(side, frame(opcode, 'abc', { ...opts, fin: false }), 'WS_ERR_INVALID_OPCODE', 1002);
        // Also in the middle of a fragmented message.
        const input = stream(frame(Opcode.Text, 'a', { ...opts, fin: false }), frame(opcode, '', opts));
        violation(side, input, 'WS_ERR_INVALID_OPCODE', 1002);
      }
    });

    test(`fragmented control frames (${name})`, () => {
      for (const opcode of [Opcode.Close, Opcode.Ping, Opcode.Pong]) {
        violation(side, frame(opcode, 'a', { ...opts, fin: false }), 'WS_ERR_EXPECTED_FIN', 1002);
      }
    });

    test(`control payloads over 125 bytes (${name})`, () => {
      for (const opcode of [Opcode.Close, Opcode.Ping, Opcode.Pong]) {
        violation(
          side,
          frame(opcode, Buffer.alloc(126, 0x61), opts),
          'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
          1002,
        );
        // Refused at the header: the payload never arrives.
        const header = frame(opcode, Buffer.alloc(0), { ...opts, lengthBits: 64, declaredLength: 2 ** 40 });
        violation(side, header, 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002);
      }
      // 125 is the limit, and is allowed.
      assert.deepEqual(feedWhole(side, frame(Opcode.Ping, Buffer.alloc(125, 0x61), opts)), [
        ['ping', '61'.repeat(125)],
      ]);
    });

    test(`continuation without a message, and a new data frame inside a fragmented one (${name})`, () => {
      violation(side, frame(Opcode.Continuation, 'a', opts), 'WS_ERR_UNEXPECTED_CONTINUATION', 1002);
      violation(
        side,
        frame(Opcode.Continuation, 'a', { ...opts, fin: false }),
        'WS_ERR_UNEXPECTED_CONTINUATION',
        1002,
      );
      // After a complete message, there is nothing to continue.
      const after = stream(frame(Opcode.Text, 'a', opts), frame(Opcode.Continuation, 'b', opts));
      assert.deepEqual(feedWhole(side, after), [text('a'), error('WS_ERR_UNEXPECTED_CONTINUATION', 1002)]);
      for (const opcode of [Opcode.Text, Opcode.Binary]) {
        const input = stream(frame(Opcode.Binary, 'a', { ...opts, fin: false }), frame(opcode, 'b', opts));
        violation(side, input, 'WS_ERR_EXPECTED_CONTINUATION', 1002);
      }
    });

    test(`64-bit length with the top bit set, and over 2^53 - 1 (${name})`, () => {
      const top = frame(Opcode.Binary, '', { ...opts, lengthBits: 64, declaredLength: 0x8000000000000000n });
      violation({ ...side, maxPayload: 0 }, top, 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1002);
      const all = frame(Opcode.Binary, '', { ...opts, lengthBits: 64, declaredLength: 0xffffffffffffffffn });
      violation({ ...side, maxPayload: 0 }, all, 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1002);
      const huge = frame(Opcode.Binary, '', { ...opts, lengthBits: 64, declaredLength: 2n ** 53n });
      violation({ ...side, maxPayload: 0 }, huge, 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH', 1009);
    });
  }

  test('mask direction: a server requires masked frames, a client refuses them', () => {
    violation(SERVER, frame(Opcode.Text, 'a'), 'WS_ERR_EXPECTED_MASK', 1002);
    violation(SERVER, frame(Opcode.Ping, ''), 'WS_ERR_EXPECTED_MASK', 1002);
    violation(CLIENT, frame(Opcode.Text, 'a', MASK), 'WS_ERR_UNEXPECTED_MASK', 1002);
    violation(CLIENT, frame(Opcode.Close, '', MASK), 'WS_ERR_UNEXPECTED_MASK', 1002);
    // Mid-message too.
    const input = stream(frame(Opcode.Text, 'a', { fin: false, ...MASK }), frame(Opcode.Continuation, 'b'));
    violation(SERVER, input, 'WS_ERR_EXPECTED_MASK', 1002);
  });

  test('maxPayload: 1009 at the header of the frame that passes it, before its payload arrives', () => {
    const options = { ...CLIENT, maxPayload: 10 };
    // Exactly the limit is fine.
    assert.deepEqual(feedWhole(options, frame(Opcode.Binary, Buffer.alloc(10, 1))), [
      binary(Buffer.alloc(10, 1)),
    ]);
    // Only the header of an 11-byte frame.
    const s = setup(options);
    s.receiver.push(frame(Opcode.Binary, '', { declaredLength: 11 }));
    assert.deepEqual(s.recorder.events, [
      error('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', CloseCode.MessageTooBig),
    ]);
    assert.equal(s.receiver.done, true);
    // A 16-bit and a 64-bit length, headers only.
    for (const declaredLength of [200, 70000, 2 ** 40]) {
      const header = frame(Opcode.Text, '', { declaredLength });
      assert.deepEqual(feedBytes(options, header), [error('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009)]);
    }
    // Across fragments: 6 + 4 fits, 6 + 5 does not (found at the second header).
    const fits = stream(frame(Opcode.Binary, 'abcdef', { fin: false }), frame(Opcode.Continuation, 'ghij'));
    assert.deepEqual(feedWhole(options, fits), [binary(Buffer.from('abcdefghij'))]);
    const over = stream(
      frame(Opcode.Binary, 'abcdef', { fin: false }),
      frame(Opcode.Continuation, '', { declaredLength: 5 }),
    );
    assert.deepEqual(feedBytes(options, over), [error('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009)]);
    // The limit is per message: two 10-byte messages are fine.
    const two = stream(frame(Opcode.Binary, Buffer.alloc(10)), frame(Opcode.Binary, Buffer.alloc(10)));
    assert.equal(feedWhole(options, two).length, 2);
    // Control frames in between do not count.
    const withPing = stream(
      frame(Opcode.Binary, 'abcdef', { fin: false }),
      frame(Opcode.Ping, 'xxxxxxxx'),
      frame(0, 'ghij'),
    );
    assert.deepEqual(feedWhole(options, withPing), [
      ['ping', '78'.repeat(8)],
      binary(Buffer.from('abcdefghij')),
    ]);
  });

  test('maxPayload 0 means no limit; the default is Defaults.maxPayload', () => {
    const header = frame(Opcode.Binary, '', { declaredLength: Defaults.maxPayload + 1 });
    assert.deepEqual(feedWhole({ ...CLIENT, maxPayload: 0 }, header), []);
    assert.deepEqual(feedWhole(CLIENT, header), [error('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009)]);
    const atLimit = frame(Opcode.Binary, '', { declaredLength: Defaults.maxPayload });
    assert.deepEqual(feedWhole(CLIENT, atLimit), []);
  });

  test('maxFragments: the frame after the limit fails with 1009', () => {
    const options = { ...CLIENT, maxFragments: 3 };
    const three = stream(
      frame(Opcode.Text, 'a', { fin: false }),
      frame(0, 'b', { fin: false }),
      frame(0, 'c'),
    );
    assert.deepEqual(feedWhole(options, three), [text('abc')]);
    const four = stream(
      frame(Opcode.Text, 'a', { fin: false }),
      frame(0, 'b', { fin: false }),
      frame(Opcode.Ping, ''),
      frame(0, 'c', { fin: false }),
      frame(0, 'd'),
    );
    assert.deepEqual(feedBytes(options, four), [['ping', ''], error('WS_ERR_TOO_MANY_FRAGMENTS', 1009)]);
    // The count starts over with each message.
    assert.deepEqual(feedWhole(options, stream(three, three)), [text('abc'), text('abc')]);
  });

  test('invalid UTF-8 in a single-frame text message: 1007', () => {
    for (const bad of ['c3 28', 'ff', 'c0 80', 'ed a0 80', 'f4 90 80 80', 'e2 82', '61 62 80']) {
      violation(CLIENT, frame(Opcode.Text, hex(bad)), 'WS_ERR_INVALID_UTF8', 1007);
      violation(SERVER, frame(Opcode.Text, hex(bad), MASK), 'WS_ERR_INVALID_UTF8', 1007);
    }
    // Masked text that is not ASCII but valid UTF-8 is delivered (unmasking only vouches for ASCII).
    assert.deepEqual(feedWhole(SERVER, frame(Opcode.Text, 'héllo €', MASK)), [text('héllo €')]);
    assert.deepEqual(feedWhole(SERVER, frame(Opcode.Text, 'plain ascii', MASK)), [text('plain ascii')]);
    // Invalid bytes in binary messages are fine.
    assert.deepEqual(feedWhole(CLIENT, frame(Opcode.Binary, hex('c3 28'))), [binary(hex('c3 28'))]);
  });

  test('invalid UTF-8 across fragments fails fast, on the fragment where it becomes invalid', () => {
    const first = frame(Opcode.Text, 'ab', { fin: false });
    const bad = frame(Opcode.Continuation, hex('ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90 80 80'), {
      fin: false,
    });
    const s = setup(CLIENT);
    s.receiver.push(first);
    assert.deepEqual(s.recorder.events, []);
    s.receiver.push(bad);
    assert.deepEqual(s.recorder.events, [error('WS_ERR_INVALID_UTF8', 1007)], 'before the message ends');
    s.receiver.push(frame(Opcode.Continuation, 'c'));
    assert.equal(s.recorder.events.length, 1);

    // An invalid byte in the first fragment fails before any continuation arrives.
    violation(CLIENT, frame(Opcode.Text, hex('61 ff'), { fin: false }), 'WS_ERR_INVALID_UTF8', 1007);
    // A lead byte that can never be completed validly (f5) fails at once.
    violation(CLIENT, frame(Opcode.Text, hex('f5'), { fin: false }), 'WS_ERR_INVALID_UTF8', 1007);
    // A sequence still open when the message ends.
    const open = stream(frame(Opcode.Text, hex('61 e2'), { fin: false }), frame(0, hex('82')));
    violation(CLIENT, open, 'WS_ERR_INVALID_UTF8', 1007);
    // A sequence split across fragments, completed by a wrong continuation byte.
    const wrong = stream(
      frame(Opcode.Text, hex('e2'), { fin: false }),
      frame(0, hex('82 41'), { fin: false }),
    );
    violation(CLIENT, wrong, 'WS_ERR_INVALID_UTF8', 1007);
    // A surrogate split across fragments (ed | a0 80).
    const surrogate = stream(
      frame(Opcode.Text, hex('ed'), { fin: false }),
      frame(0, hex('a0 80'), { fin: false }),
    );
    violation(CLIENT, surrogate, 'WS_ERR_INVALID_UTF8', 1007);
    // An open sequence, then an empty final fragment.
    const emptyEnd = stream(frame(Opcode.Text, hex('f0 9f 98'), { fin: false }), frame(0, ''));
    violation(CLIENT, emptyEnd, 'WS_ERR_INVALID_UTF8', 1007);
  });

  test('invalid UTF-8 within one frame split across reads fails fast (Autobahn 6.4.3, 6.4.4)', () => {
    // κόσμε, then f4 90 80 80 (over U+10FFFF), then "edited": one text frame, arriving in 3 chops.
    const payload = hex('ce ba e1 bd b9 cf 83 ce bc ce b5 f4 90 80 80 65 64 69 74 65 64');
    const chops = [
      [11, 15], // 6.4.3: the bad sequence is the whole second chop
      [12, 13], // 6.4.4: the first chop ends with f4, the second is the byte that makes it invalid
    ];
    for (const [options, build, headerLength] of [
      [CLIENT, {}, 2],
      [SERVER, MASK, 6],
    ] as const) {
      const wire = frame(Opcode.Text, payload, build);
      for (const [first, second] of chops) {
        const s = setup(options);
        s.receiver.push(Buffer.from(wire.subarray(0, headerLength + first)));
        assert.deepEqual(s.recorder.events, [], 'the first chop is a valid start');
        s.receiver.push(Buffer.from(wire.subarray(headerLength + first, headerLength + second)));
        assert.deepEqual(
          s.recorder.events,
          [error('WS_ERR_INVALID_UTF8', 1007)],
          `fails on the second chop (${first}|${second}), before the frame is complete`,
        );
        s.receiver.push(Buffer.from(wire.subarray(headerLength + second)));
        assert.equal(s.recorder.events.length, 1);
      }
    }
    // Valid text split anywhere, in one frame or across fragments, still arrives whole.
    const valid = hex('ce ba e1 bd b9 cf 83 ce bc ce b5 f0 9f 98 80 61 e2 82 ac');
    assert.deepEqual(feedBytes(SERVER, frame(Opcode.Text, valid, MASK)), [
      ['message', 'text', valid.toString('hex')],
    ]);
    const fragmented = stream(
      frame(Opcode.Text, valid.subarray(0, 13), { fin: false }),
      frame(0, valid.subarray(13)),
    );
    for (let at = 1; at < fragmented.length; at++) {
      assert.deepEqual(
        feedSplit(CLIENT, fragmented, at),
        [['message', 'text', valid.toString('hex')]],
        `split at ${at}`,
      );
    }
    // An open sequence at the end of a split frame is still refused when the message ends.
    const open = frame(Opcode.Text, hex('61 62 e2 82'));
    for (let at = 3; at < open.length; at++) {
      assert.deepEqual(feedSplit(CLIENT, open, at), [error('WS_ERR_INVALID_UTF8', 1007)], `split at ${at}`);
    }
  });

  test('a validator from a failed message does not leak into the next (fresh state per message)', () => {
    const input = stream(
      frame(Opcode.Text, hex('e2'), { fin: false }),
      frame(0, hex('82 ac')),
      frame(Opcode.Text, hex('61'), { fin: false }),
      frame(0, hex('62')),
    );
    assert.deepEqual(feedWhole(CLIENT, input), [text('\u20ac'), text('ab')]);
  });

  test('skipUtf8Validation delivers invalid text and close reasons as they are', () => {
    const options = { ...CLIENT, skipUtf8Validation: true };
    const input = stream(
      frame(Opcode.Text, hex('ff fe')),
      frame(Opcode.Text, hex('e2'), { fin: false }),
      frame(0, hex('41')),
      frame(Opcode.Close, hex('03e8 ff')),
    );
    assert.deepEqual(feedWhole(options, input), [
      ['message', 'text', 'fffe'],
      ['message', 'text', 'e241'],
      ['close', 1000, 'ff'],
    ]);
  });

  test('after an error nothing more is delivered, and the error is reported once', () => {
    const s = setup(CLIENT);
    s.receiver.push(stream(frame(Opcode.Text, 'a'), hex('83 00'), frame(Opcode.Text, 'b'), hex('a1 00')));
    s.receiver.push(frame(Opcode.Ping, 'c'));
    s.receiver.push(hex('a1 00'));
    assert.deepEqual(s.recorder.events, [text('a'), error('WS_ERR_INVALID_OPCODE', 1002)]);
    assert.equal(s.receiver.done, true);
    assert.equal(s.receiver.bufferedAmount, 0);
    // fail() after the end is a no-op.
    s.receiver.fail(new ProtocolError('WS_ERR_INVALID_OPCODE', 'late'));
    assert.equal(s.recorder.events.length, 2);
  });

  test('fail() from the caller ends parsing with that error', () => {
    const s = setup(CLIENT);
    s.receiver.push(frame(Opcode.Text, 'a', { fin: false }));
    s.receiver.fail(new ProtocolError('WS_ERR_INVALID_COMPRESSED_DATA', 'boom', CloseCode.InternalError));
    s.receiver.push(frame(0, 'b'));
    assert.deepEqual(s.recorder.events, [error('WS_ERR_INVALID_COMPRESSED_DATA', 1011)]);
    assert.equal(s.receiver.done, true);
  });
});

describe('close frames', () => {
  const closeFrame = (payload: Uint8Array, masked = false): Buffer => f(masked, Opcode.Close, payload);
  const codeBytes = (code: number): Buffer => {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(code);
    return b;
  };

  test('an empty close frame reports 1005 and an empty reason', () => {
    assert.deepEqual(feedWhole(CLIENT, hex('88 00')), [['close', CloseCode.NoStatusReceived, '']]);
    assert.deepEqual(feedWhole(SERVER, closeFrame(Buffer.alloc(0), true)), [['close', 1005, '']]);
  });

  test('a close payload of 1 byte: 1002', () => {
    for (const input of [hex('88 01 03'), closeFrame(hex('03'), true)]) {
      const options = input[1] & 0x80 ? SERVER : CLIENT;
      assert.deepEqual(feedBytes(options, input), [error('WS_ERR_INVALID_CLOSE_PAYLOAD', 1002)]);
    }
  });

  test('invalid close codes: 1002', () => {
    for (const code of [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
      for (const masked of [false, true]) {
        assert.deepEqual(
          feedWhole(sideFor(masked), closeFrame(codeBytes(code), masked)),
          [error('WS_ERR_INVALID_CLOSE_CODE', 1002)],
          `code ${code}`,
        );
      }
    }
  });

  test('valid close codes are delivered with their reason', () => {
    const valid = [
      1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999,
    ];
    for (const code of valid) {
      for (const masked of [false, true]) {
        const reason = Buffer.from(`r\u00e9ason ${code}`);
        const input = closeFrame(Buffer.concat([codeBytes(code), reason]), masked);
        assert.deepEqual(
          feedBytes(sideFor(masked), input),
          [['close', code, reason.toString('hex')]],
          `code ${code}`,
        );
      }
    }
  });

  test('a reason of 123 bytes (the most a control frame allows)', () => {
    const reason = Buffer.alloc(123, 0x7a);
    const input = closeFrame(Buffer.concat([codeBytes(1000), reason]));
    assert.deepEqual(feedWhole(CLIENT, input), [['close', 1000, reason.toString('hex')]]);
  });

  test('an invalid UTF-8 reason: 1007', () => {
    for (const bad of ['ff', 'c3', 'ed a0 80', '61 80', 'f8 88 80 80 80']) {
      const input = closeFrame(Buffer.concat([codeBytes(1000), hex(bad)]));
      assert.deepEqual(feedWhole(CLIENT, input), [error('WS_ERR_INVALID_UTF8', 1007)], bad);
    }
  });

  test('after a close frame nothing is parsed: data, control frames and garbage are dropped', () => {
    const s = setup(CLIENT);
    s.receiver.push(stream(frame(Opcode.Close, hex('03e8')), frame(Opcode.Text, 'a'), hex('ff ff ff')));
    s.receiver.push(frame(Opcode.Ping, 'p'));
    s.receiver.push(hex('a1 00'));
    assert.deepEqual(s.recorder.events, [['close', 1000, '']]);
    assert.equal(s.receiver.done, true);
  });

  test('a close frame in the middle of a fragmented message ends it; the partial message is dropped', () => {
    const input = stream(
      frame(Opcode.Text, 'Hel', { fin: false }),
      frame(Opcode.Close, hex('03e9')),
      frame(0, 'lo'),
    );
    assert.deepEqual(feedWhole(CLIENT, input), [['close', 1001, '']]);
  });
});

describe('fragmentation and control frames', () => {
  test('pings and pongs between fragments are delivered at once, the message when it ends', () => {
    for (const masked of [false, true]) {
      const input = stream(
        f(masked, Opcode.Text, 'Hel', false),
        f(masked, Opcode.Ping, 'a'),
        f(masked, Opcode.Pong, 'b'),
        f(masked, Opcode.Continuation, 'lo', false),
        f(masked, Opcode.Ping, ''),
        f(masked, Opcode.Continuation, '!'),
        f(masked, Opcode.Pong, 'c'),
      );
      const s = setup(sideFor(masked));
      const bounds = [0];
      let at = 0;
      for (const n of [4, 1, 1, 2, 0, 1, 1]) {
        at += (masked ? 6 : 2) + n;
        bounds.push(at);
      }
      // Frame by frame: nothing of the message is delivered before its last frame.
      const seen: number[] = [];
      for (let i = 0; i + 1 < bounds.length; i++) {
        s.receiver.push(input.subarray(bounds[i], bounds[i + 1]));
        seen.push(s.recorder.events.length);
      }
      assert.deepEqual(seen, [0, 1, 2, 2, 3, 4, 5]);
      assert.deepEqual(s.recorder.events, [
        ['ping', '61'],
        ['pong', '62'],
        ['ping', ''],
        text('Hello!'),
        ['pong', '63'],
      ]);
    }
  });

  test('zero-length fragments, first, middle and last', () => {
    const input = stream(
      frame(Opcode.Text, '', { fin: false }),
      frame(0, '', { fin: false }),
      frame(0, 'ab', { fin: false }),
      frame(0, '', { fin: false }),
      frame(0, 'c', { fin: false }),
      frame(0, ''),
      frame(Opcode.Binary, '', { fin: false }),
      frame(0, ''),
      frame(Opcode.Text, ''),
    );
    assertSplitInvariant(CLIENT, input, [text('abc'), binary(Buffer.alloc(0)), text('')]);
  });

  test('a message in many fragments (1,000 one-byte frames)', () => {
    const frames = [frame(Opcode.Binary, 'x', { fin: false })];
    for (let i = 1; i < 999; i++) frames.push(frame(0, 'x', { fin: false }));
    frames.push(frame(0, 'x'));
    assert.deepEqual(feedWhole(CLIENT, stream(...frames)), [binary(Buffer.alloc(1000, 'x'))]);
  });

  test("fragments mode delivers binary messages as the array of the frames' payloads", () => {
    const input = stream(
      frame(Opcode.Binary, 'ab', { fin: false }),
      frame(Opcode.Ping, 'p'),
      frame(0, 'cd', { fin: false }),
      frame(0, 'e'),
      frame(Opcode.Binary, 'single'),
      frame(Opcode.Text, 'te', { fin: false }),
      frame(0, 'xt'),
    );
    const hexOf = (s: string): string => Buffer.from(s).toString('hex');
    assertSplitInvariant(
      CLIENT,
      input,
      [
        ['ping', '70'],
        ['fragments', [hexOf('ab'), hexOf('cd'), hexOf('e')]],
        ['fragments', [hexOf('single')]],
        text('text'),
      ],
      true,
    );
  });

  test('fragments mode: the parts always concatenate to the message, empty fragments included', () => {
    const cases: [Buffer, string][] = [
      [stream(frame(Opcode.Binary, '', { fin: false }), frame(0, 'cd')), 'cd'],
      [
        stream(frame(Opcode.Binary, 'ab', { fin: false }), frame(0, '', { fin: false }), frame(0, 'cd')),
        'abcd',
      ],
      [frame(Opcode.Binary, ''), ''],
    ];
    for (const [input, whole] of cases) {
      const [event] = feedWhole(CLIENT, input, true);
      assert.equal(event[0], 'fragments');
      const parts = event[1] as string[];
      assert.ok(parts.length >= 1);
      assert.equal(Buffer.concat(parts.map((h) => Buffer.from(h, 'hex'))).toString(), whole);
    }
  });

  test('the fragments property can be switched between messages', () => {
    const s = setup(CLIENT);
    s.receiver.push(frame(Opcode.Binary, 'a'));
    s.receiver.fragments = true;
    s.receiver.push(frame(Opcode.Binary, 'b'));
    assert.deepEqual(s.recorder.events, [binary(Buffer.from('a')), ['fragments', ['62']]]);
  });
});

describe('pause and resume', () => {
  test('input pushed while paused is held, counted, and delivered in order on resume', () => {
    const s = setup(SERVER);
    s.receiver.pause();
    const a = stream(f(true, Opcode.Text, 'one'), f(true, Opcode.Ping, 'p'));
    const b = stream(f(true, Opcode.Text, 'tw', false), f(true, Opcode.Continuation, 'o'));
    s.receiver.push(a);
    s.receiver.push(b);
    assert.deepEqual(s.recorder.events, []);
    assert.equal(s.receiver.bufferedAmount, a.length + b.length);
    s.receiver.resume();
    assert.deepEqual(s.recorder.events, [text('one'), ['ping', '70'], text('two')]);
    assert.equal(s.receiver.bufferedAmount, 0);
    // resume() when not paused does nothing.
    s.receiver.resume();
    assert.equal(s.recorder.events.length, 3);
  });

  test('pause() from a handler stops at that event; the rest of the chunk waits for resume()', () => {
    const s = setup(CLIENT);
    s.recorder.onEvent = () => s.receiver.pause();
    const input = stream(
      frame(Opcode.Text, 'a'),
      frame(Opcode.Ping, 'b'),
      frame(Opcode.Text, 'c'),
      frame(Opcode.Close, ''),
    );
    s.receiver.push(input);
    assert.deepEqual(s.recorder.events, [text('a')]);
    assert.equal(s.receiver.bufferedAmount, input.length - 3);
    s.receiver.push(frame(Opcode.Text, 'late'));
    s.receiver.resume();
    assert.deepEqual(s.recorder.events, [text('a'), ['ping', '62']]);
    s.receiver.resume();
    s.receiver.resume();
    s.receiver.resume();
    assert.deepEqual(s.recorder.events, [text('a'), ['ping', '62'], text('c'), ['close', 1005, '']]);
    assert.equal(s.receiver.done, true);
  });

  test('input held behind a close frame is released once the close frame is parsed', () => {
    const s = setup(CLIENT);
    s.receiver.pause();
    s.receiver.push(frame(Opcode.Close, hex('03e8')));
    s.receiver.push(frame(Opcode.Text, 'late'));
    s.receiver.resume();
    assert.deepEqual(s.recorder.events, [['close', 1000, '']]);
    assert.equal(s.receiver.done, true);
    assert.equal(s.receiver.bufferedAmount, 0, 'what came after the close is dropped');
  });

  test('pausing in the middle of a frame keeps the partial frame', () => {
    const s = setup(SERVER);
    const input = f(true, Opcode.Binary, bytes256);
    s.receiver.push(input.subarray(0, 100));
    s.receiver.pause();
    s.receiver.push(input.subarray(100));
    assert.deepEqual(s.recorder.events, []);
    s.receiver.resume();
    assert.deepEqual(s.recorder.events, [binary(bytes256)]);
  });

  test('end() delivers what a pause held, and pauses after it are ignored', () => {
    const s = setup(CLIENT);
    s.recorder.onEvent = () => s.receiver.pause();
    s.receiver.push(
      stream(frame(Opcode.Text, 'a'), frame(Opcode.Text, 'b'), frame(Opcode.Close, hex('03e8'))),
    );
    assert.deepEqual(s.recorder.events, [text('a')]);
    s.receiver.end();
    assert.deepEqual(s.recorder.events, [text('a'), text('b'), ['close', 1000, '']]);
    assert.equal(s.receiver.done, true);
  });

  test('end() mid-frame keeps the partial frame (no more input will complete it) and reports nothing', () => {
    const s = setup(SERVER);
    s.receiver.pause();
    s.receiver.push(f(true, Opcode.Binary, bytes256).subarray(0, 100));
    s.receiver.end();
    assert.deepEqual(s.recorder.events, []);
    assert.equal(s.receiver.idle, false);
  });

  test('a paused receiver that fails drops what it held', () => {
    const s = setup(CLIENT);
    s.receiver.pause();
    s.receiver.push(frame(Opcode.Text, 'a'));
    s.receiver.fail(new ProtocolError('WS_ERR_INVALID_OPCODE', 'x'));
    assert.equal(s.receiver.bufferedAmount, 0);
    s.receiver.resume();
    assert.deepEqual(s.recorder.events, [error('WS_ERR_INVALID_OPCODE', 1002)]);
  });

  test('pause() and resume() inside a handler while held input is being drained keep the order', () => {
    const s = setup(CLIENT);
    s.receiver.pause();
    s.receiver.push(stream(frame(Opcode.Text, '1'), frame(Opcode.Text, '2')));
    s.receiver.push(frame(Opcode.Text, '3'));
    s.recorder.onEvent = (event) => {
      if (event[2] === '31') {
        s.receiver.pause();
        s.receiver.resume();
      }
    };
    s.receiver.resume();
    assert.deepEqual(s.recorder.events, [text('1'), text('2'), text('3')]);
  });

  test('a message inflated while paused is not delivered until resume()', () => {
    const s = setup({ ...CLIENT, compression: true });
    s.receiver.push(frame(Opcode.Text, 'zz', { rsv1: true }));
    s.receiver.pause();
    s.receiver.inflated(Buffer.from('hi'), false);
    assert.deepEqual(s.recorder.events, [['compressed', 'text', ['7a7a']]], 'nothing while paused');
    s.receiver.resume();
    assert.deepEqual(s.recorder.events, [['compressed', 'text', ['7a7a']], text('hi')]);
  });
});

describe('compressed messages (RSV1 with compression negotiated)', () => {
  const DEFLATE = { ...CLIENT, compression: true };

  test('reported through onCompressedMessage; later input is held until inflated()', () => {
    const s = setup(DEFLATE);
    const after = stream(frame(Opcode.Ping, 'p'), frame(Opcode.Text, 'plain'));
    s.receiver.push(stream(frame(Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv1: true }), after));
    assert.deepEqual(s.recorder.events, [['compressed', 'text', ['f248cdc9c90700']]]);
    assert.equal(s.receiver.bufferedAmount, after.length);
    s.receiver.push(frame(Opcode.Binary, 'more'));
    assert.equal(s.recorder.events.length, 1, 'held');
    assert.equal(s.receiver.bufferedAmount, after.length + 6);
    s.receiver.inflated(Buffer.from('Hello'), false);
    assert.deepEqual(s.recorder.events, [
      ['compressed', 'text', ['f248cdc9c90700']],
      text('Hello'),
      ['ping', '70'],
      text('plain'),
      binary(Buffer.from('more')),
    ]);
    assert.equal(s.receiver.bufferedAmount, 0);
  });

  test('inflating until inflated(); end() while inflating delivers the rest after the message', () => {
    const s = setup(DEFLATE);
    s.recorder.onEvent = () => s.receiver.pause();
    s.receiver.push(
      stream(frame(Opcode.Text, hex('f2 48 cd c9 c9 07 00'), { rsv1: true }), frame(Opcode.Text, 'z')),
    );
    assert.equal(s.receiver.inflating, true);
    s.receiver.end();
    assert.equal(s.recorder.events.length, 1, 'still waiting for the inflated bytes');
    s.receiver.inflated(Buffer.from('Hello'), false);
    assert.equal(s.receiver.inflating, false);
    assert.deepEqual(s.recorder.events, [
      ['compressed', 'text', ['f248cdc9c90700']],
      text('Hello'),
      text('z'),
    ]);
  });

  test('a fragmented compressed message arrives as its parts; RSV1 only on the first frame', () => {
    const input = stream(
      frame(Opcode.Binary, 'ab', { fin: false, rsv1: true }),
      frame(Opcode.Ping, ''),
      frame(0, '', { fin: false }),
      frame(0, 'cd'),
    );
    const events = feedBytes(DEFLATE, input);
    assert.deepEqual(events, [
      ['ping', ''],
      ['compressed', 'binary', ['6162', '6364']],
      binary(Buffer.from('abcd')),
    ]);
    assertSplitInvariant(DEFLATE, input, events);
  });

  test('text is not validated before inflation, and is validated after: invalid inflated text is 1007', () => {
    const s = setup(DEFLATE);
    s.receiver.push(stream(frame(Opcode.Text, hex('ff ff'), { rsv1: true }), frame(Opcode.Text, 'next')));
    assert.deepEqual(s.recorder.events, [['compressed', 'text', ['ffff']]]);
    s.receiver.inflated(hex('c3 28'), false);
    assert.deepEqual(s.recorder.events.slice(1), [error('WS_ERR_INVALID_UTF8', 1007)]);
    assert.equal(s.receiver.done, true);
  });

  test('inflated binary in fragments mode is a one-element array', () => {
    const s = setup(DEFLATE, true);
    s.receiver.push(frame(Opcode.Binary, 'zz', { rsv1: true }));
    s.receiver.inflated(Buffer.from('data'), true);
    assert.deepEqual(s.recorder.events.slice(1), [['fragments', ['64617461']]]);
  });

  test('fail() while waiting for inflation reports the error and drops held input', () => {
    const s = setup(DEFLATE);
    s.receiver.push(stream(frame(Opcode.Text, 'zz', { rsv1: true }), frame(Opcode.Text, 'x')));
    s.receiver.fail(
      new ProtocolError('WS_ERR_INVALID_COMPRESSED_DATA', 'bad deflate data', CloseCode.InvalidPayload),
    );
    assert.equal(s.receiver.bufferedAmount, 0);
    s.receiver.inflated(Buffer.from('late'), false);
    assert.deepEqual(s.recorder.events, [
      ['compressed', 'text', ['7a7a']],
      error('WS_ERR_INVALID_COMPRESSED_DATA', 1007),
    ]);
  });

  test('inflated() when no message is waiting is ignored', () => {
    const s = setup(DEFLATE);
    s.receiver.inflated(Buffer.from('x'), false);
    s.receiver.push(frame(Opcode.Text, 'a'));
    assert.deepEqual(s.recorder.events, [text('a')]);
  });

  test('a close frame held behind a compressed message is handled after it', () => {
    const s = setup(DEFLATE);
    s.receiver.push(stream(frame(Opcode.Binary, 'zz', { rsv1: true }), frame(Opcode.Close, hex('03e8'))));
    s.receiver.inflated(Buffer.from('m'), true);
    assert.deepEqual(s.recorder.events.slice(1), [binary(Buffer.from('m')), ['close', 1000, '']]);
  });

  test('pause()/resume() while waiting for inflation: held input still waits for inflated()', () => {
    const s = setup(DEFLATE);
    s.receiver.push(stream(frame(Opcode.Text, 'zz', { rsv1: true }), frame(Opcode.Ping, 'p')));
    s.receiver.pause();
    s.receiver.resume();
    assert.equal(s.recorder.events.length, 1);
    assert.equal(s.receiver.bufferedAmount, 3);
    s.receiver.inflated(Buffer.from('ok'), false);
    assert.deepEqual(s.recorder.events.slice(1), [text('ok'), ['ping', '70']]);
  });

  test('one compressed message after another, each waiting for its own inflated()', () => {
    const s = setup(DEFLATE);
    s.receiver.push(
      stream(
        frame(Opcode.Text, 'a1', { rsv1: true }),
        frame(Opcode.Binary, 'b2', { rsv1: true }),
        frame(Opcode.Text, 'c'),
      ),
    );
    assert.deepEqual(s.recorder.events, [['compressed', 'text', ['6131']]]);
    s.receiver.inflated(Buffer.from('A'), false);
    assert.deepEqual(s.recorder.events.slice(1), [text('A'), ['compressed', 'binary', ['6232']]]);
    s.receiver.inflated(Buffer.from('B'), true);
    assert.deepEqual(s.recorder.events.slice(3), [binary(Buffer.from('B')), text('c')]);
  });

  test('maxPayload applies to the compressed frames at the header', () => {
    const s = setup({ ...DEFLATE, maxPayload: 4 });
    s.receiver.push(frame(Opcode.Binary, '', { rsv1: true, declaredLength: 5 }));
    assert.deepEqual(s.recorder.events, [error('WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', 1009)]);
  });

  test('inflated() called synchronously from onCompressedMessage while held input drains keeps the order', () => {
    const s = setup(DEFLATE);
    // m0 waits; then a chunk with compressed m1 and plain m2 is held, then a chunk with m3.
    s.receiver.push(frame(Opcode.Text, 'm0', { rsv1: true }));
    s.receiver.push(stream(frame(Opcode.Text, 'm1', { rsv1: true }), frame(Opcode.Text, 'm2')));
    s.receiver.push(frame(Opcode.Text, 'm3'));
    s.recorder.onEvent = (event) => {
      if (event[0] === 'compressed') s.receiver.inflated(Buffer.from(event[2][0], 'hex'), false);
    };
    s.receiver.inflated(Buffer.from('m0'), false);
    const messages = s.recorder.events.filter((e) => e[0] === 'message');
    assert.deepEqual(messages, [text('m0'), text('m1'), text('m2'), text('m3')]);
  });
});

describe('length encodings', () => {
  test('non-minimal length encodings are accepted (as the ws package does)', () => {
    const input = stream(
      frame(Opcode.Text, 'ab', { lengthBits: 16 }),
      frame(Opcode.Binary, 'cd', { lengthBits: 64 }),
      frame(Opcode.Binary, Buffer.alloc(300, 1), { lengthBits: 64 }),
    );
    assertSplitInvariant(CLIENT, input, [
      text('ab'),
      binary(Buffer.from('cd')),
      binary(Buffer.alloc(300, 1)),
    ]);
  });

  test('a control frame must use the 7-bit length even when short', () => {
    const input = frame(Opcode.Ping, 'ab', { lengthBits: 16 });
    assert.deepEqual(feedWhole(CLIENT, input), [error('WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH', 1002)]);
  });
});

/** A deterministic pseudo-random generator (xorshift32). */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

/** Random chunks of `input`, 1 to `max` bytes each. */
function randomChunks(input: Buffer, random: (n: number) => number, max: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; ) {
    const n = 1 + random(max);
    chunks.push(input.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

describe('generated streams', () => {
  const SAMPLE = 'aZ09 \u00e9\u00df\u0416\u20ac\u6f22\ud7ff\ue000\uffff\u{10000}\u{1f600}\u{10ffff}';
  const CHARS = Array.from(SAMPLE);

  for (const masked of [false, true]) {
    test(`valid messages in random fragments with random control frames, in random chunks (${masked ? 'server' : 'client'})`, () => {
      const random = prng(masked ? 7 : 11);
      const frames: Buffer[] = [];
      const expected: Event[] = [];
      const sizes = [0, 1, 2, 5, 30, 125, 126, 127, 500, 65535, 65536, 70000];
      const mask = (): Uint8Array | null =>
        masked ? Uint8Array.of(random(256), random(256), random(256), random(256)) : null;
      for (let m = 0; m < 80; m++) {
        const isText = random(2) === 0;
        const size = sizes[random(random(8) === 0 ? sizes.length : 9)];
        let payload: Buffer;
        if (isText) {
          const chars: string[] = [];
          for (let n = 0; n < size; ) {
            const c = CHARS[random(CHARS.length)];
            chars.push(c);
            n += Buffer.byteLength(c);
          }
          payload = Buffer.from(chars.join(''));
        } else {
          payload = Buffer.alloc(size);
          for (let i = 0; i < size; i++) payload[i] = random(256);
        }
        // Split at random byte positions (multi-byte characters may be cut between frames).
        const cuts = [0];
        const pieces = random(2) === 0 ? 1 + random(6) : 1;
        for (let i = 1; i < pieces; i++) cuts.push(random(payload.length + 1));
        cuts.sort((a, b) => a - b);
        cuts.push(payload.length);
        for (let i = 0; i + 1 < cuts.length; i++) {
          const opcode = i === 0 ? (isText ? Opcode.Text : Opcode.Binary) : Opcode.Continuation;
          const fin = i + 2 === cuts.length;
          frames.push(frame(opcode, payload.subarray(cuts[i], cuts[i + 1]), { fin, mask: mask() }));
          if (!fin && random(3) === 0) {
            const control = Buffer.alloc(random(126), 0x63);
            const ping = random(2) === 0;
            frames.push(frame(ping ? Opcode.Ping : Opcode.Pong, control, { mask: mask() }));
            expected.push([ping ? 'ping' : 'pong', control.toString('hex')]);
          }
        }
        expected.push(['message', isText ? 'text' : 'binary', payload.toString('hex')]);
        if (random(5) === 0) {
          frames.push(frame(Opcode.Pong, 'after', { mask: mask() }));
          expected.push(['pong', Buffer.from('after').toString('hex')]);
        }
      }
      frames.push(frame(Opcode.Close, hex('0fa0 6f6b'), { mask: mask() }));
      expected.push(['close', 4000, '6f6b']);
      const input = stream(...frames);
      // The generator really produced big, fragmented and interleaved input.
      assert.ok(input.length > 100_000, `${input.length} bytes`);
      assert.ok(frames.filter((fr) => (fr[0] & 0x0f) === Opcode.Continuation).length > 10);
      assert.ok(expected.filter((e) => e[0] === 'ping' || e[0] === 'pong').length > 10);
      const options = sideFor(masked);
      assert.deepEqual(feedWhole(options, input), expected, 'whole');
      for (const max of [3, 200, 5000, 100_000]) {
        assert.deepEqual(
          feedChunks(options, randomChunks(input, random, max)),
          expected,
          `chunks up to ${max}`,
        );
      }
    });
  }

  test('random bytes: never a throw, at most one error, nothing after it, identical however split', () => {
    const random = prng(3);
    const variants: ReceiverOptions[] = [
      CLIENT,
      SERVER,
      { ...CLIENT, compression: true, maxPayload: 64 },
      { ...SERVER, maxFragments: 2 },
    ];
    for (let run = 0; run < 1500; run++) {
      // Mostly plausible headers (so parsing goes past the first byte), sometimes pure noise.
      const parts: Buffer[] = [];
      for (let f = 0; f < 1 + random(5); f++) {
        const len = random(8);
        const head = [random(256), (random(2) << 7) | len];
        const body = Array.from({ length: len + (head[1] & 0x80 ? 4 : 0) + random(3) }, () => random(256));
        parts.push(Buffer.from(random(6) === 0 ? body : [...head, ...body]));
      }
      const input = Buffer.concat(parts);
      const options = variants[run % variants.length];
      const whole = feedWhole(options, input);
      const errors = whole.filter((e) => e[0] === 'error').length;
      assert.ok(errors <= 1);
      const last = whole.findIndex((e) => e[0] === 'error' || e[0] === 'close');
      assert.ok(last === -1 || last === whole.length - 1, `events after the end: ${input.toString('hex')}`);
      assert.deepEqual(feedBytes(options, input), whole, input.toString('hex'));
      assert.deepEqual(feedSplit(options, input, random(input.length + 1)), whole, input.toString('hex'));
    }
  });
});

describe('idle: nothing held between messages', () => {
  test('true only between whole messages, never mid-frame, mid-message, paused or after the end', () => {
    const { receiver } = setup(CLIENT);
    assert.equal(receiver.idle, true);
    const whole = f(false, Opcode.Text, 'hello');
    receiver.push(whole.subarray(0, 1)); // half a header
    assert.equal(receiver.idle, false);
    receiver.push(whole.subarray(1, 4)); // the header and part of the payload
    assert.equal(receiver.idle, false);
    receiver.push(whole.subarray(4));
    assert.equal(receiver.idle, true);
    receiver.push(f(false, Opcode.Text, 'a', false)); // the first of two fragments
    assert.equal(receiver.idle, false);
    receiver.push(f(false, Opcode.Ping, 'p')); // a control frame between them
    assert.equal(receiver.idle, false);
    receiver.push(f(false, Opcode.Continuation, 'b'));
    assert.equal(receiver.idle, true);
    receiver.pause();
    assert.equal(receiver.idle, false);
    receiver.resume();
    assert.equal(receiver.idle, true);
    receiver.push(f(false, Opcode.Close));
    assert.equal(receiver.idle, false);
  });
});
