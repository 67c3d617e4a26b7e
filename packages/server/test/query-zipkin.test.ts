import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { Span, ZipkinSpan } from '@linktrace/model';
import { registerZipkinQueryRoutes, DEFAULT_AUTOCOMPLETE_KEYS } from '../src/routes/query-zipkin.js';
import { RecentSpans } from '../src/query/recent-spans.js';
import { appWith, decodeFixture, getJson, readZipkinFixture, tempStore, zipkinFixtureNames, type TempStore } from './query-test-support.js';

let db: TempStore;
let app: FastifyInstance;
const all: ZipkinSpan[] = [];
/** Far enough ahead and back to cover every fixture (2016-2019). */
const WINDOW = 'endTs=2000000000000&lookback=2000000000000';

const stageSpans: Span[] = ['receive', 'write', 'write'].map((stage, i) => ({
  traceId: 'aaaaaaaaaaaaaaaabbbbbbbbbbbbbbb1',
  spanId: `00000000000000a${i + 1}`,
  service: 'sync-worker',
  name: `step-${stage}`,
  kind: 'internal',
  startUs: 1_600_000_000_000_000 + i,
  durationUs: 10,
  status: { code: 'unset' },
  attributes: { 'linktrace.stage': stage, 'other.key': `v${i}` },
  events: [],
  links: [],
}));

before(async () => {
  db = await tempStore();
  for (const name of zipkinFixtureNames()) {
    all.push(...readZipkinFixture(name));
    await db.store.writeSpans(decodeFixture(name));
  }
  await db.store.writeSpans(stageSpans);
  app = await appWith((a) => registerZipkinQueryRoutes(a, { store: db.store, recent: new RecentSpans(db.store, { ttlMs: 0 }) }));
});

after(async () => {
  await app?.close();
  await db?.cleanup();
});

/** A fan-out recorded by each callee shares id, kind and service: the endpoint and the start tell them apart. */
const spanKey = (s: ZipkinSpan): string =>
  `${s.id}/${s.kind ?? ''}/${s.localEndpoint?.serviceName ?? ''}/${s.localEndpoint?.ipv4 ?? ''}/${s.localEndpoint?.port ?? ''}/${s.timestamp ?? ''}`;

void test('GET /api/v2/trace/{id} returns every fixture trace as Zipkin has it (each callee of a fan-out kept; a span reported several times, once)', async () => {
  const traceIds = [...new Set(all.map((s) => s.traceId))];
  assert.equal(traceIds.length, 10);
  for (const id of traceIds) {
    const { status, body } = await getJson(app, `/api/v2/trace/${id}`);
    assert.equal(status, 200, id);
    const got = body as ZipkinSpan[];
    const want = new Map<string, ZipkinSpan[]>();
    for (const s of all.filter((x) => x.traceId === id)) want.set(spanKey(s), [...(want.get(spanKey(s)) ?? []), s]);
    assert.equal(got.length, want.size, `${id}: one span per (id, kind, endpoint, start)`);
    for (const s of got) {
      const candidates = want.get(spanKey(s));
      assert.ok(candidates !== undefined, `${id}: unexpected span ${spanKey(s)}`);
      assert.ok(
        candidates.some((c) => JSON.stringify(sortKeys(c)) === JSON.stringify(sortKeys(s))),
        `${id}: span ${spanKey(s)} differs:\n got  ${JSON.stringify(s)}\n want ${JSON.stringify(candidates[0])}`,
      );
    }
  }
});

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
}

void test('trace lookup: uppercase ids work, unknown ids are 404, malformed ids 400, a 64-bit id is found under either spelling', async () => {
  const upper = await getJson(app, '/api/v2/trace/1E223FF1F80F1C69');
  assert.equal(upper.status, 200);
  assert.equal((upper.body as ZipkinSpan[]).length, 4);
  const padded = await getJson(app, '/api/v2/trace/00000000000000001e223ff1f80f1c69');
  assert.equal(padded.status, 200);
  assert.equal((padded.body as ZipkinSpan[])[0]!.traceId, '1e223ff1f80f1c69');
  const missing = await getJson(app, '/api/v2/trace/1e223ff1f80f1c6a');
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { error: { code: 'not_found', message: 'trace 1e223ff1f80f1c6a not found' } });
  for (const bad of ['xyz', '1e223ff1f80f1c6', '0000000000000000', 'g'.repeat(32)]) {
    const r = await getJson(app, `/api/v2/trace/${bad}`);
    assert.equal(r.status, 400, bad);
    assert.equal((r.body as { error: { code: string } }).error.code, 'invalid_trace_id');
  }
});

