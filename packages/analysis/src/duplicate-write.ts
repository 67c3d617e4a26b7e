/**
 * What a `duplicate-write` says about where its writes came from. A message delivered twice (a lost
 * ack, a requeue) is handled twice and its write made twice: the finding then names each delivery
 * (consumer span, position, delivery count) beside the writes, so the reader sees a redelivery
 * rather than a handler that writes twice.
 */
import { ATTR } from '@linktrace/model';
import type { Span } from '@linktrace/model';
import type { FindingDelivery } from './finding.js';
import type { StageFact } from './span-facts.js';
import type { TraceGraph } from './trace-graph.js';

export interface DuplicateWriteSources {
  /** Appended to the finding's message; empty when the writes are not under different deliveries. */
  clause: string;
  deliveries: FindingDelivery[] | undefined;
}

/** The delivery (nearest consumer span above it) of each write; `writes` in the order they were seen. */
export function duplicateWriteSources(graph: TraceGraph, stage: readonly (StageFact | undefined)[], writes: readonly number[]): DuplicateWriteSources {
  const deliveries: FindingDelivery[] = [];
  const nodes: number[] = [];
  for (const w of writes) {
    const d = deliveryOf(graph, stage, w);
    if (d < 0 || nodes.includes(d)) continue;
    nodes.push(d);
    deliveries.push(describe(graph.spans[d]!, graph.spans[w]!.spanId));
  }
  if (deliveries.length < 2) return { clause: '', deliveries: undefined };
  const producer = graph.parent[nodes[0]!]!;
  const oneMessage = producer >= 0 && nodes.every((d) => graph.parent[d] === producer);
  const named = deliveries.map(phrase);
  const list = `${named.slice(0, -1).join(', ')} and ${named[named.length - 1]!}`;
  return { clause: `, by ${deliveries.length} deliveries${oneMessage ? ' of one message' : ''}: ${list}`, deliveries };
}

function deliveryOf(graph: TraceGraph, stage: readonly (StageFact | undefined)[], write: number): number {
  // The graph has no cycles; the bound only guards against a malformed one.
  for (let i = graph.parent[write]!, steps = 0; i >= 0 && steps < graph.spans.length; i = graph.parent[i]!, steps++) {
    if (graph.spans[i]!.kind === 'consumer' || stage[i] === 'dequeue') return i;
  }
  return -1;
}

function describe(span: Span, writeSpanId: string): FindingDelivery {
  const d: FindingDelivery = { spanId: span.spanId, writeSpanId };
  const rpcid = typeof span.rpcid === 'string' ? span.rpcid : span.attributes?.[ATTR.rpcid];
  if (typeof rpcid === 'string' && rpcid.length > 0) d.rpcid = rpcid;
  const count = span.attributes?.[ATTR.deliveryCount];
  if (typeof count === 'number' && Number.isSafeInteger(count) && count >= 1) d.count = count;
  return d;
}

function phrase(d: FindingDelivery): string {
  let s = `span ${d.spanId}`;
  if (d.rpcid !== undefined) s += ` at ${d.rpcid}`;
  if (d.count !== undefined) s += ` (delivery ${d.count})`;
  return s;
}
