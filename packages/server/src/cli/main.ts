/**
 * The `linktrace` CLI. Each subcommand lives in its own file and registers itself (command-table.ts).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerCommands } from './command-table.js';

/** The server package's own version: package.json sits three levels above dist/src/cli/ (in the repo and in a tarball). */
const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('linktrace')
  .description('Linktrace: distributed tracing that checks every chain for completeness')
  .version(version, '-V, --version', 'print the version of linktrace')
  .showHelpAfterError()
  // Usage errors (unknown option, missing value) exit with code 2, as the flag parsers' errors do.
  .exitOverride();

// Subcommands are registered by their modules, and only the one the arguments name is loaded (command-table.ts).
await registerCommands(program, process.argv.slice(2));

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Help and version output are successes; commander has already printed the message otherwise.
  process.exitCode = error.exitCode === 0 ? 0 : 2;
}
