import { amqpHeadersGetter, type IncomingStageOptions } from '@linktrace/sdk';
import type { RetryPolicy } from '../job/job-definition.js';
import type { RunOutcome } from '../job/run-outcome.js';
import { SYNC_ATTR, type InjectedFault, type SyncJob } from '../job/sync-job.js';
import { decodeTrigger, type SyncTrigger } from '../job/trigger.js';
import type { Delivery, Settle, Subscription, WorkQueue } from '../queue/work-queue.js';

export interface WorkerOptions {
  job: SyncJob<never> | SyncJob<unknown> | SyncJob;
  queue: WorkQueue;
  /** Unsettled messages (and so runs) at once in this worker. Default 16. */
  prefetch?: number;
  /** A fault to commit for this trigger (tests and demos); see InjectedFault. */
  faultOf?: (trigger: SyncTrigger, delivery: Delivery) => InjectedFault | undefined;
  /** Called after every run (benches measure trigger-to-write here). */
  onOutcome?: (outcome: RunOutcome, trigger: SyncTrigger) => void;
}

export interface WorkerCounters {
  /** Runs that ended for good (acked). */
  handled: number;
  /** Messages whose body was not a trigger: recorded as a skip (`malformed trigger`) and acked. */
  malformed: number;
  /** Triggers handed back for another attempt. */
  retried: number;
  /** Triggers given up after `maxAttempts`: the consume span ends in error, so the checker reports them. */
  gaveUp: number;
}

export interface SyncWorker {
  readonly counters: WorkerCounters;
  readonly consuming: boolean;
  /** false cancels the subscription (unsettled messages go back to the queue); true consumes again. */
  setConsuming(on: boolean): Promise<void>;
  close(): Promise<void>;
}

/** The `messaging.message.redelivered` attribute the consume span carries. */
const REDELIVERED = 'messaging.message.redelivered';

/**
 * Consumes triggers and runs the job for each: a `consume` span (child of the trigger's enqueue,
 * from the message headers) around the job's receive → process → write/skip. A run that asks for a
 * retry is handed back with a doubling delay until the job's `retry.maxAttempts`.
 */
export async function startWorker(options: WorkerOptions): Promise<SyncWorker> {
  const job = options.job as SyncJob;
  const prefetch = options.prefetch ?? 16;
  if (!Number.isSafeInteger(prefetch) || prefetch < 1) throw new TypeError(`sync worker for job "${job.name}": prefetch must be an integer ≥ 1, got ${String(prefetch)}`);
  const retry = retryPolicy(job.definition.retry);
  const counters: WorkerCounters = { handled: 0, malformed: 0, retried: 0, gaveUp: 0 };
  const stages = job.stages;
  let subscription: Subscription | undefined;

  const handle = (delivery: Delivery): Promise<Settle> => {
    const decoded = decodeTrigger(delivery.body);
    const trigger = typeof decoded === 'string' ? undefined : decoded;
    // A malformed message still gets an entity of the job's type, so its skip names what it was for.
    const entity = { type: job.entityType, key: trigger?.key ?? '(malformed)', version: trigger?.version };
    const again = delivery.redelivered || delivery.attempt > 1;
    const consumeOptions: IncomingStageOptions<Record<string, unknown>> = {
      headers: delivery.headers,
      getter: amqpHeadersGetter,
      // A later delivery takes a position of its own under the producer (docs/model.md).
      delivery: delivery.attempt > 1 ? { count: delivery.attempt, redelivered: delivery.redelivered } : { redelivered: delivery.redelivered },
      attributes: { [SYNC_ATTR.job]: job.name, [REDELIVERED]: again, 'linktrace.sync.attempt': delivery.attempt },
    };
    return stages.consume(
      entity,
      async (span): Promise<Settle> => {
        if (trigger === undefined) {
          counters.malformed++;
          stages.skip(entity, 'malformed trigger', undefined, { attributes: { [SYNC_ATTR.detail]: String(decoded) } });
          return { how: 'ack' };
        }
        const fault = options.faultOf?.(trigger, delivery);
        const duplicate = fault === 'duplicate-delivery';
        const outcome = await job.run(trigger, { fault: duplicate ? undefined : fault, unguarded: duplicate && again });
        options.onOutcome?.(outcome, trigger);
        // A lost ack: the broker hands the message out once more.
        if (duplicate && !again && outcome.status === 'written') return { how: 'requeue' };
        if (outcome.retry) {
          if (delivery.attempt < retry.maxAttempts) {
            counters.retried++;
            const delayMs = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (delivery.attempt - 1));
            span.setAttribute('linktrace.sync.retry_in_ms', delayMs);
            return { how: 'retry', delayMs };
          }
          // Never a silent loss: the consume fails, and the checker reports it (or the failure below it).
          counters.gaveUp++;
          span.setStatus('error', `gave up after ${delivery.attempt} attempts: ${outcome.reason ?? 'retry'}`);
        } else {
          counters.handled++;
        }
        return { how: 'ack' };
      },
      consumeOptions,
    );
  };

  const worker: SyncWorker = {
    counters,
    get consuming() {
      return subscription !== undefined;
    },
    async setConsuming(on: boolean) {
      if (on && subscription === undefined) subscription = await options.queue.consume(handle, { prefetch });
      else if (!on && subscription !== undefined) {
        const s = subscription;
        subscription = undefined;
        await s.cancel();
      }
    },
    close: () => worker.setConsuming(false),
  };
  await worker.setConsuming(true);
  return worker;
}

function retryPolicy(policy: RetryPolicy | undefined): Required<RetryPolicy> {
  return { maxAttempts: policy?.maxAttempts ?? 5, baseDelayMs: policy?.baseDelayMs ?? 1000, maxDelayMs: policy?.maxDelayMs ?? 60_000 };
}
