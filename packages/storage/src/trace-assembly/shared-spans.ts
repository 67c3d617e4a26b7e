/**
 * Zipkin's shared spans: the client half (caller) and the server half (callee) of one call carry the
 * same span id. For display they are one hop; both raw spans stay available on the hop.
 */
import type { Span, SpanStatus } from '@linktrace/model';
import { isSharedPair } from './parent-index.js';

export interface Hop {
  /** What to show: the span itself, or the two halves merged. */
  span: Span;
  /** Present when `span` merges a shared pair: the raw halves as stored. */
  halves?: { client: Span; server: Span };
}

/**
 * One hop per span, except that a client span and the server span sharing its id become one hop.
 * Input order is kept (a merged hop takes the place of its first half).
 */
export function mergeSharedSpans(spans: readonly Span[]): Hop[] {
  const clients = new Map<string, number>();
  spans.forEach((s, i) => {
    if (s.kind === 'client' && !clients.has(s.spanId)) clients.set(s.spanId, i);
  });
  const partnerOf = new Map<number, number>();
  spans.forEach((s, i) => {
    if (s.kind !== 'server') return;
    const c = clients.get(s.spanId);
    if (c !== undefined && !partnerOf.has(c) && isSharedPair(spans[c]!, s)) {
      partnerOf.set(c, i);
      partnerOf.set(i, c);
    }
  });
  const hops: Hop[] = [];
  spans.forEach((s, i) => {
    const other = partnerOf.get(i);
    if (other === undefined) hops.push({ span: s });
    else if (other > i) {
      const [client, server] = s.kind === 'client' ? [s, spans[other]!] : [spans[other]!, s];
      hops.push({ span: mergeHalves(client, server), halves: { client, server } });
    }
  });
  return hops;
}

function mergedStatus(a: SpanStatus, b: SpanStatus): SpanStatus {
  if (b.code === 'error') return b;
  if (a.code === 'error') return a;
  return b.code === 'ok' ? b : a;
}

/**
 * The server half as the hop (its service handled the call, its children hang under it), timed by
 * the client half when that one is complete (the caller saw the whole call, network included), with
 * the client's service as the remote peer. Attributes merge, the server's winning; events of both.
 */
export function mergeHalves(client: Span, server: Span): Span {
  const timed = client.durationUs !== undefined ? client : server;
  const merged: Span = {
    ...server,
    startUs: timed.startUs,
    status: mergedStatus(client.status, server.status),
    attributes: { ...client.attributes, ...server.attributes },
    events: [...client.events, ...server.events].sort((a, b) => a.timeUs - b.timeUs),
    links: [...client.links, ...server.links],
    remote: server.remote ?? { service: client.service },
    shared: true,
  };
  if (timed.durationUs !== undefined) merged.durationUs = timed.durationUs;
  else delete merged.durationUs;
  const parent = client.parentSpanId ?? server.parentSpanId;
  if (parent !== undefined) merged.parentSpanId = parent;
  const rpcid = server.rpcid ?? client.rpcid;
  if (rpcid !== undefined) merged.rpcid = rpcid;
  return merged;
}
