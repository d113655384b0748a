import { clearLine, createInterface, cursorTo, type Interface } from 'node:readline';
/**
 * Small text helpers shared by the commands: colours, byte/duration formatting, hex dumps.
 * None of them allocate more than their output.
 */

/** ANSI styles; each is the identity when colour is off. */
export interface Palette {
  readonly dim: (s: string) => string;
  readonly red: (s: string) => string;
  readonly green: (s: string) => string;
  readonly yellow: (s: string) => string;
  readonly cyan: (s: string) => string;
  readonly magenta: (s: string) => string;
  readonly bold: (s: string) => string;
}

const wrap = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const same = (s: string) => s;

/**
 * Returns a palette for `stream`: coloured only when it is a TTY, NO_COLOR is unset or empty
 * (https://no-color.org) and TERM is not `dumb`.
 */
export function paletteFor(stream: NodeJS.WriteStream): Palette {
  const on =
    stream.isTTY === true &&
    (process.env.NO_COLOR === undefined || process.env.NO_COLOR === '') &&
    process.env.TERM !== 'dumb';
  if (!on) return { dim: same, red: same, green: same, yellow: same, cyan: same, magenta: same, bold: same };
  return {
    dim: wrap(2, 22),
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    magenta: wrap(35, 39),
    bold: wrap(1, 22),
  };
}

/** Formats a byte count for humans: `512 B`, `1.5 KiB`, `12.0 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** Formats milliseconds for humans: `850ms`, `12.3s`, `5m02s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/**
 * Classic 16-bytes-per-row hex dump (offset, hex, ASCII), at most `maxBytes` bytes shown, with a
 * note of how many were left out. Cost: O(min(length, maxBytes)).
 */
export function hexDump(data: Uint8Array, maxBytes = 4096): string {
  const shown = Math.min(data.length, maxBytes);
  const rows: string[] = [];
  for (let off = 0; off < shown; off += 16) {
    const end = Math.min(off + 16, shown);
    let hex = '';
    let ascii = '';
    for (let i = off; i < off + 16; i++) {
      if (i < end) {
        const b = data[i]!;
        hex += b.toString(16).padStart(2, '0') + (i === off + 7 ? '  ' : ' ');
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else {
        hex += i === off + 7 ? '    ' : '   ';
      }
    }
    rows.push(`${off.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  if (data.length === 0) rows.push('(empty)');
  if (data.length > shown) rows.push(`... ${data.length - shown} more bytes`);
  return rows.join('\n');
}

/**
 * Parses hex text (`48656c6c6f`, `48 65 6c 6c 6f`, `0x48,0x65`) into bytes, or returns undefined if
 * it is not an even number of hex digits once separators are removed.
 */
export function parseHex(text: string): Buffer | undefined {
  const clean = text.replace(/0x/gi, '').replace(/[\s,:]/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(clean)) return undefined;
  return Buffer.from(clean, 'hex');
}

/** The interactive prompt of `connect` and `connect --io`: received lines print above it. */
export interface Prompt {
  readonly rl: Interface;
  readonly c: Palette;
  /** Prints a line above the prompt and redraws the prompt. */
  print(text: string): void;
  /** Prints a dimmed `* text` status line above the prompt. */
  info(text: string): void;
  /** Clears the prompt line and closes the interface. */
  close(): void;
}

/** A readline prompt on stdin/stdout with history, coloured when stdout allows. */
export function createPrompt(): Prompt {
  const out = process.stdout;
  const c = paletteFor(out);
  const rl = createInterface({
    input: process.stdin,
    output: out,
    terminal: true,
    historySize: 500,
    prompt: c.green('> '),
  });
  const print = (text: string): void => {
    clearLine(out, 0);
    cursorTo(out, 0);
    out.write(`${text}\n`);
    rl.prompt(true);
  };
  return {
    rl,
    c,
    print,
    info: (text) => print(c.dim(`* ${text}`)),
    close: () => {
      clearLine(out, 0);
      cursorTo(out, 0);
      rl.close();
    },
  };
}
