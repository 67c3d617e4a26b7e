/**
 * `linktrace checker --partition i/N`: the chain checker (checker/) on the partitions this checker
 * owns: p mod N = i, one durable consumer per partition (`linktrace-checker-<p>`), so each trace
 * is checked by exactly one checker, which sees all of its spans. Assignment is by flag, not by a
 * lease: it is explicit, needs nothing beyond JetStream, and a restarted checker resumes its
 * partitions where their consumers stand (a stopped one's partitions wait for it; nothing is lost,
 * their messages stay in the stream). Findings go to the shared store, replaced per trace as in
 * serve, so a re-check (after a redelivery or a restart) never doubles them.
 *
 * A message is acknowledged only once every trace it carried has been checked and its findings
 * stored (`CheckerAcks`); until then it is kept in progress. A checker that stops before checking
 * gets the messages again at its next start (redelivered), besides re-opening the traces its
 * checkpoint names from the store: spans not stored yet when it restarted still reach the check.
 */
import type { SpanStore } from '@linktrace/storage';
import { resolveChecker } from '../checker/checker-options.js';
import { createChecker } from '../checker/create-checker.js';
import { alertSinks } from '../cli/serve.js';
import { CheckerAcks } from './checker-acks.js';
import { checkerConsumer, spansSubject } from './jetstream-names.js';
import { ACK_WAIT_MS } from './jetstream-setup.js';
import { MessageConsumer } from './message-consumer.js';
import { natsHealth } from './nats-health.js';
import { NatsLink } from './nats-link.js';
import { ownedTracesStore } from './owned-traces-store.js';
import { ownedPartitions, partitionOf } from './partitions.js';
import { createRoleApp } from './role-app.js';
import type { RoleOptions } from './role-options.js';
import { openRoleStore, storeHealth } from './role-store.js';
import { closeAll, urlOf, type RoleStart, type RunningRole } from './running-role.js';

export interface RunningChecker extends RunningRole {
  /** The partitions owned, once NATS told the partition count. */
  partitions(): number[] | undefined;
  /** Runs a round of checks now (tests drive it with a manual clock). */
  checkNow(): Promise<void>;
}

export async function startChecker(options: RoleOptions, start: RoleStart = {}): Promise<RunningChecker> {
  const warn = start.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const clock = start.clock ?? Date.now;
  const { serve } = options;
  const share = options.share!;
  const opened = start.store === undefined ? await openRoleStore(serve, clock, warn, options.role, start.signal) : { store: start.store, port: serve.port };
  const store: SpanStore = opened.store;
  const link = new NatsLink({ role: 'checker', nats: options.nats!, warn, ...(start.fatal !== undefined && { fatal: start.fatal }) });
  let owned: number[] | undefined;
  let partitionCount = 0;
  const consumers: MessageConsumer[] = [];
  const role = createRoleApp('checker', serve, [
    natsHealth(link, () => ({ share: `${share.index}/${share.of}`, partitions: owned, consumers: consumers.map((c) => c.status()) })),
    storeHealth(store),
    { name: 'checker', check: () => Promise.resolve({ detail: { ...checker.status(), messages: acks.status() } }) },
  ]);
  const { app } = role;
  const resolvedDelay = resolveChecker(serve.checker);
  const acks = new CheckerAcks({
    workingEveryMs: ACK_WAIT_MS / 3,
    // Every trace is checked by its maximum wait after its first span; twice that, plus a delay, is a check that will not come.
    maxHoldMs: 2 * resolvedDelay.maxWaitMs + resolvedDelay.checkDelayMs,
    warn,
    clock,
  });
  const { checker } = createChecker({
    onChecked: (traceIds, upTo) => acks.checked(traceIds, upTo),
    store: ownedTracesStore(store, (traceId) => owned !== undefined && owned.includes(partitionOf(traceId, partitionCount))),
    options: serve.checker,
    alerts: { sinks: alertSinks(serve.alerts, warn) },
    dataDir: serve.dataDir,
    registry: role.metrics.registry,
    warn,
    clock,
  });
  await checker.flows.load(warn);
  let stopped = false;
  // The consumers start once NATS says how many partitions there are.
  const started = link.whenLinked().then((linked) => {
    if (stopped) return;
    partitionCount = linked.layout.partitions;
    owned = ownedPartitions(share, partitionCount);
    if (owned.length === 0) warn(`linktrace checker: --partition ${share.index}/${share.of} owns no partition of ${partitionCount}; this checker is spare`);
    void checker.start();
    for (const p of owned) {
      consumers.push(
        new MessageConsumer({
          role: 'checker',
          link,
          durable: checkerConsumer(p),
          filterSubject: spansSubject(p),
          batch: options.fetchBatch,
          metrics: role.roleMetrics,
          warn,
          handle: (items) => {
            for (const item of items) acks.hold(item.msg, new Set(item.spans.map((s) => s.traceId)), checker.spansStored(item.spans));
            return Promise.resolve({ held: new Set(items) });
          },
        }),
      );
    }
  });
  const closeStore = start.store === undefined ? () => store.close() : () => undefined;
  const stop = (): Promise<void> =>
    closeAll([
      () => {
        stopped = true;
        return Promise.all(consumers.map((c) => c.stop()));
      },
      () => checker.stop(),
      async () => {
        acks.release();
        await link.current?.nc.flush();
      },
      () => link.close(),
      () => app.close(),
      closeStore,
    ]);
  try {
    await app.listen({ port: opened.port, host: serve.host });
  } catch (error) {
    await stop();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    role: 'checker',
    app,
    url: urlOf(app),
    health: role.health,
    partitions: () => owned,
    checkNow: async () => {
      if (link.current !== undefined) await started;
      await checker.checkNow();
    },
    close: () => (closing ??= stop()),
  };
}
