/**
 * A Node Duplex stream over a WebSocket, like `ws`'s `createWebSocketStream`.
 * @module
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import { type RawData, WebSocket } from './websocket.js';

/**
 * Wraps `ws` in a Duplex: each message read becomes a chunk, each chunk written one message.
 * Backpressure both ways: the socket is paused while the readable side is full, and writes call
 * back once the data left. Closing or destroying one side closes or destroys the other.
 */
export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  let terminateOnDestroy = true;
  let resumeOnReceiverDrain = true;

  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
    read() {
      if (ws.isPaused && resumeOnReceiverDrain) ws.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => duplex._write(chunk, 'binary', callback));
        return;
      }
      ws.send(chunk, callback);
    },
    final(callback) {
      if (ws.readyState === ws.CONNECTING) {
        ws.once('open', () => duplex._final(callback));
        return;
      }
      if (ws.readyState === ws.CLOSED) {
        callback();
        if (duplex.readableEnded) duplex.destroy();
        return;
      }
      ws.once('close', () => callback());
      ws.close();
    },
    // 'close' is emitted by hand once the WebSocket has closed (emitClose is off for that reason,
    // as in ws): finished(), pipeline() and 'close' listeners wait for it.
    destroy(error, callback) {
      if (ws.readyState === ws.CLOSED) {
        callback(error);
        process.nextTick(emitClose, duplex);
        return;
      }
      let called = false;
      ws.once('error', (err: Error) => {
        called = true;
        callback(err);
      });
      ws.once('close', () => {
        if (!called) callback(error);
        called = true;
        process.nextTick(emitClose, duplex);
      });
      if (terminateOnDestroy) ws.terminate();
    },
  });

  ws.on('message', (message: RawData, isBinary: boolean) => {
    const data = !isBinary && duplex.readableObjectMode ? message.toString() : message;
    if (!duplex.push(data)) {
      resumeOnReceiverDrain = true;
      ws.pause();
    }
  });
  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(error);
  });
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });
  duplex.on('end', () => {
    if (duplex.writableFinished || duplex.writableEnded) duplex.destroy();
  });
  duplex.on('error', () => {
    /* reported to the caller through the stream's own 'error' listeners */
  });
  return duplex;
}

WebSocket.createWebSocketStream = createWebSocketStream;

function emitClose(stream: Duplex): void {
  stream.emit('close');
}
