/**
 * permessage-deflate negotiation (RFC 7692, section 7.1): building and answering offers, validating
 * the other side's parameters. The compression itself is the I/O layer's (zlib); nothing here
 * touches it.
 * @module
 */
import { UsageError } from './errors.js';
import type { ExtensionOffer, ExtensionParam } from './extensions.js';

/** The extension's registered name. */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** The parameters in force on one connection once negotiated. */
export interface DeflateParams {
  /** The server resets its compression context after each message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after each message. */
  clientNoContextTakeover: boolean;
  /** LZ77 window of the server's compressor, 8-15 bits. */
  serverMaxWindowBits: number;
  /** LZ77 window of the client's compressor, 8-15 bits. */
  clientMaxWindowBits: number;
}

/**
 * What an endpoint is willing to agree to. Window bits are integers 8-15; `true` or undefined lets
 * the peer choose (as with `ws`).
 */
export interface DeflateConfig {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number | true;
  clientMaxWindowBits?: number | true;
}

/** A {@link DeflateConfig} with `true` resolved to undefined and the window bits checked. */
interface CheckedConfig {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  clientMaxWindowBits: number | undefined;
}

function configBits(value: unknown, name: string): number | undefined {
  if (value === undefined || value === true) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 8 && value <= 15) return value;
  throw new UsageError(
    'ERR_INVALID_OPTION',
    `${name} must be an integer from 8 to 15 or true, not ${String(value)}`,
  );
}

/**
 * Checks a configuration before any negotiation: throws {@link UsageError} for window bits that are
 * not integers from 8 to 15 (or `true`).
 */
export function checkDeflateConfig(config: DeflateConfig): CheckedConfig {
  return {
    serverNoContextTakeover: config.serverNoContextTakeover === true,
    clientNoContextTakeover: config.clientNoContextTakeover === true,
    serverMaxWindowBits: configBits(config.serverMaxWindowBits, 'serverMaxWindowBits'),
    clientMaxWindowBits: configBits(config.clientMaxWindowBits, 'clientMaxWindowBits'),
  };
}

/** Thrown when parameters break RFC 7692 (a server then declines the offer; a client fails). */
export class DeflateNegotiationError extends Error {
  override readonly name = 'DeflateNegotiationError';
  readonly code = 'ERR_INVALID_DEFLATE_PARAMS';
}

function windowBits(param: ExtensionParam, allowEmpty: boolean): number | true {
  if (param.value === true) {
    if (allowEmpty) return true;
    throw new DeflateNegotiationError(`${param.name} needs a value`);
  }
  if (!/^(?:[89]|1[0-5])$/.test(param.value)) {
    throw new DeflateNegotiationError(`invalid ${param.name}: ${param.value}`);
  }
  return Number(param.value);
}

interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: the parameter was present without a value (the client supports it). */
  clientMaxWindowBits: number | true | undefined;
}

/** Reads one offer's or response's parameters: each at most once, known names, valid values. */
function readParams(params: readonly ExtensionParam[], isResponse: boolean): ParsedParams {
  const out: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const param of params) {
    if (seen.has(param.name)) throw new DeflateNegotiationError(`duplicate parameter ${param.name}`);
    seen.add(param.name);
    switch (param.name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (param.value !== true) throw new DeflateNegotiationError(`${param.name} takes no value`);
        if (param.name === 'server_no_context_takeover') out.serverNoContextTakeover = true;
        else out.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        out.serverMaxWindowBits = windowBits(param, false) as number;
        break;
      case 'client_max_window_bits':
        out.clientMaxWindowBits = windowBits(param, !isResponse);
        break;
      default:
        throw new DeflateNegotiationError(`unknown parameter ${param.name}`);
    }
  }
  return out;
}

/** The offer a client sends for `config`. */
export function deflateOffer(options: DeflateConfig): ExtensionOffer {
  const config = checkDeflateConfig(options);
  const params: ExtensionParam[] = [];
  if (config.serverNoContextTakeover) params.push({ name: 'server_no_context_takeover', value: true });
  if (config.clientNoContextTakeover) params.push({ name: 'client_no_context_takeover', value: true });
  if (config.serverMaxWindowBits !== undefined) {
    params.push({ name: 'server_max_window_bits', value: String(config.serverMaxWindowBits) });
  }
  params.push({
    name: 'client_max_window_bits',
    value: config.clientMaxWindowBits === undefined ? true : String(config.clientMaxWindowBits),
  });
  return { name: PERMESSAGE_DEFLATE, params };
}

