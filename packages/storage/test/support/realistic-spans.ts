/**
 * Deterministic, realistic data-sync traces for measurements: each trace carries one entity change
 * through 4-13 hops across services (receive → process → write → enqueue → consume → write…), with
 * Linktrace time-prefixed trace ids, random span ids, proper rpcids, one shared resource and scope
 * object per service (as a decoder produces them) and exactly 10 attributes per span.
 */
import { createTraceIdGenerator } from '@linktrace/model';
import type { Attributes, Span, SpanKind } from '@linktrace/model';

const SERVICES = ['gateway', 'shop-api', 'inventory', 'pricing', 'sync-worker', 'search-indexer', 'notifier', 'billing'];
const STAGES = ['receive', 'process', 'write', 'skip', 'enqueue', 'dequeue', 'consume'];
const TYPES = ['shop', 'order', 'product', 'user'];
const TARGETS = ['mysql:shops', 'redis:shop-cache', 'http:inventory', 'mq:shop-events', 'postgres:orders', 'rpc:pricing'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE'];
const CODES = [200, 200, 200, 201, 204, 404, 500];
const KINDS: SpanKind[] = ['server', 'client', 'internal', 'producer', 'consumer'];
const OPS = ['GET /api/shops/:id', 'PUT /api/shops/:id', 'sync shop', 'write mysql', 'publish shop.updated', 'consume shop.updated', 'index shop', 'send email', 'price product', 'reserve stock'];

export interface RealisticOptions {
  /** Spans to make. */
  count: number;
  seed?: number;
  /** µs of the first trace; traces follow at ~`traceGapUs` on average. */
  startUs?: number;
  traceGapUs?: number;
}

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function realisticSpans(opts: RealisticOptions): Span[] {
  return [...realisticSpanStream(opts)];
}

/** The same spans, made one at a time (a measurement then holds only the batch it is writing). */
export function* realisticSpanStream(opts: RealisticOptions): Generator<Span> {
  const rnd = prng(opts.seed ?? 1);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const hex16 = (): string => {
    let o = '';
    for (let i = 0; i < 4; i++) o += Math.floor(rnd() * 0x10000).toString(16).padStart(4, '0');
    return o === '0000000000000000' ? '0000000000000001' : o;
  };
  let nowUs = opts.startUs ?? 1_704_067_200_000_000;
  const gap = opts.traceGapUs ?? 200;
  const nextTraceId = createTraceIdGenerator({ ipv4: '10.0.1.11', port: 8080, clock: { now: () => nowUs / 1000, wallMs: () => nowUs / 1000 } });
  const resources = SERVICES.map((s, i) => ({ 'host.name': `node-${i}`, 'service.version': `1.${i}.0`, 'deployment.environment': 'prod' }));
  const scope = { name: '@linktrace/sdk', version: '0.1.0' };
  let made = 0;
  while (made < opts.count) {
    nowUs += Math.floor(rnd() * 2 * gap);
    const traceId = nextTraceId();
    const hops = 4 + Math.floor(rnd() * 10);
    const type = pick(TYPES);
    const key = String(Math.floor(rnd() * 100_000));
    const version = 1 + Math.floor(rnd() * 50);
    const ids: string[] = [];
    const rpcids: string[] = [];
    const childCount: number[] = [];
    for (let i = 0; i < hops && made < opts.count; i++, made++) {
      const parent = i === 0 ? -1 : Math.floor(rnd() * i);
      const id = hex16();
      ids.push(id);
      childCount.push(0);
      rpcids.push(parent < 0 ? '0' : `${rpcids[parent]}.${++childCount[parent]!}`);
      const svc = (i + Math.floor(rnd() * 2)) % SERVICES.length;
      const attributes: Attributes = {
        'linktrace.stage': pick(STAGES),
        'linktrace.entity.type': type,
        'linktrace.entity.key': key,
        'linktrace.entity.version': version,
        'linktrace.target': pick(TARGETS),
        'http.method': pick(METHODS),
        'http.route': `/api/${type}s/:id`,
        'http.status_code': pick(CODES),
        'server.address': `10.0.${svc}.${11 + (i % 3)}`,
        'url.path': `/api/${type}s/${key}`,
      };
      const s: Span = {
        traceId,
        spanId: id,
        rpcid: rpcids[i]!,
        service: SERVICES[svc]!,
        instance: `10.0.${svc}.11:8080`,
        name: pick(OPS),
        kind: i === 0 ? 'server' : pick(KINDS),
        startUs: nowUs + i * 150 + Math.floor(rnd() * 100),
        durationUs: Math.floor(Math.exp(rnd() * 10)),
        status: { code: rnd() < 0.02 ? 'error' : 'unset' },
        attributes,
        events: [],
        links: [],
        resource: resources[svc]!,
        scope,
      };
      if (parent >= 0) s.parentSpanId = ids[parent]!;
      yield s;
    }
  }
}
