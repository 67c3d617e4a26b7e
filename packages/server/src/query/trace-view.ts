/**
 * Builds the native trace view from a trace's stored spans with the storage layer's trace-assembly
 * helpers (parent links across Zipkin's shared spans, the rpcid position tree, missing parents,
 * clock skew). Pure: the route and `linktrace trace --data` share it.
 */
import type { Span } from '@linktrace/model';
import { criticalPath } from '@linktrace/analysis';
import { summarizeTrace, type Finding } from '@linktrace/storage';
import { adjustClockSkew, buildRpcidTree, findOrphans, parentIndexes, type RpcidNode } from '@linktrace/storage';
import { jsonAttributes } from './json-attributes.js';
import type { MissingParent, PositionNode, SpanJson, TraceView } from './trace-view-types.js';

function hasKeys(o: object | undefined): boolean {
  if (o === undefined) return false;
  for (const _ in o) return true;
  return false;
}

/** The span with JSON-safe attribute values; the same maps when they already are (the usual case). */
export function spanJson(span: Span): SpanJson {
  const out = { ...span } as unknown as SpanJson;
  out.attributes = jsonAttributes(span.attributes);
  if (span.events.length > 0) {
    out.events = span.events.map((e) =>
      hasKeys(e.attributes) ? { timeUs: e.timeUs, name: e.name, attributes: jsonAttributes(e.attributes!) } : { timeUs: e.timeUs, name: e.name },
    );
  }
  if (span.links.length > 0) {
    out.links = span.links.map((l) => {
      const link: SpanJson['links'][number] = { traceId: l.traceId, spanId: l.spanId };
      if (l.traceState !== undefined) link.traceState = l.traceState;
      if (hasKeys(l.attributes)) link.attributes = jsonAttributes(l.attributes!);
      return link;
    });
  }
  if (span.resource !== undefined) out.resource = jsonAttributes(span.resource);
  if (span.scope?.attributes !== undefined) out.scope = { ...span.scope, attributes: jsonAttributes(span.scope.attributes) };
  return out;
}

function positionNode(n: RpcidNode, index: Map<Span, number>): PositionNode {
  return {
    rpcid: n.rpcid,
    spans: n.spans.map((s) => index.get(s)!),
    missing: n.missing,
    children: n.children.map((c) => positionNode(c, index)),
  };
}

/**
 * The view of a non-empty trace; `spans` as the store returns them (one record per span, by start),
 * `findings` the trace's stored findings.
 */
export function buildTraceView(traceId: string, spans: readonly Span[], findings: readonly Finding[] = []): TraceView {
  const index = new Map<Span, number>();
  spans.forEach((s, i) => index.set(s, i));
  const summary = summarizeTrace(
    traceId,
    spans.map((s) => ({
      spanId: s.spanId,
      kind: s.kind,
      service: s.service,
      name: s.name,
      hasParent: s.parentSpanId !== undefined,
      startUs: s.startUs,
      durationUs: s.durationUs,
      startUnknown: s.startUnknown,
      error: s.status.code === 'error',
    })),
  );
  const tree = buildRpcidTree(spans);
  const orphans = findOrphans(spans);
  const byMissingParent = new Map<string, MissingParent>();
  for (const id of orphans.missingParentIds) byMissingParent.set(id, { spanId: id, children: [] });
  for (const s of orphans.orphans) byMissingParent.get(s.parentSpanId!)?.children.push(index.get(s)!);
  const skew = adjustClockSkew(spans);

  const view: TraceView = {
    traceId,
    startUs: summary.startUs,
    durationUs: summary.durationUs,
    spanCount: summary.spanCount,
    errorCount: summary.errorCount,
    services: summary.services,
    spans: spans.map(spanJson),
    parents: parentIndexes(spans),
    positions: {
      missing: tree.missing,
      truncated: tree.truncated,
      withoutRpcid: tree.withoutRpcid.map((s) => index.get(s)!),
      invalidRpcid: tree.invalidRpcid.map((s) => index.get(s)!),
    },
    missingParents: [...byMissingParent.values()],
    clockSkew: skew.adjustments.map((a) => ({ span: a.index, spanId: a.spanId, deltaUs: a.deltaUs, reason: a.reason })),
    criticalPath: criticalPath(spans),
    findingCount: findings.length,
    findings: [...findings],
  };
  if (summary.root !== undefined) view.root = summary.root;
  if (tree.root !== undefined) view.positions.root = positionNode(tree.root, index);
  return view;
}
