import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { decodeOtlpJson, type Span } from '@linktrace/model';
import { registerJaegerV3QueryRoutes } from '../src/routes/query-jaeger-v3.js';
import { FIXTURES, appWith, decodeFixture, getJson, tempStore, type TempStore } from './query-test-support.js';

const JAEGER_FIXTURES = fileURLToPath(new URL('../../test/fixtures/jaeger/', import.meta.url));
const TRACES = join(FIXTURES, 'jaeger', 'traces');
const NOW_MS = 2_000_000_000_000;

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

/**
 * The trace behind Jaeger's FindTraceSummaries snapshot: two frontend spans, one failed, 1000 s to
 * 1001 s. Its id (…0001) is taken by a trace of Jaeger's search fixtures here, so it gets another.
 */
const SNAPSHOT_ID = '00000000000000000000000000000001';
const SNAPSHOT_TRACE = 'f0000000000000000000000000000001';
const snapshotSpans: Span[] = [
  {
    traceId: SNAPSHOT_TRACE,
    spanId: '0000000000000001',
    service: 'frontend',
    name: 'HTTP GET /',
    kind: 'server',
    startUs: 1_000_000_000,
    durationUs: 1_000_000,
    status: { code: 'error' },
    attributes: {},
    events: [],
    links: [],
  },
  {
    traceId: SNAPSHOT_TRACE,
    spanId: '0000000000000002',
    parentSpanId: '0000000000000001',
    service: 'frontend',
    name: 'db',
    kind: 'client',
    startUs: 1_000_000_100,
    durationUs: 10,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
  },
];

/** A trace with a lost hop (an orphan) across two services. */
const ORPHAN_TRACE = 'f0000000000000000000000000000002';
const orphanSpans: Span[] = [
  { ...snapshotSpans[0]!, traceId: ORPHAN_TRACE, service: 'gateway', status: { code: 'unset' } },
  { ...snapshotSpans[1]!, traceId: ORPHAN_TRACE, spanId: '0000000000000003', parentSpanId: '00000000000000ff', service: 'billing', status: { code: 'error' } },
];

const fixtureTraceIds = new Map<string, string[]>();
let db: TempStore;
let app: FastifyInstance;

before(async () => {
  db = await tempStore();
  for (const file of readdirSync(TRACES).filter((f) => f.endsWith('.json'))) {
    const r = decodeOtlpJson(readJson(join(TRACES, file)));
    assert.equal(r.rejected, 0);
    await db.store.writeSpans(r.spans);
    fixtureTraceIds.set(file.replace(/\.json$/, ''), [...new Set(r.spans.map((s) => s.traceId))]);
  }
  await db.store.writeSpans([...snapshotSpans, ...orphanSpans]);
  await db.store.writeSpans(decodeFixture('messaging-kafka.json'));
  app = await appWith((a) => registerJaegerV3QueryRoutes(a, { store: db.store, now: () => NOW_MS }));
});

after(async () => {
  await app?.close();
  await db?.cleanup();
});

const keysOf = (v: unknown): string[] => Object.keys(v as object).sort();

void test("/api/v3/services and /api/v3/operations answer in the shape of Jaeger's api_v3 snapshots", async () => {
  const services = await getJson(app, '/api/v3/services');
  assert.equal(services.status, 200);
  assert.deepEqual(keysOf(services.body), keysOf(readJson(JAEGER_FIXTURES + 'jaeger-apiv3-GetServices.json')));
  assert.deepEqual(services.body, { services: await db.store.services() });

  const ops = await getJson(app, '/api/v3/operations?service=frontend');
  const want = readJson(JAEGER_FIXTURES + 'jaeger-apiv3-GetOperations.json') as { operations: object[] };
  assert.deepEqual(keysOf(ops.body), keysOf(want));
  const got = (ops.body as { operations: object[] }).operations;
  for (const o of got) assert.deepEqual(keysOf(o), keysOf(want.operations[0]));
  assert.deepEqual(got, [
    { name: 'HTTP GET /', spanKind: 'server' },
    { name: 'db', spanKind: 'client' },
  ]);
  assert.deepEqual((await getJson(app, '/api/v3/operations?service=frontend&span_kind=client')).body, { operations: [{ name: 'db', spanKind: 'client' }] });
});