void test('GET /api/v2/services lists every named local service, sorted', async () => {
  const want = [...new Set(all.map((s) => s.localEndpoint?.serviceName).filter((s): s is string => s !== undefined)), 'sync-worker'].sort();
  const { status, body } = await getJson(app, '/api/v2/services');
  assert.equal(status, 200);
  assert.deepEqual(body, want);
  assert.ok(!(body as string[]).includes('unknown_service'), 'the envoy span has no service name and must not surface one');
});

void test('GET /api/v2/spans: span names of a service, optionally of one kind; serviceName required', async () => {
  const names = (service: string, kind?: string): string[] =>
    [...new Set(all.filter((s) => s.localEndpoint?.serviceName === service && (kind === undefined || s.kind === kind)).map((s) => s.name ?? ''))].sort();
  assert.deepEqual((await getJson(app, '/api/v2/spans?serviceName=frontend')).body, names('frontend'));
  assert.deepEqual((await getJson(app, '/api/v2/spans?serviceName=frontend')).body, ['get', 'get /', 'publish']);
  assert.deepEqual((await getJson(app, '/api/v2/spans?serviceName=frontend&spanKind=PRODUCER')).body, ['publish']);
  assert.deepEqual((await getJson(app, '/api/v2/spans?serviceName=bootifulmeters&spanKind=client')).body, names('bootifulmeters', 'CLIENT'));
  assert.deepEqual((await getJson(app, '/api/v2/spans?serviceName=nope')).body, []);
  const missing = await getJson(app, '/api/v2/spans');
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body, { error: { code: 'bad_request', message: 'query parameter serviceName is required' } });
  const kind = await getJson(app, '/api/v2/spans?serviceName=frontend&spanKind=INTERNAL');
  assert.equal(kind.status, 400);
  assert.match((kind.body as { error: { message: string } }).error.message, /spanKind must be one of CLIENT, SERVER, PRODUCER, CONSUMER/);
});

void test('GET /api/v2/remoteServices: remote endpoints named by spans of the service', async () => {
  const want = (service: string): string[] =>
    [
      ...new Set(
        all.filter((s) => s.localEndpoint?.serviceName === service && s.remoteEndpoint?.serviceName !== undefined).map((s) => s.remoteEndpoint!.serviceName!),
      ),
    ].sort();
  assert.deepEqual((await getJson(app, '/api/v2/remoteServices?serviceName=frontend')).body, want('frontend'));
  assert.deepEqual(want('frontend'), ['backend', 'rabbitmq']);
  assert.deepEqual((await getJson(app, '/api/v2/remoteServices?serviceName=bootifulmeters')).body, ['app_db']);
  assert.deepEqual((await getJson(app, '/api/v2/remoteServices?serviceName=nope')).body, []);
  assert.equal((await getJson(app, '/api/v2/remoteServices')).status, 400);
});

/** Trace ids with one span meeting `pred` (Zipkin's condition, computed on the fixtures themselves). */
function tracesWhere(pred: (s: ZipkinSpan) => boolean): string[] {
  return [...new Set(all.filter(pred).map((s) => s.traceId))].sort();
}

async function searchIds(query: string): Promise<string[]> {
  const { status, body } = await getJson(app, `/api/v2/traces?${WINDOW}&limit=100&${query}`);
  assert.equal(status, 200, query);
  const traces = body as ZipkinSpan[][];
  for (const t of traces) assert.ok(t.length > 0 && t.every((s) => s.traceId === t[0]!.traceId), 'each trace is a list of its spans');
  return traces.map((t) => t[0]!.traceId).sort();
}

