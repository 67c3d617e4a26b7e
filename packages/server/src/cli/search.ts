/** `linktrace search`: traces matching filters, newest first, as a table (or JSON with --json). */
import type { Command } from 'commander';
import { processIo, type CliIo } from './cli-io.js';
import { addDataSourceOptions, serverUrl, type DataSourceFlags } from './data-source-options.js';
import { openQuerySource } from './query-source.js';
import { searchQueryFromFlags, type SearchFlags } from './search-flags.js';
import { formatSearchTable } from './search-table.js';

export interface SearchCommandFlags extends SearchFlags, DataSourceFlags {
  json?: boolean;
}

export async function searchCommand(flags: SearchCommandFlags, io: CliIo): Promise<number> {
  let query;
  try {
    query = searchQueryFromFlags(flags, io.now());
    if (flags.server !== undefined) serverUrl(flags.server);
  } catch (err) {
    io.stderr.write(`linktrace search: ${(err as Error).message}\n`);
    return 2;
  }
  let source;
  try {
    source = await openQuerySource(flags);
    const traces = await source.search(query);
    io.stdout.write(flags.json === true ? `${JSON.stringify(traces, null, 2)}\n` : formatSearchTable(traces));
    return 0;
  } catch (err) {
    io.stderr.write(`linktrace search: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await source?.close();
  }
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function register(program: Command, io: CliIo = processIo): void {
  const cmd = program.command('search').description('list traces with a span matching every filter, newest first');
  addDataSourceOptions(cmd)
    .option('--service <name>', 'span service')
    .option('--operation <name>', 'span name')
    .option('--attr <key=value>', 'attribute filter; repeat for several (all must hold)', collect)
    .option('--min-duration <duration>', 'span lasted at least this long (10ms, 1.5s; a bare number is µs)')
    .option('--max-duration <duration>', 'span lasted at most this long')
    .option('--since <when>', 'span started after: a duration back from now (1h) or a time (ISO 8601, µs)')
    .option('--until <when>', 'span started before: a duration back from now or a time')
    .option('--status <status>', 'span status: unset, ok or error')
    .option('--limit <n>', 'most traces listed (default 20)')
    .option('--json', 'print the trace summaries as JSON')
    .action(async (flags: SearchCommandFlags) => {
      io.setExitCode(await searchCommand(flags, io));
    });
}
