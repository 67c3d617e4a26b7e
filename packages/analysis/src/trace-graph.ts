/**
 * The shape of one trace as the chain checks walk it: one record per span (a start record and its
 * full record merged, the full one winning), every span attached to at most one parent, no cycles.
 *
 * Parents are found, in this order: by `parentSpanId`; for a span whose parent is absent, by a link
 * to a span of the same trace (a consumer linked to its producer); then by its rpcid (DESIGN §2):
 * the calling half of the same position, else the nearest recorded ancestor position. Input may be
 * malformed (cycles, duplicate ids, missing fields); nothing here throws.
 */
import { isValidRpcid, rpcidParent } from '@linktrace/model';
import type { Span } from '@linktrace/model';
import { spanHost } from './trace-assembly/span-host.js';

export interface TraceGraph {
  /** Merged spans; index i is node i. */
  readonly spans: Span[];
  /** Parent node of each node, -1 for a root. */
  readonly parent: Int32Array;
  /** 1 when a node hangs asynchronously below its parent (a consumer, or attached by a link). */
  readonly async: Uint8Array;
  /** Every node once, each parent before its children. */
  readonly order: Int32Array;
  /** Children of node i: childList[childStart[i] .. childStart[i + 1]). */
  readonly childStart: Int32Array;
  readonly childList: Int32Array;
  /** Earliest start of a consumer span that links to node i (Infinity when none). */
  readonly linkedConsumerUs: Float64Array;
  /** Records that were ignored: not span-shaped, or a second full record of a span already seen. */
  readonly ignored: number;
}

const SHARED_SUFFIX = '\u0000s';

/**
 * The answering half of a Zipkin call: a server span that may share its id with the client span
 * that called it (flagged `shared`, or an older reporter's server span that is not flagged).
 */
export function isAnsweringHalf(span: Span): boolean {
  return span.shared === true || span.kind === 'server';
}

/** Records of one span share a key; an answering half has its own, apart from its client half's. */
function keyOf(span: Span): string {
  return isAnsweringHalf(span) ? span.spanId + SHARED_SUFFIX : span.spanId;
}

/** Who recorded an answering half: in a fan-out each callee records a server span with the caller's id. */
function recorderOf(span: Span): string {
  return `${span.instance ?? ''}\u0000${span.service}`;
}

function isSpanShaped(s: unknown): s is Span {
  return typeof s === 'object' && s !== null && typeof (s as Span).spanId === 'string' && (s as Span).spanId.length > 0;
}

function isReceiving(span: Span): boolean {
  return span.kind === 'server' || span.kind === 'consumer';
}

function isCalling(span: Span): boolean {
  return span.kind === 'client' || span.kind === 'producer';
}

function isConsumerSide(span: Span): boolean {
  if (span.kind === 'consumer') return true;
  const a = span.attributes as Record<string, unknown> | undefined;
  const stage = a?.['linktrace.stage'];
  return stage === 'dequeue' || stage === 'consume';
}

export function buildTraceGraph(input: readonly Span[]): TraceGraph {
  const spans: Span[] = [];
  const byKey = new Map<string, number>();
  // Answering halves by span id, made only when one id has halves from several recorders (fan-out).
  let halves: Map<string, number[]> | undefined;
  let ignored = 0;
  for (let i = 0; i < input.length; i++) {
    const s = input[i];
    if (!isSpanShaped(s)) {
      ignored++;
      continue;
    }
    let key = keyOf(s);
    let at = byKey.get(key);
    if (at !== undefined && isAnsweringHalf(s) && recorderOf(spans[at]!) !== recorderOf(s)) {
      // Another callee's half of the same call: a span of its own, under a key of its own.
      key += recorderOf(s);
      at = byKey.get(key);
      if (at === undefined) {
        halves ??= new Map();
        let list = halves.get(s.spanId);
        if (list === undefined) halves.set(s.spanId, (list = [byKey.get(s.spanId + SHARED_SUFFIX)!]));
        list.push(spans.length);
      }
    }
    if (at === undefined) {
      byKey.set(key, spans.length);
      spans.push(s);
    } else if (spans[at]!.durationUs === undefined && s.durationUs !== undefined) {
      spans[at] = s;
    } else if (s.durationUs !== undefined) {
      ignored++;
    }
  }

  const n = spans.length;
  const parent = new Int32Array(n).fill(-1);
  const async = new Uint8Array(n);
  const linkedConsumerUs = new Float64Array(n).fill(Infinity);
  let rpcidIndex: Map<string, number[]> | undefined;

  for (let i = 0; i < n; i++) {
    const s = spans[i]!;
    let p = -1;
    if (isAnsweringHalf(s)) {
      // Zipkin's server half shares its id with the client half that called it.
      const client = byKey.get(s.spanId);
      if (client !== undefined) p = client;
    }
    if (p < 0 && typeof s.parentSpanId === 'string' && s.parentSpanId !== s.spanId) {
      p = resolveParentId(byKey, halves, spans, s.parentSpanId, s);
    }
    const links = Array.isArray(s.links) ? s.links : undefined;
    if (links !== undefined && links.length > 0) {
      const consumer = isConsumerSide(s);
      for (let l = 0; l < links.length; l++) {
        const link = links[l];
        if (typeof link !== 'object' || link === null || typeof link.spanId !== 'string') continue;
        if (typeof link.traceId === 'string' && link.traceId !== s.traceId) continue;
        const target = byKey.get(link.spanId);
        if (target === undefined || target === i) continue;
        if (consumer && s.startUs < linkedConsumerUs[target]!) linkedConsumerUs[target] = s.startUs;
        if (p < 0) {
          p = target;
          async[i] = 1;
        }
      }
    }
    if (p < 0 && (rpcidOf(s) ?? '0') !== '0') {
      rpcidIndex ??= indexRpcids(spans);
      p = byRpcid(rpcidIndex, spans, i);
    }
    if (p === i) p = -1;
    parent[i] = p;
    if (p >= 0 && isConsumerSide(s)) async[i] = 1;
  }

  breakCycles(parent);

  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) if (parent[i]! >= 0) childStart[parent[i]! + 1]!++;
  for (let i = 0; i < n; i++) childStart[i + 1]! += childStart[i]!;
  const fill = childStart.slice(0, n);
  const childList = new Int32Array(childStart[n]!);
  for (let i = 0; i < n; i++) {
    const p = parent[i]!;
    if (p >= 0) childList[fill[p]!++] = i;
  }
  const order = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) if (parent[i] === -1) order[tail++] = i;
  for (let head = 0; head < tail; head++) {
    const v = order[head]!;
    for (let c = childStart[v]!; c < childStart[v + 1]!; c++) order[tail++] = childList[c]!;
  }
  return { spans, parent, async, order, childStart, childList, linkedConsumerUs, ignored };
}

