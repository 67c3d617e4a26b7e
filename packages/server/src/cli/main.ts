/**
 * The `linktrace` CLI. Each subcommand lives in its own file and registers itself here.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { register as registerImport } from './import.js';
import { register as registerInfer } from './infer.js';
import { register as registerRemedy } from './remedy.js';
import { register as registerRoles } from './roles.js';
import { register as registerRun } from './run.js';
import { register as registerSearch } from './search.js';
import { register as registerServe } from './serve.js';
import { register as registerTrace } from './trace.js';
import { register as registerAgent } from '../federated/agent.js';
import { register as registerGateway } from '../federated/gateway.js';

/** The server package's own version: package.json sits three levels above dist/src/cli/ (in the repo and in a tarball). */
const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('linktrace')
  .description('Linktrace: distributed tracing that checks every chain for completeness')
  .version(version, '-V, --version', 'print the version of linktrace')
  .showHelpAfterError()
  // Usage errors (unknown option, missing value) exit with code 2, as the flag parsers' errors do.
  .exitOverride();

// Subcommands are registered by their modules (serve, the split roles, agent, gateway, import, trace, search, run, infer, remedy).
const registrations: ((program: Command) => void)[] = [registerServe, registerRoles, registerAgent, registerGateway, registerImport, registerTrace, registerSearch, registerRun, registerInfer, registerRemedy];

for (const register of registrations) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Help and version output are successes; commander has already printed the message otherwise.
  process.exitCode = error.exitCode === 0 ? 0 : 2;
}
