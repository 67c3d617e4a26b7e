/**
 * `linktrace import <file|dir>...`: loads OTLP JSON, Zipkin v2 JSON, JSON lines and call-graph CSV
 * files into the embedded store under `--data`, or into a running server (`--server`).
 */
import { Option, type Command } from 'commander';
import { openEmbeddedStore } from '@linktrace/storage';
import { FILE_FORMATS, type FileFormat } from '../import/file-format.js';
import { HttpSink } from '../import/http-sink.js';
import { runImport } from '../import/import-run.js';
import type { SpanSink } from '../import/span-sink.js';
import { StoreSink } from '../import/store-sink.js';
import { parseTimeUs } from '../query/time-text.js';
import { processIo, type CliIo } from './cli-io.js';
import { addDataSourceOptions, DEFAULT_DATA_DIR, serverUrl, type DataSourceFlags } from './data-source-options.js';
import { formatImportIssues, formatImportSummary, progressBar } from './import-report.js';

export interface ImportFlags extends DataSourceFlags {
  format?: string;
  baseTime?: string;
  batch?: string;
}

export const MAX_IMPORT_BATCH = 50_000;

async function openSink(flags: ImportFlags): Promise<SpanSink> {
  if (flags.server !== undefined) {
    const opts = flags.token === undefined ? { server: serverUrl(flags.server) } : { server: serverUrl(flags.server), token: flags.token };
    return new HttpSink(opts);
  }
  const dir = flags.data ?? DEFAULT_DATA_DIR;
  try {
    return new StoreSink(await openEmbeddedStore({ dataDir: dir }), dir);
  } catch (err) {
    throw new Error(`cannot open the store in ${dir}: ${(err as Error).message} (if a server is running on it, use --server)`);
  }
}

/** Runs the command; resolves to the exit code. */
export async function importCommand(paths: readonly string[], flags: ImportFlags, io: CliIo): Promise<number> {
  let format: FileFormat | undefined;
  let baseTimeUs: number | undefined;
  let batchSize: number | undefined;
  try {
    if (flags.format !== undefined) {
      if (!(FILE_FORMATS as readonly string[]).includes(flags.format)) throw new Error(`--format must be one of ${FILE_FORMATS.join(', ')}`);
      format = flags.format as FileFormat;
    }
    if (flags.baseTime !== undefined) {
      baseTimeUs = parseTimeUs(flags.baseTime);
      if (baseTimeUs === undefined) throw new Error(`--base-time ${JSON.stringify(flags.baseTime)} is not a time (ISO 8601 or µs since the epoch)`);
    }
    if (flags.server !== undefined) serverUrl(flags.server);
    if (flags.batch !== undefined) {
      batchSize = /^[0-9]+$/.test(flags.batch) ? Number(flags.batch) : NaN;
      if (!(batchSize >= 1 && batchSize <= MAX_IMPORT_BATCH)) throw new Error(`--batch must be an integer in 1..${MAX_IMPORT_BATCH}`);
    }
  } catch (err) {
    io.stderr.write(`linktrace import: ${(err as Error).message}\n`);
    return 2;
  }
  let sink: SpanSink | undefined;
  try {
    sink = await openSink(flags);
    const summary = await runImport({
      paths,
      sink,
      ...(format === undefined ? {} : { format }),
      ...(baseTimeUs === undefined ? {} : { baseTimeUs }),
      ...(batchSize === undefined ? {} : { batchSize }),
      ...(io.stderr.isTTY === true ? { progress: progressBar(io.stderr) } : {}),
      now: io.now,
    });
    io.stdout.write(formatImportSummary(summary));
    io.stderr.write(formatImportIssues(summary));
    return 0;
  } catch (err) {
    io.stderr.write(`linktrace import: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await sink?.close();
  }
}

export function register(program: Command, io: CliIo = processIo): void {
  const cmd = program
    .command('import')
    .description('load trace files (OTLP JSON, Zipkin v2 JSON, JSON lines, call-graph CSV; .gz too) into the store or a server')
    .argument('<paths...>', 'files or directories (read recursively)');
  addDataSourceOptions(cmd)
    .addOption(new Option('--format <format>', 'read every file as this format instead of detecting it').choices(FILE_FORMATS))
    .option('--base-time <time>', 'call-graph CSV: time that timestamp 0 stands for (ISO 8601 or µs since the epoch)')
    .option('--batch <n>', 'spans per write (default 1000)')
    .action(async (paths: string[], flags: ImportFlags) => {
      io.setExitCode(await importCommand(paths, flags, io));
    });
}