/**
 * Server side: picks the first acceptable permessage-deflate offer among `offers` and returns the
 * parameters in force and the response to send, or null to decline (no offer, or none acceptable).
 */
export function acceptDeflateOffer(
  offers: readonly ExtensionOffer[],
  options: DeflateConfig,
): { params: DeflateParams; response: ExtensionOffer } | null {
  const config = checkDeflateConfig(options);
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    let asked: ParsedParams;
    try {
      asked = readParams(offer.params, false);
    } catch {
      continue; // RFC 7692, 5: an offer with an invalid parameter is declined; try the next.
    }
    // The server's window: the smaller of the client's limit and ours.
    let serverBits = 15;
    if (config.serverMaxWindowBits !== undefined) serverBits = config.serverMaxWindowBits;
    if (asked.serverMaxWindowBits !== undefined) serverBits = Math.min(serverBits, asked.serverMaxWindowBits);
    // The client's window: only limited if the client said it supports the parameter.
    let clientBits = 15;
    if (asked.clientMaxWindowBits === undefined) {
      if (config.clientMaxWindowBits !== undefined && config.clientMaxWindowBits < 15) continue;
    } else {
      if (typeof asked.clientMaxWindowBits === 'number') clientBits = asked.clientMaxWindowBits;
      if (config.clientMaxWindowBits !== undefined)
        clientBits = Math.min(clientBits, config.clientMaxWindowBits);
    }
    const params: DeflateParams = {
      serverNoContextTakeover: asked.serverNoContextTakeover || config.serverNoContextTakeover,
      clientNoContextTakeover: asked.clientNoContextTakeover || config.clientNoContextTakeover,
      serverMaxWindowBits: serverBits,
      clientMaxWindowBits: clientBits,
    };
    const response: ExtensionParam[] = [];
    if (params.serverNoContextTakeover) response.push({ name: 'server_no_context_takeover', value: true });
    if (params.clientNoContextTakeover) response.push({ name: 'client_no_context_takeover', value: true });
    if (asked.serverMaxWindowBits !== undefined || serverBits < 15) {
      response.push({ name: 'server_max_window_bits', value: String(serverBits) });
    }
    if (
      asked.clientMaxWindowBits !== undefined &&
      (typeof asked.clientMaxWindowBits === 'number' || clientBits < 15)
    ) {
      response.push({ name: 'client_max_window_bits', value: String(clientBits) });
    }
    return { params, response: { name: PERMESSAGE_DEFLATE, params: response } };
  }
  return null;
}

/**
 * Client side: validates the server's response to our offer (`config` is what we offered) and
 * returns the parameters in force. Throws {@link DeflateNegotiationError} when the response
 * breaks RFC 7692 or what we offered; the client must then fail the connection.
 */
export function acceptDeflateResponse(response: ExtensionOffer, options: DeflateConfig): DeflateParams {
  const config = checkDeflateConfig(options);
  const got = readParams(response.params, true);
  if (
    config.serverMaxWindowBits !== undefined &&
    got.serverMaxWindowBits !== undefined &&
    got.serverMaxWindowBits > config.serverMaxWindowBits
  ) {
    throw new DeflateNegotiationError('server_max_window_bits above what was offered');
  }
  if (config.serverNoContextTakeover && !got.serverNoContextTakeover) {
    throw new DeflateNegotiationError('server_no_context_takeover was asked for and not granted');
  }
  let clientBits = config.clientMaxWindowBits ?? 15;
  if (typeof got.clientMaxWindowBits === 'number') {
    if (got.clientMaxWindowBits > clientBits) {
      throw new DeflateNegotiationError('client_max_window_bits above what was offered');
    }
    clientBits = got.clientMaxWindowBits;
  }
  return {
    serverNoContextTakeover: got.serverNoContextTakeover,
    clientNoContextTakeover: got.clientNoContextTakeover || config.clientNoContextTakeover,
    serverMaxWindowBits: got.serverMaxWindowBits ?? 15,
    clientMaxWindowBits: clientBits,
  };
}
