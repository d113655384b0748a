/**
 * Exit codes of the `parley` command line, documented in docs/cli.md. They are part of the CLI's
 * contract: scripts may branch on them.
 */
export const ExitCode = {
  /** Success; for `connect`, the connection ended with a clean close (1000, 1001 or 1005). */
  OK: 0,
  /** An unexpected failure (a bug, an I/O error on the local side). */
  FAILURE: 1,
  /** Bad command line: unknown command or flag, bad value, bad URL. Nothing was attempted. */
  USAGE: 2,
  /** The connection could not be made: refused, DNS failure, timeout, TLS error, listen failure. */
  CONNECT: 3,
  /** The server answered the opening handshake with something other than 101 (or a bad 101). */
  HANDSHAKE: 4,
  /** The connection was closed abnormally (1006) or with a close code other than 1000/1001/1005. */
  ABNORMAL_CLOSE: 5,
  /** Interrupted by SIGINT/SIGTERM before finishing (`connect`, `bench`). */
  INTERRUPTED: 130,
} as const;

/** One of the documented {@link ExitCode} values. */
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Stable machine-readable codes carried by {@link CliError}. */
export type CliErrorCode =
  | 'PARLEY_CLI_USAGE'
  | 'PARLEY_CLI_BAD_URL'
  | 'PARLEY_CLI_CONNECT'
  | 'PARLEY_CLI_HANDSHAKE'
  | 'PARLEY_CLI_ABNORMAL_CLOSE'
  | 'PARLEY_CLI_LISTEN'
  | 'PARLEY_CLI_IO';

const exitFor: Record<CliErrorCode, ExitCodeValue> = {
  PARLEY_CLI_USAGE: ExitCode.USAGE,
  PARLEY_CLI_BAD_URL: ExitCode.USAGE,
  PARLEY_CLI_CONNECT: ExitCode.CONNECT,
  PARLEY_CLI_HANDSHAKE: ExitCode.HANDSHAKE,
  PARLEY_CLI_ABNORMAL_CLOSE: ExitCode.ABNORMAL_CLOSE,
  PARLEY_CLI_LISTEN: ExitCode.CONNECT,
  PARLEY_CLI_IO: ExitCode.FAILURE,
};

/**
 * An error the CLI reports as one line on stderr (`parley: <message>`) before exiting with
 * {@link CliError.exitCode}. Anything thrown that is not a CliError is reported as a failure (exit 1).
 */
export class CliError extends Error {
  /** Stable code, see {@link CliErrorCode}. */
  readonly code: CliErrorCode;
  /** The process exit status this error maps to. */
  readonly exitCode: ExitCodeValue;
  /** Whether `Run 'parley <command> --help'` should be suggested after the message. */
  readonly showHelpHint: boolean;

  /**
   * @param code stable error code; it determines the exit status.
   * @param message one line, lower-case start, no trailing period.
   * @param showHelpHint suggest `--help` after the message (usage errors).
   */
  constructor(code: CliErrorCode, message: string, showHelpHint = false) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitFor[code];
    this.showHelpHint = showHelpHint;
  }
}

/** Shorthand for a usage error (exit 2) that suggests `--help`. */
export function usageError(message: string): CliError {
  return new CliError('PARLEY_CLI_USAGE', message, true);
}

/**
 * Describes a Node network error in one line ("connection refused (127.0.0.1:9)"), falling back to
 * the error's message. Cost: a switch on `err.code`.
 */
export function describeNetError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string };
  const where = e.address
    ? ` (${e.address}${e.port ? `:${e.port}` : ''})`
    : e.hostname
      ? ` (${e.hostname})`
      : '';
  switch (e.code) {
    case 'ECONNREFUSED':
      return `connection refused${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found${where}`;
    case 'ETIMEDOUT':
      return `connection timed out${where}`;
    case 'ECONNRESET':
      return `connection reset by peer${where}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable${where}`;
    case 'EADDRINUSE':
      return `address already in use${where}`;
    case 'EACCES':
      return `permission denied${where}`;
    default:
      return e.message ?? String(err);
  }
}
