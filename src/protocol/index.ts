/**
 * The sans-I/O WebSocket protocol core: RFC 6455 framing, parsing and handshake, RFC 7692
 * negotiation. No sockets, timers or zlib: bytes and calls in, bytes and events out.
 * @module
 */
export * from './constants.js';
export * from './deflate.js';
export * from './errors.js';
export * from './extensions.js';
export * from './frame.js';
export * from './handshake.js';
export * from './mask.js';
export * from './receiver.js';
export * from './utf8.js';
