/**
 * What the tiers and the empty-sync backoff save on scheduled syncs: `days` of simulated time
 * (an injected clock; nothing sleeps) with the scheduler ticking every 15 minutes, against a naive
 * schedule that syncs every entity every 15 minutes. A fifth of the occasional and dormant
 * entities have no data at the source (their syncs come back empty and back off).
 */
import { createTracing } from '@linktrace/sdk';
import { createDispatcher, createSyncJob, MemoryQueue, MemorySyncState, Scheduler, startWorker, type Clock } from '@linktrace/sync';
import { BENCH_TIERS, TIER_SHARE } from './sync-bench-job.js';

export interface TierSavings {
  entities: number;
  days: number;
  naiveFetches: number;
  tieredFetches: number;
  savedPct: number;
}

const TICK_MS = 15 * 60_000;

export async function simulateTiers(entities: number, days: number): Promise<TierSavings> {
  const clock: Clock & { ms: number } = { ms: Date.UTC(2026, 0, 1), now: () => clock.ms };
  const tracing = createTracing({ service: 'bench-tiers', processors: [] });
  const state = new MemorySyncState();
  const queue = new MemoryQueue('scheduled');
  let fetches = 0;
  const empty = new Set<string>();
  const def = {
    name: 'tiers',
    entityType: 'account',
    fetch: (key: string) => {
      fetches++;
      return empty.has(key) ? undefined : { version: 1, data: 1 };
    },
    targets: [{ name: 'memory:copy', write: () => undefined }],
    tiers: BENCH_TIERS,
  };
  const job = createSyncJob(def, { tracing, state, clock });
  const dispatcher = createDispatcher({ job: def, queue, tracing, clock });
  const scheduler = new Scheduler({ job: def, state, dispatcher, clock, batch: entities, leaseMs: TICK_MS });
  const worker = await startWorker({ job, queue, prefetch: 256 });
  for (let i = 0; i < entities; i++) {
    const tier = i < entities * TIER_SHARE[0] ? 'active' : i < entities * (TIER_SHARE[0] + TIER_SHARE[1]) ? 'occasional' : 'dormant';
    if (tier !== 'active' && i % 5 === 0) empty.add(`a${i}`);
    await scheduler.enroll(`a${i}`, tier);
  }
  const ticks = Math.round((days * 86_400_000) / TICK_MS);
  let scheduled = 0;
  for (let t = 0; t < ticks; t++) {
    scheduled += await scheduler.tick();
    while (worker.counters.handled + worker.counters.gaveUp < scheduled) await new Promise((r) => setImmediate(r));
    clock.ms += TICK_MS;
  }
  await worker.close();
  await queue.close();
  const naiveFetches = entities * ticks;
  return { entities, days, naiveFetches, tieredFetches: fetches, savedPct: 100 * (1 - fetches / naiveFetches) };
}
