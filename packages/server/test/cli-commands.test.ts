import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Command } from 'commander';
import { COMMAND_MODULE, modulesFor, registerCommands } from '../src/cli/command-table.js';

const names = (program: Command): string[] => program.commands.map((c) => c.name());

void it('the table names every command the modules register, and the module that registers it', async () => {
  const all = new Command('linktrace');
  await registerCommands(all, []);
  assert.deepEqual([...names(all)].sort(), Object.keys(COMMAND_MODULE).sort());
  for (const command of Object.keys(COMMAND_MODULE)) {
    const one = new Command('linktrace');
    await registerCommands(one, [command, '--help']);
    assert.ok(names(one).includes(command), `${command}: registered by ${COMMAND_MODULE[command]}, got ${names(one).join(', ')}`);
  }
});

void it('a named subcommand loads only its own module', async () => {
  const program = new Command('linktrace');
  await registerCommands(program, ['infer', 'logs.jsonl', '--out', 'links.jsonl']);
  assert.deepEqual(names(program), ['infer']);
  const roles = new Command('linktrace');
  await registerCommands(roles, ['checker', '--help']);
  assert.deepEqual(names(roles), ['collector', 'ingester', 'checker', 'query']);
});

void it('no subcommand first (help, version, unknown, nothing) loads every module, in the help order', async () => {
  const count = modulesFor([]).length;
  assert.equal(count, new Set(Object.values(COMMAND_MODULE)).size);
  for (const args of [['--help'], ['-V'], ['help', 'infer'], ['bogus'], ['-V', 'infer'], ['hasOwnProperty']]) assert.equal(modulesFor(args).length, count, args.join(' '));
  const program = new Command('linktrace');
  await registerCommands(program, ['--help']);
  assert.deepEqual(names(program).slice(0, 2), ['serve', 'collector']);
  assert.equal(names(program).at(-1), 'remedy');
});
