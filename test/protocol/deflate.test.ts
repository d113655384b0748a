// permessage-deflate negotiation (RFC 7692, section 7.1): the server's answer to offers for all four
// parameters, bad offers declined with fallback to the next, the server's limits, the client's
// offer, the client's check of the response, and a client x server configuration matrix.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  acceptDeflateOffer,
  acceptDeflateResponse,
  type DeflateConfig,
  DeflateNegotiationError,
  type DeflateParams,
  deflateOffer,
  formatExtensions,
  PERMESSAGE_DEFLATE,
  parseExtensions,
} from '../../src/protocol/index.js';

const DEFAULTS: DeflateParams = {
  serverNoContextTakeover: false,
  clientNoContextTakeover: false,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
};

/** The server's answer to an offer header: the params and the response header, or null (declined). */
function accept(
  header: string,
  config: DeflateConfig = {},
): { params: DeflateParams; response: string } | null {
  const result = acceptDeflateOffer(parseExtensions(header), config);
  if (result === null) return null;
  assert.equal(result.response.name, PERMESSAGE_DEFLATE);
  return { params: result.params, response: formatExtensions([result.response]) };
}

/** The client's view of a response header, given what it offered. */
function clientAccepts(header: string, config: DeflateConfig = {}): DeflateParams {
  const [response] = parseExtensions(header);
  return acceptDeflateResponse(response, config);
}

const isNegotiationError = (err: unknown): boolean => {
  assert.ok(err instanceof DeflateNegotiationError);
  assert.equal(err.code, 'ERR_INVALID_DEFLATE_PARAMS');
  assert.equal(err.name, 'DeflateNegotiationError');
  return true;
};

/** The window limit a config sets: its number, or 15 when absent or `true`. */
const limit = (bits: number | true | undefined): number => (typeof bits === 'number' ? bits : 15);

describe('acceptDeflateOffer: each parameter of an offer', () => {
  test('a bare offer: the defaults, and a bare response', () => {
    assert.deepEqual(accept('permessage-deflate'), { params: DEFAULTS, response: 'permessage-deflate' });
  });

  test('client_max_window_bits without a value: the client supports it; we need not limit it', () => {
    assert.deepEqual(accept('permessage-deflate; client_max_window_bits'), {
      params: DEFAULTS,
      response: 'permessage-deflate',
    });
  });

  test('client_max_window_bits=N: the client will use at most N, and the response says so', () => {
    for (const bits of [8, 9, 10, 11, 12, 13, 14, 15]) {
      assert.deepEqual(accept(`permessage-deflate; client_max_window_bits=${bits}`), {
        params: { ...DEFAULTS, clientMaxWindowBits: bits },
        response: `permessage-deflate; client_max_window_bits=${bits}`,
      });
    }
    // A quoted value is the same value.
    assert.equal(accept('permessage-deflate; client_max_window_bits="10"')?.params.clientMaxWindowBits, 10);
  });

  test('server_max_window_bits=N: our window is at most N, and the response says so', () => {
    for (const bits of [8, 9, 10, 11, 12, 13, 14, 15]) {
      assert.deepEqual(accept(`permessage-deflate; server_max_window_bits=${bits}`), {
        params: { ...DEFAULTS, serverMaxWindowBits: bits },
        response: `permessage-deflate; server_max_window_bits=${bits}`,
      });
    }
  });

  test('server_no_context_takeover and client_no_context_takeover are granted and echoed', () => {
    assert.deepEqual(accept('permessage-deflate; server_no_context_takeover'), {
      params: { ...DEFAULTS, serverNoContextTakeover: true },
      response: 'permessage-deflate; server_no_context_takeover',
    });
    assert.deepEqual(accept('permessage-deflate; client_no_context_takeover'), {
      params: { ...DEFAULTS, clientNoContextTakeover: true },
      response: 'permessage-deflate; client_no_context_takeover',
    });
  });

  test('all four at once, in any order', () => {
    const expected = {
      params: {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 9,
        clientMaxWindowBits: 8,
      },
      response:
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
    };
    assert.deepEqual(
      accept(
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=8',
      ),
      expected,
    );
    assert.deepEqual(
      accept(
        'permessage-deflate;client_max_window_bits=8;server_max_window_bits=9;client_no_context_takeover;server_no_context_takeover',
      ),
      expected,
    );
  });
});

