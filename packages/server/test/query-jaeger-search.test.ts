import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { decodeOtlpJson, type Span } from '@linktrace/model';
import { registerJaegerQueryRoutes } from '../src/routes/query-jaeger.js';
import { parseTimeUs } from '../src/query/time-text.js';
import { FIXTURES, appWith, getJson, tempStore, type TempStore } from './query-test-support.js';
import { assertJaegerEnvelope, assertJaegerError, assertJaegerTrace } from './jaeger-shape.js';

const TRACES = join(FIXTURES, 'jaeger', 'traces');
const NOW_MS = 2_000_000_000_000;

interface JaegerQueryCase {
  Caption: string;
  Query: {
    ServiceName: string;
    OperationName: string;
    Tags: Record<string, string | number | boolean> | null;
    StartTimeMin: string;
    StartTimeMax: string;
    /** Go durations: nanoseconds; 0 = no bound. */
    DurationMin: number;
    DurationMax: number;
    NumTraces: number;
  };
  ExpectedFixtures: string[];
}

const cases = JSON.parse(readFileSync(join(FIXTURES, 'jaeger', 'queries.json'), 'utf8')) as JaegerQueryCase[];
const fixtureTraceIds = new Map<string, string[]>();

const SEARCH_START = 1_800_000_000_000_000;
/** Spans whose search needs the tags this API makes from model fields (kind, status). */
const own: Span[] = [
  ['1111111111111111aaaaaaaaaaaaaaa1', 'server', 'error'],
  ['1111111111111111aaaaaaaaaaaaaaa2', 'client', 'unset'],
  ['1111111111111111aaaaaaaaaaaaaaa3', 'server', 'ok'],
].map(([traceId, kind, code], i) => ({
  traceId: traceId!,
  spanId: `b00000000000000${i + 1}`,
  service: 'search-svc',
  name: 'op',
  kind: kind as Span['kind'],
  startUs: SEARCH_START + i * 1000,
  durationUs: 1_200_000 + i * 1_000_000,
  status: { code: code as 'error' },
  attributes: { 'http.route': '/x', n: i },
  events: [],
  links: [],
}));

let db: TempStore;
let app: FastifyInstance;

before(async () => {
  db = await tempStore();
  for (const file of readdirSync(TRACES).filter((f) => f.endsWith('.json'))) {
    const r = decodeOtlpJson(JSON.parse(readFileSync(join(TRACES, file), 'utf8')));
    assert.equal(r.rejected, 0, `${file}: ${r.errors.join('; ')}`);
    await db.store.writeSpans(r.spans);
    fixtureTraceIds.set(file.replace(/\.json$/, ''), [...new Set(r.spans.map((s) => s.traceId))]);
  }
  await db.store.writeSpans(own);
  app = await appWith((a) => registerJaegerQueryRoutes(a, { store: db.store, now: () => NOW_MS }));
});

after(async () => {
  await app?.close();
  await db?.cleanup();
});

type TagForm = 'json' | 'logfmt' | 'tag';

function searchUrl(c: JaegerQueryCase, form: TagForm): string {
  const q = c.Query;
  const p = new URLSearchParams({ service: q.ServiceName });
  if (q.OperationName !== '') p.set('operation', q.OperationName);
  if (q.Tags !== null) {
    if (form === 'json') p.set('tags', JSON.stringify(q.Tags));
    else if (form === 'logfmt') p.set('tags', Object.entries(q.Tags).map(([k, v]) => `${k}=${String(v)}`).join(' '));
    else for (const [k, v] of Object.entries(q.Tags)) p.append('tag', `${k}:${String(v)}`);
  }
  p.set('start', String(parseTimeUs(q.StartTimeMin)));
  p.set('end', String(parseTimeUs(q.StartTimeMax)));
  if (q.DurationMin > 0) p.set('minDuration', `${q.DurationMin}ns`);
  if (q.DurationMax > 0) p.set('maxDuration', `${q.DurationMax}ns`);
  p.set('limit', String(q.NumTraces));
  return `/api/traces?${p.toString()}`;
}

async function search(url: string): Promise<{ traceID: string }[]> {
  const { status, body } = await getJson(app, url);
  assert.equal(status, 200, `${url}: ${JSON.stringify(body)}`);
  assertJaegerEnvelope(body);
  const data = (body as { data: { traceID: string }[] }).data;
  data.forEach((t) => assertJaegerTrace(t));
  return data;
}

for (const form of ['json', 'logfmt', 'tag'] as const) {
  void test(`Jaeger's own search conformance table (queries.json), tags as ${form}: each query finds exactly its fixture traces`, async () => {
    assert.equal(cases.length, 25);
    for (const c of cases) {
      if (form !== 'json' && c.Query.Tags === null) continue;
      const want = c.ExpectedFixtures.flatMap((f) => fixtureTraceIds.get(f) ?? assert.fail(`no fixture ${f}`)).sort();
      const got = (await search(searchUrl(c, form))).map((t) => t.traceID).sort();
      assert.deepEqual(got, want, c.Caption);
    }
  });
}

