/**
 * `GET /api/v1/traces/{id}`: one trace laid out for display, as JSON. Indexes (`parents`, position
 * nodes, missing-parent children, skew entries) point into `spans`. The spans are as stored (start
 * records merged with their end records); `clockSkew` says how far to shift each one whose host's
 * clock disagreed with its parent's, so a UI can show corrected times without losing the raw ones.
 */
import type { Finding, TraceSummary } from '@linktrace/storage';
import type { NativeAttributes, Span } from '@linktrace/model';

/** A model span with attribute values made JSON-safe (bytes `{ bytes: base64 }`, NaN/±Infinity `{ double }`). */
export interface SpanJson extends Omit<Span, 'attributes' | 'events' | 'links' | 'resource' | 'scope'> {
  attributes: NativeAttributes;
  events: { timeUs: number; name: string; attributes?: NativeAttributes }[];
  links: { traceId: string; spanId: string; traceState?: string; attributes?: NativeAttributes }[];
  resource?: NativeAttributes;
  scope?: { name: string; version?: string; attributes?: NativeAttributes };
}

/** One rpcid position (DESIGN §2) and the spans recorded there (a call's two halves share it). */
export interface PositionNode {
  rpcid: string;
  spans: number[];
  /** Implied by other positions but held by no span: a lost hop. */
  missing: boolean;
  children: PositionNode[];
}

export interface TracePositions {
  /** Position `0`; absent when no span has a valid rpcid. */
  root?: PositionNode;
  /** Missing positions, sorted (at most 10 000). */
  missing: string[];
  /** More positions were missing than listed. */
  truncated: boolean;
  withoutRpcid: number[];
  invalidRpcid: number[];
}

export interface SkewMark {
  span: number;
  spanId: string;
  /** µs to add to the span's start (and its events). */
  deltaUs: number;
  reason: 'starts-before-parent' | 'ends-after-parent' | 'moved-with-host';
}

export interface MissingParent {
  /** The parent span id named by the children but held by no span of the trace. */
  spanId: string;
  children: number[];
}

/** A whole trace for display: its search summary plus the spans and what was worked out from them. */
export interface TraceView extends TraceSummary {
  spans: SpanJson[];
  /** Index of each span's parent, -1 for a root or a span whose parent is missing. */
  parents: number[];
  positions: TracePositions;
  missingParents: MissingParent[];
  clockSkew: SkewMark[];
  /**
   * Span ids from the root down to the span that finished the trace (analysis `criticalPath`):
   * the chain to look at when the trace was slow.
   */
  criticalPath: string[];
  /** The trace's stored chain-check findings, newest first (`findingCount` of them). */
  findings: Finding[];
}
