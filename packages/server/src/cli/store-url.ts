/**
 * `--store`: which backend a server stores in, named by URL (DESIGN §6): a directory path (the
 * embedded store; default: `<data>/`), or `clickhouse://[user[:password]@]host[:port][,host[:port]…]/database`
 * (the ClickHouse HTTP interface, port 8123 by default). Credentials come from the URL or
 * `LINKTRACE_CLICKHOUSE_USER` / `LINKTRACE_CLICKHOUSE_PASSWORD` (the URL wins). With
 * `--clickhouse-cluster`, several hosts name the cluster's nodes (schema changes run on each);
 * queries go to the first.
 */
import { openClickHouseStore } from '@linktrace/storage';
import type { ClickHouseEndpoint, SpanStore } from '@linktrace/storage';
import { ConfigError } from '../config.js';
import { openStore as openDataDir, resolveStoreKind, type StoreKind } from './open-store.js';

export type StoreSpec =
  | {
      kind: 'embedded';
      dataDir: string;
      /** `--store-format`: for a new directory. */
      format?: StoreKind;
      /** DuckDB store: gather spans this long (ms) before a batch goes in (the federated agent's setting). */
      flushIntervalMs?: number;
      /** DuckDB store: false runs without `trace_summaries` (the federated agent's setting). */
      traceSummaries?: boolean;
    }
  | { kind: 'clickhouse'; endpoint: ClickHouseEndpoint; nodes: ClickHouseEndpoint[]; database: string; cluster?: string; display: string };

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses `--store` (and `--clickhouse-cluster`); throws ConfigError naming the flag. */
export function parseStoreUrl(text: string, env: NodeJS.ProcessEnv = {}, cluster?: string, format?: StoreKind): StoreSpec {
  if (text.trim() === '') throw new ConfigError('--store: must not be empty');
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    if (cluster !== undefined) throw new ConfigError('--clickhouse-cluster: only with --store clickhouse://…');
    return format === undefined ? { kind: 'embedded', dataDir: text } : { kind: 'embedded', dataDir: text, format };
  }
  if (format !== undefined) throw new ConfigError('--store-format: only for an embedded store (a directory), not with --store clickhouse://…');
  const m = /^clickhouse:\/\/(?:([^@/]*)@)?([^/?#]+)\/([^/?#]*)$/i.exec(text);
  if (m === null) {
    throw new ConfigError(`--store: ${redact(text)} is not a directory nor clickhouse://[user[:password]@]host[:port]/database`);
  }
  const [, auth, hosts, database] = m as unknown as [string, string | undefined, string, string];
  if (!IDENTIFIER.test(database)) throw new ConfigError(`--store: the database "${database}" must be a name of letters, digits and _`);
  if (cluster !== undefined && !IDENTIFIER.test(cluster)) throw new ConfigError(`--clickhouse-cluster: "${cluster}" must be a name of letters, digits and _`);
  let user = env.LINKTRACE_CLICKHOUSE_USER;
  let password = env.LINKTRACE_CLICKHOUSE_PASSWORD;
  if (auth !== undefined) {
    const colon = auth.indexOf(':');
    user = decodeURIComponent(colon < 0 ? auth : auth.slice(0, colon));
    if (colon >= 0) password = decodeURIComponent(auth.slice(colon + 1));
  }
  const nodes = hosts.split(',').map((h): ClickHouseEndpoint => {
    if (!/^(\[[0-9a-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/i.test(h)) throw new ConfigError(`--store: "${h}" is not host or host:port`);
    const url = new URL(`http://${h}`);
    if (url.port === '') url.port = '8123';
    return { url: url.origin, user, password };
  });
  if (nodes.length > 1 && cluster === undefined) throw new ConfigError('--store: several ClickHouse hosts need --clickhouse-cluster <name>');
  const spec: StoreSpec = { kind: 'clickhouse', endpoint: nodes[0]!, nodes, database, display: redact(text) };
  if (cluster !== undefined) spec.cluster = cluster;
  return spec;
}

/** The URL with its password replaced, for messages and logs. */
function redact(text: string): string {
  return text.replace(/^(clickhouse:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

export interface OpenStoreOptions {
  clock: () => number;
  readOnly?: boolean;
  /** Retention in days (table TTL where ClickHouse has it). */
  ttlDays?: number;
  /** Embedded block store: see open-store.ts `deferDurability` (the server, which has a write-ahead log). */
  deferDurability?: boolean;
  log?: (line: string) => void;
}

export function openStore(spec: StoreSpec, options: OpenStoreOptions): Promise<SpanStore> {
  if (spec.kind === 'embedded') {
    try {
      return openDataDir(resolveStoreKind(spec.dataDir, spec.format), spec.dataDir, {
        clock: options.clock,
        readOnly: options.readOnly === true,
        ...(options.deferDurability === true && { deferDurability: true }),
        ...(spec.flushIntervalMs !== undefined && { flushIntervalMs: spec.flushIntervalMs }),
        ...(spec.traceSummaries !== undefined && { traceSummaries: spec.traceSummaries }),
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }
  return openClickHouseStore({
    endpoint: spec.endpoint,
    database: spec.database,
    clock: options.clock,
    ...(spec.cluster !== undefined && { cluster: spec.cluster, nodes: spec.nodes.length > 1 ? spec.nodes : undefined }),
    ...(options.ttlDays !== undefined && { ttlDays: options.ttlDays }),
    ...(options.log !== undefined && { log: options.log }),
  });
}
