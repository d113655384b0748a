/**
 * permessage-deflate's compression (RFC 7692, section 7.2) on node:zlib, for one connection.
 *
 * Cost: a compressing connection keeps a zlib deflate and/or inflate context (about 256 KiB and
 * 44 KiB at the default window and memory level), created on first use and released with the
 * connection, or after every message when the context is not taken over. A deflate context idle
 * for `releaseIdleAfter` (30 s) is released too: a sender may always start afresh (its next
 * message just refers to nothing before it), so with many quiet connections the deflate memory
 * follows the active ones. The inflate context must stay while the peer takes its context over.
 *
 * Small messages (up to `syncMaxSize`, 16 KiB by default) are compressed and inflated at once on
 * the event loop, on the same zlib context (so context takeover is kept): for them the round trip
 * through the libuv thread pool costs several times the zlib work itself (a 64-byte message
 * deflates and inflates in about 3 us; the asynchronous path costs about 70 us of CPU per message).
 * Larger messages go to the thread pool, so that the event loop stays free; a process-wide limiter
 * bounds how many operations queue there at once (the lesson of websockets/ws#1369: unbounded zlib
 * work fragments memory).
 * @module
 */
import zlib from 'node:zlib';
import { CloseCode } from '../protocol/constants.js';
import type { DeflateParams } from '../protocol/deflate.js';
import { ProtocolError } from '../protocol/errors.js';

/** Options of permessage-deflate, as the `perMessageDeflate` option of `ws` takes them. */
export interface PerMessageDeflateOptions {
  /** Ask the server to reset its context after each message (client), or do so (server). */
  serverNoContextTakeover?: boolean;
  /** Ask the client to reset its context after each message (server), or do so (client). */
  clientNoContextTakeover?: boolean;
  /** Largest server window the endpoint accepts or uses, 8-15; `true` or absent: 15, or the peer's choice. */
  serverMaxWindowBits?: number | true;
  /** Largest client window the endpoint accepts or uses, 8-15; `true` or absent: 15, or the peer's choice. */
  clientMaxWindowBits?: number | true;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** Most zlib operations queued on the thread pool at once, process-wide. Default 10. */
  concurrencyLimit?: number;
  /**
   * Messages up to this many bytes (compressed bytes, when inflating) are compressed and inflated
   * synchronously on the event loop instead of on the thread pool. Default 16384; 0 sends all of
   * them to the thread pool. An inflated message is still bounded by `maxPayload`.
   */
  syncMaxSize?: number;
  /**
   * Milliseconds after which an unused deflate context is released (the next message starts a
   * fresh one). Default 30000; 0 keeps it for the life of the connection.
   */
  releaseIdleAfter?: number;
  /**
   * Options passed to zlib's deflate (level, memLevel, strategy, chunkSize). The level defaults
   * to 1 (zlib's fastest, as gorilla/websocket's default), not zlib's 6 (ws's default): on chat-like
   * JSON it costs 2.5-3x less CPU per byte for output 11-17% larger. Pass `level: 6` for zlib's.
   */
  zlibDeflateOptions?: zlib.ZlibOptions;
  /** Options passed to zlib's inflate (chunkSize). */
  zlibInflateOptions?: zlib.ZlibOptions;
}

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const DEFAULT_SYNC_MAX = 16 * 1024;
const DEFAULT_IDLE_RELEASE = 30_000;
/** zlib's fastest level: see `zlibDeflateOptions`. */
const DEFAULT_LEVEL = 1;

/**
 * The parts of a node:zlib stream that its own `zlib.*Sync` functions use: the native handle's
 * `writeSync` and the two-word state it reports into. `_processChunk` cannot be used here, as it
 * closes the context after one call; driving the handle directly keeps it for the next message.
 * These are internals, so their presence is checked once and the thread-pool path stands in.
 */
interface ZlibInternals {
  _handle: {
    writeSync(
      flush: number,
      input: Uint8Array,
      inOffset: number,
      inLength: number,
      output: Uint8Array,
      outOffset: number,
      outLength: number,
    ): void;
  } | null;
  _writeState: Uint32Array;
}

const canRunSync = ((): boolean => {
  const probe = zlib.createDeflateRaw() as unknown as Partial<ZlibInternals> & zlib.DeflateRaw;
  const ok = typeof probe._handle?.writeSync === 'function' && probe._writeState instanceof Uint32Array;
  probe.close();
  return ok;
})();

/** Output of the synchronous path lands here first (one event loop, used and copied at once). */
const scratch = Buffer.allocUnsafe(64 * 1024);

/** What {@link runSync} reports when the output passed its limit. */
const TOO_BIG = 1;
/** What {@link runSync} reports when zlib failed (invalid data); the stream is destroyed. */
const FAILED = 2;