void test('tags made from model fields are searchable: span.kind, error=true, otel.status_code', async () => {
  const base = `/api/traces?service=search-svc&start=${SEARCH_START}&end=${SEARCH_START + 10_000}`;
  const ids = async (extra: string): Promise<string[]> => (await search(base + extra)).map((t) => t.traceID).sort();
  assert.deepEqual(await ids(''), own.map((s) => s.traceId).sort());
  assert.deepEqual(await ids(`&tags=${encodeURIComponent('{"span.kind":"client"}')}`), [own[1]!.traceId]);
  assert.deepEqual(await ids(`&tags=${encodeURIComponent('{"error":"true"}')}`), [own[0]!.traceId]);
  assert.deepEqual(await ids(`&tags=${encodeURIComponent('error=true span.kind=server')}`), [own[0]!.traceId]);
  assert.deepEqual(await ids('&tag=otel.status_code:OK'), [own[2]!.traceId]);
  assert.deepEqual(await ids('&tag=span.kind:server&tag=n:2'), [own[2]!.traceId]);
  assert.deepEqual(await ids(`&tags=${encodeURIComponent('{"http.route":"/x","n":1}')}`), [own[1]!.traceId]);
  assert.deepEqual(await ids(`&tags=${encodeURIComponent('http.route="/x" n=0')}`), [own[0]!.traceId]);
  // One span cannot have n=0 and n=1: nothing matches (the store alone would keep only the last value).
  assert.deepEqual(await ids('&tag=n:0&tag=n:1'), []);
});

void test('durations as Go writes them (1.2s, 2200ms, 1m), limit, and lookback instead of start', async () => {
  const base = `/api/traces?service=search-svc&start=${SEARCH_START}&end=${SEARCH_START + 10_000}`;
  const ids = async (extra: string): Promise<string[]> => (await search(base + extra)).map((t) => t.traceID).sort();
  assert.deepEqual(await ids('&minDuration=1.3s'), [own[1]!.traceId, own[2]!.traceId]);
  assert.deepEqual(await ids('&minDuration=1.2s&maxDuration=2200ms'), [own[0]!.traceId, own[1]!.traceId]);
  assert.deepEqual(await ids('&maxDuration=1m&minDuration=3s'), [own[2]!.traceId]);
  // Newest first, as Jaeger lists them.
  assert.deepEqual((await search(`${base}&limit=2`)).map((t) => t.traceID), [own[2]!.traceId, own[1]!.traceId]);
  // limit=0 is Jaeger's "default".
  assert.equal((await search(`${base}&limit=0`)).length, 3);
  const end = SEARCH_START + 2500;
  // Spans start at +0, +1000 and +2000 µs: 2ms back from +2500 reaches the last two, 1ms the last one.
  const back = async (lookback: string): Promise<string[]> =>
    (await search(`/api/traces?service=search-svc&end=${end}&lookback=${lookback}`)).map((t) => t.traceID).sort();
  assert.deepEqual(await back('2ms'), [own[1]!.traceId, own[2]!.traceId]);
  assert.deepEqual(await back('1ms'), [own[2]!.traceId]);
  // Jaeger UI sends lookback=custom with its own start and end.
  assert.equal((await search(`${base}&lookback=custom`)).length, 3);
});

const BAD: [string, number, RegExp][] = [
  ['/api/traces', 400, /service/],
  ['/api/traces?operation=op', 400, /service/],
  ['/api/traces?service=s&limit=abc', 400, /limit/],
  ['/api/traces?service=s&limit=-1', 400, /limit/],
  ['/api/traces?service=s&limit=10001', 400, /limit/],
  ['/api/traces?service=s&start=yesterday', 400, /start/],
  ['/api/traces?service=s&end=1.5', 400, /end/],
  ['/api/traces?service=s&start=20&end=10', 400, /end/],
  ['/api/traces?service=s&minDuration=fast', 400, /minDuration/],
  ['/api/traces?service=s&maxDuration=-5s', 400, /maxDuration/],
  ['/api/traces?service=s&maxDuration=1s&minDuration=2s', 400, /maxDuration/],
  ['/api/traces?service=s&lookback=ages', 400, /lookback/],
  [`/api/traces?service=s&tags=${encodeURIComponent('{"a":')}`, 400, /tags/],
  [`/api/traces?service=s&tags=${encodeURIComponent('["a"]')}`, 400, /tags/],
  [`/api/traces?service=s&tags=${encodeURIComponent('{"a":{"b":1}}')}`, 400, /tags/],
  ['/api/traces?service=s&tags=novalue', 400, /tags/],
  ['/api/traces?service=s&tag=novalue', 400, /tag/],
  ['/api/traces?service=s&service=t', 400, /service/],
  ['/api/traces?traceID=xyz', 400, /traceID/],
  ['/api/traces?traceID=00000000000000000000000000000000', 400, /traceID/],
  ['/api/traces/not-hex', 400, /trace id/],
  ['/api/traces/123456789012345678901234567890123', 400, /trace id/],
  ['/api/traces/0000000000000000', 400, /trace id/],
  ['/api/traces/1234567890abcdef1234567890abcdef', 404, /^trace not found$/],
  ['/api/operations', 400, /service/],
  ['/api/operations?service=s&spanKind=sideways', 400, /spanKind/],
  ['/api/dependencies?endTs=soon', 400, /endTs/],
  ['/api/dependencies?lookback=-1', 400, /lookback/],
  ['/api/dependencies?lookback=1h', 400, /lookback/],
];

void test("every bad parameter gets Jaeger's errors shape with a 400 (an unknown trace a 404)", async () => {
  for (const [url, status, msg] of BAD) {
    const res = await getJson(app, url);
    assert.match(assertJaegerError(res.status, res.body, status, url), msg, url);
  }
});
