/**
 * How an embedded data directory stores spans: `duckdb` (one DuckDB file, the default) or `blocks`
 * (Parquet block files, issue 12). `serve --store-format` picks it for a new directory; a directory
 * that holds a store keeps its own, and commands that open one (`linktrace search`, `trace`) take it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BLOCKS_DATABASE_FILE, DATABASE_FILE, openBlockStore, openEmbeddedStore, type SpanStore } from '@linktrace/storage';
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
  /** DuckDB store: see `EmbeddedStoreOptions.flushIntervalMs`. */
  flushIntervalMs?: number;
  /** DuckDB store: see `EmbeddedStoreOptions.traceSummaries`. */
  traceSummaries?: boolean;
  /**
   * Block store: writes resolve once in memory and are made durable a whole file at a time
   * (`BlockStoreOptions.durability: 'deferred'`): for a server whose write-ahead log replays them.
   */
  deferDurability?: boolean;
}

/**
 * The kind to open `dataDir` as: the one it holds; for a new directory `asked`, else `duckdb`.
 * Asking for another kind than the directory holds is a ConfigError (nothing is converted).
 */
export function resolveStoreKind(dataDir: string, asked?: StoreKind): StoreKind {
  const holds = existsSync(join(dataDir, BLOCKS_DATABASE_FILE)) ? 'blocks' : existsSync(join(dataDir, DATABASE_FILE)) ? 'duckdb' : undefined;
  if (holds !== undefined && asked !== undefined && holds !== asked) {
    throw new ConfigError(`--store-format: ${dataDir} already holds a ${holds} store; it is opened as such (nothing is converted), so leave --store-format out or use a new directory`);
  }
  return holds ?? asked ?? 'duckdb';
}

export function openStore(kind: StoreKind, dataDir: string, options: OpenStoreOptions = {}): Promise<SpanStore> {
  const { clock, readers, flushIntervalMs, traceSummaries } = options;
  if (kind === 'blocks') return openBlockStore({ dataDir, ...(clock && { clock }), ...(readers && { readers }), ...(options.deferDurability === true && { durability: 'deferred' as const }) });
  return openEmbeddedStore({ dataDir, ...(clock && { clock }), ...(readers && { readers }), ...(flushIntervalMs !== undefined && { flushIntervalMs }), ...(traceSummaries !== undefined && { traceSummaries }), readOnly: options.readOnly === true });
}
