// Test helpers for the sans-I/O protocol core: an independent frame builder (so the parser is not
// tested with the serializer it ships with), a ReceiverHandler that records every call, and ways to
// feed a byte stream whole, byte by byte, or split at a given position.

import {
  type ProtocolError,
  Receiver,
  type ReceiverHandler,
  type ReceiverOptions,
} from '../../src/protocol/index.js';

/** Bytes from a hex string; spaces are ignored. */
export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

/** How a test frame is built; every field can break a rule on purpose. */
export interface BuildOptions {
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** A 4-byte masking key, or null/undefined for an unmasked frame. */
  mask?: Uint8Array | null;
  /** Force the length encoding (7, 16 or 64 bits) instead of the minimal one. */
  lengthBits?: 7 | 16 | 64;
  /** Write this value in the length field instead of the payload's real length. */
  declaredLength?: number | bigint;
}

/** The RFC's example masking key (section 5.7). */
export const RFC_MASK = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

/** A whole frame, written byte by byte from RFC 6455 section 5.2 (independent of src/protocol/frame.ts). */
export function frame(opcode: number, payload: string | Uint8Array = '', options: BuildOptions = {}): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const fin = options.fin ?? true;
  const mask = options.mask ?? null;
  const declared = BigInt(options.declaredLength ?? body.length);
  const bits = options.lengthBits ?? (declared < 126n ? 7 : declared < 65536n ? 16 : 64);
  const bytes: number[] = [
    (fin ? 0x80 : 0) |
      (options.rsv1 ? 0x40 : 0) |
      (options.rsv2 ? 0x20 : 0) |
      (options.rsv3 ? 0x10 : 0) |
      (opcode & 0x0f),
  ];
  const maskBit = mask === null ? 0 : 0x80;
  if (bits === 7) {
    bytes.push(maskBit | Number(declared));
  } else if (bits === 16) {
    bytes.push(maskBit | 126, Number(declared >> 8n) & 0xff, Number(declared) & 0xff);
  } else {
    bytes.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) bytes.push(Number((declared >> shift) & 0xffn));
  }
  if (mask !== null) bytes.push(...mask);
  const out = Buffer.alloc(bytes.length + body.length);
  out.set(bytes, 0);
  for (let i = 0; i < body.length; i++) {
    out[bytes.length + i] = mask === null ? body[i] : body[i] ^ mask[i % 4];
  }
  return out;
}

/** One recorded handler call, with payloads as hex so records compare with deepEqual. */
export type Event =
  | ['message', 'text' | 'binary', string]
  | ['fragments', string[]]
  | ['ping', string]
  | ['pong', string]
  | ['close', number, string]
  | ['error', string, number]
  | ['compressed', 'text' | 'binary', string[]];

/** A ReceiverHandler that records every call in order. */
export class Recorder implements ReceiverHandler {
  readonly events: Event[] = [];
  readonly errors: ProtocolError[] = [];
  /** Called after each event is recorded (to pause, resume or inflate from inside a handler). */
  onEvent: ((event: Event) => void) | null = null;

  #add(event: Event): void {
    this.events.push(event);
    this.onEvent?.(event);
  }

  onMessage(data: Buffer | Buffer[], isBinary: boolean): void {
    if (Array.isArray(data)) this.#add(['fragments', data.map((b) => b.toString('hex'))]);
    else this.#add(['message', isBinary ? 'binary' : 'text', data.toString('hex')]);
  }
  onPing(data: Buffer): void {
    this.#add(['ping', data.toString('hex')]);
  }
  onPong(data: Buffer): void {
    this.#add(['pong', data.toString('hex')]);
  }
  onClose(code: number, reason: Buffer): void {
    this.#add(['close', code, reason.toString('hex')]);
  }
  onError(error: ProtocolError): void {
    this.errors.push(error);
    this.#add(['error', error.code, error.closeCode]);
  }
  onCompressedMessage(parts: Buffer[], isBinary: boolean): void {
    this.#add(['compressed', isBinary ? 'binary' : 'text', parts.map((b) => b.toString('hex'))]);
  }
}

/** Shorthands for expected events. */
export const text = (s: string): Event => ['message', 'text', Buffer.from(s).toString('hex')];
export const binary = (b: Uint8Array): Event => ['message', 'binary', Buffer.from(b).toString('hex')];
export const error = (code: string, closeCode: number): Event => ['error', code, closeCode];

export interface Setup {
  receiver: Receiver;
  recorder: Recorder;
}

/** A receiver with a recorder. `fragments` sets fragments mode. */
export function setup(options: ReceiverOptions, fragments = false): Setup {
  const recorder = new Recorder();
  const receiver = new Receiver(recorder, options);
  receiver.fragments = fragments;
  return { receiver, recorder };
}

/**
 * After each push, a compressed message is "inflated" with the identity function (the receiver
 * never inflates itself, so any bytes do), the way an I/O layer answers asynchronously.
 */
function inflateIfWaiting(s: Setup, seen: { n: number }): void {
  const events = s.recorder.events;
  while (seen.n < events.length) {
    const event = events[seen.n++];
    if (event[0] === 'compressed') {
      const data = Buffer.concat(event[2].map((h) => Buffer.from(h, 'hex')));
      s.receiver.inflated(data, event[1] === 'binary');
    }
  }
}

/**
 * Feeds `stream` to a fresh receiver in the given chunks (each chunk a copy: the receiver unmasks
 * in place) and returns what was recorded.
 */
export function feedChunks(options: ReceiverOptions, chunks: Uint8Array[], fragments = false): Event[] {
  const s = setup(options, fragments);
  const seen = { n: 0 };
  for (const chunk of chunks) {
    s.receiver.push(Buffer.from(chunk));
    inflateIfWaiting(s, seen);
  }
  return s.recorder.events;
}

/** The whole stream in one push. */
export function feedWhole(options: ReceiverOptions, stream: Uint8Array, fragments = false): Event[] {
  return feedChunks(options, [stream], fragments);
}

/** The stream one byte per push. */
export function feedBytes(options: ReceiverOptions, stream: Uint8Array, fragments = false): Event[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1));
  return feedChunks(options, chunks, fragments);
}

/** The stream in two pushes, split at `at`. */
export function feedSplit(
  options: ReceiverOptions,
  stream: Uint8Array,
  at: number,
  fragments = false,
): Event[] {
  return feedChunks(options, [stream.subarray(0, at), stream.subarray(at)], fragments);
}

/** Concatenates frames into one stream. */
export function stream(...frames: Uint8Array[]): Buffer {
  return Buffer.concat(frames);
}
