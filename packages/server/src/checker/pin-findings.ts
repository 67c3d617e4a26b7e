/**
 * Adds to each finding the position id (rpcid, DESIGN §2) of the span it names, so that a UI can
 * pin the finding to its hop even when span ids differ between tracers. The checker has the spans
 * at hand; the rules themselves stay unaware of it.
 */
import { isValidRpcid, type Span } from '@linktrace/model';
import type { Finding } from '@linktrace/storage';

function rpcidOf(span: Span): string | undefined {
  if (isValidRpcid(span.rpcid)) return span.rpcid;
  const attr = span.attributes?.['linktrace.rpcid'];
  return isValidRpcid(attr) ? attr : undefined;
}

/** Sets `rpcid` on the findings (in place) whose span has one; returns them. */
export function pinFindings<F extends Finding>(findings: F[], spans: readonly Span[]): F[] {
  if (findings.length === 0) return findings;
  const rpcids = new Map<string, string>();
  for (const s of spans) {
    const r = rpcidOf(s);
    if (r !== undefined && !rpcids.has(s.spanId)) rpcids.set(s.spanId, r);
  }
  for (const f of findings) {
    const r = f.rpcid ?? rpcids.get(f.spanId);
    if (r !== undefined) f.rpcid = r;
  }
  return findings;
}
