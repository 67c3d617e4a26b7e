import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { CollectingSpanProcessor } from '@linktrace/sdk';
import { parseServeFlags, startServer, type RunningServer } from '@linktrace/server';
import type { Fault } from '../src/faults.js';
import { startShopSync, type ShopSync } from '../src/start-shop-sync.js';
import { traceIdOf, unfinished, waitFor } from './trace-helpers.js';
import { seededRandom } from '@linktrace/analysis/testing';

// The quiet time is real time (the checker's rule), so the margins below are what keeps this test
// true on a loaded machine: at load 18, with a 2 s delay and a 1.2 s hold, the held hop's end arrived
// after the trace had been checked (unfinished-span instead of slow-chain).
const CHECK_DELAY_MS = 5000;
// Far above a healthy chain even on a loaded machine (seen up to ~250 ms idle), far below the slow fault.
const SLOW_CHAIN_MS = 1000;
// Well below the check delay: a hop held longer than the quiet time is (rightly) an unfinished span,
// so the gap leaves room for a late export on a loaded machine.
const SLOW_MS = 1600;
// Detection time is measured and printed, never asserted: on a loaded machine (load 10-16) a fault
// was found 2,099 ms after a 2,000 ms budget. This bound only tells a hang (a fault never found) apart.
const HANG_MS = 60_000;
const SEED = 20261121;
// Each sync-worker compares its writes with the source this long after them.
const RECONCILE_MS = 300;
const EXPORT_DELAY_MS = 200;
const CHANGES = 18;

type Kind = 'healthy' | Exclude<Fault, 'stop-consumer'>;
// stop-consumer runs last, alone. corrupt-cache shows only through delayed reconciliation.
const KINDS: readonly Kind[] = ['healthy', 'healthy', 'drop-write', 'deliver-twice', 'crash-mid-process', 'slow-downstream', 'lose-notification', 'corrupt-cache'];

/** What the server must report for each kind: rule, service and target of the one broken hop. */
const EXPECTED: Record<Kind | 'stop-consumer', { rule: string; service: string; target?: string } | undefined> = {
  healthy: undefined,
  'drop-write': { rule: 'missing-write', service: 'sync-worker' },
  // Every target is written twice; which of those duplicate writes is reported first does not matter.
  'deliver-twice': { rule: 'duplicate-write', service: 'sync-worker' },
  'crash-mid-process': { rule: 'unfinished-span', service: 'sync-worker' },
  'slow-downstream': { rule: 'slow-chain', service: 'sync-worker', target: 'http:shop-query' },
  'lose-notification': { rule: 'missing-downstream-receive', service: 'sync-worker', target: 'http:shop-query' },
  'stop-consumer': { rule: 'not-consumed', service: 'merchant-api', target: 'mq:shop-changed' },
  // The chain itself looks healthy; the sync-worker's reconciler finds Redis differing from PostgreSQL.
  'corrupt-cache': { rule: 'data-mismatch', service: 'sync-worker', target: 'redis:shop_cache' },
};

interface ServerFinding {
  traceId: string;
  rule: string;
  service: string;
  spanId: string;
  message: string;
  entity?: { type: string; key: string; version?: string };
  target?: string;
}

interface Change {
  kind: Kind | 'stop-consumer';
  id: string;
  traceId: string;
  /** When the last span of the change had been sent to the server. */
  sentAt: number;
}

let dir: string;
let server: RunningServer;
let demo: ShopSync;
const collector = new CollectingSpanProcessor();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lt-shop-sync-'));
  const options = parseServeFlags({ port: '0', host: '127.0.0.1', data: dir, checkDelay: `${CHECK_DELAY_MS}ms`, maxWait: '20s', slowChain: `${SLOW_CHAIN_MS}ms` });
  server = await startServer(options, { print: () => undefined, warn: () => undefined });
  demo = await startShopSync({
    backends: 'real',
    endpoint: `${server.url}/v1/traces`,
    processors: [collector],
    slowMs: SLOW_MS,
    reconcileDelayMs: RECONCILE_MS,
    exportDelayMs: EXPORT_DELAY_MS,
  });
});

