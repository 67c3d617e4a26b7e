/**
 * `GET /api/v1/traces/{id}`: one trace assembled for display (analysis `assembleTrace`), as JSON.
 * `rows` are what to draw, in order: spans (a call's two halves folded into one row), lost hops and
 * gaps among them, each with its depth; the CLI and the UI draw them as they are. Indexes (`rows`,
 * `parents`, `clockSkew`) point into `spans`, which are as stored (start records merged with their
 * end records): rows carry the corrected times, `clockSkew` how far each span was shifted.
 */
import type { Finding, Hop, TraceSummary, WalkSummary } from '@linktrace/storage';
import type { NativeAttributes, SdkDropReport, Span } from '@linktrace/model';
import type { TraceGapSummary, TraceRow } from '@linktrace/analysis';

/** A model span with attribute values made JSON-safe (bytes `{ bytes: base64 }`, NaN/±Infinity `{ double }`). */
export interface SpanJson extends Omit<Span, 'attributes' | 'events' | 'links' | 'resource' | 'scope'> {
  attributes: NativeAttributes;
  events: { timeUs: number; name: string; attributes?: NativeAttributes }[];
  links: { traceId: string; spanId: string; traceState?: string; attributes?: NativeAttributes }[];
  resource?: NativeAttributes;
  scope?: { name: string; version?: string; attributes?: NativeAttributes };
}

export interface SkewMark {
  span: number;
  spanId: string;
  /** µs to add to the span's start (and its events). */
  deltaUs: number;
  reason: 'starts-before-parent' | 'ends-after-parent' | 'moved-with-host';
}

/** A whole trace for display: its search summary plus the spans and what was worked out from them. */
export interface TraceView extends TraceSummary {
  spans: SpanJson[];
  /** Index of each span's parent, -1 for a root or a span whose parent is missing. */
  parents: number[];
  /** The trace as drawn: every span once, placeholders for what was lost, in display order. */
  rows: TraceRow[];
  /** Lost hops and missing positions, counted (gaps beyond the row cap are only counted). */
  gaps: TraceGapSummary;
  clockSkew: SkewMark[];
  /**
   * Span ids from the root down to the span that finished the trace (analysis `criticalPath`):
   * the chain to look at when the trace was slow.
   */
  criticalPath: string[];
  /** The trace's stored chain-check findings, newest first (`findingCount` of them). */
  findings: Finding[];
  /**
   * Instances of this trace (or of a service it calls) whose SDK reported lost spans: a missing hop
   * next to them may have been recorded and then lost. Set by the trace route (`GET /api/v1/sdk-drops`).
   */
  sdkDrops?: SdkDropReport[];
  /**
   * Federated gateway only (DESIGN §8): the trace's hops in walk order, each `ok`, `unreachable` or
   * `no-spans`; the hop before the first broken one (or the chain's last); how the walk went.
   */
  hops?: Hop[];
  lastHealthyHop?: Hop | null;
  walk?: WalkSummary;
}
