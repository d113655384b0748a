import {
  type Connection,
  type ModeHandler,
  OPEN,
  type ServeContext,
  sendTo,
  toBuffer,
} from './connection.js';

/**
 * `--echo`: every message goes back to its sender with the same type (text/binary). This is the
 * Autobahn testee: nothing is transformed, fragmented messages are echoed whole.
 */
export const echoMode: ModeHandler = (conn) => {
  conn.ws.on('message', (data: unknown, isBinary: boolean) => {
    conn.messagesIn++;
    sendTo(conn, toBuffer(data), isBinary);
  });
};

/**
 * Bytes a receiver may have queued before `--broadcast` closes it (1013, "try again later") rather
 * than buffer without bound for a peer that does not read.
 */
export const SLOW_CONSUMER_LIMIT = 16 * 1024 * 1024;

/**
 * `--broadcast`: every message goes to every *other* open connection (a chat room). Cost per message:
 * one send per connection; the payload buffer is shared, not copied. A receiver whose unsent queue
 * exceeds {@link SLOW_CONSUMER_LIMIT} plus the message is closed with 1013.
 */
export const broadcastMode: ModeHandler = (conn: Connection, ctx: ServeContext) => {
  conn.ws.on('message', (data: unknown, isBinary: boolean) => {
    conn.messagesIn++;
    const payload = toBuffer(data);
    for (const other of ctx.connections) {
      if (other === conn || other.ws.readyState !== OPEN) continue;
      if (other.ws.bufferedAmount > SLOW_CONSUMER_LIMIT) {
        ctx.logger.warn(`#${other.id} ${other.remote} is not reading: closing it (1013)`);
        other.ws.close(1013, 'slow consumer');
        continue;
      }
      sendTo(other, payload, isBinary);
    }
  });
};
