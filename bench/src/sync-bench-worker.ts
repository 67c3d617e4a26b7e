/**
 * A bench:sync worker process (forked): consumes triggers from RabbitMQ with the toolkit's worker,
 * Redis locks and state, traces every run (batched, to a no-op exporter), and reports progress and,
 * on `stop`, its figures over IPC.
 */
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { BatchSpanProcessor, createTracing, noopExporter } from '@linktrace/sdk';
import { amqpQueue, createSyncJob, RedisLocks, RedisSyncState, startWorker } from '@linktrace/sync';
import { benchJob } from './sync-bench-job.js';

const p = process.env['SYNC_BENCH_PREFIX']!;
const prefetch = Number(process.env['SYNC_BENCH_PREFETCH'] ?? 64);
const redis = new Redis(process.env['SYNC_BENCH_REDIS'] ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
const tracing = createTracing({ service: 'bench-sync-worker', processors: [new BatchSpanProcessor(noopExporter(), { maxQueueSize: 65_536 })] });
let fetches = 0;
const latencies: number[] = [];
const job = createSyncJob(
  benchJob(redis, p, () => fetches++),
  { tracing, locks: new RedisLocks(redis, { prefix: p }), state: new RedisSyncState(redis, { prefix: p }) },
);
const connection = await amqp.connect(process.env['SYNC_BENCH_AMQP'] ?? 'amqp://guest:guest@127.0.0.1:5672');
const queue = await amqpQueue({ connection, queue: `${p}.triggers`, durable: false });
const worker = await startWorker({
  job,
  queue,
  prefetch,
  onOutcome: (outcome, trigger) => {
    if (outcome.writtenAt !== undefined) latencies.push(outcome.writtenAt - trigger.at);
  },
});
const progress = setInterval(() => process.send!({ type: 'progress', done: worker.counters.handled + worker.counters.gaveUp + worker.counters.malformed }), 250);
process.send!({ type: 'ready' });
process.on('message', (m: { type: string }) => {
  if (m.type !== 'stop') return;
  void (async () => {
    clearInterval(progress);
    await worker.close();
    await queue.close();
    await connection.close().catch(() => undefined);
    await tracing.shutdown();
    const done = worker.counters.handled + worker.counters.gaveUp + worker.counters.malformed;
    process.send!({ type: 'result', done, fetches, latencies, job: job.counters, worker: worker.counters, sdk: tracing.counters }, () => {
      redis.disconnect();
      process.exit(0);
    });
  })();
});
