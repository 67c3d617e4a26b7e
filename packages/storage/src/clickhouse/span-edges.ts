/**
 * Service dependencies and service-map edges computed from the span records that start in a
 * window: the rules of `DependencyLink` and `ServiceMapRow` (types.ts), applied exactly as the
 * embedded store's SQL applies them (embedded/query-sql.ts DEPENDENCIES_SQL, service-map-sql.ts),
 * but in JS: ClickHouse 18.16's joins (one JOIN per SELECT, USING only) cannot express them, so the
 * store reads the window's records (a range of the partitions) and the edges are built here.
 */
import type { Span } from '@linktrace/model';
import type { DependencyLink, ServiceMapRow } from '../types.js';
import { attributeText, KIND_CODE, STATUS_NUMBER, traceKey } from './span-record.js';

const SERVER = 1;
const CLIENT = 2;
const PRODUCER = 3;
const CONSUMER = 4;

/** The records of one (trace, span id, kind, service): a start record and its end record count once. */
interface Group {
  tid: string;
  sid: string;
  kind: number;
  service: string;
  pid: string | undefined;
  status: number;
  dur: number | undefined;
  remote: string | undefined;
  stage: string | undefined;
  target: string | undefined;
  dest: string | undefined;
  links: Set<string>;
  consuming: boolean;
  queue: string | undefined;
  /** Inferred from access logs (`linktrace.inferred`): its service-map edge is a row of its own. */
  inferred: boolean;
}

const ref = (tid: string, sid: string): string => `${tid}\n${sid}`;

function attr(span: Span, key: string): string | undefined {
  const v = span.attributes[key];
  return v === undefined ? undefined : attributeText(v);
}

