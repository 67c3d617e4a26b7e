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
  /** `nats://host:port` (or host:port) of one or more servers of the cluster, credentials taken out. */
  servers: string[];
  /** From `nats://user:password@host` or LINKTRACE_NATS_USER / LINKTRACE_NATS_PASSWORD. */
  user?: string;
  pass?: string;
  /** From `nats://token@host` or LINKTRACE_NATS_TOKEN. */
  token?: string;
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

/** NATS servers and the one set of credentials they share (never printed: the servers are kept without them). */
type NatsEndpoints = Pick<NatsOptions, 'servers' | 'user' | 'pass' | 'token'>;

const NATS_SERVER = /^(nats:\/\/)?(?:([^@/\s]*)@)?(\[[0-9a-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/i;

function decodeUserInfo(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ConfigError('--nats: the credentials before "@" are not valid percent-encoding (write "@", ":" or "%" in a password as %40, %3A, %25)');
  }
}

function parseServers(text: string | undefined, env: NodeJS.ProcessEnv): NatsEndpoints {
  if (text === undefined || text.trim() === '') throw new ConfigError('--nats: required, e.g. nats://127.0.0.1:4222 (several servers of a cluster: comma-separated)');
  const servers: string[] = [];
  let userInfo: string | undefined;
  for (const s of text.split(',').map((part) => part.trim())) {
    const m = NATS_SERVER.exec(s);
    // The message never repeats what was typed before the "@": it may be a password.
    if (m === null) throw new ConfigError(`--nats: "${s.replace(/^(nats:\/\/)?[^@/]*@/, '$1…@')}" is not nats://[user:password@|token@]host[:port]`);
    const info = m[2];
    if (info !== undefined) {
      if (userInfo !== undefined && userInfo !== info) throw new ConfigError('--nats: the servers carry different credentials; one cluster takes one set');
      userInfo = info;
    }
    servers.push(`${m[1] ?? ''}${m[3]}${m[4] ?? ''}`);
  }
  const endpoints: NatsEndpoints = { servers };
  if (userInfo !== undefined && userInfo !== '') {
    const colon = userInfo.indexOf(':');
    if (colon < 0) endpoints.token = decodeUserInfo(userInfo);
    else {
      endpoints.user = decodeUserInfo(userInfo.slice(0, colon));
      endpoints.pass = decodeUserInfo(userInfo.slice(colon + 1));
    }
  }
  const user = env.LINKTRACE_NATS_USER;
  const token = env.LINKTRACE_NATS_TOKEN;
  if (endpoints.user === undefined && endpoints.token === undefined) {
    if (user !== undefined && user !== '') {
      endpoints.user = user;
      endpoints.pass = env.LINKTRACE_NATS_PASSWORD ?? '';
    } else if (token !== undefined && token !== '') endpoints.token = token;
  }
  if (endpoints.user !== undefined && endpoints.token !== undefined) throw new ConfigError('--nats: a user and a token were both given; NATS takes one');
  return endpoints;
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
      ...parseServers(flags.nats ?? env.LINKTRACE_NATS, env),
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
