/**
 * Issue 13 item 4: tail sampling in the server. The real app (embedded store, chain checker) with a
 * manual clock: each keep policy, the rate budget, flow-keeping across a queue link and across an
 * entity key (a later kept trace rescues an earlier one), dropped traces gone from the query API but
 * still counted in RED metrics, the bound on pending decisions, /metrics and /healthz, bad flags.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Span, SpanLink } from '@linktrace/model';
import { openEmbeddedStore } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { ConfigError } from '../src/config.js';
import { parseServeFlags } from '../src/cli/serve.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import type { SamplingOptions } from '../src/sampling/keep-options.js';
import type { SamplingStatus } from '../src/sampling/tail-sampler.js';
import { advanceAndCheck, manualClock, newTraceId, postSpans, type ManualClock } from './checker-traces.js';
import { tempDir } from './query-test-support.js';

const CHECK_DELAY_MS = 200;
const WINDOW_MS = 1000;
/** 2026-01-01T12:00:00Z. */
const START_MS = Date.UTC(2026, 0, 1, 12);

interface Ctx {
  app: FastifyInstance;
  clock: ManualClock;
  /** Moves the clock and runs a check round (which also drops what is due). */
  advance(ms: number): Promise<void>;
  send(spans: Span[]): Promise<void>;
  stored(traceId: string): Promise<boolean>;
  status(): SamplingStatus;
  metric(name: string, labels?: string): Promise<number>;
}

