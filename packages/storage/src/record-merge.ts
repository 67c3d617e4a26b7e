/**
 * The records of a trace merged on read into its spans.
 *
 * One span per (span id, kind, service, instance, start): kind because Zipkin's shared client and
 * server halves share a span id and are two spans; service and instance because a span id reused
 * by another process, or a fan-out recorded by each callee with the caller's id, is another span
 * (Zipkin keeps each); start because one instance may record the same id several times (a
 * re-delivered request). Within a key the full record wins over a start record (DESIGN §3: a start
 * record and its end record share their start); among several full records the last one wins (a
 * re-sent batch is identical anyway).
 *
 * A record whose start is unknown (a Zipkin span without timestamp: late data of a span, or the
 * untimed half of a shared span) merges into a timed record of the same span id, kind, service and
 * instance when there is one (an untimed piece without instance matches any instance, one without
 * endpoint any service), as Zipkin merges a span sent in pieces: the timed record's fields win,
 * tags and annotations of both are kept. Alone, it stays a span of unknown start (`startUnknown`),
 * placed for display at its earliest event, else at its shared partner's start (same id, other
 * kind), else at its parent's start, else at the trace's earliest start.
 */
import { copySpan, UNKNOWN_SERVICE, type Span } from '@linktrace/model';

/** The identity of a span within its trace, start aside. */
function spanKey(r: Span): string {
  return `${r.spanId}\n${r.kind}\n${r.service}\n${r.instance ?? ''}`;
}

/** `untimed`'s tags, annotations and missing fields folded into `timed` (a copy; inputs unchanged). */
function mergeInto(timed: Span, untimed: Span): Span {
  const out = copySpan(timed);
  out.attributes = { ...untimed.attributes, ...timed.attributes };
  if (untimed.events.length > 0) out.events = [...timed.events, ...untimed.events].sort((a, b) => a.timeUs - b.timeUs);
  if (out.name === '') out.name = untimed.name;
  if (out.parentSpanId === undefined && untimed.parentSpanId !== undefined) out.parentSpanId = untimed.parentSpanId;
  if (out.rpcid === undefined && untimed.rpcid !== undefined) out.rpcid = untimed.rpcid;
  if (out.remote === undefined && untimed.remote !== undefined) out.remote = untimed.remote;
  if (out.status.code !== 'error' && untimed.status.code === 'error') out.status = untimed.status;
  if (out.durationUs === undefined && untimed.durationUs !== undefined) {
    out.durationUs = untimed.durationUs;
    delete out.durationUnknown;
  }
  if (untimed.shared === true) out.shared = true;
  if (untimed.debug === true) out.debug = true;
  return out;
}

/**
 * Whether every record is timed and has a span id of its own: then no two share a key and the
 * merge keeps them all, in order. The usual trace, checked without building a key per record (the
 * chain checker merges every trace it checks).
 */
function distinctTimed(records: readonly Span[]): boolean {
  const ids = new Set<string>();
  for (const r of records) {
    if (r.startUnknown === true || ids.has(r.spanId)) return false;
    ids.add(r.spanId);
  }
  return true;
}

/** `records` (the records of one trace) merged, in the order each span was first seen. */
export function mergeRecords(records: readonly Span[]): Span[] {
  if (distinctTimed(records)) return records.slice();
  const index = new Map<string, number>();
  const out: Span[] = [];
  let untimed: Span[] | undefined;
  for (const r of records) {
    if (r.startUnknown === true) {
      (untimed ??= []).push(r);
      continue;
    }
    const key = `${spanKey(r)}\n${r.startUs}`;
    const at = index.get(key);
    if (at === undefined) {
      index.set(key, out.length);
      out.push(r);
    } else if (r.durationUs !== undefined || out[at]!.durationUs === undefined) {
      out[at] = r;
    }
  }
  if (untimed === undefined) return out;

  // Partners: the first timed span of each key; untimed pieces of one span fold into each other.
  // As Zipkin merges pieces, a missing instance (or a missing endpoint: no service, no instance)
  // on the untimed piece matches any.
  const partner = new Map<string, number>();
  for (let i = 0; i < out.length; i++) {
    const s = out[i]!;
    for (const key of [spanKey(s), `${s.spanId}\n${s.kind}\n${s.service}\n*`, `${s.spanId}\n${s.kind}\n*`]) {
      if (!partner.has(key)) partner.set(key, i);
    }
  }
  const timedCount = out.length;
  for (const r of untimed) {
    const key = spanKey(r);
    let at = partner.get(key);
    if (at === undefined && r.instance === undefined) {
      at = partner.get(r.service === UNKNOWN_SERVICE ? `${r.spanId}\n${r.kind}\n*` : `${r.spanId}\n${r.kind}\n${r.service}\n*`);
    }
    if (at === undefined) {
      partner.set(key, out.length);
      out.push(r);
    } else {
      const p = out[at]!;
      out[at] = p.startUnknown === true ? mergeInto(r, p) : mergeInto(p, r);
    }
  }
  for (let i = timedCount; i < out.length; i++) out[i] = placed(out[i]!, out, timedCount);
  return out;
}

/** An untimed span alone: a copy with a stand-in `startUs` for ordering, still `startUnknown`. */
function placed(span: Span, spans: readonly Span[], timedCount: number): Span {
  let at = Infinity;
  for (const e of span.events) if (e.timeUs > 0 && e.timeUs < at) at = e.timeUs;
  if (at === Infinity) {
    let partnerUs = Infinity;
    let parentUs = Infinity;
    let earliest = Infinity;
    for (let i = 0; i < timedCount; i++) {
      const s = spans[i]!;
      if (s.startUs < earliest) earliest = s.startUs;
      if (s.spanId === span.spanId && s.startUs < partnerUs) partnerUs = s.startUs;
      if (s.spanId === span.parentSpanId && s.startUs < parentUs) parentUs = s.startUs;
    }
    at = partnerUs !== Infinity ? partnerUs : parentUs !== Infinity ? parentUs : earliest;
  }
  if (at === Infinity || at === span.startUs) return span;
  const copy = copySpan(span);
  copy.startUs = at;
  return copy;
}
