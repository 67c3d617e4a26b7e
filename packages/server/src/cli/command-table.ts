/**
 * Which modules the `linktrace` CLI loads. Loading every subcommand's module costs ~0.7 s of CPU
 * (the server, DuckDB, gRPC, the SDK…), which a short `linktrace infer` or `linktrace trace` would
 * pay for nothing: when the first argument names a subcommand, only the module that registers it is
 * loaded. Anything else (no arguments, `--help`, `help <cmd>`, `-V`, an unknown command) loads them
 * all, so the top-level help and its errors list every command, in this order.
 */
import type { Command } from 'commander';

/** A module that adds its subcommands to the program. */
export type CommandModule = { register(program: Command): void };
type Loader = () => Promise<CommandModule>;

/** Every registering module, in the order the top-level help lists their commands. */
const MODULES = {
  serve: () => import('./serve.js'),
  roles: () => import('./roles.js'),
  agent: () => import('../federated/agent.js'),
  gateway: () => import('../federated/gateway.js'),
  import: () => import('./import.js'),
  trace: () => import('./trace.js'),
  search: () => import('./search.js'),
  run: () => import('./run.js'),
  infer: () => import('./infer.js'),
  remedy: () => import('./remedy.js'),
} satisfies Record<string, Loader>;

/** Subcommand name → the key in MODULES of the module that registers it (a test checks it against the modules). */
export const COMMAND_MODULE: Readonly<Record<string, keyof typeof MODULES>> = {
  serve: 'serve',
  collector: 'roles',
  ingester: 'roles',
  checker: 'roles',
  query: 'roles',
  agent: 'agent',
  gateway: 'gateway',
  import: 'import',
  trace: 'trace',
  search: 'search',
  run: 'run',
  infer: 'infer',
  remedy: 'remedy',
};

/** The modules to load for these arguments (process.argv without the node binary and script). */
export function modulesFor(args: readonly string[]): Loader[] {
  const first = args[0];
  const key = first === undefined ? undefined : Object.hasOwn(COMMAND_MODULE, first) ? COMMAND_MODULE[first] : undefined;
  return key === undefined ? Object.values(MODULES) : [MODULES[key]!];
}

/** Registers on the program the subcommands these arguments need (all of them unless the first names one). */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const modules = await Promise.all(modulesFor(args).map((load) => load()));
  for (const m of modules) m.register(program);
}