async function withSampling(sampling: Partial<SamplingOptions>, fn: (ctx: Ctx) => Promise<void>): Promise<void> {
  const dir = tempDir('lt-tail-');
  const clock = manualClock(START_MS);
  const store = await openEmbeddedStore({ dataDir: dir, clock: clock.now });
  const options: SamplingOptions = { policies: ['error', 'finding', 'slow'], ratePerSecond: 0, flowWindowMs: WINDOW_MS, maxPending: 1000, ...sampling };
  const app = await buildApp({
    store,
    dataDir: dir,
    clock: clock.now,
    checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000 },
    sampling: options,
    extraRoutes: (scope) => registerQueryRoutes(scope, { store }),
  });
  try {
    await app.ready();
    await fn({
      app,
      clock,
      advance: (ms) => advanceAndCheck(app, clock, ms),
      send: (spans) => postSpans(app, spans),
      async stored(traceId) {
        const res = await app.inject({ method: 'GET', url: `/api/v1/traces/${traceId}` });
        assert.ok(res.statusCode === 200 || res.statusCode === 404, res.body);
        return res.statusCode === 200;
      },
      status: () => app.linktrace.sampler!.status(),
      async metric(name, labels = '') {
        const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
        const line = text.split('\n').find((l) => l.startsWith(`${name}${labels === '' ? ' ' : `{${labels}} `}`));
        assert.ok(line !== undefined, `no ${name}{${labels}} on /metrics`);
        return Number(line.split(' ').pop());
      },
    });
  } finally {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

let nextSpan = 1;
const spanId = (): string => (nextSpan++).toString(16).padStart(16, '0');

interface TraceShape {
  service?: string;
  name?: string;
  error?: boolean;
  durationUs?: number;
  /** The child span handles this business record (a stage span, so the checker keeps its entity). */
  entity?: [type: string, key: string];
  kind?: Span['kind'];
  links?: SpanLink[];
  /** A `receive` with no write: the checker reports `missing-write`. */
  brokenHop?: boolean;
}

/** A root span and one child, started one second before the clock. */
function trace(clock: ManualClock, traceId: string, shape: TraceShape = {}): Span[] {
  const t0 = (clock.now() - 1000) * 1000;
  const root: Span = {
    traceId,
    spanId: spanId(),
    service: shape.service ?? 'shop',
    name: shape.name ?? 'GET /cart',
    kind: 'server',
    startUs: t0,
    durationUs: shape.durationUs ?? 2000,
    status: { code: shape.error === true ? 'error' : 'ok' },
    attributes: {},
    events: [],
    links: [],
  };
  const attributes: Span['attributes'] = {};
  if (shape.entity !== undefined) Object.assign(attributes, { 'linktrace.stage': 'process', 'linktrace.entity.type': shape.entity[0], 'linktrace.entity.key': shape.entity[1] });
  if (shape.brokenHop === true) Object.assign(attributes, { 'linktrace.stage': 'receive', 'linktrace.entity.type': 'order', 'linktrace.entity.key': traceId });
  const child: Span = {
    traceId,
    spanId: spanId(),
    parentSpanId: root.spanId,
    service: shape.service ?? 'shop',
    name: 'work',
    kind: shape.kind ?? 'internal',
    startUs: t0 + 100,
    durationUs: 500,
    status: { code: 'unset' },
    attributes,
    events: [],
    links: shape.links ?? [],
  };
  return [root, child];
}

describe('tail sampling (--keep)', () => {
  it('keeps traces with an error, a finding or a slow span; drops the rest after the window; dropped traces still count in RED', async () => {
    await withSampling({}, async (ctx) => {
      // 120 calls of GET /cart at 2 ms: the operation's p99 is known (RED, counted at ingest).
      const warmup = newTraceId();
      const calls = trace(ctx.clock, warmup);
      for (let i = 0; i < 119; i++) calls.push({ ...calls[0]!, spanId: spanId() });
      await ctx.send(calls);
      const ids = { error: newTraceId(), finding: newTraceId(), slow: newTraceId(), plain: newTraceId() };
      await ctx.send(trace(ctx.clock, ids.error, { error: true }));
      await ctx.send(trace(ctx.clock, ids.finding, { brokenHop: true }));
      await ctx.send(trace(ctx.clock, ids.slow, { durationUs: 50_000 }));
      await ctx.send(trace(ctx.clock, ids.plain, { service: 'plain', name: 'GET /plain' }));
      await ctx.advance(CHECK_DELAY_MS + 10);
      const s = ctx.status();
      assert.deepStrictEqual([s.kept.error, s.kept.finding, s.kept.slow, s.pendingTraces], [1, 1, 1, 2], JSON.stringify(s));
      // Not dropped before the flow window is over: a later trace of its flow could still keep it.
      assert.equal(await ctx.stored(ids.plain), true);
      await ctx.advance(WINDOW_MS);
      assert.equal(await ctx.stored(ids.plain), false, 'the plain trace was dropped');
      assert.equal(await ctx.stored(warmup), false, 'the warm-up trace (no span above the p99) was dropped');
      for (const id of [ids.error, ids.finding, ids.slow]) assert.equal(await ctx.stored(id), true, `${id} was kept`);
      const after = ctx.status();
      assert.deepStrictEqual([after.dropped, after.pendingTraces, after.deletedSpans], [2, 0, 120 + 1 + 2]);
      assert.equal(await ctx.metric('linktrace_tail_traces_total', 'decision="kept",reason="slow"'), 1);
      assert.equal(await ctx.metric('linktrace_tail_traces_total', 'decision="dropped",reason="rate"'), 2);
      assert.equal(await ctx.metric('linktrace_tail_traces_total', 'decision="kept",reason="flow"'), 0);
      assert.equal(await ctx.metric('linktrace_tail_deleted_spans_total'), 123);
      // RED metrics were counted at ingest: the dropped trace is still in them.
      const red = await ctx.app.inject({ method: 'GET', url: `/api/v1/metrics/red?service=plain&operation=${encodeURIComponent('GET /plain')}&step=1h&start=${(START_MS - 3_600_000) * 1000}&end=${START_MS * 1000}` });
      assert.equal(red.statusCode, 200, red.body);
      const points = (JSON.parse(red.body) as { points: { rate: number }[] }).points;
      assert.equal(Math.round(points.reduce((n, p) => n + p.rate * 3600, 0)), 1, red.body);
      const health = JSON.parse((await ctx.app.inject({ method: 'GET', url: '/healthz' })).body) as { sampling: SamplingStatus };
      assert.deepStrictEqual(health.sampling.policies, ['error', 'finding', 'slow']);
      assert.match(health.sampling.policy, /^error,finding,slow \+ 0\/s/);
    });
  });

  it('keeps a budget of the other traces (--keep-rate), refilled by the clock', async () => {
    await withSampling({ policies: [], ratePerSecond: 2 }, async (ctx) => {
      const first = Array.from({ length: 5 }, () => newTraceId());
      for (const id of first) await ctx.send(trace(ctx.clock, id));
      await ctx.advance(CHECK_DELAY_MS + 10);
      assert.deepStrictEqual([ctx.status().kept.rate, ctx.status().pendingTraces], [2, 3]);
      await ctx.advance(WINDOW_MS);
      assert.deepStrictEqual((await Promise.all(first.map((id) => ctx.stored(id)))).filter(Boolean).length, 2);
      // 1.2 s later the bucket holds 2 again (at most one second's worth).
      const second = Array.from({ length: 3 }, () => newTraceId());
      for (const id of second) await ctx.send(trace(ctx.clock, id));
      await ctx.advance(CHECK_DELAY_MS + 10);
      assert.deepStrictEqual([ctx.status().kept.rate, ctx.status().dropped, ctx.status().pendingTraces], [4, 3, 1]);
    });
  });

  it('flow-keeping across a queue link: a consumer trace kept later rescues its producer trace, and a producer kept first keeps its consumer', async () => {
    await withSampling({ policies: ['error'] }, async (ctx) => {
      const producer = newTraceId();
      const produced = trace(ctx.clock, producer, { kind: 'producer' });
      await ctx.send(produced);
      await ctx.advance(CHECK_DELAY_MS + 10);
      assert.equal(ctx.status().pendingTraces, 1);
      // Its consumer, in a trace of its own linked to the producer span, fails half a window later.
      const consumer = newTraceId();
      await ctx.send(trace(ctx.clock, consumer, { kind: 'consumer', error: true, links: [{ traceId: producer, spanId: produced[1]!.spanId }] }));
      await ctx.advance(WINDOW_MS / 2);
      await ctx.advance(WINDOW_MS * 2);
      assert.equal(await ctx.stored(producer), true, 'the producer trace was kept with its failed consumer');
      assert.deepStrictEqual([ctx.status().kept.error, ctx.status().kept.flow, ctx.status().dropped], [1, 1, 0]);

      const failedProducer = newTraceId();
      const failed = trace(ctx.clock, failedProducer, { kind: 'producer', error: true });
      await ctx.send(failed);
      await ctx.advance(CHECK_DELAY_MS + 10);
      const laterConsumer = newTraceId();
      await ctx.send(trace(ctx.clock, laterConsumer, { kind: 'consumer', links: [{ traceId: failedProducer, spanId: failed[1]!.spanId }] }));
      const unrelated = newTraceId();
      await ctx.send(trace(ctx.clock, unrelated, { kind: 'consumer' }));
      await ctx.advance(CHECK_DELAY_MS + 10);
      await ctx.advance(WINDOW_MS * 2);
      assert.equal(await ctx.stored(laterConsumer), true, 'the consumer of a kept producer was kept');
      assert.equal(await ctx.stored(unrelated), false, 'an unrelated trace was dropped');
      assert.deepStrictEqual([ctx.status().kept.flow, ctx.status().dropped], [2, 1]);
    });
  });

  it('flow-keeping across an entity key: traces handling the same record are kept together, another record is not', async () => {
    await withSampling({ policies: ['error'] }, async (ctx) => {
      const [a, b, c, other] = [newTraceId(), newTraceId(), newTraceId(), newTraceId()];
      await ctx.send(trace(ctx.clock, a, { entity: ['order', '7'] }));
      await ctx.send(trace(ctx.clock, other, { entity: ['order', '8'] }));
      await ctx.advance(CHECK_DELAY_MS + 10);
      await ctx.send(trace(ctx.clock, b, { entity: ['order', '7'] }));
      await ctx.advance(CHECK_DELAY_MS + 10);
      assert.equal(ctx.status().pendingTraces, 3);
      await ctx.send(trace(ctx.clock, c, { entity: ['order', '7'], error: true }));
      await ctx.advance(CHECK_DELAY_MS + 10);
      assert.deepStrictEqual([ctx.status().kept.error, ctx.status().kept.flow, ctx.status().pendingTraces], [1, 2, 1]);
      await ctx.advance(WINDOW_MS * 2);
      for (const id of [a, b, c]) assert.equal(await ctx.stored(id), true);
      assert.equal(await ctx.stored(other), false, 'order 8 is another flow');
      // Same key of another entity type: another record.
      const invoice = newTraceId();
      await ctx.send(trace(ctx.clock, invoice, { entity: ['invoice', '7'] }));
      await ctx.advance(CHECK_DELAY_MS + 10);
      await ctx.advance(WINDOW_MS * 2);
      assert.equal(await ctx.stored(invoice), false);
    });
  });

  it('a flow kept after the window dropped one of its traces counts it as kept too late', async () => {
    await withSampling({ policies: ['error'] }, async (ctx) => {
      const early = newTraceId();
      await ctx.send(trace(ctx.clock, early, { entity: ['order', '9'] }));
      await ctx.advance(CHECK_DELAY_MS + 10);
      await ctx.advance(WINDOW_MS);
      assert.equal(await ctx.stored(early), false);
      await ctx.send(trace(ctx.clock, newTraceId(), { entity: ['order', '9'], error: true }));
      await ctx.advance(CHECK_DELAY_MS + 10);
      assert.equal(ctx.status().keptTooLate, 1);
      assert.equal(await ctx.metric('linktrace_tail_kept_too_late_total'), 1);
    });
  });

  it('a pending trace whose late spans the checker holds waits for their check: a late error keeps the whole trace', async () => {
    await withSampling({ policies: ['error'] }, async (ctx) => {
      const id = newTraceId();
      const spans = trace(ctx.clock, id);
      await ctx.send(spans);
      await ctx.advance(CHECK_DELAY_MS + 10);
      assert.equal(ctx.status().pendingTraces, 1);
      await ctx.advance(WINDOW_MS - 110);
      // Just before the window ends, a late span of it fails; it is not quiet yet when the window ends.
      await ctx.send([{ ...spans[1]!, spanId: spanId(), startUs: (ctx.clock.now() - 5) * 1000, status: { code: 'error' } }]);
      await ctx.advance(110);
      assert.equal(ctx.status().dropped, 0, 'not dropped while its late spans wait for their check');
      await ctx.advance(CHECK_DELAY_MS);
      assert.deepStrictEqual([ctx.status().kept.error, ctx.status().dropped], [1, 0]);
      const res = await ctx.app.inject({ method: 'GET', url: `/api/v1/traces/${id}` });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, new RegExp(spans[0]!.spanId), 'the spans checked before are there too');
    });
  });

  it('bounds the pending decisions: past --keep-max-pending the oldest is dropped early, counted', async () => {
    await withSampling({ policies: ['error'], maxPending: 2 }, async (ctx) => {
      const ids = Array.from({ length: 5 }, () => newTraceId());
      for (const id of ids) await ctx.send(trace(ctx.clock, id));
      await ctx.advance(CHECK_DELAY_MS + 10);
      const s = ctx.status();
      assert.deepStrictEqual([s.pendingTraces, s.decidedEarly, s.dropped], [2, 3, 3]);
      // Held within the memory budget, in the checker's share.
      assert.ok(s.heldBytes > 0);
      assert.ok(ctx.app.linktrace.memory.status().checkerBytes >= s.heldBytes);
      assert.equal(await ctx.metric('linktrace_tail_decided_early_total'), 3);
      assert.equal(await ctx.metric('linktrace_tail_pending_traces'), 2);
      assert.equal((await Promise.all(ids.map((id) => ctx.stored(id)))).filter(Boolean).length, 2);
    });
  });

  it('--keep all keeps every trace and counts it', async () => {
    await withSampling({ policies: ['all'] }, async (ctx) => {
      const id = newTraceId();
      await ctx.send(trace(ctx.clock, id));
      await ctx.advance(CHECK_DELAY_MS + 10);
      await ctx.advance(WINDOW_MS * 2);
      assert.equal(await ctx.stored(id), true);
      assert.deepStrictEqual([ctx.status().kept.all, ctx.status().dropped], [1, 0]);
    });
  });

  it('is off by default: no sampler, every trace kept, /healthz says so', async () => {
    const dir = tempDir('lt-tail-off-');
    const store = await openEmbeddedStore({ dataDir: dir });
    const app = await buildApp({ store, dataDir: dir, checker: { checkDelayMs: CHECK_DELAY_MS } });
    try {
      assert.equal(app.linktrace.sampler, undefined);
      const health = JSON.parse((await app.inject({ method: 'GET', url: '/healthz' })).body) as { sampling: unknown };
      assert.equal(health.sampling, 'off');
      assert.equal(parseServeFlags({}).sampling, undefined);
    } finally {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tail sampling flags', () => {
  it('parses --keep, --keep-rate, --keep-window and --keep-max-pending, with defaults', () => {
    assert.deepStrictEqual(parseServeFlags({ keep: 'error,slow', checkDelay: '10s' }).sampling, { policies: ['error', 'slow'], ratePerSecond: 0, flowWindowMs: 20_000, maxPending: 100_000 });
    assert.deepStrictEqual(parseServeFlags({ keepRate: '100/s' }).sampling?.policies, ['error', 'finding', 'slow']);
    assert.equal(parseServeFlags({ keepRate: '30/m' }).sampling?.ratePerSecond, 0.5);
    assert.deepStrictEqual(parseServeFlags({ keep: 'none', keepRate: '1/s', keepWindow: '5m', keepMaxPending: '10' }).sampling, {
      policies: [],
      ratePerSecond: 1,
      flowWindowMs: 300_000,
      maxPending: 10,
    });
    assert.deepStrictEqual(parseServeFlags({ keep: 'all' }).sampling?.policies, ['all']);
  });

  it('rejects bad values with a message naming the flag', () => {
    const cases: [Parameters<typeof parseServeFlags>[0], RegExp][] = [
      [{ keep: 'errors' }, /--keep: "errors" is not a policy/],
      [{ keep: 'all,error' }, /--keep: all keeps every trace; give it alone/],
      [{ keep: 'none' }, /--keep none: keeps only the --keep-rate budget/],
      [{ keep: 'all', keepRate: '5/s' }, /--keep-rate: --keep all keeps every trace already/],
      [{ keepRate: '100' }, /--keep-rate: "100" is not a rate/],
      [{ keepRate: '-1/s' }, /--keep-rate: "-1\/s" is not a rate/],
      [{ keepRate: '2000000/s' }, /--keep-rate: "2000000\/s" is more than 1000000\/s/],
      [{ keep: 'error', keepWindow: 'soon' }, /--keep-window: "soon" is not a duration/],
      [{ keep: 'error', keepMaxPending: '0' }, /--keep-max-pending: "0" is not a whole number/],
      [{ keepWindow: '1m' }, /--keep-window: tail sampling is off/],
    ];
    for (const [flags, message] of cases) assert.throws(() => parseServeFlags(flags), (e: unknown) => e instanceof ConfigError && message.test(e.message), JSON.stringify(flags));
  });

  it('needs the chain checker', async () => {
    const dir = tempDir('lt-tail-nochecker-');
    const store = await openEmbeddedStore({ dataDir: dir });
    try {
      await assert.rejects(
        buildApp({ store, dataDir: dir, sampling: { policies: ['error'], ratePerSecond: 0, flowWindowMs: 1000, maxPending: 10 } }),
        /tail sampling \(--keep, --keep-rate\) needs the chain checker/,
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
