/**
 * One sync worker process of the multi-process tests: RabbitMQ queue, Redis (or PostgreSQL) locks,
 * Redis state, PostgreSQL source and targets. Every span (and start record) is appended to a file
 * synchronously, so a SIGKILL loses nothing already started. Prints `ready` once consuming.
 */
import { appendFileSync } from 'node:fs';
import amqp from 'amqplib';
import { startRecordOf, type Span } from '@linktrace/model';
import { createTracing, type SpanProcessor } from '@linktrace/sdk';
import { amqpQueue, createSyncJob, PgAdvisoryLocks, RedisLocks, RedisSyncState, startWorker, type InjectedFault } from '../src/index.js';
import { pgJob } from './pg-job.js';
import { pgPool, redisClient, SERVICES } from './services.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (v === undefined) throw new Error(`worker-process: ${k} is not set`);
  return v;
};
const p = env('LT_SYNC_PREFIX');
const name = env('LT_SYNC_WORKER');
const spans = env('LT_SYNC_SPANS');
const pauseKey = process.env['LT_SYNC_PAUSE_KEY'];
const stealKey = process.env['LT_SYNC_STEAL_KEY'];

/** The span's fields as plain data (the SDK hands processors its live span object, with getters). */
function plain(s: Span): Span {
  return {
    traceId: s.traceId,
    spanId: s.spanId,
    parentSpanId: s.parentSpanId,
    rpcid: s.rpcid,
    service: s.service,
    instance: s.instance,
    name: s.name,
    kind: s.kind,
    startUs: s.startUs,
    durationUs: s.durationUs,
    status: { ...s.status },
    attributes: { ...s.attributes },
    events: [...s.events],
    links: [...s.links],
  };
}

class FileProcessor implements SpanProcessor {
  onStart(span: Span, startRecord: boolean): void {
    if (startRecord) appendFileSync(spans, JSON.stringify(plain(startRecordOf(span))) + '\n');
  }
  onEnd(span: Span): void {
    appendFileSync(spans, JSON.stringify(plain(span)) + '\n');
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

const tracing = createTracing({ service: 'sync-worker', resource: { 'service.instance.id': name }, processors: [new FileProcessor()], startRecords: true });
const pool = pgPool(8);
const redis = await redisClient();
const locks = process.env['LT_SYNC_LOCKS'] === 'pg' ? new PgAdvisoryLocks(pool, { fenceSequence: `${p}_fence` }) : new RedisLocks(redis, { prefix: p });
let stolen = false;
const def = pgJob(pool, p, name, {
  beforeWriteB: async (key) => {
    if (key !== pauseKey) return;
    console.log(`paused ${key}`);
    await new Promise(() => undefined); // stalls here until the test kills this process
  },
  onFetch: async (key) => {
    if (key !== stealKey || stolen || !(locks instanceof RedisLocks)) return;
    stolen = true;
    // The lease expires and another holder takes the lock while we fetch.
    await redis.set(locks.keyOf(`${p}-job:${key}`), 'another-worker:0', 'PX', 300);
  },
});
const job = createSyncJob(def, { tracing, locks, state: new RedisSyncState(redis, { prefix: p }) });
const connection = await amqp.connect(SERVICES.amqp);
const queue = await amqpQueue({ connection, queue: `${p}.sync`, durable: false });
const FAULTS: Record<string, InjectedFault> = { 'drop-write': 'drop-write', crash: 'crash', 'duplicate-delivery': 'duplicate-delivery' };
const worker = await startWorker({ job, queue, prefetch: 4, faultOf: (t) => FAULTS[t.meta?.['fault'] ?? ''] });
console.log('ready');
// The tests steer which worker gets a trigger: SIGUSR1 stops consuming (unacked messages go back), SIGUSR2 resumes.
process.on('SIGUSR1', () => void worker.setConsuming(false).then(() => console.log('stopped-consuming')));
process.on('SIGUSR2', () => void worker.setConsuming(true).then(() => console.log('consuming')));

process.once('SIGTERM', () => {
  void (async () => {
    await worker.close();
    await queue.close();
    await connection.close().catch(() => undefined);
    console.log(`counters ${JSON.stringify({ ...job.counters, ...worker.counters })}`);
    await tracing.shutdown();
    redis.disconnect();
    await pool.end();
    process.exit(0);
  })();
});
