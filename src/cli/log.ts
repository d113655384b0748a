import { type Palette, paletteFor } from './format.js';

/**
 * The server log: one line per event on stderr, prefixed with an ISO timestamp. `info` lines are
 * suppressed by `--quiet`; warnings and errors never are.
 */
export class Logger {
  readonly #quiet: boolean;
  readonly #out: NodeJS.WriteStream;
  readonly #c: Palette;

  /**
   * @param quiet drop `info` lines (per-connection logs).
   * @param out where lines go (stderr by default).
   */
  constructor(quiet: boolean, out: NodeJS.WriteStream = process.stderr) {
    this.#quiet = quiet;
    this.#out = out;
    this.#c = paletteFor(out);
  }

  /** Routine events: connection opened/closed, listening. */
  info(message: string): void {
    if (!this.#quiet) this.#line(this.#c.dim(new Date().toISOString()), message);
  }

  /** Something went wrong with one connection or child; the server keeps running. */
  warn(message: string): void {
    this.#line(this.#c.dim(new Date().toISOString()), this.#c.yellow(message));
  }

  /** Always printed (e.g. the listening line when not quiet, fatal errors). */
  always(message: string): void {
    this.#line(this.#c.dim(new Date().toISOString()), message);
  }

  #line(stamp: string, message: string): void {
    this.#out.write(`${stamp} ${message}\n`);
  }
}
