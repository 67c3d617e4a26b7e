/**
 * Which storage backend a data directory uses: `duckdb` (the embedded store, one DuckDB file) or
 * `blocks` (Parquet block files, issue 12). `serve --store` picks it; commands that open an
 * existing directory (`linktrace search`, `trace`) take the one the directory holds.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCKS_DATABASE_FILE, openBlockStore, openEmbeddedStore, type SpanStore } from '@linktrace/storage';
import { ConfigError } from '../config.js';

export const STORE_KINDS = ['duckdb', 'blocks'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export function parseStoreKind(text: string, what = '--store'): StoreKind {
  if ((STORE_KINDS as readonly string[]).includes(text)) return text as StoreKind;
  throw new ConfigError(`${what}: ${text} is not one of ${STORE_KINDS.join(', ')}`);
}

/** The backend a data directory was written by (`duckdb` when it holds none yet). */
export function storeKindOf(dataDir: string): StoreKind {
  return existsSync(join(dataDir, BLOCKS_DATABASE_FILE)) ? 'blocks' : 'duckdb';
}

export interface OpenStoreOptions {
  clock?: () => number;
  readOnly?: boolean;
  readers?: number;
}

export function openStore(kind: StoreKind, dataDir: string, options: OpenStoreOptions = {}): Promise<SpanStore> {
  const { clock, readers } = options;
  if (kind === 'blocks') return openBlockStore({ dataDir, ...(clock && { clock }), ...(readers && { readers }) });
  return openEmbeddedStore({ dataDir, ...(clock && { clock }), ...(readers && { readers }), readOnly: options.readOnly === true });
}