void test('GET /api/v2/traces: service, span name, remote service, annotationQuery and duration filters match Zipkin', async () => {
  assert.deepEqual(await searchIds('serviceName=frontend'), tracesWhere((s) => s.localEndpoint?.serviceName === 'frontend'));
  assert.deepEqual(await searchIds('serviceName=frontend&spanName=publish'), tracesWhere((s) => s.localEndpoint?.serviceName === 'frontend' && s.name === 'publish'));
  assert.deepEqual(await searchIds('serviceName=frontend&spanName=all'), tracesWhere((s) => s.localEndpoint?.serviceName === 'frontend'));
  assert.deepEqual(
    await searchIds('serviceName=frontend&remoteServiceName=rabbitmq'),
    tracesWhere((s) => s.localEndpoint?.serviceName === 'frontend' && s.remoteEndpoint?.serviceName === 'rabbitmq'),
  );
  assert.deepEqual(await searchIds('annotationQuery=error'), tracesWhere((s) => s.tags?.error !== undefined));
  assert.equal((await searchIds('annotationQuery=error')).length, 3);
  assert.deepEqual(
    await searchIds(`annotationQuery=${encodeURIComponent('http.method=GET')}`),
    tracesWhere((s) => s.tags?.['http.method'] === 'GET'),
  );
  assert.deepEqual(
    await searchIds(`annotationQuery=${encodeURIComponent('error and http.status_code=403')}`),
    tracesWhere((s) => s.tags?.error !== undefined && s.tags['http.status_code'] === '403'),
  );
  // A bare key matches a tag key or an annotation value.
  assert.deepEqual(await searchIds('annotationQuery=foo'), tracesWhere((s) => s.annotations?.some((a) => a.value === 'foo') === true));
  assert.deepEqual(await searchIds('annotationQuery=kafka.partition'), tracesWhere((s) => s.tags?.['kafka.partition'] !== undefined));
  assert.deepEqual(await searchIds(`annotationQuery=${encodeURIComponent('error=此用户没有操作权限')}`), ['4d1e00c0db9010db86154a4ba6e91385']);
  assert.deepEqual(
    await searchIds('minDuration=200000&maxDuration=300000'),
    tracesWhere((s) => s.duration !== undefined && s.duration >= 200_000 && s.duration <= 300_000),
  );
  assert.deepEqual(await searchIds('serviceName=frontend&annotationQuery=nonexistent'), []);
});

void test('GET /api/v2/traces: the endTs/lookback window (ms), limit, and newest-first order', async () => {
  // skew.json (2016-08-02) is the only fixture in a window ending just after its spans.
  const end = Math.ceil(1470150004074202 / 1000) + 1;
  const r = await getJson(app, `/api/v2/traces?endTs=${end}&lookback=60000`);
  assert.deepEqual((r.body as ZipkinSpan[][]).map((t) => t[0]!.traceId), ['1e223ff1f80f1c69']);
  assert.deepEqual((await getJson(app, `/api/v2/traces?endTs=${end - 1000}&lookback=1`)).body, []);
  const limited = (await getJson(app, `/api/v2/traces?${WINDOW}&limit=2`)).body as ZipkinSpan[][];
  assert.equal(limited.length, 2);
  const every = (await getJson(app, `/api/v2/traces?${WINDOW}&limit=100`)).body as ZipkinSpan[][];
  assert.equal(every.length, 11);
  const starts = every.map((t) => Math.min(...t.map((s) => s.timestamp ?? Infinity)));
  assert.deepEqual(starts, [...starts].sort((a, b) => b - a), 'newest first');
  // Limited results after a check done here still stop at the limit.
  const checked = (await getJson(app, `/api/v2/traces?${WINDOW}&limit=1&annotationQuery=kafka.partition`)).body as ZipkinSpan[][];
  assert.equal(checked.length, 1);
});

void test('GET /api/v2/traces: every bad parameter is a 400 with the JSON error body', async () => {
  for (const q of ['limit=0', 'limit=x', 'limit=10001', 'endTs=-1', 'endTs=soon', 'lookback=0', 'minDuration=0', 'minDuration=1.5', 'maxDuration=abc', 'minDuration=10&maxDuration=5', 'annotationQuery=%3Dx', 'serviceName=a&serviceName=b']) {
    const r = await getJson(app, `/api/v2/traces?${q}`);
    assert.equal(r.status, 400, q);
    const e = (r.body as { error: { code: string; message: string } }).error;
    assert.equal(e.code, 'bad_request', q);
    assert.ok(e.message.length > 0);
  }
});

