/**
 * `npm run bench:sync` (issue 17): a storm of duplicate sync triggers through RabbitMQ to worker
 * processes of the sync toolkit (Redis locks and state; source and target in Redis, see
 * sync-bench-job.ts). SYNC_BENCH_ENTITIES entities (default 5 000; the full size is
 * 100 000) across three tiers get SYNC_BENCH_TRIGGERS demand triggers (default 50 000; full size
 * 1 000 000), most for the active tier; halfway, 5 % of the entities change at the source and an
 * event trigger announces each new version. SYNC_BENCH_WORKERS worker processes (default 4),
 * SYNC_BENCH_PREFETCH unacked messages each (default 64).
 *
 * Figures: writes per entity version (read back from the target's own write counter; target
 * exactly 1), trigger-to-write p50/p99 (trigger made → target written), source calls against a
 * naive "fetch on every trigger", scheduled source calls saved by the tiers and the empty-sync
 * backoff over a simulated week (sync-bench-tiers.ts), and the toolkit's own overhead per job
 * in-process (sync-bench-overhead.ts). Last line JSON.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { BatchSpanProcessor, createTracing, noopExporter } from '@linktrace/sdk';
import { amqpQueue, createDispatcher } from '@linktrace/sync';
import { measureOverhead } from './sync-bench-overhead.js';
import { simulateTiers } from './sync-bench-tiers.js';
import { benchJob, TIER_SHARE, TRIGGER_SHARE } from './sync-bench-job.js';
import { envInt, percentile, printResult, printTable } from './stats.js';
import { seededRandom } from '@linktrace/analysis/testing';

const ENTITIES = envInt('SYNC_BENCH_ENTITIES', 5_000);
const TRIGGERS = envInt('SYNC_BENCH_TRIGGERS', 50_000);
const WORKERS = envInt('SYNC_BENCH_WORKERS', 4);
const PREFETCH = envInt('SYNC_BENCH_PREFETCH', 64);
const TIMEOUT_S = envInt('SYNC_BENCH_TIMEOUT_S', 240);
const TIER_ENTITIES = envInt('SYNC_BENCH_TIER_ENTITIES', 2_000);
const TIER_DAYS = envInt('SYNC_BENCH_TIER_DAYS', 7);
const OVERHEAD_JOBS = envInt('SYNC_BENCH_OVERHEAD_JOBS', 20_000);
const REDIS = process.env['SYNC_BENCH_REDIS'] ?? 'redis://127.0.0.1:6379';
const AMQP = process.env['SYNC_BENCH_AMQP'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const CHANGED_SHARE = 0.05;

interface WorkerResult {
  done: number;
  fetches: number;
  latencies: number[];
  job: { runs: number; writes: number; skips: Record<string, number>; failures: number; fetches: number };
  worker: { handled: number; retried: number; gaveUp: number; malformed: number };
}

async function main(): Promise<void> {
  const p = `ltsb_${randomBytes(4).toString('hex')}`;
  const redis = new Redis(REDIS, { maxRetriesPerRequest: 1 });
  const connection = await amqp.connect(AMQP);
  const queue = await amqpQueue({ connection, queue: `${p}.triggers`, durable: false });
  const children: ChildProcess[] = [];
  try {
    console.log(`bench:sync: ${ENTITIES} entities, ${TRIGGERS} triggers, ${WORKERS} workers × prefetch ${PREFETCH} (prefix ${p})`);
    const overhead = await measureOverhead(OVERHEAD_JOBS, 3);
    console.log(`toolkit overhead: ${overhead.writeUs.toFixed(1)} µs per written job, ${overhead.skipUs.toFixed(1)} µs per skipped duplicate`);
    const tiers = await simulateTiers(TIER_ENTITIES, TIER_DAYS);
    console.log(`tiers: ${tiers.tieredFetches} scheduled fetches in ${TIER_DAYS} simulated days vs ${tiers.naiveFetches} naive (${tiers.savedPct.toFixed(1)} % saved)`);

    // The source: every entity at version 1.
    for (let i = 0; i < ENTITIES; i += 10_000) {
      const fields: (string | number)[] = [];
      for (let j = i; j < Math.min(ENTITIES, i + 10_000); j++) fields.push(`a${j}`, 1);
      await redis.hset(`${p}:src`, ...fields);
    }
    const workerScript = fileURLToPath(new URL('./sync-bench-worker.js', import.meta.url));
    const progress = new Map<ChildProcess, number>();
    const results = new Map<ChildProcess, WorkerResult>();
    for (let w = 0; w < WORKERS; w++) {
      const child = fork(workerScript, [], { env: { ...process.env, SYNC_BENCH_PREFIX: p, SYNC_BENCH_PREFETCH: String(PREFETCH) } });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.on('message', (m: { type: string; done?: number } & WorkerResult) => {
          if (m.type === 'ready') resolve();
          else if (m.type === 'progress') progress.set(child, m.done!);
          else if (m.type === 'result') results.set(child, m);
        });
        child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)} before it was ready`)));
      });
    }

    const tracing = createTracing({ service: 'bench-sync-api', processors: [new BatchSpanProcessor(noopExporter(), { maxQueueSize: 65_536 })] });
    const dispatcher = createDispatcher({ job: benchJob(redis, p, () => undefined), queue, tracing });
    const random = seededRandom(20261207);
    const bounds = [0, ENTITIES * TIER_SHARE[0], ENTITIES * (TIER_SHARE[0] + TIER_SHARE[1]), ENTITIES];
    const pick = (): string => {
      const r = random();
      const tier = r < TRIGGER_SHARE[0] ? 0 : r < TRIGGER_SHARE[0] + TRIGGER_SHARE[1] ? 1 : 2;
      const lo = Math.floor(bounds[tier]!);
      const hi = Math.max(lo + 1, Math.floor(bounds[tier + 1]!));
      return `a${lo + Math.floor(random() * (hi - lo))}`;
    };
    const started = Date.now();
    const deadline = started + TIMEOUT_S * 1000;
    let published = 0;
    const changed: string[] = [];
    // The source version each entity had when its last trigger was made: the target must reach it.
    const owed = new Map<string, number>();
    const sourceVersion = new Map<string, number>();
    for (let i = 0; i < TRIGGERS; i++) {
      // Bounded: a machine too slow for the size asked stops publishing at the deadline and says so.
      if (i % 1000 === 0 && Date.now() > deadline) break;
      if (i === Math.floor(TRIGGERS / 2)) {
        // Halfway: some entities change at the source; an event announces each new version.
        for (let j = 0; j < ENTITIES * CHANGED_SHARE; j++) changed.push(`a${Math.floor(random() * ENTITIES)}`);
        for (const key of new Set(changed)) {
          const version = await redis.hincrby(`${p}:src`, key, 1);
          sourceVersion.set(key, version);
          owed.set(key, version);
          await dispatcher.trigger(key, { version });
          published++;
        }
      }
      const key = pick();
      owed.set(key, sourceVersion.get(key) ?? 1);
      await dispatcher.trigger(key, { reason: 'demand' });
      published++;
    }
    const publishedAt = Date.now();
    console.log(`published ${published} triggers in ${((publishedAt - started) / 1000).toFixed(1)} s`);
    const done = (): number => [...progress.values()].reduce((a, b) => a + b, 0);
    while (done() < published && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const drainedAt = Date.now();
    const finished = done() >= published && published >= TRIGGERS;
    for (const child of children) child.send({ type: 'stop' });
    await Promise.all(children.map((c) => new Promise((r) => c.once('exit', r))));
    await tracing.shutdown();

    // Read back what the target applied, and whether it ends equal to the source.
    const writes = await redis.hgetall(`${p}:writes`);
    const counts = Object.values(writes).map(Number);
    const copy = await redis.hgetall(`${p}:copy`);
    // A triggered entity whose target is below the version the source had at its last trigger: a lost sync.
    const behind = [...owed].filter(([k, v]) => Number(copy[k] ?? 0) < v).length;
    const all = [...results.values()];
    const latencies = all.flatMap((r) => r.latencies);
    const fetches = all.reduce((n, r) => n + r.fetches, 0);
    const skips: Record<string, number> = {};
    for (const r of all) for (const [k, v] of Object.entries(r.job.skips)) skips[k] = (skips[k] ?? 0) + v;
    const retried = all.reduce((n, r) => n + r.worker.retried, 0);
    const gaveUp = all.reduce((n, r) => n + r.worker.gaveUp, 0);
    const elapsedS = (drainedAt - started) / 1000;
    const result = {
      entities: ENTITIES,
      triggers: published,
      workers: WORKERS,
      finished,
      elapsed_s: Number(elapsedS.toFixed(1)),
      triggers_per_s: Math.round(published / elapsedS),
      entity_versions_written: counts.length,
      writes_per_entity_version_max: counts.length === 0 ? 0 : Math.max(...counts),
      writes_per_entity_version_avg: counts.length === 0 ? 0 : Number((counts.reduce((a, b) => a + b, 0) / counts.length).toFixed(4)),
      entities_triggered: owed.size,
      entities_behind_trigger: behind,
      trigger_to_write_p50_ms: latencies.length === 0 ? 0 : percentile(latencies, 50),
      trigger_to_write_p99_ms: latencies.length === 0 ? 0 : percentile(latencies, 99),
      source_calls: fetches,
      source_calls_naive: published,
      source_calls_saved_pct: Number((100 * (1 - fetches / published)).toFixed(2)),
      tier_scheduled_calls: tiers.tieredFetches,
      tier_scheduled_calls_naive: tiers.naiveFetches,
      tier_calls_saved_pct: Number(tiers.savedPct.toFixed(2)),
      retried,
      gave_up: gaveUp,
      overhead_us_per_job: Number(overhead.writeUs.toFixed(1)),
      overhead_us_per_skipped_duplicate: Number(overhead.skipUs.toFixed(1)),
    };
    printTable(
      ['figure', 'value'],
      [
        ['writes per entity version (max / avg)', `${result.writes_per_entity_version_max} / ${result.writes_per_entity_version_avg}`],
        ['entity versions written', counts.length],
        ['triggered entities behind their last trigger', `${behind} of ${owed.size}`],
        ['trigger-to-write p50 / p99 (ms)', `${result.trigger_to_write_p50_ms} / ${result.trigger_to_write_p99_ms}`],
        ['source calls (naive: one per trigger)', `${fetches} (${published})`],
        ['skips by reason', Object.entries(skips).map(([k, v]) => `${k} ${v}`).join(', ')],
        ['retried / gave up', `${retried} / ${gaveUp}`],
        ['throughput (triggers/s)', result.triggers_per_s],
        ['scheduled calls with tiers (naive)', `${tiers.tieredFetches} (${tiers.naiveFetches})`],
        ['toolkit overhead per job (µs)', result.overhead_us_per_job],
      ],
    );
    printResult(result);
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await queue.close();
    const ch = await connection.createChannel();
    await ch.deleteQueue(`${p}.triggers`).catch(() => undefined);
    await connection.close().catch(() => undefined);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${p}*`, 'COUNT', 5000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

await main();
