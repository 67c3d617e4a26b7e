/**
 * The options every data-reading subcommand shares: read the embedded store under `--data`
 * (default `./linktrace-data`), or ask a running server (`--server URL`, with `--token` when it
 * requires one; the token may also come from LINKTRACE_TOKEN).
 */
import { Option, type Command } from 'commander';

export const DEFAULT_DATA_DIR = './linktrace-data';

export interface DataSourceFlags {
  data?: string;
  server?: string;
  token?: string;
}

export function addDataSourceOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data <dir>', `data directory of the embedded store (default ${DEFAULT_DATA_DIR})`).conflicts('server'))
    .addOption(new Option('--server <url>', 'a running linktrace server, e.g. http://127.0.0.1:4318').conflicts('data'))
    .addOption(new Option('--token <token>', 'bearer token for --server').env('LINKTRACE_TOKEN'));
}

/** Checks the server URL early, so that a typo is reported before any work is done. */
export function serverUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--server ${JSON.stringify(text)} is not a URL (expected e.g. http://127.0.0.1:4318)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--server must be an http:// or https:// URL, not ${JSON.stringify(text)}`);
  return url.href.replace(/\/+$/, '');
}
