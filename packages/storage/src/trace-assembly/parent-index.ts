/**
 * Who is whose parent inside one trace, by index. Zipkin's shared spans make this more than a map
 * lookup: a client span and the server span answering it carry the same span id. The server half's
 * parent is the client half (the call crossed the network there), and the children of that id hang
 * under the server half (the server made those calls), unless a child runs on the client's host.
 */
import type { Span } from '@linktrace/model';
import { spanHost } from './span-host.js';

/** True when `server` is the answering half of `client`'s call (same trace and span id). */
export function isSharedPair(client: Span, server: Span): boolean {
  return client.kind === 'client' && server.kind === 'server' && client.spanId === server.spanId && client.traceId === server.traceId;
}

/** `parents[i]` is the index of span i's parent in `spans`, or -1 for a root or a missing parent. */
export function parentIndexes(spans: readonly Span[]): number[] {
  const byId = new Map<string, number[]>();
  spans.forEach((s, i) => {
    const list = byId.get(s.spanId);
    if (list === undefined) byId.set(s.spanId, [i]);
    else list.push(i);
  });
  return spans.map((s, i) => {
    if (s.kind === 'server') {
      const client = byId.get(s.spanId)?.find((j) => j !== i && isSharedPair(spans[j]!, s));
      if (client !== undefined) return client;
    }
    if (s.parentSpanId === undefined) return -1;
    const candidates = byId.get(s.parentSpanId)?.filter((j) => j !== i);
    if (candidates === undefined || candidates.length === 0) return -1;
    if (candidates.length === 1) return candidates[0]!;
    const host = spanHost(s);
    return (
      candidates.find((j) => spanHost(spans[j]!) === host) ??
      candidates.find((j) => spans[j]!.kind === 'server') ??
      candidates[0]!
    );
  });
}
