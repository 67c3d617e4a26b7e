/**
 * Zipkin spans of unknown start or length on the read side: the Zipkin v2 API gives them back
 * without `timestamp` / `duration`, as Zipkin does; the native trace view says so and keeps them in
 * order; searches and the trace summary are not thrown off (issue 10, item 3a/3b).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { decodeZipkinJson, type ZipkinSpan } from '@linktrace/model';
import { registerQueryRoutes } from '../src/routes/query-routes.js';
import { appWith, getJson, tempStore, type TempStore } from './query-test-support.js';

const TRACE = '5af7183fb1d4cf5f';
const T = 1_600_000_000_000_000;
const ZIPKIN: ZipkinSpan[] = [
  { traceId: TRACE, id: '6b221d5bc9e6496c', kind: 'CLIENT', name: 'get', timestamp: T, duration: 900, localEndpoint: { serviceName: 'front', ipv4: '10.0.0.1' } },
  // The server half, reported without timestamp; its partner is the client half.
  { traceId: TRACE, id: '6b221d5bc9e6496c', kind: 'SERVER', name: 'get', shared: true, duration: 700, localEndpoint: { serviceName: 'back', ipv4: '10.0.0.2', port: 80 } },
  // A finished span whose length was not reported.
  { traceId: TRACE, id: '1111111111111111', parentId: '6b221d5bc9e6496c', name: 'query', timestamp: T + 100, localEndpoint: { serviceName: 'back', ipv4: '10.0.0.2', port: 80 } },
];

describe('query: spans of unknown start or length', () => {
  let db: TempStore;
  let app: FastifyInstance;
  before(async () => {
    db = await tempStore();
    await db.store.writeSpans(decodeZipkinJson(ZIPKIN).spans);
    app = await appWith((a) => registerQueryRoutes(a, { store: db.store, now: () => T / 1000 + 60_000 }));
  });
  after(async () => {
    await app.close();
    await db.cleanup();
  });

  it('GET /api/v2/trace/{id} leaves timestamp and duration out where they were not known', async () => {
    const { status, body } = await getJson(app, `/api/v2/trace/${TRACE}`);
    assert.equal(status, 200);
    const byKey = new Map((body as ZipkinSpan[]).map((s) => [`${s.id}/${s.kind ?? ''}`, s]));
    assert.deepEqual(byKey.get('6b221d5bc9e6496c/SERVER'), ZIPKIN[1]);
    assert.deepEqual(byKey.get('1111111111111111/'), ZIPKIN[2]);
    assert.equal(byKey.get('1111111111111111/')?.tags, undefined, 'no start-record tag on a finished span');
  });

  it('the native trace view marks them, keeps them in order, and times the trace by what is known', async () => {
    const { status, body } = await getJson(app, `/api/v1/traces/${TRACE}`);
    assert.equal(status, 200);
    const view = body as { spans: { spanId: string; kind: string; startUs: number; startUnknown?: boolean; durationUnknown?: boolean }[]; startUs: number; durationUs: number; spanCount: number };
    assert.deepEqual(
      view.spans.map((s) => [s.spanId, s.kind, s.startUs, s.startUnknown ?? false, s.durationUnknown ?? false]),
      [
        ['6b221d5bc9e6496c', 'client', T, false, false],
        ['6b221d5bc9e6496c', 'server', T, true, false],
        ['1111111111111111', 'internal', T + 100, false, true],
      ],
    );
    assert.deepEqual([view.startUs, view.durationUs, view.spanCount], [T, 900, 3]);
  });

  it('Zipkin search: found by the untimed span\'s service through its trace; duration bounds skip unknown lengths', async () => {
    const endTs = T / 1000 + 10_000;
    let r = await getJson(app, `/api/v2/traces?serviceName=back&endTs=${endTs}&lookback=60000`);
    assert.equal(r.status, 200);
    assert.equal((r.body as unknown[]).length, 1);
    r = await getJson(app, `/api/v2/traces?serviceName=back&spanName=query&minDuration=1&endTs=${endTs}&lookback=60000`);
    assert.equal((r.body as unknown[]).length, 0, 'a span of unknown length matches no duration bound');
  });
});
