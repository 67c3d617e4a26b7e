/**
 * `GET /healthz`: 200 `{ status: "ok", ... }` when the server accepts spans and the store answers,
 * 200 `{ status: "degraded", reason, ... }` when it answers queries but works around a limit: the
 * memory budget, or a disk with no room for the write-ahead log (ingest refused with 507, `readOnly`
 * says why; a server that answers queries must not look dead to a load balancer), 503
 * `{ status: "unavailable", ... }` otherwise. Never behind the token: load balancers probe it.
 */
import type { FastifyInstance } from 'fastify';
import type { IngestPipeline } from '../pipeline/ingest-pipeline.js';
import type { IngestStore } from '../pipeline/ingest-store.js';
import type { WriteAheadLog } from '../wal/write-ahead-log.js';
import type { MemoryBudget, MemoryStatus } from '../memory-budget.js';
import { PUBLIC_ROUTE } from './public-route.js';

export interface HealthSources {
  pipeline: IngestPipeline;
  wal: WriteAheadLog;
  store: IngestStore;
  memory?: MemoryBudget;
}

export interface HealthStatus {
  status: 'ok' | 'degraded' | 'unavailable';
  /** Why the status is `degraded`. */
  reason?: string;
  accepting: boolean;
  wal: { backlogSpans: number; bytes: number; segments: number; unconfirmedRecords: number; error?: string };
  store: { reachable: boolean; error?: string };
  memory?: MemoryStatus;
  /** Why ingest is refused (507) while queries still work: the disk has no room for the log. */
  readOnly?: string;
}

const PROBE_TIMEOUT_MS = 2000;

export async function probeStore(store: IngestStore): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${PROBE_TIMEOUT_MS} ms`), PROBE_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([store.stats().then(() => undefined), timeout]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

export async function healthStatus({ pipeline, wal, store, memory }: HealthSources): Promise<HealthStatus> {
  const stats = wal.stats();
  const storeProblem = pipeline.storeError?.message ?? (await probeStore(store));
  const health: HealthStatus = {
    status: 'ok',
    accepting: pipeline.accepting,
    wal: { backlogSpans: pipeline.backlogSpans, bytes: stats.bytes, segments: stats.segments, unconfirmedRecords: stats.unconfirmed },
    store: { reachable: storeProblem === undefined },
  };
  if (stats.lastError !== undefined) health.wal.error = stats.lastError.message;
  if (storeProblem !== undefined) health.store.error = storeProblem;
  const readOnly = pipeline.readOnlyReason;
  const reasons: string[] = [];
  if (readOnly !== undefined) {
    health.readOnly = readOnly;
    reasons.push(`ingest is refused (507 insufficient_storage) for want of disk space; queries work: ${readOnly}`);
  }
  // A log error for want of space is the read-only state above (degraded); any other is not.
  const walFailed = stats.lastError !== undefined && readOnly === undefined;
  if (!health.accepting || walFailed || storeProblem !== undefined) health.status = 'unavailable';
  if (memory !== undefined) {
    health.memory = memory.status();
    const reason = memory.degradedReason();
    if (reason !== undefined) reasons.push(reason);
  }
  if (health.status === 'ok' && reasons.length > 0) {
    health.status = 'degraded';
    health.reason = reasons.join('; ');
  }
  return health;
}

export function registerHealthCheckRoute(app: FastifyInstance, sources: HealthSources): void {
  app.get('/healthz', PUBLIC_ROUTE, async (_request, reply) => {
    const health = await healthStatus(sources);
    return reply.code(health.status === 'unavailable' ? 503 : 200).send(health);
  });
}
