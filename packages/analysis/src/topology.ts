/**
 * The service map (topology): services and queues as nodes, calls between them as edges with call
 * and error counts and the p99 duration.
 *
 * - A producer span (kind producer, or stage `enqueue`) whose target is a queue, `mq:<name>` in
 *   `linktrace.target` (or `messaging.destination.name` when there is no target), is an edge
 *   producer service → queue node `mq:<name>`, timed by the producer span. A producer nested in a
 *   producer of the same service and queue (a stage span around a client library's span) is the
 *   same message: only the outer one counts.
 * - A consumer span (kind consumer, or stage `dequeue`/`consume`) whose parent or link is such a
 *   producer is an edge queue → consumer service, timed by the consumer span.
 * - Any other span whose parent belongs to another service is an edge parent service → its service
 *   (a Zipkin shared server half is called by its client half), timed by the callee side; a consumer
 *   linked to a producer without a queue likewise. A client or producer span whose peer was not
 *   traced (nobody answered it, nobody links to it) is an edge to `remote.service`, timed by itself.
 *
 * Calls whose timed span was inferred from access logs (`linktrace.inferred` = true) are edges of
 * their own (`inferred`), beside any recorded calls between the same two nodes.
 *
 * Start and end records of one span count once. Queue ids carry the `mq:` prefix; any other id is a
 * service. Stores return edges already aggregated (`EdgeRow`); `serviceMapRows` computes the same
 * rows from spans, for backends without SQL and as the reference the stores are tested against.
 */
import type { Span } from '@linktrace/model';

export type ServiceMapNodeKind = 'service' | 'queue';

export interface ServiceMapNode {
  /** The service name, or `mq:<name>` for a queue. */
  id: string;
  kind: ServiceMapNodeKind;
  /** What to show: the service name, or the queue name without its scheme. */
  label: string;
}

export interface ServiceMapEdge {
  from: string;
  to: string;
  callCount: number;
  errorCount: number;
  /** errorCount / callCount. */
  errorRate: number;
  /** p99 (nearest rank) of the timed side's durations, µs; 0 when no call has ended yet. */
  p99Us: number;
  /** Calls inferred from access logs (docs/inference.md), drawn apart from recorded ones. */
  inferred?: true;
}

export interface ServiceMap {
  /** Sorted by id. */
  nodes: ServiceMapNode[];
  /** Sorted by from, then to. */
  edges: ServiceMapEdge[];
}

/** One aggregated edge, as a store's `serviceMapRows` returns it. */
export interface EdgeRow {
  from: string;
  to: string;
  callCount: number;
  errorCount: number;
  p99Us: number;
  /** The timed spans of these calls were inferred (`linktrace.inferred` = true): a row of its own. */
  inferred?: true;
}

export const QUEUE_PREFIX = 'mq:';

