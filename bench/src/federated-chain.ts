/**
 * The spans of one federated chain (bench:federated and bench:chain-checker share them): per hop a
 * server span, internal steps and a client span to the next hop, each hop its own service instance.
 */
import { newSpanId, type Span } from '@linktrace/model';

/** Hop i of a chain: server span, internal spans, a client span to hop i+1 (except the last). */
export function chainSpans(traceId: string, hops: number, startUs: number, spansPerHop = 4): Span[][] {
  const out: Span[][] = [];
  let parent: string | undefined;
  for (let i = 0; i < hops; i++) {
    const service = `svc-${i}`;
    const instance = `127.0.0.1:${9000 + i}`;
    const base = { traceId, service, instance, status: { code: 'unset' as const }, events: [], links: [] };
    const serverId = newSpanId();
    const spans: Span[] = [
      { ...base, spanId: serverId, ...(parent === undefined ? {} : { parentSpanId: parent }), rpcid: i === 0 ? '0' : `0${'.1'.repeat(i)}`, name: 'POST /sync', kind: 'server', startUs: startUs + i * 1000, durationUs: 900, attributes: { 'http.request.method': 'POST', 'url.path': '/sync', 'server.address': '127.0.0.1', 'server.port': 9000 + i, 'linktrace.stage': 'receive', 'linktrace.entity.type': 'shop', 'linktrace.entity.key': 'shop-42' } },
    ];
    for (let k = 0; k < spansPerHop - 2; k++) {
      spans.push({ ...base, spanId: newSpanId(), parentSpanId: serverId, name: `step ${k}`, kind: 'internal', startUs: startUs + i * 1000 + 10 + k, durationUs: 50, attributes: { 'linktrace.stage': 'process' } });
    }
    const clientId = newSpanId();
    if (i < hops - 1) {
      spans.push({ ...base, spanId: clientId, parentSpanId: serverId, name: 'POST', kind: 'client', startUs: startUs + i * 1000 + 100, durationUs: 800, attributes: { 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'server.port': 9000 + i + 1, 'linktrace.stage': 'write', 'linktrace.target': `http:svc-${i + 1}` } });
    } else {
      spans.push({ ...base, spanId: clientId, parentSpanId: serverId, name: 'INSERT shop', kind: 'client', startUs: startUs + i * 1000 + 100, durationUs: 300, attributes: { 'db.system.name': 'postgresql', 'linktrace.stage': 'write', 'linktrace.target': 'postgres:shops' } });
    }
    parent = clientId;
    out.push(spans);
  }
  return out;
}