describe('acceptDeflateOffer: bad offers are declined, and the next offer is tried', () => {
  const BAD = [
    'server_max_window_bits',
    'server_max_window_bits=7',
    'server_max_window_bits=16',
    'server_max_window_bits=0',
    'server_max_window_bits=08',
    'server_max_window_bits=010',
    'server_max_window_bits=-9',
    'server_max_window_bits=9.0',
    'server_max_window_bits=1e1',
    'server_max_window_bits=abc',
    'server_max_window_bits=""',
    'client_max_window_bits=7',
    'client_max_window_bits=16',
    'client_max_window_bits=0',
    'client_max_window_bits=15.0',
    'client_max_window_bits=+9',
    'server_no_context_takeover=1',
    'server_no_context_takeover=true',
    'client_no_context_takeover=0',
    'server_no_context_takeover; server_no_context_takeover',
    'client_no_context_takeover; client_no_context_takeover',
    'server_max_window_bits=10; server_max_window_bits=10',
    'client_max_window_bits; client_max_window_bits',
    'client_max_window_bits=10; client_max_window_bits',
    'foo',
    'x=1',
    'Server_No_Context_Takeover',
    'constructor',
    '__proto__=1',
  ];

  test('each bad parameter alone: declined (null)', () => {
    for (const param of BAD) {
      let header = `permessage-deflate; ${param}`;
      // parseExtensions refuses an empty quoted value; the offer is then never parsed.
      if (param.endsWith('""')) {
        assert.throws(() => parseExtensions(header));
        continue;
      }
      assert.equal(accept(header), null, header);
      header = `permessage-deflate; client_max_window_bits; ${param}`;
      assert.equal(accept(header), null, header);
    }
  });

  test('each bad offer followed by a good one: the good one is accepted', () => {
    for (const param of BAD) {
      if (param.endsWith('""')) continue;
      const header = `permessage-deflate; ${param}, permessage-deflate; client_max_window_bits=9`;
      assert.deepEqual(
        accept(header),
        {
          params: { ...DEFAULTS, clientMaxWindowBits: 9 },
          response: 'permessage-deflate; client_max_window_bits=9',
        },
        header,
      );
    }
  });

  test('other extensions are skipped; the first acceptable permessage-deflate offer wins', () => {
    assert.deepEqual(accept('x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=10'), {
      params: { ...DEFAULTS, serverMaxWindowBits: 10 },
      response: 'permessage-deflate; server_max_window_bits=10',
    });
    assert.equal(
      accept('permessage-deflate; server_max_window_bits=11, permessage-deflate; server_max_window_bits=9')
        ?.params.serverMaxWindowBits,
      11,
    );
    assert.equal(accept('x-webkit-deflate-frame; no_context_takeover'), null);
    assert.equal(acceptDeflateOffer([], {}), null);
    assert.equal(accept('Permessage-Deflate'), null, 'extension names are compared exactly');
  });
});

