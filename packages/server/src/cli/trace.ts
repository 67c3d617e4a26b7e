/** `linktrace trace <id>`: one trace as a waterfall in the terminal (or as JSON with --json). */
import type { Command } from 'commander';
import { importedTraceId } from '../import/imported-ids.js';
import { processIo, wantsColor, type CliIo } from './cli-io.js';
import { addDataSourceOptions, serverUrl, type DataSourceFlags } from './data-source-options.js';
import { openQuerySource } from './query-source.js';
import { formatWaterfall } from './waterfall.js';
import { formatHops } from './hops-text.js';

export interface TraceFlags extends DataSourceFlags {
  json?: boolean;
  width?: string;
}

const HEX_ID = /^(?:[0-9a-fA-F]{16}|[0-9a-fA-F]{32})$/;

/**
 * A trace id as typed: 16 or 32 hex as it is (lowercased); any other id is mapped as `linktrace
 * import` maps the ids of the files it reads, so an id copied from an imported file finds its trace.
 */
export function traceIdArgument(text: string): string {
  const t = text.trim();
  return HEX_ID.test(t) ? t.toLowerCase() : importedTraceId(t);
}

export async function traceCommand(id: string, flags: TraceFlags, io: CliIo): Promise<number> {
  let width: number | undefined;
  if (flags.width !== undefined) {
    width = /^[0-9]+$/.test(flags.width) ? Number(flags.width) : NaN;
    if (!(width >= 60 && width <= 1000)) {
      io.stderr.write('linktrace trace: --width must be an integer in 60..1000\n');
      return 2;
    }
  }
  if (id.trim() === '') {
    io.stderr.write('linktrace trace: the trace id is empty\n');
    return 2;
  }
  try {
    if (flags.server !== undefined) serverUrl(flags.server);
  } catch (err) {
    io.stderr.write(`linktrace trace: ${(err as Error).message}\n`);
    return 2;
  }
  const traceId = traceIdArgument(id);
  let source;
  try {
    source = await openQuerySource(flags);
    const view = await source.trace(traceId);
    if (view === undefined) {
      io.stderr.write(`linktrace trace: trace ${traceId} not found\n`);
      return 1;
    }
    if (flags.json === true) io.stdout.write(`${JSON.stringify(view, null, 2)}\n`);
    else {
      io.stdout.write(formatWaterfall(view, { width: width ?? io.stdout.columns ?? 120, color: wantsColor(io, io.stdout) }));
      // From a federated gateway: which hop answered, which did not.
      io.stdout.write(formatHops(view));
    }
    return 0;
  } catch (err) {
    io.stderr.write(`linktrace trace: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await source?.close();
  }
}

export function register(program: Command, io: CliIo = processIo): void {
  const cmd = program
    .command('trace')
    .description('show one trace as a waterfall: hops by parent and rpcid position, durations, errors, lost hops')
    .argument('<id>', 'trace id (16 or 32 hex, or an id as it appears in an imported file)');
  addDataSourceOptions(cmd)
    .option('--json', 'print the trace view as JSON (the shape of GET /api/v1/traces/{id})')
    .option('--width <columns>', 'line width (default: the terminal width, or 120)')
    .action(async (id: string, flags: TraceFlags) => {
      io.setExitCode(await traceCommand(id, flags, io));
    });
}
