#!/usr/bin/env node
// Entry point of the `tox-persona` command: builds the command tree, runs it, and maps failures to documented exit codes.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands.js';
import { registerRunCommand } from './run.js';
import { registerDemoCommand } from './demo.js';
import { registerProfileCommands } from './profile.js';
import { registerGroupCommands } from './groups.js';
import { EXIT, exitCodeFor, printError } from './output.js';
import { useNativeCrypto } from '../crypto/native-sodium.js';

/** Builds the whole `tox-persona` command tree (exported for tests and for --help checks). */
export function buildProgram(): Command {
  const program = new Command('tox-persona')
    .description('PersonaIDs for Tox: one signed list of a person\'s devices in every device\'s status message, and a companion node that follows friends\' lists by itself')
    .version('0.1.0')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  registerCommands(program);
  registerRunCommand(program);
  registerDemoCommand(program);
  registerProfileCommands(program);
  registerGroupCommands(program);
  // Every subcommand throws instead of exiting, so that main() alone decides the exit code.
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

/** Runs the CLI with `argv` and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  // Verify and sign through the system's libsodium when it loads (libsodium-wrappers otherwise).
  useNativeCrypto();
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; they already printed.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.OK;
      return EXIT.USAGE;
    }
    printError(json, err);
    return exitCodeFor(err);
  }
}

function invokedDirectly(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(arg) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Exit explicitly: a command is done once it returned, whatever handles (sockets, timers) a library left open.
      // But only once stdout and stderr are written out: into a pipe that is full, Node queues the rest, and
      // process.exit drops it (a `--json` answer through a pipe was cut at 128 KiB). An empty write's callback runs
      // after every earlier write (or with the error when the reader went away).
      process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
    },
    (err: unknown) => {
      printError(false, err);
      process.exitCode = EXIT.FAILURE;
    },
  );
}
