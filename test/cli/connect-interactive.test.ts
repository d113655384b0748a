import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { CLI, type CliServer, startCliServer } from './helpers.js';

const ESC = String.fromCharCode(27);
const haveScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/** `parley connect` under a pseudo-terminal (util-linux `script`), driven line by line. */
class Pty {
  output = '';
  readonly exited: Promise<number | null>;
  readonly #proc;
  #waiters: (() => void)[] = [];

  constructor(args: string[], env: NodeJS.ProcessEnv) {
    const cmd = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    this.#proc = spawn('script', ['-qefc', cmd, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, TERM: 'xterm-256color', ...env },
    });
    this.#proc.stdin.on('error', () => {});
    this.#proc.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.output += d;
      for (const w of this.#waiters.splice(0)) w();
    });
    this.#proc.stderr.resume();
    const timer = setTimeout(() => this.#proc.kill('SIGKILL'), 20_000);
    this.exited = new Promise((resolve) => {
      this.#proc.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  /** Text without ANSI escape sequences and carriage returns. */
  plain(): string {
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal escapes
    return this.output.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
  }

  waitFor(re: RegExp, timeoutMs = 8000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${re}; got:\n${this.plain()}`)),
        timeoutMs,
      );
      const check = () => {
        if (re.test(this.plain())) {
          clearTimeout(timer);
          resolve();
        } else this.#waiters.push(check);
      };
      check();
    });
  }

  type(text: string): void {
    this.#proc.stdin.write(text);
  }

  kill(): void {
    this.#proc.kill('SIGKILL');
  }
}

describe('parley connect on a terminal', {
  skip: !haveScript && 'util-linux script is not installed',
}, () => {
  let server: CliServer;
  before(async () => {
    server = await startCliServer(['serve', '--echo', '--port', '0', '--quiet']);
  });
  after(async () => {
    await server.stop();
  });

  test('prompt, received messages, --json, hex dump, /ping, /close with exit 0', async (t) => {
    const pty = new Pty(['connect', server.url, '--json'], { NO_COLOR: '1' });
    t.after(() => pty.kill());
    await pty.waitFor(/\* connected to ws:\/\/127\.0\.0\.1:\d+\/ /);
    pty.type('hello there\r');
    await pty.waitFor(/< hello there/);
    pty.type('{"a":[1,2]}\r');
    await pty.waitFor(/< \{\n {2}"a": \[\n {4}1,\n {4}2\n {2}\]\n\}/);
    pty.type('/binary 48 65 6c 6c 6f 00 ff\r');
    await pty.waitFor(/< binary, 7 bytes\n00000000 {2}48 65 6c 6c 6f 00 ff +\|Hello\.\.\|/);
    pty.type('/ping probe\r');
    await pty.waitFor(/\* pong \(probe\) in [\d.]+ms/);
    pty.type('/nope\r');
    await pty.waitFor(/unknown command \/nope/);
    pty.type('//slash\r');
    await pty.waitFor(/< \/slash/);
    pty.type('/close 4000 done\r');
    await pty.waitFor(/disconnected \(4000 done\)/);
    assert.equal(await pty.exited, 0);
    assert.doesNotMatch(pty.output, new RegExp(`${ESC}\\[3\\dm`), 'NO_COLOR turns colours off');
  });

  test('colours on a TTY, history with the up arrow, Ctrl+D closes with 1000', async (t) => {
    const pty = new Pty(['connect', server.url], { NO_COLOR: '' });
    t.after(() => pty.kill());
    await pty.waitFor(/connected to/);
    pty.type('first\r');
    await pty.waitFor(/< first/);
    pty.type('\x1b[A\r'); // up arrow recalls "first"
    await pty.waitFor(/< first[\s\S]*< first/);
    assert.ok(pty.output.includes(`${ESC}[36m<${ESC}[39m first`), 'received marker is coloured');
    pty.type('\x04'); // Ctrl+D
    await pty.waitFor(/disconnected \(1000\)/);
    assert.equal(await pty.exited, 0);
  });
});

describe('parley connect --io on a terminal', {
  skip: !haveScript && 'util-linux script is not installed',
}, () => {
  let server: CliServer;
  before(async () => {
    server = await startCliServer(['serve', '--io', '--port', '0', '--host', '127.0.0.1', '--quiet']);
  });
  after(async () => {
    await server.stop();
  });

  test('events and acks above the prompt, bad lines explained, /quit exits 0', async (t) => {
    const pty = new Pty(['connect', '--io', `http://127.0.0.1:${server.port}`, '--ack'], { NO_COLOR: '1' });
    t.after(() => pty.kill());
    await pty.waitFor(/\* connected to http:\/\/127\.0\.0\.1:\d+\/ as \S+/);
    await pty.waitFor(/< \{"event":"auth","args":\[\{\}\]\}/);
    pty.type('message-with-ack 1 {"two":2}\r');
    await pty.waitFor(/ack \{"ack":"message-with-ack","args":\[1,\{"two":2\}\]\}/);
    pty.type('message nope\r');
    await pty.waitFor(/\* not sent: not JSON: nope/);
    pty.type('/quit\r');
    await pty.waitFor(/\* disconnected/);
    assert.equal(await pty.exited, 0);
  });
});
