/**
 * The two naive inferences that black-box inference is measured against (bench:infer):
 * - nesting: an `in` record's parent is the most recent `in` record of another service whose
 *   time encloses it (raw clocks);
 * - connection: follow `in.remote == out.local` to the caller's `out` record (the one on that
 *   connection enclosing the request), then take the most recent `in` record on the caller's
 *   instance enclosing that call; without a connection match, nesting.
 */
import type { LogRecord } from '../inference/log-record.js';

function sortedIns(records: readonly LogRecord[]): LogRecord[] {
  return records.filter((r) => r.direction === 'in').sort((a, b) => a.startUs - b.startUs);
}

/** How far back an enclosing record can have started: the longest record. */
function horizonOf(records: readonly LogRecord[]): number {
  let h = 0;
  for (const r of records) h = Math.max(h, r.endUs - r.startUs);
  return h;
}

function upperBound(list: readonly LogRecord[], s: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.startUs <= s) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Latest-starting record of `list` enclosing [s, e] and accepted by `ok`, looking back at most `horizon` µs. */
function enclosing(list: readonly LogRecord[], s: number, e: number, horizon: number, ok: (r: LogRecord) => boolean): LogRecord | undefined {
  for (let k = upperBound(list, s) - 1; k >= 0; k--) {
    const r = list[k]!;
    if (r.startUs < s - horizon) return undefined;
    if (r.endUs >= e && ok(r)) return r;
  }
  return undefined;
}


/** Per line, the nesting baseline's parent (undefined for `out` lines). */
export function nestingBaseline(records: readonly LogRecord[]): (number | null | undefined)[] {
  const ins = sortedIns(records);
  const out: (number | null | undefined)[] = new Array(records.length);
  const HORIZON_US = horizonOf(records);
  for (const r of ins) out[r.line] = enclosing(ins, r.startUs, r.endUs, HORIZON_US, (p) => p.service !== r.service && p !== r)?.line ?? null;
  return out;
}

export function connectionBaseline(records: readonly LogRecord[]): (number | null | undefined)[] {
  const ins = sortedIns(records);
  const insAt = new Map<string, LogRecord[]>();
  for (const r of ins) {
    let l = insAt.get(r.instance);
    if (l === undefined) insAt.set(r.instance, (l = []));
    l.push(r);
  }
  const byLocal = new Map<string, LogRecord[]>();
  for (const r of records) {
    if (r.direction !== 'out' || r.local === undefined) continue;
    let l = byLocal.get(r.local);
    if (l === undefined) byLocal.set(r.local, (l = []));
    l.push(r);
  }
  for (const l of byLocal.values()) l.sort((a, b) => a.startUs - b.startUs);
  const HORIZON_US = horizonOf(records);
  const out: (number | null | undefined)[] = new Array(records.length);
  for (const r of ins) {
    const conn = r.remote === undefined ? undefined : byLocal.get(r.remote);
    if (conn !== undefined) {
      // The call on that connection nearest in time (clocks differ a little).
      let call: LogRecord | undefined;
      let best = Infinity;
      const from = Math.max(0, upperBound(conn, r.startUs - HORIZON_US) - 1);
      for (let k = from; k < conn.length && conn[k]!.startUs <= r.startUs + HORIZON_US; k++) {
        const o = conn[k]!;
        const d = Math.abs(o.startUs - r.startUs) + Math.abs(o.endUs - r.endUs);
        if (d < best) {
          best = d;
          call = o;
        }
      }
      if (call !== undefined) {
        const list = insAt.get(call.instance) ?? [];
        out[r.line] = enclosing(list, call.startUs, call.endUs, HORIZON_US, () => true)?.line ?? null;
        continue;
      }
    }
    out[r.line] = enclosing(ins, r.startUs, r.endUs, HORIZON_US, (p) => p.service !== r.service && p !== r)?.line ?? null;
  }
  return out;
}
