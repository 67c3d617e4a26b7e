import { ATTR, type SdkDropReport, type Span } from '@linktrace/model';
import { targetKind, targetName } from '@linktrace/analysis';

/**
 * The drop reports that concern a trace: instances whose SDK reported lost spans and that are in the
 * trace, or are of a service the trace calls (a service target such as `http:shop-query`: its spans
 * may be the missing ones). A report without an instance, or a service whose spans here carry none,
 * matches on the service alone. For the trace view: a reader of a trace with gaps sees that a
 * neighbour's SDK lost spans.
 */
export function sdkDropsOfTrace(reports: readonly SdkDropReport[], spans: readonly Span[]): SdkDropReport[] {
  const lossy = reports.filter((r) => r.droppedSpans > 0);
  if (lossy.length === 0) return [];
  const instances = new Map<string, Set<string>>();
  const called = new Set<string>();
  for (const s of spans) {
    let set = instances.get(s.service);
    if (set === undefined) instances.set(s.service, (set = new Set()));
    if (s.instance !== undefined) set.add(s.instance);
    const target = s.attributes?.[ATTR.target];
    if (typeof target === 'string' && targetKind(target) === 'service') called.add(targetName(target));
  }
  return lossy.filter((r) => {
    if (called.has(r.service)) return true;
    const seen = instances.get(r.service);
    return seen !== undefined && (r.instance === '' || seen.size === 0 || seen.has(r.instance));
  });
}
