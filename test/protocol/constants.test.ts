// Named constants against the RFC's numbers, isValidCloseCode over every 16-bit value, and the two
// error types kept apart.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  CloseCode,
  Defaults,
  isValidCloseCode,
  MAX_CLOSE_REASON,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  ProtocolError,
  UsageError,
} from '../../src/protocol/index.js';

describe('constants', () => {
  test('opcodes (RFC 6455, section 5.2)', () => {
    assert.deepEqual({ ...Opcode }, { Continuation: 0, Text: 1, Binary: 2, Close: 8, Ping: 9, Pong: 10 });
  });

  test('close codes (section 7.4.1)', () => {
    assert.equal(CloseCode.Normal, 1000);
    assert.equal(CloseCode.GoingAway, 1001);
    assert.equal(CloseCode.ProtocolError, 1002);
    assert.equal(CloseCode.UnsupportedData, 1003);
    assert.equal(CloseCode.NoStatusReceived, 1005);
    assert.equal(CloseCode.Abnormal, 1006);
    assert.equal(CloseCode.InvalidPayload, 1007);
    assert.equal(CloseCode.PolicyViolation, 1008);
    assert.equal(CloseCode.MessageTooBig, 1009);
    assert.equal(CloseCode.MandatoryExtension, 1010);
    assert.equal(CloseCode.InternalError, 1011);
    assert.equal(CloseCode.TlsHandshakeFailed, 1015);
    assert.equal(MAX_CONTROL_PAYLOAD, 125);
    assert.equal(MAX_CLOSE_REASON, 123);
  });

  test('isValidCloseCode over every 16-bit value: 1000-1003, 1007-1014, 3000-4999', () => {
    const valid: number[] = [];
    for (let code = 0; code <= 0xffff; code++) if (isValidCloseCode(code)) valid.push(code);
    const expected: number[] = [1000, 1001, 1002, 1003];
    for (let code = 1007; code <= 1014; code++) expected.push(code);
    for (let code = 3000; code <= 4999; code++) expected.push(code);
    assert.deepEqual(valid, expected);
    for (const code of [-1, 70000, 1_000_000, Number.NaN])
      assert.equal(isValidCloseCode(code), false, `${code}`);
  });

  test('isValidCloseCode refuses numbers that are not integers', () => {
    for (const code of [1000.5, 3000.1, 4999.9]) assert.equal(isValidCloseCode(code), false, `${code}`);
  });

  test('every limit has a positive default', () => {
    for (const [name, value] of Object.entries(Defaults)) {
      assert.ok(Number.isInteger(value) && value > 0, name);
    }
    assert.equal(Defaults.maxPayload, 100 * 1024 * 1024);
  });
});

describe('errors', () => {
  test('ProtocolError: the peer’s fault, with a code and the close code (1002 by default)', () => {
    const err = new ProtocolError('WS_ERR_INVALID_OPCODE', 'bad');
    assert.ok(err instanceof Error);
    assert.ok(!(err instanceof TypeError));
    assert.equal(err.name, 'ProtocolError');
    assert.equal(err.code, 'WS_ERR_INVALID_OPCODE');
    assert.equal(err.closeCode, 1002);
    assert.equal(err.message, 'bad');
    assert.equal(new ProtocolError('WS_ERR_INVALID_UTF8', 'x', 1007).closeCode, 1007);
  });

  test('UsageError: the caller’s mistake, a TypeError with a code, and not a ProtocolError', () => {
    const err = new UsageError('ERR_INVALID_CLOSE_CODE', 'bad code');
    assert.ok(err instanceof TypeError);
    assert.ok(!(err instanceof ProtocolError));
    assert.equal(err.name, 'UsageError');
    assert.equal(err.code, 'ERR_INVALID_CLOSE_CODE');
    assert.ok(!('closeCode' in err));
  });
});
