// Shared plumbing of the benchmark servers (bench/servers/*.mjs): argument parsing, the ready line
// and the control channel on stdin that bench/run.mjs uses to read a server's state.
//
// Every server is started as `node --expose-gc bench/servers/NAME.mjs MODE PORT` (PORT 0: any free
// port) and prints, once listening on 127.0.0.1, one line `READY {"port":N,...}`. Then it reads
// commands on stdin, one per line, and answers each with one line on stdout:
//   stats -> STATS {"conns":N,"rss":bytes,"heapUsed":bytes,"external":bytes,"youngResident":bytes}
//   gc    -> GC {...same fields...}, after two full garbage collections and a second's quiet
//            (needs --expose-gc; see collectedMemory in ../memory.mjs)
// The server exits when stdin closes (the runner died) or on SIGTERM/SIGINT. Nothing else is
// printed on stdout; diagnostics go to stderr.
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import { collectedMemory, memorySnapshot } from '../memory.mjs';

/** The modes a server may support; which ones it does is up to each server file. */
export const MODES = ['echo', 'deflate', 'broadcast', 'broadcast-api', 'sio', 'handshake'];

/**
 * Parses `MODE PORT` from argv. Exits with status 2 on bad input.
 * @returns {{ mode: string, port: number }}
 */
export function parseServerArgs() {
  const [mode = 'echo', portText = '0'] = process.argv.slice(2);
  const port = Number(portText);
  if (!MODES.includes(mode) || !Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`usage: node ${process.argv[1]} ${MODES.join('|')} PORT`);
    process.exit(2);
  }
  return { mode, port };
}

/** Ends the process with status 3 after saying why: the runner reports the server as unavailable. */
export function unsupported(reason) {
  console.error(`unsupported: ${reason}`);
  process.exit(3);
}

/**
 * Prints the ready line and serves the stdin control channel.
 * @param {number} port the bound port
 * @param {() => number | Promise<number>} countConnections current number of open connections
 * @param {Record<string, unknown>} [info] extra fields for the ready line
 */
export function ready(port, countConnections, info = {}) {
  process.stdout.write(`READY ${JSON.stringify({ port, pid: process.pid, ...info })}\n`);
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const cmd = line.trim();
    if (cmd !== 'stats' && cmd !== 'gc') return;
    const collect = cmd === 'gc' && typeof globalThis.gc === 'function';
    Promise.resolve(collect ? collectedMemory() : memorySnapshot()).then(async (memory) => {
      const conns = await countConnections();
      process.stdout.write(`${cmd.toUpperCase()} ${JSON.stringify({ conns, ...memory })}\n`);
    });
  });
  rl.on('close', () => process.exit(0));
}

const KEY = /\r\nsec-websocket-key:[ \t]*([^\r]*)/i;

/**
 * The handshake of the raw floors, with no HTTP parser: collects the request head from `socket`
 * (destroying it past 16 KiB), stops reading it, and calls `onKey` with its Sec-WebSocket-Key
 * ('' when there is none). Nothing else in the request is looked at.
 */
export function readUpgradeKey(socket, onKey) {
  let head = '';
  const onData = (chunk) => {
    head += chunk.latin1Slice(0, chunk.length);
    if (!head.includes('\r\n\r\n')) {
      if (head.length > 16384) socket.destroy();
      return;
    }
    socket.off('data', onData);
    onKey(KEY.exec(head)?.[1]?.trim() ?? '');
  };
  socket.on('data', onData);
}

/**
 * The 101 response that accepts a WebSocket upgrade whose Sec-WebSocket-Key is `key`, for the floor
 * servers that answer the handshake by hand (no checks of the request).
 * @param {string} key
 */
export function switchingProtocols(key) {
  const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`;
}

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
