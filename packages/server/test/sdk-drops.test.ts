/**
 * The SDK's account of lost spans (resource attribute `linktrace.sdk.dropped_spans`) is read at
 * ingest, kept per service instance across a restart, shown on /metrics and in the API, and turns a
 * missing hop next to a lossy instance into "possibly dropped by the SDK of <instance>".
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { ATTR, encodeOtlpJson, type SdkDropReport, type Span } from '@linktrace/model';
import { openEmbeddedStore, type EmbeddedStore, type Finding } from '@linktrace/storage';
import { buildApp } from '../src/app.js';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { MAX_SDK_DROP_SERIES, registerSdkDropGauge } from '../src/sdk-drops/sdk-drop-metrics.js';
import { SdkDropTracker } from '../src/sdk-drops/sdk-drop-tracker.js';
import { ID, eventually, newTraceId, postSpans, shopSync, without } from './checker-traces.js';
import { tempDir } from './ingest-helpers.js';

const CHECK_DELAY_MS = 200;

function span(service: string, instance: string | undefined, extra: Partial<Span> = {}): Span {
  const s: Span = {
    traceId: newTraceId(),
    spanId: '00000000abcd0001',
    service,
    name: 'op',
    kind: 'internal',
    startUs: Date.now() * 1000 - 5000,
    durationUs: 10,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    ...extra,
  };
  if (instance !== undefined) s.instance = instance;
  return s;
}

let dir: string;
let store: EmbeddedStore;
let app: FastifyInstance;

async function start(): Promise<void> {
  store = await openEmbeddedStore({ dataDir: dir });
  app = await buildApp({
    store,
    dataDir: dir,
    checker: { checkDelayMs: CHECK_DELAY_MS, maxWaitMs: 5000 },
    extraRoutes: (scope) => registerQueryRoutes(scope, { store }),
  });
  await app.ready();
}

async function stop(): Promise<void> {
  await app?.close();
  await store?.close();
}

async function sendOtlp(spans: Span[], dropped: number): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/v1/traces',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify(encodeOtlpJson(spans, { [ATTR.droppedSpans]: dropped })),
  });
  assert.equal(res.statusCode, 200, res.body);
}

async function apiDrops(): Promise<SdkDropReport[]> {
  const res = await app.inject({ method: 'GET', url: '/api/v1/sdk-drops' });
  assert.equal(res.statusCode, 200, res.body);
  return (JSON.parse(res.body) as { sdkDrops: SdkDropReport[] }).sdkDrops;
}

async function metricsText(): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/metrics' })).body;
}

const withoutTime = (reports: SdkDropReport[]) => reports.map(({ reportedUs: _, ...rest }) => rest);

before(async () => {
  dir = await tempDir('lt-sdk-drops-');
  await start();
});

after(async () => {
  await stop();
  await rm(dir, { recursive: true, force: true });
});

describe('SDK drop reports', () => {
  it('are read from OTLP resources and Zipkin tags, the latest value per instance, shown in the API and on /metrics', async () => {
    await sendOtlp([span('shop', 'h:1')], 3);
    await sendOtlp([span('shop', 'h:1'), span('shop', 'h:1', { spanId: '00000000abcd0002' })], 12);
    await sendOtlp([span('cart', 'c:1')], 0);
    const zipkin = [{ traceId: newTraceId(), id: '00000000abcd0003', name: 'op', timestamp: Date.now() * 1000 - 5000, duration: 5,
      localEndpoint: { serviceName: 'billing', ipv4: '10.0.0.9', port: 8080 }, tags: { [ATTR.droppedSpans]: '5' } }];
    const res = await app.inject({ method: 'POST', url: '/api/v2/spans', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(zipkin) });
    assert.equal(res.statusCode, 202, res.body);
    await app.linktrace.pipeline.idle();
    await eventually(async () => ((await apiDrops()).length === 3 ? true : undefined), 3000, 'three reports stored');
    assert.deepEqual(withoutTime(await apiDrops()), [
      { service: 'billing', instance: '10.0.0.9:8080', droppedSpans: 5 },
      { service: 'cart', instance: 'c:1', droppedSpans: 0 },
      { service: 'shop', instance: 'h:1', droppedSpans: 12 },
    ]);
    const text = await metricsText();
    assert.match(text, /^linktrace_sdk_dropped_spans\{service="shop",instance="h:1"\} 12$/m);
    assert.match(text, /^linktrace_sdk_dropped_spans\{service="billing",instance="10.0.0.9:8080"\} 5$/m);
    assert.doesNotMatch(text, /^linktrace_sdk_dropped_spans\{service="cart"/m, 'instances that lost nothing get no series');
    assert.match(text, /^# TYPE linktrace_sdk_dropped_spans gauge$/m);
  });

  it('a missing hop next to an instance that reported drops is "possibly dropped by the SDK of" it; the trace view names it', async () => {
    await sendOtlp([span('shop-query', 'q:1')], 4);
    const traceId = newTraceId();
    await postSpans(app, without(shopSync(traceId), ID.queryReceive, ID.queryWrite));
    const findings = await eventually(async () => {
      const r = await app.inject({ method: 'GET', url: `/api/v1/findings?traceId=${traceId}` });
      const f = (JSON.parse(r.body) as { findings: Finding[] }).findings;
      return f.length > 0 ? f : undefined;
    }, CHECK_DELAY_MS + 5000, 'the finding');
    assert.equal(findings.length, 1);
    assert.equal(findings[0]!.rule, 'missing-downstream-receive');
    assert.match(findings[0]!.message, /and no service received it; possibly dropped by the SDK of q:1 \(shop-query, 4 spans lost\)$/);
    const view = await app.inject({ method: 'GET', url: `/api/v1/traces/${traceId}` });
    assert.deepEqual(withoutTime((JSON.parse(view.body) as { sdkDrops: SdkDropReport[] }).sdkDrops), [
      { service: 'shop-query', instance: 'q:1', droppedSpans: 4 },
    ]);
  });

  it('survive a restart (kept in the store)', async () => {
    const before = await apiDrops();
    await stop();
    await start();
    assert.deepEqual(await apiDrops(), before);
    assert.match(await metricsText(), /^linktrace_sdk_dropped_spans\{service="shop",instance="h:1"\} 12$/m);
  });

  it('the gauge has bounded cardinality: the instances that lost most, the rest summed', async () => {
    const tracker = new SdkDropTracker(undefined);
    tracker.observe(Array.from({ length: MAX_SDK_DROP_SERIES + 10 }, (_, i) => span('svc', `h:${i}`, { resource: { [ATTR.droppedSpans]: i + 1 } })));
    const registry = new Registry();
    registerSdkDropGauge(registry, tracker);
    const text = await registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('linktrace_sdk_dropped_spans{'));
    assert.equal(series.length, MAX_SDK_DROP_SERIES + 1);
    assert.ok(series.includes(`linktrace_sdk_dropped_spans{service="svc",instance="h:${MAX_SDK_DROP_SERIES + 9}"} ${MAX_SDK_DROP_SERIES + 10}`));
    assert.ok(series.includes(`linktrace_sdk_dropped_spans{service="other",instance="other"} ${(10 * 11) / 2}`));
  });
});
