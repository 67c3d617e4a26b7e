/**
 * Prepares every request body of an ingest run on worker threads (one time slice each, so the
 * parts follow each other in time and are sent in that order) and merges their query samples.
 */
import { Worker } from 'node:worker_threads';
import type { BatchPlan, BatchSet, RequestBody } from './ingest-batches.js';

function runPart(plan: BatchPlan): Promise<BatchSet> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./ingest-encode-worker.js', import.meta.url), { workerData: plan });
    worker.once('message', (set: BatchSet) => resolve(set));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`encode worker exited with ${code}`));
    });
  });
}

/**
 * Splits `plan` into `parts` consecutive slices of the same time window and builds them in
 * parallel. The seed of part p is `plan.seed + p`, so a run is repeatable for a given part count.
 */
export async function prepareBatches(plan: BatchPlan, parts: number): Promise<BatchSet> {
  const per = Math.ceil(plan.spans / parts);
  const sliceUs = (plan.traceGapUs * per) / AVERAGE_SPANS_PER_TRACE;
  const sets = await Promise.all(
    Array.from({ length: parts }, (_, p) =>
      runPart({ ...plan, seed: plan.seed + p, spans: Math.min(per, plan.spans - p * per), startUs: plan.startUs + p * sliceUs }),
    ),
  );
  const bodies: RequestBody[] = [];
  const merged: BatchSet = {
    bodies,
    spans: 0,
    traces: 0,
    bodyBytes: 0,
    samples: { traceIds: [], operations: [], entityKeys: [], userIds: [] },
  };
  const seenOps = new Set<string>();
  for (const set of sets) {
    for (const b of set.bodies) bodies.push(b);
    merged.spans += set.spans;
    merged.traces += set.traces;
    merged.bodyBytes += set.bodyBytes;
    merged.samples.traceIds.push(...set.samples.traceIds);
    merged.samples.entityKeys.push(...set.samples.entityKeys);
    merged.samples.userIds.push(...set.samples.userIds);
    for (const op of set.samples.operations) {
      const key = `${op[0]}\u0000${op[1]}`;
      if (!seenOps.has(key)) {
        seenOps.add(key);
        merged.samples.operations.push(op);
      }
    }
  }
  return merged;
}

/** Spans per generated trace, on average (measured: 15.9); only used to lay the parts out in time. */
export const AVERAGE_SPANS_PER_TRACE = 15.9;
