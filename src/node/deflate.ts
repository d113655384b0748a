/**
 * permessage-deflate's compression (RFC 7692, section 7.2) on node:zlib, for one connection.
 *
 * Cost: a compressing connection keeps a zlib deflate and/or inflate context (about 256 KiB and
 * 44 KiB at the default window and memory level), created on first use and released with the
 * connection, or after every message when the context is not taken over. zlib work runs on the
 * libuv thread pool; a process-wide limiter bounds how many operations queue there at once
 * (the lesson of websockets/ws#1369: unbounded zlib work fragments memory).
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
  /** Options passed to zlib's deflate (level, memLevel, strategy, chunkSize). */
  zlibDeflateOptions?: zlib.ZlibOptions;
  /** Options passed to zlib's inflate (chunkSize). */
  zlibInflateOptions?: zlib.ZlibOptions;
}

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

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

/** Compression and decompression of one connection's messages. */
export class PerMessageDeflate {
  /** Messages under this many bytes are not compressed. */
  readonly threshold: number;
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
    (limiter as Limiter).add((done) => {
      if (this.#closed) {
        done();
        callback(new Error('The connection was closed during compression'), data);
        return;
      }
      if (this.#deflate === null) {
        const ours = this.#isServer ? this.#params.serverMaxWindowBits : this.#params.clientMaxWindowBits;
        const deflate = zlib.createDeflateRaw({ ...this.#options.zlibDeflateOptions, windowBits: ours });
        deflate.on('data', (chunk: Buffer) => {
          this.#deflateChunks.push(chunk);
          this.#deflateLength += chunk.length;
        });
        deflate.on('error', () => {
          // Only misuse can fail deflate; the flush callback reports nothing more, so release.
          this.close();
        });
        this.#deflate = deflate;
      }
      const deflate = this.#deflate;
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
   * Inflates one whole message from its frames' payloads. Fails with a {@link ProtocolError}
   * (1009) as soon as the output passes `maxPayload`, or (1007) when the data is not valid deflate.
   */
  decompress(
    parts: readonly Buffer[],
    callback: (error: ProtocolError | null, result: Buffer) => void,
  ): void {
    (limiter as Limiter).add((done) => {
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

  #createInflate(): zlib.InflateRaw {
    const theirs = this.#isServer ? this.#params.clientMaxWindowBits : this.#params.serverMaxWindowBits;
    const inflate = zlib.createInflateRaw({ ...this.#options.zlibInflateOptions, windowBits: theirs });
    inflate.on('data', (chunk: Buffer) => {
      if (this.#inflateError !== null) return;
      this.#inflateLength += chunk.length;
      if (this.#maxPayload > 0 && this.#inflateLength > this.#maxPayload) {
        this.#inflateError = new ProtocolError(
          'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
          `message over the ${this.#maxPayload}-byte limit once inflated`,
          CloseCode.MessageTooBig,
        );
        this.#inflateFinish?.();
        return;
      }
      this.#inflateChunks.push(chunk);
    });
    inflate.on('error', (error: Error) => {
      this.#inflateError ??= new ProtocolError(
        'WS_ERR_INVALID_COMPRESSED_DATA',
        `invalid compressed data: ${error.message}`,
        CloseCode.InvalidPayload,
      );
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