void test('GET /api/v2/traceMany: found traces only, ids validated', async () => {
  const r = await getJson(app, '/api/v2/traceMany?traceIds=1e223ff1f80f1c69,5AAB74DBB904746BB33447BAAE403ED6,1e223ff1f80f1c6a');
  assert.equal(r.status, 200);
  const traces = r.body as ZipkinSpan[][];
  assert.deepEqual(traces.map((t) => [t[0]!.traceId, t.length]), [
    ['1e223ff1f80f1c69', 4],
    ['5aab74dbb904746bb33447baae403ed6', 4],
  ]);
  assert.deepEqual((await getJson(app, '/api/v2/traceMany?traceIds=1e223ff1f80f1c6a')).body, []);
  assert.equal((await getJson(app, '/api/v2/traceMany')).status, 400);
  assert.equal((await getJson(app, '/api/v2/traceMany?traceIds=,,')).status, 400);
  const bad = await getJson(app, '/api/v2/traceMany?traceIds=1e223ff1f80f1c69,nothex');
  assert.equal(bad.status, 400);
  assert.equal((bad.body as { error: { code: string } }).error.code, 'invalid_trace_id');
  const many = Array.from({ length: 1001 }, (_, i) => (i + 1).toString(16).padStart(16, '0')).join(',');
  assert.equal((await getJson(app, `/api/v2/traceMany?traceIds=${many}`)).status, 400);
});

void test('GET /api/v2/dependencies: caller -> callee links in the window, errorCount only when not zero', async () => {
  const one = await tempStore();
  try {
    for (const f of ['skew.json', 'simple-db-p6.json', 'zipkin2-chinese.json']) await one.store.writeSpans(decodeFixture(f));
    const a = await appWith((x) => registerZipkinQueryRoutes(x, { store: one.store }));
    // By hand: skew: servicea's client span calls serviceb's server half; simple-db-p6: four client
    // spans to the untraced app_db; zipkin2-chinese: one failing client call to an untraced peer.
    assert.deepEqual((await getJson(a, `/api/v2/dependencies?${WINDOW}`)).body, [
      { parent: 'bootifulmeters', child: 'app_db', callCount: 4 },
      { parent: 'servicea', child: 'serviceb', callCount: 1 },
      { parent: '订单维护服务', child: '个人信息服务', callCount: 1, errorCount: 1 },
    ]);
    // Only skew.json (2016-08-02) lies in this window.
    const end = Math.ceil(1470150004074202 / 1000) + 1;
    assert.deepEqual((await getJson(a, `/api/v2/dependencies?endTs=${end}&lookback=3600000`)).body, [{ parent: 'servicea', child: 'serviceb', callCount: 1 }]);
    assert.deepEqual((await getJson(a, `/api/v2/dependencies?endTs=${end - 3_600_000}&lookback=1000`)).body, []);
    for (const q of ['endTs=x', 'endTs=0', 'lookback=-5', 'lookback=1.5']) assert.equal((await getJson(a, `/api/v2/dependencies?${q}`)).status, 400, q);
    await a.close();
  } finally {
    await one.cleanup();
  }
});

void test('autocomplete: configured keys, values seen for them, nothing for other keys', async () => {
  assert.deepEqual((await getJson(app, '/api/v2/autocompleteKeys')).body, [...DEFAULT_AUTOCOMPLETE_KEYS]);
  assert.deepEqual((await getJson(app, '/api/v2/autocompleteValues?key=linktrace.stage')).body, ['receive', 'write']);
  assert.deepEqual((await getJson(app, '/api/v2/autocompleteValues?key=other.key')).body, [], 'not a configured key');
  assert.equal((await getJson(app, '/api/v2/autocompleteValues')).status, 400);
  const custom = await appWith((a) => registerZipkinQueryRoutes(a, { store: db.store, autocompleteKeys: ['other.key'] }));
  assert.deepEqual((await getJson(custom, '/api/v2/autocompleteKeys')).body, ['other.key']);
  assert.deepEqual((await getJson(custom, '/api/v2/autocompleteValues?key=other.key')).body, ['v0', 'v1', 'v2']);
  await custom.close();
});
