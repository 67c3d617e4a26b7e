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
 * Apply it before `mergeSharedSpans`, so merged hops use corrected times.
 */
import type { Span } from '@linktrace/model';
import { parentIndexes } from './parent-index.js';
import { spanHost } from './span-host.js';

export type SkewReason = 'starts-before-parent' | 'ends-after-parent' | 'moved-with-host';

export interface SkewAdjustment {
  /** Index of the span in the input (and in `spans` of the result). */
  index: number;
  spanId: string;
  /** µs added to the span's start and event times. */
  deltaUs: number;
  /** Why: its own times broke its parent's bounds, or a span above it on the same host was shifted. */
  reason: SkewReason;
}

export interface SkewResult {
  /** Same order as the input; adjusted spans are copies, the others are the input objects. */
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

export function adjustClockSkew(spans: readonly Span[]): SkewResult {
  const parents = parentIndexes(spans);
  const children: number[][] = spans.map(() => []);
  const roots: number[] = [];
  parents.forEach((p, i) => (p < 0 ? roots.push(i) : children[p]!.push(i)));
  const delta = new Array<number>(spans.length).fill(0);
  const reason = new Array<SkewReason | undefined>(spans.length);
  const hosts = spans.map(spanHost);
  const visited = new Uint8Array(spans.length);
  // Breadth-first from the roots; a parent cycle (bad data) is never entered, so it stays as it is.
  const queue = [...roots];
  for (const r of roots) visited[r] = 1;
  for (let head = 0; head < queue.length; head++) {
    const p = queue[head]!;
    for (const c of children[p]!) {
      if (visited[c]) continue;
      visited[c] = 1;
      queue.push(c);
      if (hosts[c] === hosts[p]) {
        delta[c] = delta[p]!;
        if (delta[c] !== 0) reason[c] = 'moved-with-host';
        continue;
      }
      const s = shiftFor(spans[p]!.startUs + delta[p]!, spans[p]!, spans[c]!);
      delta[c] = s.delta;
      reason[c] = s.reason;
    }
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