describe('acceptDeflateOffer: the server configuration', () => {
  test('serverNoContextTakeover / clientNoContextTakeover are imposed even if not offered', () => {
    assert.deepEqual(accept('permessage-deflate', { serverNoContextTakeover: true }), {
      params: { ...DEFAULTS, serverNoContextTakeover: true },
      response: 'permessage-deflate; server_no_context_takeover',
    });
    assert.deepEqual(accept('permessage-deflate', { clientNoContextTakeover: true }), {
      params: { ...DEFAULTS, clientNoContextTakeover: true },
      response: 'permessage-deflate; client_no_context_takeover',
    });
    // false does not refuse a client that asks for it.
    assert.equal(
      accept('permessage-deflate; server_no_context_takeover', { serverNoContextTakeover: false })?.params
        .serverNoContextTakeover,
      true,
    );
  });

  test('serverMaxWindowBits: our window is the smaller of our limit and the client’s', () => {
    const cases: [string, number, number][] = [
      ['permessage-deflate', 10, 10],
      ['permessage-deflate; server_max_window_bits=12', 10, 10],
      ['permessage-deflate; server_max_window_bits=9', 10, 9],
      ['permessage-deflate; server_max_window_bits=15', 15, 15],
    ];
    for (const [header, limit, expected] of cases) {
      const result = accept(header, { serverMaxWindowBits: limit });
      assert.equal(result?.params.serverMaxWindowBits, expected, header);
      assert.match(result?.response ?? '', new RegExp(`server_max_window_bits=${expected}`), header);
    }
    // 15 and not asked: nothing to say.
    assert.equal(accept('permessage-deflate', { serverMaxWindowBits: 15 })?.response, 'permessage-deflate');
  });

  test('clientMaxWindowBits: limits the client only if it announced support; else the offer is declined', () => {
    assert.equal(accept('permessage-deflate', { clientMaxWindowBits: 10 }), null);
    assert.deepEqual(accept('permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 10 }), {
      params: { ...DEFAULTS, clientMaxWindowBits: 10 },
      response: 'permessage-deflate; client_max_window_bits=10',
    });
    assert.equal(
      accept('permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 })?.params
        .clientMaxWindowBits,
      10,
    );
    assert.equal(
      accept('permessage-deflate; client_max_window_bits=9', { clientMaxWindowBits: 10 })?.params
        .clientMaxWindowBits,
      9,
    );
    // Fallback: the offer without support is skipped for the one with it.
    assert.equal(
      accept('permessage-deflate, permessage-deflate; client_max_window_bits', { clientMaxWindowBits: 11 })
        ?.params.clientMaxWindowBits,
      11,
    );
    // A limit of 15 is no limit.
    assert.deepEqual(accept('permessage-deflate', { clientMaxWindowBits: 15 }), {
      params: DEFAULTS,
      response: 'permessage-deflate',
    });
  });
});

describe('deflateOffer', () => {
  test('the default offer announces client_max_window_bits support', () => {
    assert.equal(formatExtensions([deflateOffer({})]), 'permessage-deflate; client_max_window_bits');
  });

  test('every parameter', () => {
    const offer = deflateOffer({
      serverNoContextTakeover: true,
      clientNoContextTakeover: true,
      serverMaxWindowBits: 10,
      clientMaxWindowBits: 9,
    });
    assert.equal(
      formatExtensions([offer]),
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
    );
    assert.equal(
      formatExtensions([deflateOffer({ serverNoContextTakeover: false, clientNoContextTakeover: false })]),
      'permessage-deflate; client_max_window_bits',
    );
  });
});

describe('acceptDeflateResponse', () => {
  test('a bare response: the defaults; our own client_no_context_takeover stays in force', () => {
    assert.deepEqual(clientAccepts('permessage-deflate'), DEFAULTS);
    assert.deepEqual(clientAccepts('permessage-deflate', { clientNoContextTakeover: true }), {
      ...DEFAULTS,
      clientNoContextTakeover: true,
    });
    assert.deepEqual(clientAccepts('permessage-deflate', { clientMaxWindowBits: 11 }), {
      ...DEFAULTS,
      clientMaxWindowBits: 11,
    });
  });

  test('what the server grants or imposes', () => {
    assert.deepEqual(
      clientAccepts(
        'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
      ),
      {
        serverNoContextTakeover: true,
        clientNoContextTakeover: true,
        serverMaxWindowBits: 10,
        clientMaxWindowBits: 9,
      },
    );
    assert.equal(
      clientAccepts('permessage-deflate; server_max_window_bits=10', { serverMaxWindowBits: 10 })
        .serverMaxWindowBits,
      10,
    );
    assert.equal(
      clientAccepts('permessage-deflate; client_max_window_bits=10', { clientMaxWindowBits: 10 })
        .clientMaxWindowBits,
      10,
    );
  });

  test('responses that break RFC 7692 or what we offered throw DeflateNegotiationError', () => {
    const cases: [string, DeflateConfig][] = [
      ['permessage-deflate; server_max_window_bits=11', { serverMaxWindowBits: 10 }],
      ['permessage-deflate', { serverNoContextTakeover: true }],
      ['permessage-deflate; client_max_window_bits=12', { clientMaxWindowBits: 10 }],
      ['permessage-deflate; client_max_window_bits', {}],
      ['permessage-deflate; server_max_window_bits', {}],
      ['permessage-deflate; server_max_window_bits=7', {}],
      ['permessage-deflate; server_max_window_bits=16', {}],
      ['permessage-deflate; client_max_window_bits=16', {}],
      ['permessage-deflate; server_no_context_takeover=1', {}],
      ['permessage-deflate; server_no_context_takeover; server_no_context_takeover', {}],
      ['permessage-deflate; client_max_window_bits=9; client_max_window_bits=9', {}],
      ['permessage-deflate; foo', {}],
      ['permessage-deflate; hasOwnProperty', {}],
    ];
    for (const [header, config] of cases) {
      assert.throws(() => clientAccepts(header, config), isNegotiationError, header);
    }
  });
});

describe('client and server agree (a configuration matrix)', () => {
  test('whenever the server accepts a client offer, the client accepts the response with the same parameters', () => {
    const configs: DeflateConfig[] = [];
    for (const serverNoContextTakeover of [false, true]) {
      for (const clientNoContextTakeover of [false, true]) {
        for (const serverMaxWindowBits of [undefined, 8, 10, 15]) {
          for (const clientMaxWindowBits of [undefined, 9, 12, 15]) {
            configs.push({
              serverNoContextTakeover,
              clientNoContextTakeover,
              serverMaxWindowBits,
              clientMaxWindowBits,
            });
          }
        }
      }
    }
    let accepted = 0;
    for (const client of configs) {
      const offer = deflateOffer(client);
      // Through the wire format and back, as the real handshake does.
      const offers = parseExtensions(formatExtensions([offer]));
      for (const server of configs) {
        const result = acceptDeflateOffer(offers, server);
        const where = `client ${JSON.stringify(client)} server ${JSON.stringify(server)}`;
        assert.ok(result !== null, where);
        accepted++;
        const [response] = parseExtensions(formatExtensions([result.response]));
        const params = acceptDeflateResponse(response, client);
        assert.deepEqual(params, result.params, where);
        // What each side asked for holds.
        if (client.serverNoContextTakeover || server.serverNoContextTakeover)
          assert.ok(params.serverNoContextTakeover);
        if (client.clientNoContextTakeover || server.clientNoContextTakeover)
          assert.ok(params.clientNoContextTakeover);
        assert.ok(params.serverMaxWindowBits <= limit(client.serverMaxWindowBits), where);
        assert.ok(params.serverMaxWindowBits <= limit(server.serverMaxWindowBits), where);
        assert.ok(params.clientMaxWindowBits <= limit(client.clientMaxWindowBits), where);
        assert.ok(params.clientMaxWindowBits <= limit(server.clientMaxWindowBits), where);
      }
    }
    assert.equal(accepted, configs.length ** 2);
  });
});

describe('configuration values', () => {
  test('window bits `true` (as DeflateConfig documents, and as ws users pass it) lets the peer choose', () => {
    const asTrue = (c: Record<string, unknown>): DeflateConfig => c as DeflateConfig;
    assert.equal(
      formatExtensions([deflateOffer(asTrue({ clientMaxWindowBits: true }))]),
      'permessage-deflate; client_max_window_bits',
    );
    assert.equal(
      formatExtensions([deflateOffer(asTrue({ serverMaxWindowBits: true }))]),
      'permessage-deflate; client_max_window_bits',
    );
    assert.deepEqual(
      accept(
        'permessage-deflate; client_max_window_bits',
        asTrue({ serverMaxWindowBits: true, clientMaxWindowBits: true }),
      ),
      { params: DEFAULTS, response: 'permessage-deflate' },
    );
    assert.equal(
      accept('permessage-deflate; server_max_window_bits=10', asTrue({ serverMaxWindowBits: true }))?.params
        .serverMaxWindowBits,
      10,
    );
  });

  test('window bits outside 8-15 in the configuration are refused, never negotiated', () => {
    for (const bits of [0, 7, 16, 20, 9.5, -1]) {
      for (const config of [{ serverMaxWindowBits: bits }, { clientMaxWindowBits: bits }]) {
        let result: ReturnType<typeof acceptDeflateOffer> = null;
        try {
          result = acceptDeflateOffer(parseExtensions('permessage-deflate; client_max_window_bits'), config);
        } catch (err) {
          // Refusing the option is fine too.
          assert.ok(err instanceof Error && 'code' in err, String(err));
          continue;
        }
        assert.ok(result !== null);
        for (const value of [result.params.serverMaxWindowBits, result.params.clientMaxWindowBits]) {
          assert.ok(
            Number.isInteger(value) && value >= 8 && value <= 15,
            `${JSON.stringify(config)}: ${value}`,
          );
        }
      }
    }
  });
});
