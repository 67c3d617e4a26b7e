/**
 * RED metrics' memory (minute cells per series, the edge finder's ids and waiting spans) counts in
 * `--max-memory`: at its quarter of the budget new services and operations count as `other` (the
 * series already tracked go on), /healthz says `degraded` with the reason, /metrics shows the part and
 * the cap, and the backlog's room shrinks by what RED holds. Moved by a manual clock, never timed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import type { Span } from '@linktrace/model';
import { span as modelSpan } from '@linktrace/model/testing';
import { buildApp } from '../src/app.js';
import { MemoryBudget } from '../src/memory-budget.js';
import type { HealthStatus } from '../src/routes/health-check.js';
import { RedAggregator, CELL_BYTES, SERIES_BYTES } from '../src/red/red-aggregator.js';
import { edgeBoundsWithin, NODE_BYTES, WAITING_BYTES } from '../src/red/red-edges.js';
import { manualClock, postSpans } from './checker-traces.js';
import { tempDir } from './ingest-helpers.js';
import { MemoryStore } from './memory-store.js';

const BUDGET = 1024 * 1024;
let seq = 0x9000;

function span(service: string, name: string, startUs: number): Span {
  seq++;
  return modelSpan({ traceId: seq.toString(16).padStart(32, '0'), spanId: seq.toString(16).padStart(16, '0'), service, name, startUs });
}

void test('the RED aggregator counts what it holds: series and cells, cells given back as they age out', () => {
  let nowMs = 1_796_083_200_000;
  const agg = new RedAggregator(() => nowMs);
  const us = nowMs * 1000;
  agg.observe([span('a', 'x', us), span('a', 'y', us), span('b', 'x', us - 60_000_000)]);
  // Series: a, a/x, a/y, b, b/x; cells: one each.
  assert.equal(agg.size.series, 5);
  assert.equal(agg.size.cells, 5);
  assert.equal(agg.size.bytes, 5 * SERIES_BYTES + 5 * CELL_BYTES);
  nowMs += 25 * 3_600_000;
  agg.observe([]);
  assert.equal(agg.size.cells, 0, 'cells older than 24 h are pruned and given back');
});

void test('the budget: RED may hold a quarter, with hysteresis; its bytes count in what the backlog may take', () => {
  const budget = new MemoryBudget(1000);
  let red = 0;
  budget.measure({ red: () => red });
  red = 250;
  assert.equal(budget.redMayGrow(), true);
  assert.equal(budget.backlogFits(750), true);
  assert.equal(budget.backlogFits(751), false, 'the backlog takes what RED leaves');
  red = 251;
  assert.equal(budget.redMayGrow(), false);
  assert.match(budget.degradedReason() ?? '', /RED metrics hold .* share of --max-memory; new services, operations and edges are counted as "other"/);
  red = 200;
  assert.equal(budget.redMayGrow(), false, 'not before it is back under three sixteenths');
  red = 187;
  assert.equal(budget.redMayGrow(), true);
  assert.equal(budget.degradedReason(), undefined);
});

void test('the edge finder is sized within its part of the budget, never above its defaults', () => {
  assert.deepStrictEqual(edgeBoundsWithin(1024 * 1024 * 1024), { maxNodes: 200_000, maxWaiting: 50_000 });
  const small = edgeBoundsWithin(BUDGET / 16);
  assert.ok(small.maxNodes * NODE_BYTES + small.maxWaiting * WAITING_BYTES <= BUDGET / 16, JSON.stringify(small));
});

void test('at its share of --max-memory RED counts new services as "other": /healthz degraded with the reason, /metrics shows it', async () => {
  const dataDir = await tempDir('lt-red-memory-');
  const clock = manualClock(1_796_083_200_000);
  const app = await buildApp({ store: new MemoryStore(), dataDir, clock: clock.now, maxMemoryBytes: BUDGET });
  const health = async (): Promise<HealthStatus> => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body) as HealthStatus;
  };
  try {
    assert.equal((await health()).status, 'ok');
    const red = app.linktrace.red;
    // Spans of new services, each in its own minute, until RED's quarter is full.
    let n = 0;
    while (app.linktrace.memory.redMayGrow()) {
      assert.ok(n < 200, 'RED never reached its share');
      const startUs = clock.now() * 1000 - (n % 1000) * 60_000_000;
      await postSpans(app, Array.from({ length: 20 }, (_, i) => span(`svc-${n}-${i}`, 'op', startUs)));
      await app.linktrace.pipeline.idle();
      n++;
    }
    const status = await health();
    assert.equal(status.status, 'degraded');
    assert.match(status.reason ?? '', /RED metrics hold/);
    assert.ok(status.memory!.redBytes > BUDGET / 4, `RED holds ${status.memory!.redBytes} bytes`);
    assert.equal(status.memory!.usedBytes, status.memory!.backlogBytes + status.memory!.checkerBytes + status.memory!.redBytes);
    assert.equal(status.memory!.redCapped, true);
    const services = red.aggregator.services.size;
    const otherCount = (): number => [...(red.aggregator.series({ service: 'other' })?.cells.values() ?? [])].reduce((sum, c) => sum + c.count, 0);
    const before = otherCount();
    await postSpans(app, [span('late-service', 'late-op', clock.now() * 1000)]);
    await app.linktrace.pipeline.idle();
    assert.equal(red.aggregator.services.has('late-service'), false);
    assert.equal(otherCount(), before + 1, 'its span is counted, under "other"');
    assert.ok(red.aggregator.services.size <= services + 1);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(metrics, /linktrace_red_capped 1/);
    assert.match(metrics, /linktrace_memory_used_bytes\{part="red"\} [1-9]/);
  } finally {
    await app.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
