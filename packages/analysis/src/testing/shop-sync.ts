/**
 * Realistic shop-sync traces, the one copy the analysis chain-check tests and the server checker tests
 * share: merchant-api → mq:shop-changed → sync-worker → mysql:user_shop + redis:shop_cache →
 * http:shop-query → shop-query → memory:shop_cache. Every hop carries its stage, its rpcid and the
 * shop entity; the caller picks the trace id and the start time (a fixed clock or around now).
 */
import type { Attributes, Span, SpanKind } from '@linktrace/model';

export const SHOP = { 'linktrace.entity.type': 'shop', 'linktrace.entity.key': '42', 'linktrace.entity.version': 7 };

interface Hop {
  id: string;
  parent?: string;
  rpcid: string;
  service: string;
  name: string;
  kind: SpanKind;
  atMs: number;
  ms: number;
  stage: string;
  target?: string;
}

const HOPS: readonly Hop[] = [
  { id: 'a000000000000001', rpcid: '0', service: 'merchant-api', name: 'PUT /shops/:id', kind: 'server', atMs: 0, ms: 50, stage: 'receive' },
  { id: 'a000000000000002', parent: 'a000000000000001', rpcid: '0.1', service: 'merchant-api', name: 'UPDATE shop', kind: 'client', atMs: 5, ms: 10, stage: 'write', target: 'mysql:shop' },
  { id: 'a000000000000003', parent: 'a000000000000001', rpcid: '0.2', service: 'merchant-api', name: 'publish shop-changed', kind: 'producer', atMs: 20, ms: 5, stage: 'enqueue', target: 'mq:shop-changed' },
  { id: 'b000000000000001', parent: 'a000000000000003', rpcid: '0.2', service: 'sync-worker', name: 'consume shop-changed', kind: 'consumer', atMs: 100, ms: 200, stage: 'receive' },
  { id: 'b000000000000002', parent: 'b000000000000001', rpcid: '0.2.1', service: 'sync-worker', name: 'INSERT user_shop', kind: 'client', atMs: 110, ms: 20, stage: 'write', target: 'mysql:user_shop' },
  { id: 'b000000000000003', parent: 'b000000000000001', rpcid: '0.2.2', service: 'sync-worker', name: 'SET shop_cache', kind: 'client', atMs: 135, ms: 5, stage: 'write', target: 'redis:shop_cache' },
  { id: 'b000000000000004', parent: 'b000000000000001', rpcid: '0.2.3', service: 'sync-worker', name: 'POST /shops/refresh', kind: 'client', atMs: 145, ms: 100, stage: 'write', target: 'http:shop-query' },
  { id: 'c000000000000001', parent: 'b000000000000004', rpcid: '0.2.3', service: 'shop-query', name: 'POST /shops/refresh', kind: 'server', atMs: 150, ms: 80, stage: 'receive' },
  { id: 'c000000000000002', parent: 'c000000000000001', rpcid: '0.2.3.1', service: 'shop-query', name: 'cache put', kind: 'internal', atMs: 160, ms: 1, stage: 'write', target: 'memory:shop_cache' },
];

/** Span ids by role. */
export const ID = {
  apiReceive: 'a000000000000001',
  apiWrite: 'a000000000000002',
  apiEnqueue: 'a000000000000003',
  workerReceive: 'b000000000000001',
  workerMysql: 'b000000000000002',
  workerRedis: 'b000000000000003',
  workerHttp: 'b000000000000004',
  queryReceive: 'c000000000000001',
  queryWrite: 'c000000000000002',
} as const;

/** A fresh healthy trace that started at `t0Us` (new objects every call, so tests may change them). */
export function shopSyncSpans(traceId: string, t0Us: number): Span[] {
  return HOPS.map((h) => {
    const attributes: Attributes = { 'linktrace.stage': h.stage, ...SHOP };
    if (h.target !== undefined) attributes['linktrace.target'] = h.target;
    const s: Span = {
      traceId,
      spanId: h.id,
      rpcid: h.rpcid,
      service: h.service,
      name: h.name,
      kind: h.kind,
      startUs: t0Us + h.atMs * 1000,
      durationUs: h.ms * 1000,
      status: { code: 'unset' },
      attributes,
      events: [],
      links: [],
    };
    if (h.parent !== undefined) s.parentSpanId = h.parent;
    return s;
  });
}

export function without(spans: Span[], ...ids: string[]): Span[] {
  return spans.filter((s) => !ids.includes(s.spanId));
}

export function byId(spans: Span[], id: string): Span {
  const s = spans.find((x) => x.spanId === id);
  if (s === undefined) throw new Error(`no span ${id}`);
  return s;
}

/** The start record of a span: the same span without its duration. */
export function startRecord(s: Span): Span {
  const copy: Span = { ...s, attributes: { ...s.attributes } };
  delete copy.durationUs;
  return copy;
}
