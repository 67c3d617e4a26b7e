import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Span, SpanKind } from '@linktrace/model';
import { buildServiceMap, serviceMapFromSpans, serviceMapRows } from '../src/index.js';
import { ID, T0, shopSync, startRecord } from './shop-sync.js';

function s(trace: string, id: string, parent: string | undefined, service: string, kind: SpanKind, ms: number | undefined, over: Partial<Span> = {}): Span {
  const span: Span = {
    traceId: trace.padStart(32, '0'),
    spanId: id.padStart(16, '0'),
    service,
    name: id,
    kind,
    startUs: T0,
    status: { code: 'unset' },
    attributes: {},
    events: [],
    links: [],
    ...over,
  };
  if (ms !== undefined) span.durationUs = ms * 1000;
  if (parent !== undefined) span.parentSpanId = parent.padStart(16, '0');
  return span;
}

/** A shop-sync trace with its own trace id (the fixture's spans, re-keyed). */
function shopTrace(n: number, change: (s: Span) => Span = (x) => x): Span[] {
  return shopSync().map((x) => change({ ...x, traceId: n.toString(16).padStart(32, '0') }));
}

describe('service map from spans', () => {
  it('shop-sync: merchant-api → mq:shop-changed → sync-worker → shop-query, timed by the right side', () => {
    assert.deepEqual(serviceMapFromSpans(shopSync()), {
      nodes: [
        { id: 'merchant-api', kind: 'service', label: 'merchant-api' },
        { id: 'mq:shop-changed', kind: 'queue', label: 'shop-changed' },
        { id: 'shop-query', kind: 'service', label: 'shop-query' },
        { id: 'sync-worker', kind: 'service', label: 'sync-worker' },
      ],
      edges: [
        { from: 'merchant-api', to: 'mq:shop-changed', callCount: 1, errorCount: 0, errorRate: 0, p99Us: 5000 },
        { from: 'mq:shop-changed', to: 'sync-worker', callCount: 1, errorCount: 0, errorRate: 0, p99Us: 200_000 },
        { from: 'sync-worker', to: 'shop-query', callCount: 1, errorCount: 0, errorRate: 0, p99Us: 80_000 },
      ],
    });
  });

  it('counts calls and errors over many traces; p99 is the nearest rank; start records count once', () => {
    const spans: Span[] = [];
    for (let n = 1; n <= 200; n++) {
      spans.push(
        ...shopTrace(n, (x) => {
          if (x.spanId !== ID.queryReceive) return x;
          return { ...x, durationUs: n * 1000, status: { code: n % 10 === 0 ? 'error' : 'unset' } };
        }),
      );
    }
    // Start records of trace 1, stored besides its end records.
    spans.push(...shopTrace(1).map(startRecord));
    const map = serviceMapFromSpans(spans);
    const edge = map.edges.find((e) => e.to === 'shop-query')!;
    assert.deepEqual(edge, { from: 'sync-worker', to: 'shop-query', callCount: 200, errorCount: 20, errorRate: 0.1, p99Us: 198_000 });
    assert.equal(map.edges.find((e) => e.to === 'mq:shop-changed')!.callCount, 200);
  });

  it('a consumer without a parent reaches the queue through its link; messaging.destination.name names the queue', () => {
    const spans = [
      s('1', 'p', undefined, 'orders', 'producer', 1, { attributes: { 'messaging.destination.name': 'order-placed' } }),
      s('2', 'c', undefined, 'billing', 'consumer', 7, { links: [{ traceId: '1'.padStart(32, '0'), spanId: 'p'.padStart(16, '0') }], status: { code: 'error' } }),
    ];
    assert.deepEqual(serviceMapRows(spans), [
      { from: 'mq:order-placed', to: 'billing', callCount: 1, errorCount: 1, p99Us: 7000 },
      { from: 'orders', to: 'mq:order-placed', callCount: 1, errorCount: 0, p99Us: 1000 },
    ]);
  });

  it('a producer nested in an enqueue stage of the same service and queue is one message', () => {
    const stage = { 'linktrace.stage': 'enqueue', 'linktrace.target': 'mq:q' };
    const spans = [
      s('1', 'st', undefined, 'api', 'internal', 3, { attributes: stage }),
      s('1', 'lib', 'st', 'api', 'producer', 2, { attributes: { 'messaging.destination.name': 'q' } }),
      s('1', 'c', 'lib', 'worker', 'internal', 9, { attributes: { 'linktrace.stage': 'dequeue' } }),
    ];
    assert.deepEqual(serviceMapRows(spans), [
      { from: 'api', to: 'mq:q', callCount: 1, errorCount: 0, p99Us: 3000 },
      { from: 'mq:q', to: 'worker', callCount: 1, errorCount: 0, p99Us: 9000 },
    ]);
  });

  it('client → server, Zipkin shared halves, untraced peers; a producer without a queue links services directly', () => {
    const spans = [
      s('1', 'a', undefined, 'web', 'server', 10),
      s('1', 'b', 'a', 'web', 'client', 8),
      s('1', 'c', 'b', 'api', 'server', 6),
      s('1', 'd', 'c', 'api', 'client', 1, { remote: { service: 'mysql' } }),
      // Zipkin: client and server halves share an id.
      s('2', 'z', undefined, 'gateway', 'client', 5),
      s('2', 'z', undefined, 'users', 'server', 4, { shared: true }),
      // A producer without a queue target: producer service → consumer service.
      s('3', 'p', undefined, 'web', 'producer', 1, { remote: { service: 'kafka' } }),
      s('3', 'q', 'p', 'mailer', 'consumer', 2),
      // A client answered by a traced server is no edge to its remote name.
      s('4', 'k', undefined, 'web', 'client', 3, { remote: { service: 'api-alias' } }),
      s('4', 'l', 'k', 'api', 'server', 2),
    ];
    assert.deepEqual(serviceMapRows(spans), [
      { from: 'api', to: 'mysql', callCount: 1, errorCount: 0, p99Us: 1000 },
      { from: 'gateway', to: 'users', callCount: 1, errorCount: 0, p99Us: 4000 },
      { from: 'web', to: 'api', callCount: 2, errorCount: 0, p99Us: 6000 },
      { from: 'web', to: 'mailer', callCount: 1, errorCount: 0, p99Us: 2000 },
    ]);
  });

  it('an open call (start record only) counts but has no duration yet', () => {
    const spans = [s('1', 'a', undefined, 'web', 'client', 1), s('1', 'b', 'a', 'api', 'server', undefined)];
    assert.deepEqual(serviceMapRows(spans), [{ from: 'web', to: 'api', callCount: 1, errorCount: 0, p99Us: 0 }]);
  });

  it('is empty for no spans and skips malformed input', () => {
    assert.deepEqual(serviceMapFromSpans([]), { nodes: [], edges: [] });
    assert.deepEqual(serviceMapRows([null, 'x'] as unknown as Span[]), []);
  });
});

describe('buildServiceMap from store rows', () => {
  it('adds up rows of one pair, computes error rates, drops self edges and empty rows', () => {
    const map = buildServiceMap([
      { from: 'a', to: 'mq:jobs', callCount: 4, errorCount: 1, p99Us: 10 },
      { from: 'a', to: 'mq:jobs', callCount: 4, errorCount: 1, p99Us: 30 },
      { from: 'a', to: 'a', callCount: 9, errorCount: 0, p99Us: 1 },
      { from: 'b', to: 'c', callCount: 0, errorCount: 0, p99Us: 0 },
    ]);
    assert.deepEqual(map, {
      nodes: [
        { id: 'a', kind: 'service', label: 'a' },
        { id: 'mq:jobs', kind: 'queue', label: 'jobs' },
      ],
      edges: [{ from: 'a', to: 'mq:jobs', callCount: 8, errorCount: 2, errorRate: 0.25, p99Us: 30 }],
    });
  });
});
