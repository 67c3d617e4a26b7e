/**
 * `linktrace ingester`: JetStream → store. Ingesters share one durable pull consumer (JetStream
 * hands each message to one of them); a fetched batch is written in one `writeSpans`, and its
 * messages are acknowledged only once that write resolved (the spans are durable). A store failure
 * refuses the batch (redelivered after a pause, `/healthz` says why); a redelivered batch stores
 * spans already stored, which every store reads once (record-merge.ts), so nothing shows twice.
 * Spans the store refuses as malformed (it cannot ever take them) are parked like undecodable
 * messages instead of being redelivered for ever.
 */
import type { Span } from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';
import { isSdkDropStore, SdkDropTracker } from '../sdk-drops/sdk-drop-tracker.js';
import { registerSdkDropGauge } from '../sdk-drops/sdk-drop-metrics.js';
import { isStoreInputError } from '../pipeline/ingest-store.js';
import { RetentionJob } from '../pipeline/retention-job.js';
import { INGESTER_CONSUMER, SPANS_SUBJECT_PREFIX } from './jetstream-names.js';
import { MessageConsumer, type ConsumedItem, type HandledBatch } from './message-consumer.js';
import { natsHealth } from './nats-health.js';
import { NatsLink } from './nats-link.js';
import { createRoleApp } from './role-app.js';
import type { RoleOptions } from './role-options.js';
import { openRoleStore, storeHealth } from './role-store.js';
import { closeAll, urlOf, type RoleStart, type RunningRole } from './running-role.js';
import type { ServerMetrics } from '../metrics.js';

/** Writes a batch; on a malformed-spans refusal, message by message, so that only the bad ones are parked. */
export function storeBatch(
  store: Pick<SpanStore, 'writeSpans'>,
  metrics: ServerMetrics,
  onError: (message: string | undefined) => void,
  onStored: (spans: readonly Span[]) => void = () => {},
) {
  const write = async (items: ConsumedItem[]): Promise<void> => {
    const spans = items.length === 1 ? items[0]!.spans : items.flatMap((i) => i.spans);
    // Retention counts from arrival at the collector; a batch takes its earliest.
    let arrivedUs: number | undefined;
    for (const i of items) if (i.arrivedUs !== undefined && (arrivedUs === undefined || i.arrivedUs < arrivedUs)) arrivedUs = i.arrivedUs;
    await store.writeSpans(spans, arrivedUs === undefined ? {} : { arrivedUs });
    metrics.stored(spans.length);
    onStored(spans);
  };
  return async (items: ConsumedItem[]): Promise<HandledBatch> => {
    try {
      await write(items);
      onError(undefined);
      return {};
    } catch (error) {
      if (!isStoreInputError(error)) {
        metrics.storeFailed();
        onError(`the store failed: ${(error as Error).message}`);
        throw error;
      }
    }
    const dead = new Map<ConsumedItem, string>();
    for (const item of items) {
      try {
        await write([item]);
      } catch (error) {
        if (!isStoreInputError(error)) throw error;
        dead.set(item, `store_refused: ${(error as Error).message}`);
      }
    }
    return { dead };
  };
}

export async function startIngester(options: RoleOptions, start: RoleStart = {}): Promise<RunningRole> {
  const warn = start.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const print = start.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = start.clock ?? Date.now;
  const { serve } = options;
  const opened = start.store === undefined ? await openRoleStore(serve, clock, warn, options.role, start.signal) : { store: start.store, port: serve.port };
  const store = opened.store;
  // SDK drop reports ride on stored spans, as in serve: recorded in the store for the checkers and the UI.
  const sdkDrops = new SdkDropTracker(isSdkDropStore(store) ? store : undefined, warn, () => clock() * 1000);
  await sdkDrops.load();
  const link = new NatsLink({ role: 'ingester', nats: options.nats!, warn, ...(start.fatal !== undefined && { fatal: start.fatal }) });
  let storeError: string | undefined;
  // Health is asked for after `consumer` exists.
  const role = createRoleApp('ingester', serve, [natsHealth(link, () => ({ consumer: consumer.status() })), storeHealth(store, () => storeError)]);
  const { app } = role;
  const consumer = new MessageConsumer({
    role: 'ingester',
    link,
    durable: INGESTER_CONSUMER,
    filterSubject: `${SPANS_SUBJECT_PREFIX}.*`,
    batch: options.fetchBatch,
    metrics: role.roleMetrics,
    warn,
    handle: storeBatch(store, role.metrics, (e) => (storeError = e), (spans) => sdkDrops.observe(spans)),
  });
  registerSdkDropGauge(role.metrics.registry, sdkDrops);
  const retention = new RetentionJob({ store, retentionMs: serve.retentionMs, clock, print, warn, registry: role.metrics.registry, sdkDrops });
  const closeStore = start.store === undefined ? () => store.close() : () => undefined;
  try {
    await app.listen({ port: opened.port, host: serve.host });
  } catch (error) {
    await closeAll([() => consumer.stop(), () => link.close(), () => app.close(), closeStore]);
    throw error;
  }
  retention.start();
  let closing: Promise<void> | undefined;
  return {
    role: 'ingester',
    app,
    url: urlOf(app),
    health: role.health,
    close: () =>
      (closing ??= closeAll([
        () => {
          retention.stop();
          return consumer.stop();
        },
        () => link.close(),
        () => app.close(),
        closeStore,
      ])),
  };
}
