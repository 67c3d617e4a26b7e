/**
 * Query-time clock-skew adjustment. Each host times its spans with its own clock; when a child
 * span on another host starts before its parent, or (for a call) ends after it, the child's clock is
 * off, and the child is shifted, with everything else recorded on its host below it:
 * - a call (client → server, or any non-messaging child) that fits in its parent's duration is
 *   centred in it: the network time is split evenly between request and response;
 * - a longer child, a message consumer, or a start record (no duration yet) is moved to start
 *   where its parent starts (a consumer may end long after its producer: only starting before it
 *   is a skew).
 * Stored spans are never changed: the result holds adjusted copies and says which and by how much.
 * Parents are the trace graph's (trace-graph.ts), so a server half is timed against its client half.
 */
import type { Span } from '@linktrace/model';
import type { TraceGraph } from '../trace-graph.js';
import { spanHost } from './span-host.js';

export type SkewReason = 'starts-before-parent' | 'ends-after-parent' | 'moved-with-host';

export interface SkewAdjustment {
  /** Index of the span in the graph's `spans` (and in `spans` of the result). */
  index: number;
  spanId: string;
  /** µs added to the span's start and event times. */
  deltaUs: number;
  /** Why: its own times broke its parent's bounds, or a span above it on the same host was shifted. */
  reason: SkewReason;
}

export interface SkewResult {
  /** Same order as the graph's spans; adjusted spans are copies, the others are the input objects. */
  spans: Span[];
  /** One entry per shifted span, in input order. */
  adjustments: SkewAdjustment[];
}

function isMessaging(parent: Span, child: Span): boolean {
  return parent.kind === 'producer' || child.kind === 'consumer';
}

/** The shift that puts `child` within `parent` (both as [start, start + duration]), 0 when it fits. */
function shiftFor(parentStart: number, parent: Span, child: Span): { delta: number; reason?: SkewReason } {
  const pDur = parent.durationUs ?? 0;
  const cDur = child.durationUs ?? 0;
  const cStart = child.startUs;
  const startsBefore = cStart < parentStart;
  // Without both durations (a start record) there is no interval to centre in: only order is known.
  if (isMessaging(parent, child) || parent.durationUs === undefined || child.durationUs === undefined) {
    return startsBefore ? { delta: parentStart - cStart, reason: 'starts-before-parent' } : { delta: 0 };
  }
  const endsAfter = cStart + cDur > parentStart + pDur;
  if (!startsBefore && !endsAfter) return { delta: 0 };
  const reason: SkewReason = startsBefore ? 'starts-before-parent' : 'ends-after-parent';
  if (cDur <= pDur) return { delta: Math.round(parentStart + (pDur - cDur) / 2 - cStart), reason };
  // Longer than its parent: it cannot fit; only a start before the parent's is corrected.
  return startsBefore ? { delta: parentStart - cStart, reason } : { delta: 0 };
}

export function adjustClockSkew(graph: Pick<TraceGraph, 'spans' | 'parent' | 'order'>): SkewResult {
  const { spans, parent, order } = graph;
  const delta = new Array<number>(spans.length).fill(0);
  const reason = new Array<SkewReason | undefined>(spans.length);
  const hosts = spans.map(spanHost);
  // Parents before children (the graph has no cycles), so a parent's shift is known at its children.
  for (let k = 0; k < order.length; k++) {
    const c = order[k]!;
    const p = parent[c]!;
    if (p < 0) continue;
    if (hosts[c] === hosts[p]) {
      delta[c] = delta[p]!;
      if (delta[c] !== 0) reason[c] = 'moved-with-host';
      continue;
    }
    const s = shiftFor(spans[p]!.startUs + delta[p]!, spans[p]!, spans[c]!);
    delta[c] = s.delta;
    reason[c] = s.reason;
  }
  const adjustments: SkewAdjustment[] = [];
  const out = spans.map((s, i) => {
    const d = delta[i]!;
    if (d === 0) return s;
    adjustments.push({ index: i, spanId: s.spanId, deltaUs: d, reason: reason[i]! });
    return { ...s, startUs: s.startUs + d, events: s.events.map((e) => ({ ...e, timeUs: e.timeUs + d })) };
  });
  return { spans: out, adjustments };
}
