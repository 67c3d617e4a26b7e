import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, type NatsConnection } from 'nats';
import { ATTR } from '@linktrace/model';
import { createDispatcher, createSyncJob, MemorySyncState, natsQueue, startWorker, type WorkQueue } from '../src/index.js';
import { collectingTracing, findings, rules, VersionedTarget } from './helpers.js';

// NATS with JetStream on 127.0.0.1:4222; a server that is down fails the test.
let nc: NatsConnection;
const stream = `LT_SYNC_${randomBytes(4).toString('hex')}`;
const subject = `${stream.toLowerCase()}.triggers`;
let queue: WorkQueue;

before(async () => {
  nc = await connect({ servers: process.env['LT_NATS_URL'] ?? '127.0.0.1:4222' });
  queue = await natsQueue({ connection: nc, stream, subject, target: 'mq:account-sync' });
});
after(async () => {
  await queue?.close();
  const jsm = await nc?.jetstreamManager();
  await jsm?.streams.delete(stream).catch(() => undefined);
  await nc?.close();
});

async function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

it('workers on a JetStream work queue: duplicates give one write per version; a failure is retried by a delayed nak', async () => {
  const { tracing, collector } = collectingTracing();
  const target = new VersionedTarget<number>('postgres:copy');
  let failOnce = true;
  const write = target.write;
  target.write = (key, record, ctx) => {
    if (key === 'flaky' && failOnce) {
      failOnce = false;
      throw new Error('connection reset');
    }
    return write(key, record, ctx);
  };
  const state = new MemorySyncState();
  const job = createSyncJob<number>(
    { name: 'nats', entityType: 'account', fetch: () => ({ version: 1, data: 1 }), targets: [target], recentWindowMs: 60_000, retry: { maxAttempts: 3, baseDelayMs: 50 } },
    { tracing, state },
  );
  const workers = await Promise.all([1, 2].map(() => startWorker({ job, queue, prefetch: 4 })));
  const dispatcher = createDispatcher({ job: job.definition, queue, tracing });
  for (let r = 0; r < 4; r++) for (const key of ['a', 'b', 'c', 'flaky']) await dispatcher.trigger(key, { reason: 'demand' });
  await until('16 triggers handled', () => workers.reduce((n, w) => n + w.counters.handled, 0) === 16);
  for (const w of workers) await w.close();
  assert.deepEqual([...target.log].sort(), ['a@1', 'b@1', 'c@1', 'flaky@1']);
  assert.equal(workers.reduce((n, w) => n + w.counters.retried, 0), 1);
  const flaky = collector.spans.filter((s) => s.attributes[ATTR.entityKey] === 'flaky' && s.attributes[ATTR.stage] === 'consume' && s.attributes['linktrace.sync.attempt'] === 2);
  assert.equal(flaky.length, 1, 'the retry is delivery 2');
  const enqueue = collector.spans.find((s) => s.traceId === flaky[0]!.traceId && s.attributes[ATTR.stage] === 'enqueue')!;
  assert.equal(enqueue.attributes[ATTR.target], 'mq:account-sync');
  // The failed write is the one finding: every trigger's trace is otherwise complete.
  assert.deepEqual(rules(findings(collector)), ['stage-error sync-worker postgres:copy']);
});
