/**
 * HTTP helpers of the Engine.IO server: CORS (a dependency-free subset of the `cors` package's
 * options, which engine.io's `cors` option takes) and `Set-Cookie` serialization.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A static origin rule: `*`, one origin, a pattern, or a list of those. */
export type StaticOrigin = boolean | string | RegExp | (string | RegExp)[];

/**
 * CORS settings, with the meaning the `cors` package gives them.
 * - `origin`: `'*'` (default) allows any origin; `true` reflects the request's origin; `false`
 *   disables CORS; a string allows that origin; a RegExp or list allows matching origins (reflected);
 *   a function decides per request.
 * - `methods`: allowed methods for preflights (default `GET,HEAD,PUT,PATCH,POST,DELETE`).
 * - `allowedHeaders`: allowed request headers (default: reflect `Access-Control-Request-Headers`).
 * - `exposedHeaders`, `credentials`, `maxAge` (seconds), `optionsSuccessStatus` (default 204).
 */
export interface CorsOptions {
  origin?:
    | StaticOrigin
    | ((origin: string | undefined, callback: (err: Error | null, origin?: StaticOrigin) => void) => void);
  methods?: string | string[];
  allowedHeaders?: string | string[];
  exposedHeaders?: string | string[];
  credentials?: boolean;
  maxAge?: number;
  optionsSuccessStatus?: number;
}

/** `Set-Cookie` attributes (engine.io's `cookie` option, minus `name`). */
export interface CookieOptions {
  /** Cookie name (default `io`). */
  name?: string;
  /** `Path` attribute (default `/`); `false` omits it. */
  path?: string | false;
  /** `HttpOnly` (default true unless `path` is false). */
  httpOnly?: boolean;
  /** `SameSite` (default `lax`). */
  sameSite?: boolean | 'lax' | 'strict' | 'none';
  domain?: string;
  /** `Max-Age` in seconds. */
  maxAge?: number;
  expires?: Date;
  secure?: boolean;
  partitioned?: boolean;
}

const COOKIE_NAME_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const COOKIE_DOMAIN_RE = /^[A-Za-z0-9.-]+$/;
const COOKIE_PATH_RE = /^[\u0020-\u003A\u003C-\u007E]*$/;

/** Serializes a `Set-Cookie` value. Throws `TypeError` on a name, domain or path that would inject. */
export function serializeCookie(value: string, options: CookieOptions): string {
  const name = options.name ?? 'io';
  if (!COOKIE_NAME_RE.test(name)) throw new TypeError('invalid cookie name');
  let out = `${name}=${encodeURIComponent(value)}`;
  if (options.maxAge !== undefined) out += `; Max-Age=${Math.floor(options.maxAge)}`;
  if (options.domain !== undefined) {
    if (!COOKIE_DOMAIN_RE.test(options.domain)) throw new TypeError('invalid cookie domain');
    out += `; Domain=${options.domain}`;
  }
  const path = options.path === undefined ? '/' : options.path;
  if (path !== false) {
    if (!COOKIE_PATH_RE.test(path)) throw new TypeError('invalid cookie path');
    out += `; Path=${path}`;
  }
  if (options.expires !== undefined) out += `; Expires=${options.expires.toUTCString()}`;
  if (options.httpOnly ?? options.path !== false) out += '; HttpOnly';
  if (options.secure) out += '; Secure';
  if (options.partitioned) out += '; Partitioned';
  const sameSite = options.sameSite ?? 'lax';
  if (sameSite === true || sameSite === 'strict') out += '; SameSite=Strict';
  else if (sameSite === 'lax') out += '; SameSite=Lax';
  else if (sameSite === 'none') out += '; SameSite=None';
  return out;
}

function list(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

function matches(origin: string, rule: StaticOrigin): boolean {
  if (Array.isArray(rule)) return rule.some((r) => matches(origin, r));
  if (rule instanceof RegExp) {
    rule.lastIndex = 0;
    return rule.test(origin);
  }
  if (typeof rule === 'string') return rule === origin;
  return rule;
}

function resolveOrigin(options: CorsOptions, req: IncomingMessage): Promise<StaticOrigin> {
  const rule = options.origin ?? '*';
  if (typeof rule !== 'function') return Promise.resolve(rule);
  const origin = req.headers.origin;
  return new Promise((resolve, reject) => {
    rule(origin, (err, result) => (err ? reject(err) : resolve(result ?? false)));
  });
}

/**
 * Applies CORS to `res` (headers set with `setHeader`, so they merge into any later `writeHead`).
 * Returns true when the request was a preflight and has been answered. Rejects when a custom
 * `origin` function fails.
 */
export async function applyCors(
  options: CorsOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const rule = await resolveOrigin(options, req);
  const requestOrigin = req.headers.origin;
  const vary: string[] = [];
  let allowOrigin: string | undefined;
  if (rule === '*') allowOrigin = '*';
  else if (typeof rule === 'string') {
    allowOrigin = rule;
    vary.push('Origin');
  } else if (rule !== false) {
    vary.push('Origin');
    if (requestOrigin !== undefined && (rule === true || matches(requestOrigin, rule)))
      allowOrigin = requestOrigin;
  }
  if (allowOrigin !== undefined) res.setHeader('Access-Control-Allow-Origin', allowOrigin);
  if (options.credentials === true) res.setHeader('Access-Control-Allow-Credentials', 'true');

  if (req.method === 'OPTIONS') {
    res.setHeader('Access-Control-Allow-Methods', list(options.methods) ?? 'GET,HEAD,PUT,PATCH,POST,DELETE');
    let allowedHeaders = list(options.allowedHeaders);
    if (allowedHeaders === undefined) {
      const requested = req.headers['access-control-request-headers'];
      if (requested !== undefined) allowedHeaders = requested;
      vary.push('Access-Control-Request-Headers');
    }
    if (allowedHeaders) res.setHeader('Access-Control-Allow-Headers', allowedHeaders);
    if (options.maxAge !== undefined) res.setHeader('Access-Control-Max-Age', String(options.maxAge));
    if (vary.length > 0) res.setHeader('Vary', vary.join(', '));
    res.statusCode = options.optionsSuccessStatus ?? 204;
    res.setHeader('Content-Length', '0');
    res.end();
    return true;
  }
  const exposed = list(options.exposedHeaders);
  if (exposed) res.setHeader('Access-Control-Expose-Headers', exposed);
  if (vary.length > 0) res.setHeader('Vary', vary.join(', '));
  return false;
}
