/**
 * The toolkit's own cost per job, in this process: the same user fetch and write called directly,
 * then through `SyncJob.run` (tracing on, spans batched to a no-op exporter, memory locks and
 * state). The difference per job is what the toolkit adds on top of the user's fetch and write
 * (CPU time of this process, garbage collection included).
 */
import { BatchSpanProcessor, createTracing, noopExporter } from '@linktrace/sdk';
import { createSyncJob, type SourceRecord } from '@linktrace/sync';
import { median } from './stats.js';

export interface Overhead {
  /** Median over rounds, µs per job: a run that fetches and writes one target. */
  writeUs: number;
  /** A duplicate skipped by the recent-sync window (no fetch). */
  skipUs: number;
  /** The user's fetch + write called directly, µs per job. */
  baselineUs: number;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

export async function measureOverhead(jobs: number, rounds: number): Promise<Overhead> {
  const tracing = createTracing({ service: 'bench-overhead', processors: [new BatchSpanProcessor(noopExporter(), { maxQueueSize: 262_144 })] });
  const copy = new Map<string, number>();
  const fetch = (key: string): Promise<SourceRecord<number>> => Promise.resolve({ version: key.length, data: 1 });
  const write = (key: string, record: SourceRecord<number>): Promise<void> => {
    copy.set(key, record.data);
    return Promise.resolve();
  };
  const job = createSyncJob({ name: 'overhead', entityType: 'account', fetch, targets: [{ name: 'memory:copy', write }], recentWindowMs: 3_600_000 }, { tracing });
  const write_: number[] = [];
  const skip: number[] = [];
  const base: number[] = [];
  for (let r = 0; r < rounds + 1; r++) {
    const keys = Array.from({ length: jobs }, (_, i) => `r${r}-${i}`);
    // CPU time, not wall time: on a shared machine the wait for a core is not the toolkit's cost.
    let t = cpuUs();
    for (const key of keys) await write(key, await fetch(key));
    const b = (cpuUs() - t) / jobs;
    copy.clear();
    t = cpuUs();
    for (const key of keys) await job.run({ key, reason: 'demand', at: 0 });
    // Flushed inside the measured time: handing spans to the exporter is part of what tracing costs.
    await tracing.forceFlush();
    const w = (cpuUs() - t) / jobs;
    t = cpuUs();
    for (const key of keys) await job.run({ key, reason: 'demand', at: 0 });
    await tracing.forceFlush();
    const s = (cpuUs() - t) / jobs;
    if (r === 0) continue; // warm-up
    base.push(b);
    write_.push(w);
    skip.push(s);
  }
  await tracing.shutdown();
  const baselineUs = median(base);
  return { writeUs: median(write_) - baselineUs, skipUs: median(skip), baselineUs };
}