/**
 * When a parent id names both halves of a Zipkin shared span, a child belongs to the half on its own
 * host, else of its own service (in a fan-out: of its own instance, else service); else to the
 * (first) answering half, which made the calls below it.
 */
function resolveParentId(
  byKey: Map<string, number>,
  halves: Map<string, number[]> | undefined,
  spans: Span[],
  id: string,
  child: Span,
): number {
  const plain = byKey.get(id);
  const half = byKey.get(id + SHARED_SUFFIX);
  if (half === undefined) return plain ?? -1;
  const list = halves?.get(id);
  if (list === undefined) {
    if (plain === undefined) return half;
    if (child.instance !== undefined) {
      // Timed by the same clock: the half recorded on the child's host.
      const host = spanHost(child);
      if (spanHost(spans[half]!) === host) return half;
      if (spanHost(spans[plain]!) === host) return plain;
    }
    return spans[plain]!.service === child.service && spans[half]!.service !== child.service ? plain : half;
  }
  let sameService = -1;
  for (const j of list) {
    const h = spans[j]!;
    if (h.service !== child.service) continue;
    if (child.instance !== undefined && h.instance === child.instance) return j;
    if (sameService < 0) sameService = j;
  }
  if (sameService >= 0) return sameService;
  if (plain !== undefined && spans[plain]!.service === child.service) return plain;
  return list[0]!;
}

/** The native rpcid, else the `linktrace.rpcid` attribute another tracer may have set. */
export function rpcidOf(span: Span): string | undefined {
  if (isValidRpcid(span.rpcid)) return span.rpcid;
  const a = span.attributes as Record<string, unknown> | undefined;
  const r = a?.['linktrace.rpcid'];
  return isValidRpcid(r) ? r : undefined;
}

function indexRpcids(spans: Span[]): Map<string, number[]> {
  const index = new Map<string, number[]>();
  for (let i = 0; i < spans.length; i++) {
    const r = rpcidOf(spans[i]!);
    if (r === undefined) continue;
    const list = index.get(r);
    if (list === undefined) index.set(r, [i]);
    else list.push(i);
  }
  return index;
}

/**
 * Client and server halves of one call share a position; calls made while handling position X sit
 * at X.n. So an orphan receiving half first looks for the calling half of its own position, and any
 * orphan then for the nearest recorded ancestor position, preferring a span of its own service.
 */
function byRpcid(index: Map<string, number[]>, spans: Span[], i: number): number {
  const s = spans[i]!;
  const rpcid = rpcidOf(s) as string;
  if (isReceiving(s)) {
    const same = index.get(rpcid);
    if (same !== undefined) {
      for (const j of same) if (j !== i && isCalling(spans[j]!)) return j;
    }
  }
  for (let pos = rpcidParent(rpcid); pos !== undefined; pos = rpcidParent(pos)) {
    const at = index.get(pos);
    if (at === undefined) continue;
    let best = -1;
    for (const j of at) {
      if (j === i) continue;
      if (spans[j]!.service === s.service) return j;
      if (best < 0 || (isCalling(spans[best]!) && !isCalling(spans[j]!))) best = j;
    }
    if (best >= 0) return best;
  }
  return -1;
}

/** A parent chain that loops is cut where the walk first meets itself; that span becomes a root. */
function breakCycles(parent: Int32Array): void {
  const n = parent.length;
  const state = new Uint8Array(n); // 0 new, 1 on the current walk, 2 settled
  const path: number[] = [];
  for (let i = 0; i < n; i++) {
    if (state[i] !== 0) continue;
    let v = i;
    while (v >= 0 && state[v] === 0) {
      state[v] = 1;
      path.push(v);
      v = parent[v]!;
    }
    if (v >= 0 && state[v] === 1) parent[v] = -1;
    for (const u of path) state[u] = 2;
    path.length = 0;
  }
}