/**
 * Feeds `input` to zlib synchronously with `flush`, appending the output (copied out of the
 * scratch buffer) to `out`. Returns the new output length, or TOO_BIG / FAILED as a negative.
 */
function runSync(
  stream: zlib.DeflateRaw | zlib.InflateRaw,
  input: Buffer,
  flush: number,
  out: Buffer[],
  length: number,
  limit: number,
): number {
  const z = stream as unknown as ZlibInternals & zlib.DeflateRaw;
  const handle = z._handle;
  if (handle === null) return -FAILED;
  const state = z._writeState;
  let inOffset = 0;
  let inLength = input.length;
  let total = length;
  for (;;) {
    handle.writeSync(flush, input, inOffset, inLength, scratch, 0, scratch.length);
    // zlib errors are reported synchronously through the handle's onerror, which destroys the stream.
    if (z.destroyed) return -FAILED;
    const availOut = state[0];
    const availIn = state[1];
    inOffset += inLength - availIn;
    inLength = availIn;
    const have = scratch.length - availOut;
    if (have > 0) {
      total += have;
      if (limit > 0 && total > limit) return -TOO_BIG;
      const piece = Buffer.allocUnsafe(have);
      scratch.copy(piece, 0, 0, have);
      out.push(piece);
    }
    // Room left in the output means zlib took all the input and flushed what it could.
    if (availOut !== 0) return total;
  }
}

const join = (parts: Buffer[], length: number): Buffer =>
  parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);

type Job = (done: () => void) => void;

/** Runs at most `limit` jobs at once, in order. */
class Limiter {
  #running = 0;
  readonly #queue: Job[] = [];
  readonly #done = (): void => {
    this.#running--;
    this.#next();
  };
  constructor(public limit: number) {}
  add(job: Job): void {
    this.#queue.push(job);
    this.#next();
  }
  #next(): void {
    while (this.#running < this.limit && this.#queue.length > 0) {
      this.#running++;
      (this.#queue.shift() as Job)(this.#done);
    }
  }
}

let limiter: Limiter | undefined;

/** Connections holding a deflate context that may be released when idle, and the timer that looks. */
const idleWatch = new Set<PerMessageDeflate>();
let idleTimer: NodeJS.Timeout | null = null;
let idlePeriod = 0;

function watchIdle(pmd: PerMessageDeflate, after: number): void {
  idleWatch.add(pmd);
  // Look twice per (shortest) idle time: a context goes between `after` and 1.5 x `after` idle.
  const period = Math.max(1, after >> 1);
  if (idleTimer !== null && period >= idlePeriod) return;
  if (idleTimer !== null) clearInterval(idleTimer);
  idlePeriod = period;
  idleTimer = setInterval(sweepIdle, period);
  idleTimer.unref();
}

function sweepIdle(): void {
  const now = Date.now();
  for (const pmd of idleWatch) if (pmd._releaseIfIdle(now)) idleWatch.delete(pmd);
  if (idleWatch.size === 0 && idleTimer !== null) {
    clearInterval(idleTimer);
    idleTimer = null;
  }
}

/** Compression and decompression of one connection's messages. */
export class PerMessageDeflate {
  /** Messages under this many bytes are not compressed. */
  readonly threshold: number;
  readonly #syncMax: number;
  /** Operations of each direction still on the thread pool (the sync path waits for them). */
  #deflatePending = 0;
  #inflatePending = 0;
  readonly #params: DeflateParams;
  readonly #isServer: boolean;
  readonly #maxPayload: number;
  readonly #options: PerMessageDeflateOptions;
  #deflate: zlib.DeflateRaw | null = null;
  #inflate: zlib.InflateRaw | null = null;
  #deflateChunks: Buffer[] = [];
  #deflateLength = 0;
  #inflateChunks: Buffer[] = [];
  #inflateLength = 0;
  #inflateError: ProtocolError | null = null;
  #inflateFinish: (() => void) | null = null;
  #closed = false;
  readonly #idleAfter: number;
  /** When the deflate context was last used (Date.now()). */
  #deflateUsedAt = 0;

  constructor(
    params: DeflateParams,
    isServer: boolean,
    maxPayload: number,
    options: PerMessageDeflateOptions,
  ) {
    this.#params = params;
    this.#isServer = isServer;
    this.#maxPayload = maxPayload;
    this.#options = options;
    this.threshold = options.threshold ?? 1024;
    this.#syncMax = canRunSync ? (options.syncMaxSize ?? DEFAULT_SYNC_MAX) : 0;
    this.#idleAfter = options.releaseIdleAfter ?? DEFAULT_IDLE_RELEASE;
    const limit = options.concurrencyLimit ?? 10;
    if (limiter === undefined) limiter = new Limiter(limit);
    else limiter.limit = Math.max(limiter.limit, limit);
  }

