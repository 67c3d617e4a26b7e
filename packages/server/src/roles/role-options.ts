/**
 * Flags of the split roles (`collector`, `ingester`, `checker`, `query`; docs/server.md#roles).
 * What they share with `serve` (port, host, token, store, limits, timeouts, checker, alerts, UI) is
 * parsed by `parseServeFlags`, so a flag means the same in every role; the NATS flags are parsed here.
 */
import { ConfigError, parseDuration, parseInteger, parseRetention, parseSize } from '../config.js';
import { parseServeFlags, type ServeFlags, type ServeOptions } from '../cli/serve.js';
import { DEFAULT_PARTITIONS, MAX_PARTITIONS, parsePartitionShare, type PartitionShare } from './partitions.js';

export type RoleName = 'collector' | 'ingester' | 'checker' | 'query';

export interface RoleFlags extends ServeFlags {
  nats?: string;
  partitions?: string;
  partition?: string;
  replicas?: string;
  streamMaxBytes?: string;
  streamMaxAge?: string;
  publishTimeout?: string;
  fetchBatch?: string;
}

/** How the roles reach NATS and shape the stream when they are the first to create it. */
export interface NatsOptions {
  /** `nats://host:port` (or host:port) of one or more servers of the cluster. */
  servers: string[];
  /** Partitions of a new stream; absent: the existing stream's, or DEFAULT_PARTITIONS for a new one. */
  partitions?: number;
  /** Replicas of new streams (3 on a three-node cluster). */
  replicas: number;
  /** LINKTRACE_SPANS limits (a new stream's; an existing one keeps its own, with a warning when they differ). */
  streamMaxBytes: number;
  /** 0: no age limit (a message stays until consumed). */
  streamMaxAgeMs: number;
}

export interface RoleOptions {
  role: RoleName;
  /** What the role shares with serve: port, host, token, store, limits, timeouts, checker, alerts, UI. */
  serve: ServeOptions;
  /** Absent for `query` (it reads the store only). */
  nats?: NatsOptions;
  /** `checker`: the partitions it owns. */
  share?: PartitionShare;
  /** `collector`: how long a publish waits for JetStream's acknowledgement before answering 503. */
  publishTimeoutMs: number;
  /** `ingester`, `checker`: messages pulled per fetch. */
  fetchBatch: number;
}

/** Default ports: the collector takes serve's (SDKs point there); the others have their own, so that all fit on one host. */
export const ROLE_PORTS: Record<RoleName, string> = { collector: '4318', query: '4320', ingester: '4321', checker: '4322' };

export const ROLE_DEFAULTS = {
  partitions: DEFAULT_PARTITIONS,
  replicas: '1',
  streamMaxBytes: '1gb',
  streamMaxAge: 'off',
  publishTimeout: '5s',
  fetchBatch: '256',
} as const;

function parseServers(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') throw new ConfigError('--nats: required, e.g. nats://127.0.0.1:4222 (several servers of a cluster: comma-separated)');
  const servers = text.split(',').map((s) => s.trim());
  for (const s of servers) {
    if (!/^(nats:\/\/)?(\[[0-9a-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/i.test(s)) throw new ConfigError(`--nats: "${s}" is not nats://host[:port]`);
  }
  return servers;
}

/** Flags (strings as typed) -> options; throws ConfigError naming the flag. */
export function parseRoleFlags(role: RoleName, flags: RoleFlags, env: NodeJS.ProcessEnv = {}): RoleOptions {
  if (role !== 'collector' && flags.store === undefined) throw new ConfigError('--store: required, a directory (embedded) or clickhouse://host:8123/database');
  const serve = parseServeFlags({ ...flags, port: flags.port ?? ROLE_PORTS[role], grpcPort: role === 'collector' ? flags.grpcPort : '0' }, env);
  const options: RoleOptions = {
    role,
    serve,
    publishTimeoutMs: parseDuration(flags.publishTimeout ?? ROLE_DEFAULTS.publishTimeout, '--publish-timeout'),
    fetchBatch: parseInteger(flags.fetchBatch ?? ROLE_DEFAULTS.fetchBatch, '--fetch-batch', 1, 10_000),
  };
  if (role !== 'query') {
    options.nats = {
      servers: parseServers(flags.nats ?? env.LINKTRACE_NATS),
      replicas: parseInteger(flags.replicas ?? ROLE_DEFAULTS.replicas, '--replicas', 1, 5),
      streamMaxBytes: parseSize(flags.streamMaxBytes ?? ROLE_DEFAULTS.streamMaxBytes, '--stream-max-bytes'),
      streamMaxAgeMs: parseRetention(flags.streamMaxAge ?? ROLE_DEFAULTS.streamMaxAge, '--stream-max-age'),
    };
    if (flags.partitions !== undefined) options.nats.partitions = parseInteger(flags.partitions, '--partitions', 1, MAX_PARTITIONS);
  }
  if (role === 'checker') options.share = parsePartitionShare(flags.partition ?? '0/1');
  else if (flags.partition !== undefined) throw new ConfigError('--partition: only for linktrace checker');
  return options;
}
