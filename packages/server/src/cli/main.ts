/**
 * The `linktrace` CLI. Each subcommand lives in its own file and registers itself here.
 */
import { Command, CommanderError } from 'commander';
import { register as registerImport } from './import.js';
import { register as registerRun } from './run.js';
import { register as registerSearch } from './search.js';
import { register as registerServe } from './serve.js';
import { register as registerTrace } from './trace.js';

const program = new Command('linktrace')
  .description('Linktrace: distributed tracing that checks every chain for completeness')
  .showHelpAfterError()
  // Usage errors (unknown option, missing value) exit with code 2, as the flag parsers' errors do.
  .exitOverride();

// Subcommands are registered by their modules (serve, import, trace, search, run).
const registrations: ((program: Command) => void)[] = [registerServe, registerImport, registerTrace, registerSearch, registerRun];

for (const register of registrations) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Help and version output are successes; commander has already printed the message otherwise.
  process.exitCode = error.exitCode === 0 ? 0 : 2;
}
