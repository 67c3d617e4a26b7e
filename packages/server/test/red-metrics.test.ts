/**
 * Issue 13 item 3: RED metrics counted at ingest. Known spans go through the real app (native JSON
 * route, memory store); GET /api/v1/metrics/red answers exact counts and percentiles within the
 * histogram's ±5%; edges follow the service map's rules (a queue included, a parent that arrives
 * after its child); a restart keeps the counts; 10 000 operation names are capped; bad parameters
 * get the one error shape.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { encodeNativeJson, type Span } from '@linktrace/model';
import type { RedOperationsResponse, RedResponse } from '../src/api-types.js';
import { eventually } from './checker-traces.js';
import { errorCode, get, post, tempDir, withApp, type RunningApp } from './ingest-helpers.js';

const JSON_TYPE = { 'content-type': 'application/json' };
/** 2026-01-01T12:00:00Z, the injected clock. */
const NOW_MS = Date.UTC(2026, 0, 1, 12);
const MINUTE_US = 60_000_000;
/** The spans start 10 minutes before the clock. */
const T0_US = NOW_MS * 1000 - 10 * MINUTE_US;
const TRACE = 'b1b2c3d4e5f60718293a4b5c6d7e8f90';

let next = 0x100;
function span(fields: Partial<Span> & Pick<Span, 'service' | 'name' | 'kind'>): Span {
  return {
    traceId: TRACE,
    spanId: (next++).toString(16).padStart(16, '0'),
    startUs: T0_US,
    durationUs: 1000,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    ...fields,
  };
}

/** shop GET /cart: 100 server spans lasting 1..100 ms, every tenth an error. */
function cartSpans(): Span[] {
  return Array.from({ length: 100 }, (_, i) =>
    span({ service: 'shop', name: 'GET /cart', kind: 'server', durationUs: (i + 1) * 1000, status: { code: i % 10 === 0 ? 'error' : 'ok' } }),
  );
}

async function send(url: string, spans: Span[]): Promise<void> {
  const answer = await post(`${url}/api/v1/spans`, JSON.stringify(encodeNativeJson(spans)), JSON_TYPE);
  assert.equal(answer.status, 200, answer.body.toString());
}

async function red(url: string, query: string): Promise<RedResponse> {
  const answer = await get(`${url}/api/v1/metrics/red?${query}`);
  assert.equal(answer.status, 200, answer.body.toString());
  return answer.json() as RedResponse;
}

/** The totals over one 10-minute step that holds every span. */
async function total(url: string, query: string): Promise<{ count: number; errors: number; p50: number | null; p95: number | null; p99: number | null }> {
  const body = await red(url, `${query}&start=${T0_US}&end=${T0_US}&step=10m`);
  assert.equal(body.points.length, 1);
  const p = body.points[0]!;
  return { count: Math.round(p.rate * 600), errors: p.errors, p50: p.p50, p95: p.p95, p99: p.p99 };
}

function near(actual: number | null, expected: number): void {
  assert.ok(actual !== null && Math.abs(actual - expected) <= expected * 0.05, `${String(actual)} is not within 5% of ${expected}`);
}

async function stored(ctx: RunningApp, n: number): Promise<void> {
  await eventually(() => Promise.resolve(ctx.store.spans.size >= n ? true : undefined), 10_000, `${n} spans stored`);
}

