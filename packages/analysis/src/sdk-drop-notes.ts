/**
 * A hop the checker reports as missing may not be missing at all: the SDK of a neighbouring process
 * may have recorded it and then lost it (queue full, collector down — the SDK says so in the resource
 * attribute `linktrace.sdk.dropped_spans`, DESIGN §3). Such a finding is annotated "possibly dropped
 * by the SDK of <instance>" so that nobody hunts a bug in a chain that is whole. Pure: findings,
 * spans and drop reports in, annotated findings out.
 */
import type { SdkDropReport, Span } from '@linktrace/model';
import type { Finding, RuleId } from './finding.js';
import { targetKind, targetName } from './span-facts.js';

/** Rules whose finding says a span that should exist is absent. */
const MISSING_HOP_RULES: ReadonlySet<RuleId> = new Set<RuleId>(['missing-write', 'missing-downstream-receive', 'not-consumed', 'flow-step-missing']);

/** Instances named in one note; more are counted. */
const MAX_NAMED = 3;

const keyOf = (service: string, instance: string | undefined): string => `${service}\u0000${instance ?? ''}`;

/**
 * The findings of one trace, each missing-hop finding whose neighbourhood holds an instance that
 * reported lost spans carrying a note that names it. The neighbourhood of a finding's span: its own
 * instance, those of its parent and children, the instances of the service a service target names,
 * and — when the missing hop's side is unknown (a queue's consumer, a flow step) — every instance in
 * the trace. A span without an instance stands for every instance of its service. Findings that need no note are returned as they are (same objects).
 */
export function annotateSdkDrops(findings: readonly Finding[], spans: readonly Span[], reports: readonly SdkDropReport[]): Finding[] {
  const lossy = new Map<string, SdkDropReport>();
  const lossyByService = new Map<string, SdkDropReport[]>();
  for (const r of reports) {
    if (!(r.droppedSpans > 0)) continue;
    lossy.set(keyOf(r.service, r.instance), r);
    let list = lossyByService.get(r.service);
    if (list === undefined) lossyByService.set(r.service, (list = []));
    list.push(r);
  }
  if (lossy.size === 0 || !findings.some((f) => MISSING_HOP_RULES.has(f.rule))) return [...findings];

  const byId = new Map<string, Span>();
  const children = new Map<string, Span[]>();
  for (const s of spans) {
    if (!byId.has(s.spanId)) byId.set(s.spanId, s);
    if (s.parentSpanId !== undefined) {
      let list = children.get(s.parentSpanId);
      if (list === undefined) children.set(s.parentSpanId, (list = []));
      list.push(s);
    }
  }

  return findings.map((finding) => {
    if (!MISSING_HOP_RULES.has(finding.rule)) return finding;
    const found = new Map<string, SdkDropReport>();
    const note = (service: string, instance: string | undefined): void => {
      if (instance === undefined) {
        // The span names no instance (or was kept without it, as the checker's compact spans are):
        // any instance of its service may be the one.
        for (const r of lossyByService.get(service) ?? []) found.set(keyOf(r.service, r.instance), r);
        return;
      }
      const r = lossy.get(keyOf(service, instance));
      if (r !== undefined) found.set(keyOf(r.service, r.instance), r);
    };
    const span = byId.get(finding.spanId);
    if (span !== undefined) {
      note(span.service, span.instance);
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      if (parent !== undefined) note(parent.service, parent.instance);
      for (const c of children.get(span.spanId) ?? []) note(c.service, c.instance);
    } else {
      note(finding.service, undefined);
    }
    const kind = targetKind(finding.target);
    if (finding.target !== undefined && kind === 'service') {
      for (const r of lossyByService.get(targetName(finding.target)) ?? []) found.set(keyOf(r.service, r.instance), r);
    }
    if (finding.rule === 'not-consumed' || finding.rule === 'flow-step-missing' || (kind === 'service' && found.size === 0)) {
      for (const s of spans) note(s.service, s.instance);
    }
    if (found.size === 0) return finding;
    return { ...finding, message: `${finding.message}; ${dropNote([...found.values()])}` };
  });
}

/** `possibly dropped by the SDK of 10.0.0.2:80 (shop, 12 spans lost)` */
export function dropNote(reports: readonly SdkDropReport[]): string {
  const sorted = [...reports].sort((a, b) => b.droppedSpans - a.droppedSpans);
  const named = sorted
    .slice(0, MAX_NAMED)
    .map((r) => {
      const lost = `${r.droppedSpans} span${r.droppedSpans === 1 ? '' : 's'} lost`;
      return r.instance === '' ? `${r.service} (${lost})` : `${r.instance} (${r.service}, ${lost})`;
    });
  const more = sorted.length > MAX_NAMED ? ` and ${sorted.length - MAX_NAMED} more` : '';
  return `possibly dropped by the SDK of ${named.join(', ')}${more}`;
}
