// Type-level contract of the typed event maps (checked by tsc when the tests are built; the
// `@ts-expect-error` lines fail the build if a misuse stops being rejected), plus a runtime check
// that listeners registered through the typed API receive the arguments.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Socket as ClientSocket } from '../../src/client/index.js';
import { type Namespace, Server, type Socket } from '../../src/realtime/index.js';

interface ClientToServer {
  hello(name: string, ack: (greeting: string) => void): void;
  move(x: number, y: number): void;
}
interface ServerToClient {
  greet(text: string): void;
  ask(question: string, ack: (answer: number) => void): void;
}
interface InterServer {
  ping(ack: (node: string) => void): void;
}
interface Data {
  user: string;
}

function typedServer(io: Server<ClientToServer, ServerToClient, InterServer, Data>): void {
  io.on('connection', (socket) => {
    const s: Socket<ClientToServer, ServerToClient, InterServer, Data> = socket;
    s.data.user = 'ada';
    s.on('hello', (name, ack) => {
      const n: string = name;
      ack(`hi ${n}`);
    });
    s.on('move', (x, y) => x + y);
    s.on('disconnect', (reason) => {
      const r: string = reason;
      void r;
    });
    s.emit('greet', 'welcome');
    // @ts-expect-error wrong argument type
    s.emit('greet', 42);
    // @ts-expect-error unknown event
    s.emit('nope');
    s.emit('ask', 'how many?', (answer) => {
      const a: number = answer;
      void a;
    });
    s.timeout(1000).emit('ask', 'q', (err, answer) => {
      const e: Error = err;
      const a: number = answer;
      void e;
      void a;
    });
    const p: Promise<number> = s.timeout(1000).emitWithAck('ask', 'q');
    void p;
    s.to('room').emit('greet', 'x');
    s.broadcast.timeout(10).emit('ask', 'q', (err, answers) => {
      const list: number[] = answers;
      void err;
      void list;
    });
  });
  io.to('room').except('other').emit('greet', 'everyone');
  // @ts-expect-error wrong argument type on a broadcast
  io.to('room').emit('greet', false);
  io.serverSideEmit('ping', (err, nodes) => {
    void err;
    void nodes;
  });
  const nsp: Namespace<ClientToServer, ServerToClient, InterServer, Data> = io.of('/admin');
  void nsp;
}

function typedClient(socket: ClientSocket<ServerToClient, ClientToServer>): void {
  socket.on('greet', (text) => {
    const t: string = text;
    void t;
  });
  socket.on('ask', (_q, ack) => ack(3));
  socket.emit('hello', 'ada', (greeting) => {
    const g: string = greeting;
    void g;
  });
  // @ts-expect-error wrong argument type
  socket.emit('move', 'a', 'b');
  const p: Promise<string> = socket.emitWithAck('hello', 'ada');
  void p;
}

describe('typed event maps', () => {
  it('type-checks (see tsc) and dispatches typed listeners', () => {
    const io = new Server<ClientToServer, ServerToClient, InterServer, Data>();
    typedServer(io);
    assert.equal(io.listeners('connection').length, 1);
    assert.equal(typeof typedClient, 'function');
    const ioDefault = new Server();
    ioDefault.on('connection', (socket) => {
      socket.emit('anything', 1, 'two', { three: 3 });
      socket.on('whatever', (...args: unknown[]) => args);
    });
    assert.equal(ioDefault.listeners('connection').length, 1);
  });
});
