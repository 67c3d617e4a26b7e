/**
 * Dependency edges of stored spans, found incrementally for RED metrics, by the rules of the service
 * map (analysis/src/topology.ts: producer → queue, queue → consumer, caller → callee, a consumer
 * linked to a queueless producer, a call nobody traced answered → its peer's name).
 *
 * Those rules read a span's parent, links and callees, which may arrive in later batches (children
 * usually end, and are exported, before their parents). A span whose parent or links are not known
 * yet, or whose edge depends on nobody answering it, waits: until its parent arrives, or at most
 * `graceMs` (or until `maxWaiting` spans wait), and is then decided with what is known. Known spans are remembered in a bounded,
 * oldest-first directory (`maxNodes`).
 */
import { isStartRecord, type Span } from '@linktrace/model';
import { isConsumerLike, queueOf } from '@linktrace/analysis';

/** What is known of a span id: `service` undefined for an id only seen as a parent or link so far. */
interface NodeInfo {
  traceId: string;
  service: string | undefined;
  kind: Span['kind'] | undefined;
  queue: string | undefined;
  /** The service of the client half of a shared (Zipkin) id. */
  clientService: string | undefined;
  /** The service of a span of another service this id called (a child, or a server half), or true (several, or a link to it). */
  answeredBy: string | true | undefined;
}

interface Waiting {
  span: Span;
  due: number;
  /** Decided before its time (its parent arrived). */
  done: boolean;
}

export interface EdgeFinderOptions {
  graceMs: number;
  maxNodes: number;
  maxWaiting: number;
}

// About 200 bytes a known id and 1–2 KiB a waiting span (it holds the span): ~100 MB at most together.
export const DEFAULT_EDGE_OPTIONS: EdgeFinderOptions = { graceMs: 30_000, maxNodes: 200_000, maxWaiting: 50_000 };
/** Estimated heap bytes of a known id and of a waiting span (counted for --max-memory, never measured). */
export const NODE_BYTES = 200;
export const WAITING_BYTES = 1536;

/**
 * The directory and waiting bounds that keep the edge finder within `bytes` (two thirds for ids, a
 * third for waiting spans), never above the defaults: a small --max-memory shrinks them, so the edge
 * finder stays inside its part of the budget by construction (it gives nothing back otherwise).
 */
export function edgeBoundsWithin(bytes: number): Pick<EdgeFinderOptions, 'maxNodes' | 'maxWaiting'> {
  return {
    maxNodes: Math.max(10, Math.min(DEFAULT_EDGE_OPTIONS.maxNodes, Math.floor((bytes * 2) / 3 / NODE_BYTES))),
    maxWaiting: Math.max(1, Math.min(DEFAULT_EDGE_OPTIONS.maxWaiting, Math.floor(bytes / 3 / WAITING_BYTES))),
  };
}

export class EdgeFinder {
  /**
   * By span id alone (random 64 bits, so ids of different traces practically never meet; the trace
   * id is checked): no key string is built per span.
   */
  private readonly nodes = new Map<string, NodeInfo>();
  private waiting: Waiting[] = [];
  /** Waiting spans by the id of the parent they wait for: its arrival decides them at once. */
  private readonly byParent = new Map<string, Waiting[]>();
  private head = 0;

  constructor(
    private readonly emit: (from: string, to: string, span: Span) => void,
    private readonly clock: () => number,
    private readonly options: EdgeFinderOptions = DEFAULT_EDGE_OPTIONS,
    /**
     * False while RED's share of the memory budget is full: a span is then decided at once with what
     * is known instead of waiting (holding it) for its parent or callee.
     */
    private readonly mayHold: () => boolean = () => true,
  ) {}

  /** Estimated heap bytes held: the id directory and the waiting spans. */
  get bytes(): number {
    return this.nodes.size * NODE_BYTES + this.waitingSpans * WAITING_BYTES;
  }

  observe(spans: readonly Span[]): void {
    // Every span is known before any is decided: a batch often holds parent and child together.
    for (const s of spans) this.remember(s);
    const now = this.clock();
    const hold = this.mayHold();
    for (const s of spans) {
      if (isStartRecord(s) || this.decide(s, !hold)) continue;
      const w: Waiting = { span: s, due: now + this.options.graceMs, done: false };
      this.waiting.push(w);
      const parent = s.parentSpanId;
      if (parent !== undefined && this.node(s.traceId, parent) === undefined) {
        const list = this.byParent.get(parent);
        if (list === undefined) this.byParent.set(parent, [w]);
        else list.push(w);
      }
    }
    // Spans of earlier batches that waited for a parent in this one.
    for (const s of spans) {
      const list = this.byParent.get(s.spanId);
      if (list === undefined) continue;
      this.byParent.delete(s.spanId);
      for (const w of list) if (!w.done && this.decide(w.span, false)) w.done = true;
    }
    this.settle(now);
  }

