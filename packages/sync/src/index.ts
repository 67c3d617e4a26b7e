// @linktrace/sync: traced data-sync jobs. Every run is a receive → process → write/skip chain the
// Linktrace chain checker reads; see docs/sync.md.
export { systemClock, type Clock } from './clock.js';
export { defineJob, JobDefinitionError } from './job/define-job.js';
export type { FetchContext, RetryPolicy, SourceRecord, SyncJobDefinition, SyncTarget, WriteContext, WriteResult } from './job/job-definition.js';
export { SKIP, type RunOutcome, type RunStatus, type SyncCounters } from './job/run-outcome.js';
export { createSyncJob, SyncJob, SYNC_ATTR, SYNC_SCOPE, type InjectedFault, type RunOptions, type SyncJobDeps } from './job/sync-job.js';
export { checkTrigger, decodeTrigger, encodeTrigger, TRIGGER_REASONS, type SyncTrigger, type TriggerReason } from './job/trigger.js';
export { compareVersions, isVersion, type Version } from './job/versions.js';
export { SyncTimeoutError } from './job/with-timeout.js';
export type { EntityLocks, LockLease } from './locks/entity-lock.js';
export { MemoryLocks } from './locks/memory-locks.js';
export { RedisLocks, type RedisLocksOptions } from './locks/redis-locks.js';
export { lockId, PgAdvisoryLocks, type PgAdvisoryLocksOptions } from './locks/pg-advisory-locks.js';
export type { EntityState, SyncStateStore } from './state/sync-state.js';
export { MemorySyncState } from './state/memory-state.js';
export { RedisSyncState, type RedisSyncStateOptions } from './state/redis-state.js';
export { checkTierPolicy, periodOf, tierFromActivity, tierOf, type Tier, type TierPolicy } from './tiers/tier-policy.js';
export { ATTEMPT_HEADER, attemptOf, type Delivery, type Settle, type Subscription, type WorkQueue } from './queue/work-queue.js';
export { MemoryQueue } from './queue/memory-queue.js';
export { amqpQueue, type AmqpQueueOptions } from './queue/amqp-queue.js';
export { createDispatcher, Dispatcher, type DispatcherCounters, type DispatcherOptions, type TriggerOptions } from './dispatch/dispatcher.js';
export { startWorker, type SyncWorker, type WorkerCounters, type WorkerOptions } from './dispatch/worker.js';
export { Scheduler, type SchedulerOptions } from './dispatch/scheduler.js';
export { SyncJobs } from './dispatch/sync-jobs.js';
export { natsQueue, type NatsQueueOptions } from './queue/nats-queue.js';
export { registerSyncRemedies, replayBySync } from './remedy/sync-remedies.js';