  /** The parameters in force. */
  get params(): DeflateParams {
    return this.#params;
  }

  /**
   * Compresses one message (or, with `fin` false, one fragment of it). Calls back in order with
   * the bytes to send in frames with RSV1 on the first.
   */
  compress(data: Buffer, fin: boolean, callback: (error: Error | null, result: Buffer) => void): void {
    this.#deflatePending++;
    (limiter as Limiter).add((finished) => {
      const done = (): void => {
        this.#deflatePending--;
        finished();
      };
      if (this.#closed) {
        done();
        callback(new Error('The connection was closed during compression'), data);
        return;
      }
      const deflate = this.#deflate ?? this.#createDeflate();
      if (this.#idleAfter > 0) this.#deflateUsedAt = Date.now();
      deflate.write(data);
      deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => {
        if (this.#deflate !== deflate) {
          done();
          callback(new Error('The connection was closed during compression'), data);
          return;
        }
        let out = Buffer.concat(this.#deflateChunks, this.#deflateLength);
        this.#deflateChunks = [];
        this.#deflateLength = 0;
        // RFC 7692, 7.2.1: remove the 0x00 0x00 0xff 0xff that ends a sync flush.
        if (fin) out = out.subarray(0, out.length - 4);
        const reset = this.#isServer
          ? this.#params.serverNoContextTakeover
          : this.#params.clientNoContextTakeover;
        if (fin && reset) {
          this.#deflate = null;
          deflate.close();
        }
        done();
        callback(null, out);
      });
    });
  }

  /**
   * Compresses a small message (or fragment) at once, like {@link compress}; returns null when it
   * must go through {@link compress} instead (too large, or compressions still in flight).
   */
  compressSync(data: Buffer, fin: boolean): Buffer | null {
    if (data.length > this.#syncMax || this.#deflatePending > 0 || this.#closed) return null;
    const deflate = this.#deflate ?? this.#createDeflate();
    if (this.#idleAfter > 0) this.#deflateUsedAt = Date.now();
    const parts: Buffer[] = [];
    const length = runSync(deflate, data, zlib.constants.Z_SYNC_FLUSH, parts, 0, 0);
    if (length < 0) {
      // Only misuse can fail deflate; start afresh and let the thread-pool path report it.
      this.resetDeflate();
      return null;
    }
    // With no input after a flush, zlib has nothing to say (Z_BUF_ERROR) and writes no empty block;
    // the peer appends 0x00 0x00 0xff 0xff to the message, so it needs the block's header byte
    // from us: a single 0x00 (RFC 7692, 7.2.3.6).
    if (length === 0) return fin ? Buffer.from([0x00]) : Buffer.alloc(0);
    let out = join(parts, length);
    // RFC 7692, 7.2.1: remove the 0x00 0x00 0xff 0xff that ends a sync flush.
    if (fin) out = out.subarray(0, out.length - 4);
    if (
      fin &&
      (this.#isServer ? this.#params.serverNoContextTakeover : this.#params.clientNoContextTakeover)
    ) {
      this.resetDeflate();
    }
    return out;
  }

  #createDeflate(): zlib.DeflateRaw {
    const ours = this.#isServer ? this.#params.serverMaxWindowBits : this.#params.clientMaxWindowBits;
    const deflate = zlib.createDeflateRaw({
      level: DEFAULT_LEVEL,
      ...this.#options.zlibDeflateOptions,
      windowBits: ours,
    });
    deflate.on('data', (chunk: Buffer) => {
      this.#deflateChunks.push(chunk);
      this.#deflateLength += chunk.length;
    });
    deflate.on('error', () => {
      // Only misuse can fail deflate; the flush callback reports nothing more, so release.
      if (this.#deflate === deflate) this.close();
    });
    this.#deflate = deflate;
    if (this.#idleAfter > 0) watchIdle(this, this.#idleAfter);
    return deflate;
  }

  /**
   * @internal Releases the deflate context if unused for `releaseIdleAfter` ms and nothing is in
   * flight; true once there is no context left to watch.
   */
  _releaseIfIdle(now: number): boolean {
    if (this.#deflate === null) return true;
    if (this.#deflatePending > 0 || now - this.#deflateUsedAt < this.#idleAfter) return false;
    this.resetDeflate();
    return true;
  }

  /** Whether a deflate context is held (for tests and memory accounting). */
  get hasDeflateContext(): boolean {
    return this.#deflate !== null;
  }

  /**
   * Inflates one whole message from its frames' payloads. Fails with a {@link ProtocolError}
   * (1009) as soon as the output passes `maxPayload`, or (1007) when the data is not valid deflate.
   */
  decompress(
    parts: readonly Buffer[],
    callback: (error: ProtocolError | null, result: Buffer) => void,
  ): void {
    this.#inflatePending++;
    (limiter as Limiter).add((finished) => {
      const done = (): void => {
        this.#inflatePending--;
        finished();
      };
      if (this.#closed) {
        done();
        return;
      }
      const inflate = this.#inflate ?? this.#createInflate();
      this.#inflateFinish = () => {
        this.#inflateFinish = null;
        const error = this.#inflateError;
        const out = error === null ? Buffer.concat(this.#inflateChunks, this.#inflateLength) : TRAILER;
        this.#inflateChunks = [];
        this.#inflateLength = 0;
        const reset = this.#isServer
          ? this.#params.clientNoContextTakeover
          : this.#params.serverNoContextTakeover;
        if (error !== null || reset) {
          this.#inflate = null;
          this.#inflateError = null;
          inflate.close();
        }
        done();
        if (!this.#closed) callback(error, out);
      };
      for (const part of parts) inflate.write(part);
      inflate.write(TRAILER);
      inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => this.#inflateFinish?.());
    });
  }

  /**
   * Inflates a small message at once, like {@link decompress}: returns the message, the
   * {@link ProtocolError} that fails the connection, or null when it must go through
   * {@link decompress} instead (too large, or inflations still in flight).
   */
  decompressSync(parts: readonly Buffer[]): Buffer | ProtocolError | null {
    if (this.#inflatePending > 0 || this.#closed) return null;
    let size = 0;
    for (const part of parts) size += part.length;
    if (size > this.#syncMax) return null;
    const inflate = this.#inflate ?? this.#createInflate();
    const out: Buffer[] = [];
    const limit = this.#maxPayload;
    let length = 0;
    for (const part of parts) {
      length = runSync(inflate, part, zlib.constants.Z_NO_FLUSH, out, length, limit);
      if (length < 0) break;
    }
    if (length >= 0) length = runSync(inflate, TRAILER, zlib.constants.Z_SYNC_FLUSH, out, length, limit);
    if (length < 0) {
      // The context is past saving (partly fed, or destroyed): drop it, its error event included.
      const reason = inflate.errored?.message ?? 'zlib error';
      this.#inflate = null;
      inflate.removeAllListeners('error');
      inflate.on('error', noop);
      inflate.close();
      return length === -TOO_BIG ? this.#tooBig() : invalidData(reason);
    }
    if (this.#isServer ? this.#params.clientNoContextTakeover : this.#params.serverNoContextTakeover) {
      this.#inflate = null;
      inflate.close();
    }
    return length === 0 ? Buffer.alloc(0) : join(out, length);
  }

  #tooBig(): ProtocolError {
    return new ProtocolError(
      'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
      `message over the ${this.#maxPayload}-byte limit once inflated`,
      CloseCode.MessageTooBig,
    );
  }

  #createInflate(): zlib.InflateRaw {
    const theirs = this.#isServer ? this.#params.clientMaxWindowBits : this.#params.serverMaxWindowBits;
    const inflate = zlib.createInflateRaw({ ...this.#options.zlibInflateOptions, windowBits: theirs });
    inflate.on('data', (chunk: Buffer) => {
      if (this.#inflateError !== null) return;
      this.#inflateLength += chunk.length;
      if (this.#maxPayload > 0 && this.#inflateLength > this.#maxPayload) {
        this.#inflateError = this.#tooBig();
        this.#inflateFinish?.();
        return;
      }
      this.#inflateChunks.push(chunk);
    });
    inflate.on('error', (error: Error) => {
      this.#inflateError ??= invalidData(error.message);
      this.#inflateFinish?.();
    });
    this.#inflate = inflate;
    return inflate;
  }

  /** Drops the compression context, so the next message starts a fresh one. */
  resetDeflate(): void {
    this.#deflate?.close();
    this.#deflate = null;
  }

  /** Releases the zlib contexts; later calls are dropped. */
  close(): void {
    this.#closed = true;
    this.#deflate?.close();
    this.#inflate?.close();
    this.#deflate = null;
    this.#inflate = null;
    this.#deflateChunks = [];
    this.#inflateChunks = [];
  }
}

function noop(): void {}

function invalidData(message: string): ProtocolError {
  return new ProtocolError(
    'WS_ERR_INVALID_COMPRESSED_DATA',
    `invalid compressed data: ${message}`,
    CloseCode.InvalidPayload,
  );
}