  /** Decides the spans whose wait is over (or that overflow `maxWaiting`). */
  settle(now = this.clock()): void {
    const w = this.waiting;
    while (this.head < w.length && (w[this.head]!.due <= now || w.length - this.head > this.options.maxWaiting)) {
      const entry = w[this.head]!;
      w[this.head++] = undefined as never;
      if (entry.done) continue;
      this.decide(entry.span, true);
      if (entry.span.parentSpanId !== undefined) this.byParent.delete(entry.span.parentSpanId);
    }
    if (this.head > 1024 && this.head * 2 > w.length) {
      this.waiting = w.slice(this.head);
      this.head = 0;
    }
  }

  get waitingSpans(): number {
    return this.waiting.length - this.head;
  }

  /** A known span (not a placeholder) by id. */
  private node(traceId: string, spanId: string): (NodeInfo & { service: string }) | undefined {
    const n = this.nodes.get(spanId);
    return n?.service === undefined || n.traceId !== traceId ? undefined : (n as NodeInfo & { service: string });
  }

  private entry(traceId: string, spanId: string): NodeInfo {
    let n = this.nodes.get(spanId);
    if (n === undefined || n.traceId !== traceId) {
      if (n !== undefined) this.nodes.delete(spanId);
      this.nodes.set(spanId, (n = { traceId, service: undefined, kind: undefined, queue: undefined, clientService: undefined, answeredBy: undefined }));
      if (this.nodes.size > this.options.maxNodes) this.evictOldest();
    }
    return n;
  }

  private remember(s: Span): void {
    const n = this.entry(s.traceId, s.spanId);
    if (n.service === undefined || (s.kind === 'server' && n.kind !== 'server')) {
      n.service = s.service;
      n.kind = s.kind;
      n.queue = queueOf(s);
    }
    if (s.kind === 'client') n.clientService = s.service;
    if (s.kind === 'server') answer(n, s.service);
    if (s.parentSpanId !== undefined) answer(this.entry(s.traceId, s.parentSpanId), s.service);
    for (const l of s.links) this.entry(l.traceId, l.spanId).answeredBy = true;
  }

  /**
   * Drops the oldest tenth in one pass: deleting one key at a time from a Map's front makes each
   * next `keys()` walk over the deleted slots (quadratic: 140 µs/span at 5 M spans).
   */
  private evictOldest(): void {
    let n = Math.max(1, Math.floor(this.options.maxNodes / 10));
    for (const key of this.nodes.keys()) {
      this.nodes.delete(key);
      if (--n === 0) return;
    }
  }

  /** Emits the span's edges; false (nothing emitted) when it should wait for more spans. */
  private decide(s: Span, final: boolean): boolean {
    const parent = s.parentSpanId === undefined ? undefined : this.node(s.traceId, s.parentSpanId);
    const queue = queueOf(s);
    const remote = s.remote?.service;
    const peerEdge = (s.kind === 'client' || s.kind === 'producer') && queue === undefined && typeof remote === 'string' && remote !== '' && remote !== s.service;
    if (!final) {
      if (s.parentSpanId !== undefined && parent === undefined) return false;
      if (s.links.length > 0 && (s.kind === 'consumer' || isConsumerLike(s)) && s.links.some((l) => this.node(l.traceId, l.spanId) === undefined)) return false;
      if (s.kind === 'server' && s.shared === true && this.node(s.traceId, s.spanId)?.clientService === undefined) return false;
      // Whether anybody answered a call is only known once its callee had time to arrive.
      if (peerEdge) return false;
    }
    if (queue !== undefined && !(parent !== undefined && parent.service === s.service && parent.queue === queue)) this.emit(s.service, queue, s);

    if (isConsumerLike(s)) {
      const queues = new Set<string>();
      if (parent?.queue !== undefined) queues.add(parent.queue);
      for (const l of s.links) {
        const lq = this.node(l.traceId, l.spanId)?.queue;
        if (lq !== undefined) queues.add(lq);
      }
      if (queues.size > 0) {
        for (const q of queues) this.emit(q, s.service, s);
        return true;
      }
    }

    const half = s.kind === 'server' ? this.node(s.traceId, s.spanId)?.clientService : undefined;
    const caller = half ?? parent?.service;
    if (caller !== undefined && caller !== s.service) this.emit(caller, s.service, s);

    if (s.kind === 'consumer') {
      const done = new Set<string>();
      for (const l of s.links) {
        if (l.traceId === s.traceId && l.spanId === s.parentSpanId) continue;
        const p = this.node(l.traceId, l.spanId);
        if (p === undefined || p.kind !== 'producer' || p.service === s.service || done.has(p.service)) continue;
        done.add(p.service);
        this.emit(p.service, s.service, s);
      }
    }

    if (peerEdge) {
      const by = this.node(s.traceId, s.spanId)?.answeredBy;
      if (by === undefined || by === s.service) this.emit(s.service, remote, s);
    }
    return true;
  }
}

function answer(n: NodeInfo, by: string): void {
  if (n.answeredBy === undefined) n.answeredBy = by;
  else if (n.answeredBy !== by) n.answeredBy = true;
}