export function isQueueId(id: string): boolean {
  return id.startsWith(QUEUE_PREFIX) && id.length > QUEUE_PREFIX.length;
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Nodes and edges from aggregated rows (rows for the same pair are added up; their p99 is the larger). */
export function buildServiceMap(rows: readonly EdgeRow[]): ServiceMap {
  const edges = new Map<string, ServiceMapEdge>();
  const nodes = new Map<string, ServiceMapNode>();
  const node = (id: string): void => {
    if (nodes.has(id)) return;
    const queue = isQueueId(id);
    nodes.set(id, { id, kind: queue ? 'queue' : 'service', label: queue ? id.slice(QUEUE_PREFIX.length) : id });
  };
  for (const r of rows) {
    if (r.from === r.to || r.callCount <= 0) continue;
    node(r.from);
    node(r.to);
    const key = `${r.from}\u0000${r.to}\u0000${r.inferred === true}`;
    const e = edges.get(key);
    if (e === undefined) {
      edges.set(key, { from: r.from, to: r.to, callCount: r.callCount, errorCount: r.errorCount, errorRate: 0, p99Us: r.p99Us, ...(r.inferred === true ? { inferred: true as const } : {}) });
    } else {
      e.callCount += r.callCount;
      e.errorCount += r.errorCount;
      e.p99Us = Math.max(e.p99Us, r.p99Us);
    }
  }
  const list = [...edges.values()].sort((a, b) => byText(a.from, b.from) || byText(a.to, b.to) || Number(a.inferred ?? false) - Number(b.inferred ?? false));
  for (const e of list) e.errorRate = e.errorCount / e.callCount;
  return { nodes: [...nodes.values()].sort((a, b) => byText(a.id, b.id)), edges: list };
}

export function serviceMapFromSpans(spans: readonly Span[]): ServiceMap {
  return buildServiceMap(serviceMapRows(spans));
}

function attr(span: Span, key: string): unknown {
  const a = (span as { attributes?: unknown }).attributes;
  return typeof a === 'object' && a !== null ? (a as Record<string, unknown>)[key] : undefined;
}

export function isProducerLike(s: Span): boolean {
  return s.kind === 'producer' || attr(s, 'linktrace.stage') === 'enqueue';
}

export function isConsumerLike(s: Span): boolean {
  const stage = attr(s, 'linktrace.stage');
  return s.kind === 'consumer' || stage === 'dequeue' || stage === 'consume';
}

/** The queue a producer-like span hands its message to, if any. */
export function queueOf(s: Span): string | undefined {
  if (!isProducerLike(s)) return undefined;
  const target = attr(s, 'linktrace.target');
  if (typeof target === 'string') return isQueueId(target) ? target : undefined;
  const dest = attr(s, 'messaging.destination.name');
  return typeof dest === 'string' && dest !== '' ? QUEUE_PREFIX + dest : undefined;
}

interface Tally {
  calls: number;
  errors: number;
  durations: number[];
}

/** Aggregated edges of the given spans (any number of traces; start records merged with their end records). */
export function serviceMapRows(input: readonly Span[]): EdgeRow[] {
  // One record per (trace, span id, kind, service), the full record winning over a start record.
  const records = new Map<string, Span>();
  for (const s of Array.isArray(input) ? input : []) {
    if (typeof s !== 'object' || s === null || typeof s.spanId !== 'string' || typeof s.service !== 'string') continue;
    const key = `${s.traceId}/${s.spanId}/${s.kind}/${s.service}`;
    const old = records.get(key);
    if (old === undefined || (old.durationUs === undefined && s.durationUs !== undefined)) records.set(key, s);
  }
  // Per (trace, span id): the server half of a shared id made the calls below it; its client half called it.
  const node = new Map<string, Span>();
  const clientHalf = new Map<string, Span>();
  const calledBy = new Map<string, Set<string>>();
  const linkedTo = new Set<string>();
  for (const s of records.values()) {
    const id = `${s.traceId}/${s.spanId}`;
    const held = node.get(id);
    if (held === undefined || (s.kind === 'server' && held.kind !== 'server')) node.set(id, s);
    if (s.kind === 'client') clientHalf.set(id, s);
  }
  for (const s of records.values()) {
    if (typeof s.parentSpanId === 'string') {
      const id = `${s.traceId}/${s.parentSpanId}`;
      let set = calledBy.get(id);
      if (set === undefined) calledBy.set(id, (set = new Set()));
      set.add(s.service);
    }
    if (s.kind === 'server') {
      const id = `${s.traceId}/${s.spanId}`;
      let set = calledBy.get(id);
      if (set === undefined) calledBy.set(id, (set = new Set()));
      set.add(s.service);
    }
    for (const l of Array.isArray(s.links) ? s.links : []) linkedTo.add(`${l.traceId}/${l.spanId}`);
  }

  const tallies = new Map<string, Tally & { from: string; to: string; inferred: boolean }>();
  const add = (from: string, to: string, s: Span): void => {
    const inferred = attr(s, 'linktrace.inferred') === true || attr(s, 'linktrace.inferred') === 'true';
    const key = `${from}\u0000${to}\u0000${inferred}`;
    let t = tallies.get(key);
    if (t === undefined) tallies.set(key, (t = { from, to, inferred, calls: 0, errors: 0, durations: [] }));
    t.calls++;
    if (s.status?.code === 'error') t.errors++;
    if (typeof s.durationUs === 'number' && Number.isFinite(s.durationUs)) t.durations.push(s.durationUs);
  };

  for (const s of records.values()) {
    const parent = typeof s.parentSpanId === 'string' ? node.get(`${s.traceId}/${s.parentSpanId}`) : undefined;
    const queue = queueOf(s);
    if (queue !== undefined && !(parent !== undefined && parent.service === s.service && queueOf(parent) === queue)) add(s.service, queue, s);

    if (isConsumerLike(s)) {
      const queues = new Set<string>();
      const pq = parent === undefined ? undefined : queueOf(parent);
      if (pq !== undefined) queues.add(pq);
      for (const l of Array.isArray(s.links) ? s.links : []) {
        const p = node.get(`${l.traceId}/${l.spanId}`);
        const lq = p === undefined ? undefined : queueOf(p);
        if (lq !== undefined) queues.add(lq);
      }
      if (queues.size > 0) {
        for (const q of queues) add(q, s.service, s);
        continue;
      }
    }

    const half = s.kind === 'server' ? clientHalf.get(`${s.traceId}/${s.spanId}`) : undefined;
    const caller = half?.service ?? parent?.service;
    if (caller !== undefined && caller !== s.service) add(caller, s.service, s);

    if (s.kind === 'consumer') {
      const done = new Set<string>();
      for (const l of Array.isArray(s.links) ? s.links : []) {
        if (l.traceId === s.traceId && l.spanId === s.parentSpanId) continue;
        const p = node.get(`${l.traceId}/${l.spanId}`);
        if (p === undefined || p.kind !== 'producer' || p.service === s.service || done.has(p.service)) continue;
        done.add(p.service);
        add(p.service, s.service, s);
      }
    }

    const remote = s.remote?.service;
    if ((s.kind === 'client' || s.kind === 'producer') && queue === undefined && typeof remote === 'string' && remote !== '' && remote !== s.service) {
      const id = `${s.traceId}/${s.spanId}`;
      const callees = calledBy.get(id);
      const answered = callees !== undefined && [...callees].some((svc) => svc !== s.service);
      if (!answered && !linkedTo.has(id)) add(s.service, remote, s);
    }
  }

  const rows: EdgeRow[] = [];
  for (const t of tallies.values()) {
    t.durations.sort((a, b) => a - b);
    const n = t.durations.length;
    const p99Us = n === 0 ? 0 : t.durations[Math.min(n - 1, Math.max(0, Math.ceil(0.99 * n) - 1))]!;
    rows.push({ from: t.from, to: t.to, callCount: t.calls, errorCount: t.errors, p99Us, ...(t.inferred ? { inferred: true as const } : {}) });
  }
  return rows.sort((a, b) => byText(a.from, b.from) || byText(a.to, b.to) || Number(a.inferred ?? false) - Number(b.inferred ?? false));
}
