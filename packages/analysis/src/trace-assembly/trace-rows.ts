/**
 * The rows of an assembled trace, in display order: what the query API sends and what the CLI and the
 * UI draw, so both show the same rows. JSON-ready: plain objects, optional fields left out.
 */

/** One span, or a call's two halves folded into one row. */
export interface SpanRow {
  kind: 'span';
  /** Nesting below the top level (0). */
  depth: number;
  /** Index of the span in the assembled `spans` (a folded call: its client half). */
  span: number;
  /**
   * A folded call: index of its server half (a Zipkin shared span, or an OpenTelemetry server span
   * whose parent is this client span).
   */
  partner?: number;
  /** A folded call: the server half's shown start, µs (clock-skew corrected). */
  partnerStartUs?: number;
  /** A folded call: the server half's duration, µs, when it ended. */
  partnerDurationUs?: number;
  /** The row's position (the server half's, else the client's). */
  rpcid?: string;
  /** Shown start, µs: clock-skew corrected (the client half's when it is complete). */
  startUs: number;
  /** Shown duration, µs; absent while the span has not ended (or, for Zipkin, is of unknown length). */
  durationUs?: number;
  /** The shown times were shifted for clock skew (see `clockSkew`). */
  skewed?: true;
  /** On the trace's critical path. */
  critical?: true;
}

/** A hop that was never recorded: a parent that spans name but no span holds, and/or a position. */
export interface LostHopRow {
  kind: 'lost-hop';
  depth: number;
  /** The span id its children name as parent, when known. */
  spanId?: string;
  /** Its position, when known (the children's common parent position). */
  rpcid?: string;
  /**
   * The last of a chain of lost positions that this row stands for, each the only position below
   * the one before (`rpcid` … `through`), so a deep lost branch is one row.
   */
  through?: string;
  /** What to show, e.g. `missing parent span 1234… at 0.2`. */
  text: string;
}

/** Consecutive positions under one caller that hold no span: one row however many they are. */
export interface GapRow {
  kind: 'gap';
  depth: number;
  /** The first missing position (`parent.first`). */
  rpcid: string;
  parent: string;
  first: string;
  last: string;
  count: number;
  text: string;
}

/** Gaps beyond the per-trace cap: counted, not listed. */
export interface MoreGapsRow {
  kind: 'more-gaps';
  depth: number;
  /** Has no position (so every row can be asked for one). */
  rpcid?: never;
  gaps: number;
  positions: number;
  text: string;
}

export type TraceRow = SpanRow | LostHopRow | GapRow | MoreGapsRow;

export interface TraceGapSummary {
  /** Lost-hop rows (missing parents and lost positions that have recorded descendants). */
  lostHops: number;
  /** Sibling gaps (contiguous ranges of missing positions), listed or not. */
  gaps: number;
  /** Positions in all sibling gaps together. */
  gapPositions: number;
  /** Gaps that got no row of their own (beyond `MAX_GAP_ROWS`), counted in the `more-gaps` row. */
  gapsNotListed: number;
}