function groupRecords(records: readonly Span[]): Group[] {
  const groups = new Map<string, Group>();
  for (const r of records) {
    const tid = traceKey(r.traceId);
    const key = `${tid}\n${r.spanId}\n${r.kind}\n${r.service}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = {
        tid, sid: r.spanId, kind: KIND_CODE[r.kind], service: r.service, pid: undefined, status: 0, dur: undefined,
        remote: undefined, stage: undefined, target: undefined, dest: undefined, links: new Set(), consuming: false, queue: undefined, inferred: false,
      };
      groups.set(key, g);
    }
    g.pid ??= r.parentSpanId;
    g.status = Math.max(g.status, STATUS_NUMBER[r.status.code]);
    if (r.durationUs !== undefined) g.dur = Math.max(g.dur ?? -Infinity, r.durationUs);
    g.remote ??= r.remote?.service;
    g.stage ??= attr(r, 'linktrace.stage');
    g.target ??= attr(r, 'linktrace.target');
    g.dest ??= attr(r, 'messaging.destination.name');
    if (attr(r, 'linktrace.inferred') === 'true') g.inferred = true;
    for (const l of r.links) g.links.add(ref(traceKey(l.traceId), l.spanId));
  }
  for (const g of groups.values()) {
    g.consuming = g.kind === CONSUMER || g.stage === 'dequeue' || g.stage === 'consume';
    const producing = g.kind === PRODUCER || g.stage === 'enqueue';
    if (producing) {
      if (g.target !== undefined) g.queue = g.target.startsWith('mq:') && g.target.length > 3 ? g.target : undefined;
      else if (g.dest !== undefined && g.dest !== '') g.queue = `mq:${g.dest}`;
    }
  }
  return [...groups.values()];
}

/** What the other queries join on: per (trace, span id) the node (server half preferred), client halves, callees, link targets. */
class Index {
  readonly node = new Map<string, Group>();
  readonly clientOf = new Map<string, string>();
  readonly callees = new Map<string, Set<string>>();
  readonly linked = new Set<string>();

  constructor(groups: readonly Group[]) {
    for (const g of groups) {
      const at = ref(g.tid, g.sid);
      const n = this.node.get(at);
      if (n === undefined || (n.kind !== SERVER && g.kind === SERVER)) this.node.set(at, g);
      if (g.kind === CLIENT && !this.clientOf.has(at)) this.clientOf.set(at, g.service);
      if (g.pid !== undefined) this.addCallee(ref(g.tid, g.pid), g.service);
      if (g.kind === SERVER) this.addCallee(at, g.service);
      for (const l of g.links) this.linked.add(l);
    }
  }

  private addCallee(at: string, service: string): void {
    let set = this.callees.get(at);
    if (set === undefined) this.callees.set(at, (set = new Set()));
    set.add(service);
  }

  parent(g: Group): Group | undefined {
    return g.pid === undefined ? undefined : this.node.get(ref(g.tid, g.pid));
  }

  /** The caller's service: a shared server half's client half, else the parent's node. */
  caller(g: Group): string | undefined {
    return (g.kind === SERVER ? this.clientOf.get(ref(g.tid, g.sid)) : undefined) ?? this.parent(g)?.service;
  }

  /** A client or producer no traced service answered (no callee of another service, no consumer linked to it). */
  unanswered(g: Group): boolean {
    const at = ref(g.tid, g.sid);
    for (const s of this.callees.get(at) ?? []) if (s !== g.service) return false;
    return !this.linked.has(at);
  }

  /** Producers `g` links to (not the link that is also its parent), in another service. */
  *linkedProducers(g: Group): Generator<Group> {
    for (const l of g.links) {
      const p = this.node.get(l);
      if (p === undefined || p.kind !== PRODUCER || p.service === g.service) continue;
      if (g.pid !== undefined && l === ref(g.tid, g.pid)) continue;
      yield p;
    }
  }
}

interface Edge {
  from: string;
  to: string;
  inferred: boolean;
  calls: number;
  errors: number;
  durs: number[];
}

class Edges {
  private readonly map = new Map<string, Edge>();

  /** `splitInferred`: the service map keeps inferred calls apart; dependencies add them up. */
  constructor(private readonly splitInferred = false) {}

  add(from: string | undefined, to: string | undefined, g: Group): void {
    if (from === undefined || to === undefined || from === to) return;
    const inferred = this.splitInferred && g.inferred;
    const key = `${from}\n${to}\n${inferred}`;
    let e = this.map.get(key);
    if (e === undefined) this.map.set(key, (e = { from, to, inferred, calls: 0, errors: 0, durs: [] }));
    e.calls++;
    if (g.status === STATUS_NUMBER.error) e.errors++;
    if (g.dur !== undefined) e.durs.push(g.dur);
  }

  sorted(): Edge[] {
    return [...this.map.values()].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : Number(a.inferred) - Number(b.inferred)));
  }
}

/** Nearest-rank quantile of `values` (0 when empty). */
function nearestRank(values: number[], q: number): number {
  if (values.length === 0) return 0;
  values.sort((a, b) => a - b);
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))]!;
}

export function dependencyLinks(records: readonly Span[]): DependencyLink[] {
  const groups = groupRecords(records);
  const ix = new Index(groups);
  const edges = new Edges();
  for (const c of groups) {
    edges.add(ix.caller(c), c.service, c);
    if (c.kind === CONSUMER) for (const p of ix.linkedProducers(c)) edges.add(p.service, c.service, c);
    if ((c.kind === CLIENT || c.kind === PRODUCER) && c.remote !== undefined && ix.unanswered(c)) edges.add(c.service, c.remote, c);
  }
  return edges.sorted().map((e) => ({ parent: e.from, child: e.to, callCount: e.calls, errorCount: e.errors }));
}

export function serviceMapEdges(records: readonly Span[]): ServiceMapRow[] {
  const groups = groupRecords(records);
  const ix = new Index(groups);
  const edges = new Edges(true);
  for (const c of groups) {
    // producer → queue (the outermost producer of a message)
    if (c.queue !== undefined) {
      const p = ix.parent(c);
      if (!(p !== undefined && p.service === c.service && p.queue === c.queue)) edges.add(c.service, c.queue, c);
    }
    // queue → consumer, through the parent or a link (each queue once per consumer)
    const queues = new Set<string>();
    if (c.consuming) {
      const p = ix.parent(c);
      if (p?.queue !== undefined) queues.add(p.queue);
      for (const l of c.links) {
        const q = ix.node.get(l)?.queue;
        if (q !== undefined) queues.add(q);
      }
      for (const q of queues) edges.add(q, c.service, c);
    }
    if (queues.size === 0) {
      // caller → callee, and a consumer linked to producers that name no queue (each producer service once)
      edges.add(ix.caller(c), c.service, c);
      if (c.kind === CONSUMER) for (const s of new Set([...ix.linkedProducers(c)].map((p) => p.service))) edges.add(s, c.service, c);
    }
    // a client or producer that no traced service answered: its peer's name
    if ((c.kind === CLIENT || c.kind === PRODUCER) && c.queue === undefined && c.remote !== undefined && c.remote !== '' && ix.unanswered(c)) {
      edges.add(c.service, c.remote, c);
    }
  }
  return edges.sorted().map((e) => ({ from: e.from, to: e.to, callCount: e.calls, errorCount: e.errors, p99Us: nearestRank(e.durs, 0.99), ...(e.inferred ? { inferred: true as const } : {}) }));
}
