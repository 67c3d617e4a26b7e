/**
 * The `linktrace` CLI. Each subcommand lives in its own file and registers itself here.
 */
import { Command } from 'commander';

const program = new Command('linktrace')
  .description('Linktrace: distributed tracing that checks every chain for completeness')
  .showHelpAfterError();

// Subcommands are registered by their modules (serve, import, trace, search).
const registrations: ((program: Command) => void)[] = [];

for (const register of registrations) register(program);

await program.parseAsync(process.argv);
