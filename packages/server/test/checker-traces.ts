/**
 * Shop-sync traces for the checker tests, timed around now: merchant-api → mq:shop-changed →
 * sync-worker → mysql:user_shop, redis:shop_cache, http:shop-query → shop-query → memory:shop_cache.
 */
import { randomBytes } from 'node:crypto';
import type { Attributes, Span, SpanKind } from '@linktrace/model';
import { encodeNativeJson } from '@linktrace/model';
import type { FastifyInstance } from 'fastify';

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

const HOPS: Hop[] = [
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

export const ID = {
  apiEnqueue: 'a000000000000003',
  workerReceive: 'b000000000000001',
  workerMysql: 'b000000000000002',
  workerRedis: 'b000000000000003',
  workerHttp: 'b000000000000004',
  queryReceive: 'c000000000000001',
  queryWrite: 'c000000000000002',
} as const;

export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

/** A healthy trace that started `agoMs` before now. */
export function shopSync(traceId = newTraceId(), agoMs = 1000): Span[] {
  const t0 = (Date.now() - agoMs) * 1000;
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
      startUs: t0 + h.atMs * 1000,
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

/** A second write of the worker's mysql write (same entity version, same target). */
export function duplicateOf(spans: Span[], id: string, newId: string): Span {
  const s = spans.find((x) => x.spanId === id);
  if (s === undefined) throw new Error(`no span ${id}`);
  return { ...s, spanId: newId, startUs: s.startUs + 2000, rpcid: `${s.rpcid}.9`, attributes: { ...s.attributes } };
}

export async function postSpans(app: FastifyInstance, spans: Span[]): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/spans', payload: encodeNativeJson(spans) });
  if (res.statusCode !== 200) throw new Error(`POST /api/v1/spans answered ${res.statusCode}: ${res.body}`);
}

/** Polls `probe` every 25 ms until it returns a value, at most `ms`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
