/**
 * The gateway's answer for one trace: the walked spans assembled by the one trace assembly
 * (`buildTraceView` → analysis `assembleTrace`), the chain check run on the whole trace on demand
 * (agents only ever see their part of it), plus the hops and the last healthy one.
 */
import { checkTrace, type CheckOptions } from '@linktrace/analysis';
import type { Span } from '@linktrace/model';
import type { WalkedTrace } from '@linktrace/storage';
import { buildTraceView } from '../query/trace-view.js';
import type { TraceView } from '../query/trace-view-types.js';

/** The view of a walked trace with spans; undefined when the walk found none. */
export function federatedTraceView(walked: WalkedTrace<Span>, check: CheckOptions, nowUs: number): TraceView | undefined {
  if (walked.spans.length === 0) return undefined;
  const findings = checkTrace(walked.spans, check, nowUs);
  const view = buildTraceView(walked.spans[0]!.traceId, walked.spans, findings);
  view.hops = walked.hops;
  view.lastHealthyHop = walked.lastHealthyHop;
  view.walk = walked.walk;
  return view;
}

/** Hop summary for the Zipkin answer's headers (the body must stay Zipkin's plain span array). */
export function hopHeaders(walked: WalkedTrace<Span>): Record<string, string> {
  const counts = { ok: 0, unreachable: 0, 'no-spans': 0 };
  for (const h of walked.hops) counts[h.status]++;
  const broken = walked.hops.find((h) => h.status !== 'ok');
  const name = (h: { service: string; instance?: string }): string => encodeURIComponent(h.instance === undefined ? h.service : `${h.service}@${h.instance}`);
  const headers: Record<string, string> = {
    'x-linktrace-hops': `ok=${counts.ok} unreachable=${counts.unreachable} no-spans=${counts['no-spans']}`,
  };
  if (walked.lastHealthyHop !== null) headers['x-linktrace-last-healthy-hop'] = name(walked.lastHealthyHop);
  if (broken !== undefined) headers['x-linktrace-broken-hop'] = `${broken.status} ${name(broken)}`;
  if (walked.walk.truncated !== undefined) headers['x-linktrace-walk-truncated'] = walked.walk.truncated;
  return headers;
}
