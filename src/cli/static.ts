import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { usageError } from './errors.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
};

/**
 * `--static DIR`: returns an HTTP handler serving files under DIR for GET and HEAD (directories
 * serve their index.html). Paths that escape DIR (`..`, encoded slashes, symlinks pointing out) get
 * 404; other methods 405. Returns true when it answered the request. Files are streamed, never
 * buffered whole. Throws a usage error at startup if DIR is not a directory.
 */
export function staticHandler(dir: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  let root: string;
  try {
    root = realpathSync(resolve(dir));
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
  } catch {
    throw usageError(`--static: '${dir}' is not a readable directory`);
  }
  const send = (res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...extra,
    });
    res.end(text);
  };
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'Method Not Allowed\n', { allow: 'GET, HEAD' });
      return true;
    }
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    let pathname: string;
    try {
      pathname = decodeURIComponent(q === -1 ? target : target.slice(0, q));
    } catch {
      send(res, 400, 'Bad Request\n');
      return true;
    }
    if (!pathname.startsWith('/') || pathname.includes('\0') || pathname.includes('\\')) {
      send(res, 400, 'Bad Request\n');
      return true;
    }
    let file = join(root, pathname);
    try {
      file = realpathSync(file);
      if (file !== root && !file.startsWith(root + sep)) throw new Error('outside root');
      let st = statSync(file);
      if (st.isDirectory()) {
        if (!pathname.endsWith('/')) {
          res.writeHead(301, {
            location: `${pathname}/${q === -1 ? '' : target.slice(q)}`,
            'content-length': 0,
          });
          res.end();
          return true;
        }
        file = join(file, 'index.html');
        st = statSync(file);
      }
      if (!st.isFile()) throw new Error('not a file');
      res.writeHead(200, {
        'content-type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': st.size,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      if (req.method === 'HEAD') {
        res.end();
        return true;
      }
      const stream = createReadStream(file);
      stream.on('error', () => res.destroy());
      stream.pipe(res);
    } catch {
      send(res, 404, 'Not Found\n');
    }
    return true;
  };
}