describe('RED metrics', () => {
  it('per service, operation and edge (a queue, a parent after its child, an unanswered peer); kept across a restart', async () => {
    const dataDir = await tempDir();
    let now = NOW_MS;
    const clock = (): number => now;
    try {
      await withApp({ dataDir, clock }, async (ctx) => {
        const cart = cartSpans();
        // shop → stock: the stock server span arrives one batch before its caller, the shop client span.
        const call = span({ service: 'shop', name: 'GET stock', kind: 'client', durationUs: 8000 });
        const stockServer = span({ service: 'stock', name: 'GET /items', kind: 'server', durationUs: 5000, parentSpanId: call.spanId });
        // shop → mq:orders → worker, and a call to payments that no traced service answered.
        const produce = span({ service: 'shop', name: 'send orders', kind: 'producer', durationUs: 300, attributes: { 'messaging.destination.name': 'orders' } });
        const consume = span({ service: 'worker', name: 'process orders', kind: 'consumer', durationUs: 20_000, parentSpanId: produce.spanId, status: { code: 'error' } });
        const pay = span({ service: 'shop', name: 'POST pay', kind: 'client', durationUs: 40_000, remote: { service: 'payments' } });
        await send(ctx.url, [...cart, stockServer]);
        await send(ctx.url, [call, produce, consume, pay]);
        await stored(ctx, 105);

        const shop = await total(ctx.url, 'service=shop');
        assert.equal(shop.count, 103);
        assert.equal(shop.errors, 10);
        const op = await total(ctx.url, 'service=shop&operation=GET%20%2Fcart');
        assert.deepEqual([op.count, op.errors], [100, 10]);
        near(op.p50, 50_000);
        near(op.p95, 95_000);
        near(op.p99, 99_000);

        const produced = await total(ctx.url, 'from=shop&to=mq%3Aorders');
        assert.deepEqual([produced.count, produced.errors], [1, 0]);
        near(produced.p99, 300);
        const consumed = await total(ctx.url, 'from=mq%3Aorders&to=worker');
        assert.deepEqual([consumed.count, consumed.errors], [1, 1]);
        near(consumed.p50, 20_000);
        // The child waited for its parent, which arrived in the next batch.
        const stock = await total(ctx.url, 'from=shop&to=stock');
        assert.equal(stock.count, 1);
        near(stock.p50, 5000);
        // The call to payments waits for an answer up to the grace, 30 s: then it is an edge to the peer.
        assert.equal((await total(ctx.url, 'from=shop&to=payments')).count, 0);
        now += 31_000;
        assert.equal((await total(ctx.url, 'from=shop&to=payments')).count, 1);
        // The stock client call was answered: no edge to a peer name for it.
        assert.equal((await total(ctx.url, 'service=stock')).count, 1);

        // One point per minute over the hour before the clock: the spans' minute holds them all.
        const hour = await red(ctx.url, `service=shop&start=${NOW_MS * 1000 - 60 * MINUTE_US}&end=${NOW_MS * 1000}&step=1m`);
        assert.equal(hour.points.length, 61);
        const busy = hour.points.filter((p) => p.rate > 0);
        assert.deepEqual(busy.map((p) => p.t), [T0_US]);

        const metrics = (await get(`${ctx.url}/metrics`)).body.toString();
        assert.match(metrics, /^linktrace_span_duration_seconds_count\{service="shop",operation="GET \/cart",kind="server",status="error"\} 10$/m);
        assert.match(metrics, /^linktrace_span_duration_seconds_bucket\{le="0.05",service="shop",operation="GET \/cart",kind="server",status="ok"\} 45$/m);
      });
      // A new app on the same data directory answers the same counts.
      await withApp({ dataDir, clock }, async (ctx) => {
        const op = await total(ctx.url, 'service=shop&operation=GET%20%2Fcart');
        assert.deepEqual([op.count, op.errors], [100, 10]);
        near(op.p99, 99_000);
        assert.equal((await total(ctx.url, 'from=shop&to=stock')).count, 1);
        assert.equal((await total(ctx.url, 'from=mq%3Aorders&to=worker')).errors, 1);
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('caps 10 000 operation names: the rest count as other, on the route and on /metrics', async () => {
    await withApp({ clock: () => NOW_MS }, async (ctx) => {
      const spans = Array.from({ length: 10_000 }, (_, i) => span({ service: 'boom', name: `GET /item/${i}`, kind: 'server' }));
      for (let i = 0; i < spans.length; i += 2000) await send(ctx.url, spans.slice(i, i + 2000));
      await stored(ctx, 10_000);
      const limit = ctx.app.linktrace.red.aggregator.limits.maxOperations;
      assert.equal(ctx.app.linktrace.red.aggregator.services.get('boom')!.operations.size, limit + 1);
      assert.equal((await total(ctx.url, 'service=boom&operation=other')).count, 10_000 - limit);
      assert.equal((await total(ctx.url, 'service=boom')).count, 10_000);
      const metrics = (await get(`${ctx.url}/metrics`)).body.toString();
      const names = new Set([...metrics.matchAll(/^linktrace_span_duration_seconds_count\{service="boom",operation="([^"]*)"/gm)].map((m) => m[1]));
      assert.equal(names.size, limit + 1);
      assert.ok(names.has('other'));
    });
  });

  it('lists a service\'s operations over a range, slowest p99 first (the UI\'s service page)', async () => {
    await withApp({ clock: () => NOW_MS }, async (ctx) => {
      const fast = Array.from({ length: 20 }, () => span({ service: 'shop', name: 'GET /health', kind: 'server', durationUs: 200 }));
      const stale = span({ service: 'shop', name: 'GET /old', kind: 'server', durationUs: 900_000, startUs: T0_US - 30 * MINUTE_US });
      await send(ctx.url, [...cartSpans(), ...fast, stale, span({ service: 'stock', name: 'GET /items', kind: 'server', durationUs: 5_000_000 })]);
      await stored(ctx, 122);
      const get10 = async (query: string): Promise<RedOperationsResponse> => {
        const answer = await get(`${ctx.url}/api/v1/metrics/red/operations?${query}`);
        assert.equal(answer.status, 200, answer.body.toString());
        return answer.json() as RedOperationsResponse;
      };
      const body = await get10(`service=shop&start=${T0_US}&end=${T0_US + 5 * MINUTE_US}`);
      assert.equal(body.service, 'shop');
      assert.equal(body.start, T0_US);
      // GET /old started 30 minutes earlier, outside the range; stock is another service.
      assert.deepEqual(body.operations.map((o) => o.operation), ['GET /cart', 'GET /health']);
      const cart = body.operations[0]!;
      assert.deepEqual([cart.count, cart.errors, cart.errorRate], [100, 10, 0.1]);
      near(cart.p99, 99_000);
      near(cart.rate, 100 / 360);
      // The default range is the hour before the clock: GET /old is in it, and the slowest.
      assert.deepEqual((await get10('service=shop')).operations.map((o) => o.operation), ['GET /old', 'GET /cart', 'GET /health']);
      assert.deepEqual((await get10('service=nobody')).operations, []);
      for (const query of ['', 'service=shop&operation=x', 'service=shop&start=2000&end=1000', 'service=shop&start=soon']) {
        const answer = await get(`${ctx.url}/api/v1/metrics/red/operations?${query}`);
        assert.equal(answer.status, 400, query);
        assert.equal(errorCode(answer), 'bad_request', query);
      }
    });
  });

  it('refuses bad parameters with the one error shape', async () => {
    await withApp({ clock: () => NOW_MS }, async ({ url }) => {
      for (const query of [
        '',
        'operation=x',
        'service=a&from=b&to=c',
        'from=b',
        'service=a&step=30s',
        'service=a&step=90s',
        'service=a&step=soon',
        'service=a&start=yesterday',
        'service=a&start=2000&end=1000',
        'service=a&start=0&end=9999999999999999&step=1m',
        'service=a&colour=red',
      ]) {
        const answer = await get(`${url}/api/v1/metrics/red?${query}`);
        assert.equal(answer.status, 400, query);
        assert.equal(errorCode(answer), 'bad_request', query);
      }
      // An unknown service is not an error: it has no spans.
      const empty = await red(url, 'service=nobody&start=2026-01-01T11:00:00Z&end=2026-01-01T11:09:00Z&step=5m');
      assert.deepEqual(empty.points.map((p) => [p.rate, p.p99]), [[0, null], [0, null]]);
    });
  });
});
