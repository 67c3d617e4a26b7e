/**
 * Trace comparison: two traces, or two groups of traces (e.g. the results of two searches), call by
 * call. A call is a row of the assembled trace (a folded client/server pair is one call), named by
 * its service, its span name and its position: its rpcid when it has one, else its path from the
 * root (`/caller:op#0/callee:op#1`, the n-th call of that service and name under the same parent),
 * so a trace without position ids still lines up. Each call is then `added` (only in B), `missing`
 * (only in A), `slower` or `faster` (B's median duration past A's by both a ratio and an absolute
 * margin, so noise on tiny spans is not a change), or `same`.
 * Pure: takes assembled traces, returns values; the query API serves it and the UI draws it.
 */
import type { SpanKind } from '@linktrace/model';
import type { AssembledTrace } from './trace-assembly/assemble-trace.js';

export type CallChange = 'missing' | 'added' | 'slower' | 'faster' | 'same';

/** The order calls are listed in: what changed first. */
export const CALL_CHANGES: readonly CallChange[] = ['missing', 'added', 'slower', 'faster', 'same'];

export interface CallStats {
  /** Traces of the side that hold this call. */
  traces: number;
  /** Occurrences over all of them. */
  count: number;
  /** Median shown duration, µs; absent when no occurrence has ended. */
  medianUs?: number;
}

export interface ComparedCall {
  service: string;
  name: string;
  kind: SpanKind;
  /** The rpcid, or the path from the root when spans carry none. */
  position: string;
  change: CallChange;
  a?: CallStats;
  b?: CallStats;
  /** b's median − a's median, µs, when both have one. */
  deltaUs?: number;
}

export interface ComparisonSide {
  traces: number;
  /** Distinct calls (service + name + position). */
  calls: number;
  /** Median trace duration (first start to last end of its rows), µs. */
  medianDurationUs?: number;
}

export interface TraceComparison {
  a: ComparisonSide;
  b: ComparisonSide;
  /** Calls per kind of change. */
  changes: Record<CallChange, number>;
  /** Listed by change (missing, added, slower, faster, same), then by the size of the change. */
  calls: ComparedCall[];
}

export interface CompareOptions {
  /** How many times longer (or shorter) B's median must be to count as slower (faster); default 1.2. */
  minRatio?: number;
  /** …and by at least this many µs; default 100. */
  minDeltaUs?: number;
}

/** A call of one trace: its occurrences and their shown durations. */
interface TraceCall {
  service: string;
  name: string;
  kind: SpanKind;
  position: string;
  durations: number[];
  count: number;
}

/** A call over one side's traces. */
interface Found extends TraceCall {
  traces: number;
}

/** Every call of one trace by its key (service, name, position). */
function callsOf(trace: AssembledTrace): Map<string, TraceCall> {
  const out = new Map<string, TraceCall>();
  /** The position of the row last seen at each depth: the parent of a row one deeper. */
  const pathAt: string[] = [];
  const nth = new Map<string, number>();
  for (const row of trace.rows) {
    const parentPath = row.depth === 0 ? '' : (pathAt[row.depth - 1] ?? '');
    if (row.kind !== 'span') {
      pathAt[row.depth] = row.kind === 'lost-hop' ? (row.rpcid ?? `lost:${row.spanId ?? ''}`) : row.kind === 'gap' ? row.rpcid : 'more-gaps';
      continue;
    }
    const span = trace.spans[row.span];
    if (span === undefined) continue;
    let position = row.rpcid;
    if (position === undefined) {
      const sibling = `${parentPath}\u0000${span.service}\u0000${span.name}`;
      const n = nth.get(sibling) ?? 0;
      nth.set(sibling, n + 1);
      position = `${parentPath}/${span.service}:${span.name}#${n}`;
    }
    pathAt[row.depth] = position;
    const key = `${span.service}\u0000${span.name}\u0000${position}`;
    let call = out.get(key);
    if (call === undefined) out.set(key, (call = { service: span.service, name: span.name, kind: span.kind, position, durations: [], count: 0 }));
    call.count++;
    if (row.durationUs !== undefined) call.durations.push(row.durationUs);
  }
  return out;
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((x, y) => x - y);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function traceDuration(trace: AssembledTrace): number | undefined {
  let first = Infinity;
  let last = -Infinity;
  for (const row of trace.rows) {
    if (row.kind !== 'span') continue;
    first = Math.min(first, row.startUs);
    last = Math.max(last, row.startUs + (row.durationUs ?? 0));
  }
  return Number.isFinite(first) ? last - first : undefined;
}

function gather(traces: readonly AssembledTrace[]): { calls: Map<string, Found>; side: ComparisonSide } {
  const calls = new Map<string, Found>();
  const durations: number[] = [];
  for (const trace of traces) {
    const d = traceDuration(trace);
    if (d !== undefined) durations.push(d);
    for (const [key, c] of callsOf(trace)) {
      let f = calls.get(key);
      if (f === undefined) calls.set(key, (f = { service: c.service, name: c.name, kind: c.kind, position: c.position, traces: 0, durations: [], count: 0 }));
      f.traces++;
      f.count += c.count;
      for (const v of c.durations) f.durations.push(v);
    }
  }
  const side: ComparisonSide = { traces: traces.length, calls: calls.size };
  const m = median(durations);
  if (m !== undefined) side.medianDurationUs = m;
  return { calls, side };
}

function stats(f: Found): CallStats {
  const s: CallStats = { traces: f.traces, count: f.count };
  const m = median(f.durations);
  if (m !== undefined) s.medianUs = m;
  return s;
}

export function compareTraces(a: readonly AssembledTrace[], b: readonly AssembledTrace[], options: CompareOptions = {}): TraceComparison {
  const minRatio = options.minRatio ?? 1.2;
  const minDeltaUs = options.minDeltaUs ?? 100;
  const left = gather(a);
  const right = gather(b);
  const calls: ComparedCall[] = [];
  const changes: Record<CallChange, number> = { missing: 0, added: 0, slower: 0, faster: 0, same: 0 };
  for (const key of new Set([...left.calls.keys(), ...right.calls.keys()])) {
    const fa = left.calls.get(key);
    const fb = right.calls.get(key);
    const any = (fa ?? fb)!;
    const call: ComparedCall = { service: any.service, name: any.name, kind: any.kind, position: any.position, change: 'same' };
    if (fa !== undefined) call.a = stats(fa);
    if (fb !== undefined) call.b = stats(fb);
    if (fa === undefined) call.change = 'added';
    else if (fb === undefined) call.change = 'missing';
    else {
      const ma = call.a!.medianUs;
      const mb = call.b!.medianUs;
      if (ma !== undefined && mb !== undefined) {
        call.deltaUs = mb - ma;
        if (mb - ma >= minDeltaUs && mb >= ma * minRatio) call.change = 'slower';
        else if (ma - mb >= minDeltaUs && ma >= mb * minRatio) call.change = 'faster';
      }
    }
    changes[call.change]++;
    calls.push(call);
  }
  const rank = (c: ComparedCall): number => CALL_CHANGES.indexOf(c.change);
  const size = (c: ComparedCall): number => Math.abs(c.deltaUs ?? c.a?.medianUs ?? c.b?.medianUs ?? 0);
  calls.sort((x, y) => rank(x) - rank(y) || size(y) - size(x) || (x.position < y.position ? -1 : x.position > y.position ? 1 : 0));
  return { a: left.side, b: right.side, changes, calls };
}
