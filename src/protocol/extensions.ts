/**
 * The Sec-WebSocket-Extensions header (RFC 6455, section 9.1): a linear-time parser and a
 * formatter. Offers keep their order and their parameters' order and duplicates, so the
 * negotiation can apply RFC 7692's rules; nothing is looked up on an object prototype.
 * @module
 */

/** One parameter of an extension offer; a parameter without a value has `value` true. */
export interface ExtensionParam {
  readonly name: string;
  readonly value: string | true;
}

/** One extension offer (or response) with its parameters in header order. */
export interface ExtensionOffer {
  readonly name: string;
  readonly params: readonly ExtensionParam[];
}

/** Why a header could not be parsed. */
export class ExtensionHeaderError extends SyntaxError {
  override readonly name = 'ExtensionHeaderError';
  readonly code = 'ERR_INVALID_EXTENSION_HEADER';
}

// tchar of RFC 7230, section 3.2.6.
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") {
  TOKEN[c.charCodeAt(0)] = 1;
}

/** Whether `s` is a non-empty RFC 7230 token. */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || TOKEN[c] === 0) return false;
  }
  return true;
}

const SPACE = 0x20;
const TAB = 0x09;
const COMMA = 0x2c;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Parses a Sec-WebSocket-Extensions value (several header lines joined with ", ").
 * One pass, no backtracking. Throws {@link ExtensionHeaderError} on bad syntax, including a quoted
 * value that is not a token once unquoted (section 9.1).
 */
export function parseExtensions(header: string): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  const n = header.length;
  let i = 0;
  const fail = (what: string): never => {
    throw new ExtensionHeaderError(`invalid Sec-WebSocket-Extensions header: ${what} at index ${i}`);
  };
  const skipSpace = (): void => {
    while (i < n && (header.charCodeAt(i) === SPACE || header.charCodeAt(i) === TAB)) i++;
  };
  const token = (): string => {
    const start = i;
    while (i < n) {
      const c = header.charCodeAt(i);
      if (c > 127 || TOKEN[c] === 0) break;
      i++;
    }
    if (i === start) fail('expected a token');
    return header.slice(start, i);
  };

  for (;;) {
    skipSpace();
    const name = token();
    const params: ExtensionParam[] = [];
    skipSpace();
    while (i < n && header.charCodeAt(i) === SEMICOLON) {
      i++;
      skipSpace();
      const paramName = token();
      skipSpace();
      let value: string | true = true;
      if (i < n && header.charCodeAt(i) === EQUALS) {
        i++;
        skipSpace();
        if (i < n && header.charCodeAt(i) === QUOTE) {
          i++;
          let unquoted = '';
          for (;;) {
            if (i >= n) fail('unterminated quoted string');
            const c = header.charCodeAt(i);
            if (c === QUOTE) break;
            if (c === BACKSLASH) {
              i++;
              if (i >= n) fail('unterminated quoted string');
            }
            unquoted += header[i];
            i++;
          }
          i++;
          if (!isToken(unquoted)) fail('a quoted value that is not a token');
          value = unquoted;
        } else {
          value = token();
        }
        skipSpace();
      }
      params.push({ name: paramName, value });
    }
    offers.push({ name, params });
    if (i >= n) return offers;
    if (header.charCodeAt(i) !== COMMA) fail('expected "," or ";"');
    i++;
  }
}

/** Formats offers as a Sec-WebSocket-Extensions value. */
export function formatExtensions(offers: readonly ExtensionOffer[]): string {
  return offers
    .map((offer) =>
      [offer.name, ...offer.params.map((p) => (p.value === true ? p.name : `${p.name}=${p.value}`))].join(
        '; ',
      ),
    )
    .join(', ');
}