after(async () => {
  await demo?.close();
  await server?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

async function findingsOf(traceId: string): Promise<ServerFinding[]> {
  const res = await fetch(`${server.url}/api/v1/findings?traceId=${traceId}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { findings: ServerFinding[] }).findings;
}

/** Makes one change and waits until each of its spans has ended (or, for a crash, started) and been sent. */
async function makeChange(kind: Change['kind'], id: string): Promise<Change> {
  const reply = await demo.changeShop(id, false, kind === 'healthy' || kind === 'stop-consumer' ? undefined : kind);
  assert.equal(reply.status, 200, reply.body);
  const traceId = await waitFor(`trace of ${id}`, () => traceIdOf(collector, id, 1));
  if (kind === 'crash-mid-process') await waitFor('the crashed hop', () => (unfinished(collector, traceId).length === 3 ? true : undefined));
  else if (kind === 'stop-consumer') await delay(50);
  else {
    const last = kind === 'drop-write' ? 'receive shop' : 'consume shop';
    const want = kind === 'deliver-twice' ? 2 : 1;
    await waitFor(`${kind} ${id} done`, () =>
      collector.spans.filter((s) => s.traceId === traceId && s.service === 'sync-worker' && s.name === last).length === want && unfinished(collector, traceId).length === 0 ? true : undefined,
    );
  }
  await demo.flush();
  return { kind, id, traceId, sentAt: Date.now() };
}

it(`finds every injected fault with the right rule, service and entity, and nothing on healthy traces (seed ${SEED})`, async () => {
  const random = seededRandom(SEED);
  const changes: Change[] = [];
  const watchers: Promise<void>[] = [];
  const failures: unknown[] = [];
  const latencies: number[] = [];
  const slowest = new Map<string, number>();
  // Each change is watched from the moment its spans are sent, while the next ones are being made.
  const watch = (change: Change): void => {
    const expected = EXPECTED[change.kind];
    if (expected === undefined) return;
    const watcher = async (): Promise<void> => {
      const found = await waitFor(
        `${expected.rule} for ${change.kind} ${change.id}`,
        async () => {
          const f = await findingsOf(change.traceId);
          return f.length > 0 ? f : undefined;
        },
        HANG_MS,
      );
      const latency = Date.now() - change.sentAt;
      latencies.push(latency);
      slowest.set(change.kind, Math.max(latency, slowest.get(change.kind) ?? 0));
      const match = found.find((f) => f.rule === expected.rule);
      assert.ok(match, `${change.kind}: expected ${expected.rule}, got ${found.map((f) => `${f.rule} ${f.service}`).join(', ')}`);
      assert.equal(match.service, expected.service, change.kind);
      assert.deepEqual(match.entity, { type: 'shop', key: change.id, version: '1' }, change.kind);
      if (expected.target !== undefined) assert.equal(match.target, expected.target, change.kind);
    };
    // Failures are kept and rethrown at the end, so none is an unhandled rejection meanwhile.
    watchers.push(watcher().catch((error: unknown) => void failures.push(error)));
  };
  const run = Date.now().toString(36);
  for (let i = 0; i < CHANGES; i++) {
    const kind = KINDS[Math.floor(random() * KINDS.length)]!;
    const change = await makeChange(kind, `acc${run}-${i}`);
    changes.push(change);
    watch(change);
    // One fault in flight at a time: the latency measured is the checker's, not a queue of our own making.
    await Promise.all(watchers);
  }
  for (const w of demo.workers) await w.setConsuming(false);
  const stopped = await makeChange('stop-consumer', `acc${run}-stop`);
  changes.push(stopped);
  watch(stopped);
  const kinds = new Set(changes.map((c) => c.kind));
  for (const k of [...KINDS, 'stop-consumer'] as const) assert.ok(kinds.has(k), `the seeded mix covers ${k}`);
  await Promise.all(watchers);
  if (failures.length > 0) throw failures[0];
  // Healthy traces: once the reconcilers' late spans are sent and the checker holds nothing open or
  // waiting, every trace has been checked, and healthy ones have nothing (a condition, not a delay).
  await delay(RECONCILE_MS + EXPORT_DELAY_MS);
  await demo.flush();
  const checker = server.app.linktrace.checker!;
  await waitFor('the checker to check every open trace', () => {
    const s = checker.status();
    return s.openTraces === 0 && s.pendingRechecks === 0 ? true : undefined;
  }, HANG_MS);
  for (const change of changes) {
    const found = await findingsOf(change.traceId);
    const expected = EXPECTED[change.kind];
    if (expected === undefined) assert.deepEqual(found, [], `healthy ${change.id}`);
    else {
      // A redelivery comes later than the first delivery, so that trace may also be slow; nothing else.
      const extra = found.filter((f) => f.rule !== expected.rule && !(change.kind === 'deliver-twice' && f.rule === 'slow-chain'));
      assert.deepEqual(extra, [], `${change.kind} ${change.id}: no other finding`);
    }
  }
  console.log(`# accuracy: ${changes.length} changes, ${latencies.length} faults found, detection max ${Math.max(...latencies)} ms (check delay ${CHECK_DELAY_MS} ms; measured, not asserted); slowest by kind: ${[...slowest].map(([k, v]) => `${k} ${v}`).join(', ')}`);
});