void test("/api/v3/trace-summaries reproduces Jaeger's FindTraceSummaries snapshot for the same trace", async () => {
  const url = `/api/v3/trace-summaries?query.serviceName=frontend&query.startTimeMin=1970-01-01T00:16:00Z&query.startTimeMax=1970-01-01T00:17:00Z`;
  const { status, body } = await getJson(app, url);
  assert.equal(status, 200, JSON.stringify(body));
  const want = JSON.stringify(readJson(JAEGER_FIXTURES + 'jaeger-apiv3-FindTraceSummaries.json')).replace(SNAPSHOT_ID, SNAPSHOT_TRACE);
  assert.deepEqual(body, JSON.parse(want));
});

void test('a summary counts orphans and errors per service; a 64-bit Zipkin id is written as 32 hex', async () => {
  const { body } = await getJson(app, '/api/v3/trace-summaries?query.serviceName=billing&query.startTimeMin=1970-01-01T00:16:00Z');
  assert.deepEqual(body, {
    summaries: [
      {
        traceId: ORPHAN_TRACE,
        rootServiceName: 'gateway',
        rootOperationName: 'HTTP GET /',
        minStartTimeUnixNano: '1000000000000',
        maxEndTimeUnixNano: '1001000000000',
        spanCount: 2,
        errorSpanCount: 1,
        orphanSpanCount: 1,
        services: [
          { name: 'gateway', spanCount: 1 },
          { name: 'billing', spanCount: 1, errorSpanCount: 1 },
        ],
      },
    ],
  });
  const kafka = decodeFixture('messaging-kafka.json');
  const res = await getJson(app, `/api/v3/trace-summaries?query.serviceName=${encodeURIComponent(kafka[0]!.service)}&query.startTimeMin=2000-01-01T00:00:00Z`);
  const ids = (res.body as { summaries: { traceId: string }[] }).summaries.map((s) => s.traceId);
  assert.ok(kafka[0]!.traceId.length === 16 && ids.includes(`0000000000000000${kafka[0]!.traceId}`), JSON.stringify(ids));
});

void test("Jaeger's search conformance table through the v3 names (RFC 3339 times, searchDepth, attributes)", async () => {
  const cases = readJson(join(FIXTURES, 'jaeger', 'queries.json')) as {
    Caption: string;
    Query: { ServiceName: string; OperationName: string; Tags: object | null; StartTimeMin: string; StartTimeMax: string; DurationMin: number; DurationMax: number; NumTraces: number };
    ExpectedFixtures: string[];
  }[];
  for (const c of cases) {
    const q = c.Query;
    const p = new URLSearchParams({ 'query.serviceName': q.ServiceName, 'query.startTimeMin': q.StartTimeMin, 'query.startTimeMax': q.StartTimeMax, 'query.searchDepth': String(q.NumTraces) });
    if (q.OperationName !== '') p.set('query.operationName', q.OperationName);
    if (q.Tags !== null) p.set('query.attributes', JSON.stringify(q.Tags));
    if (q.DurationMin > 0) p.set('query.durationMin', `${q.DurationMin}ns`);
    if (q.DurationMax > 0) p.set('query.durationMax', `${q.DurationMax}ns`);
    const { status, body } = await getJson(app, `/api/v3/trace-summaries?${p.toString()}`);
    assert.equal(status, 200, `${c.Caption}: ${JSON.stringify(body)}`);
    const got = (body as { summaries: { traceId: string }[] }).summaries.map((s) => s.traceId).sort();
    assert.deepEqual(got, c.ExpectedFixtures.flatMap((f) => fixtureTraceIds.get(f)!).sort(), c.Caption);
  }
});

void test('bad v3 parameters are 400s naming the v3 parameter', async () => {
  const bad: [string, RegExp][] = [
    ['/api/v3/operations', /service/],
    ['/api/v3/operations?service=x&span_kind=sideways', /span_kind/],
    ['/api/v3/trace-summaries?query.startTimeMin=yesterday', /query\.startTimeMin/],
    ['/api/v3/trace-summaries?query.startTimeMax=2024-13-01T00:00:00Z', /query\.startTimeMax/],
    ['/api/v3/trace-summaries?query.searchDepth=many', /query\.searchDepth/],
    ['/api/v3/trace-summaries?query.durationMin=slow', /query\.durationMin/],
    [`/api/v3/trace-summaries?query.attributes=${encodeURIComponent('{"a":')}`, /query\.attributes/],
  ];
  for (const [url, msg] of bad) {
    const { status, body } = await getJson(app, url);
    assert.equal(status, 400, url);
    const e = (body as { error: { code: string; message: string } }).error;
    assert.equal(e.code, 'bad_request', url);
    assert.match(e.message, msg, url);
  }
});
