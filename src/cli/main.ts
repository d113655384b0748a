#!/usr/bin/env node
/**
 * The `parley` command line: `connect`, `serve`, `bench`, `demo`. Each command module resolves with
 * an exit status or throws a {@link CliError}; this file turns those into one-line messages on
 * stderr and the documented exit codes (docs/cli.md).
 */
import { CliError, ExitCode } from './errors.js';
import { benchHelp, connectHelp, demoHelp, mainHelp, serveHelp } from './help.js';
import { version } from './version.js';

let currentCommand: string | undefined;

type Command = (argv: readonly string[], printHelp: () => void) => Promise<number>;

const commands: Record<string, { help: string; load: () => Promise<Command> }> = {
  connect: { help: connectHelp, load: async () => (await import('./connect.js')).runConnect },
  serve: { help: serveHelp, load: async () => (await import('./serve.js')).runServe },
  bench: { help: benchHelp, load: async () => (await import('./bench.js')).runBench },
  demo: { help: demoHelp, load: async () => (await import('./demo.js')).runDemo },
};

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(mainHelp);
    return ExitCode.USAGE;
  }
  if (first === '-h' || first === '--help' || first === 'help') {
    const topic = first === 'help' ? rest[0] : undefined;
    process.stdout.write(
      topic !== undefined && Object.hasOwn(commands, topic) ? commands[topic]!.help : mainHelp,
    );
    return ExitCode.OK;
  }
  if (first === '-V' || first === '--version' || first === 'version') {
    process.stdout.write(`parley ${version()}\n`);
    return ExitCode.OK;
  }
  if (!Object.hasOwn(commands, first)) {
    throw new CliError(
      'PARLEY_CLI_USAGE',
      first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`,
      true,
    );
  }
  const entry = commands[first]!;
  currentCommand = first;
  const run = await entry.load();
  return run(rest, () => process.stdout.write(entry.help));
}

function finish(code: number): void {
  // Let stdout/stderr drain (they may be pipes) before exiting.
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main(process.argv.slice(2)).then(finish, (err: unknown) => {
  if (err instanceof CliError) {
    const hint = err.showHelpHint
      ? ` (see 'parley ${currentCommand ? `${currentCommand} ` : ''}--help')`
      : '';
    process.stderr.write(`parley: ${err.message}${hint}\n`);
    finish(err.exitCode);
  } else {
    process.stderr.write(`parley: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    finish(ExitCode.FAILURE);
  }
});
