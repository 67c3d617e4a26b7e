/**
 * Search inside one trace: which of the server's rows match a text. A span row matches when the
 * text is in its service, operation name, span id, rpcid, span kind, status message, an event's
 * name, or an attribute's key or value (its own or its resource's); a folded call when either half does; a placeholder row by its
 * text. Case-insensitive substring, so `stock`, `order.id` and `A-77` all find what people type.
 */
import type { SpanJson, TraceView } from '../api/types.js';
import { attributeText } from './attribute-value.js';

function attrsMatch(attrs: Record<string, unknown> | undefined, needle: string): boolean {
  if (attrs === undefined) return false;
  for (const [k, v] of Object.entries(attrs)) {
    if (k.toLowerCase().includes(needle) || attributeText(v).toLowerCase().includes(needle)) return true;
  }
  return false;
}

export function spanMatches(s: SpanJson, needle: string): boolean {
  return (
    s.service.toLowerCase().includes(needle) ||
    s.name.toLowerCase().includes(needle) ||
    s.spanId.includes(needle) ||
    s.kind.includes(needle) ||
    (s.rpcid ?? '').includes(needle) ||
    (s.status.message ?? '').toLowerCase().includes(needle) ||
    s.events.some((e) => e.name.toLowerCase().includes(needle)) ||
    attrsMatch(s.attributes, needle) ||
    attrsMatch(s.resource, needle)
  );
}

/** Indexes into `view.rows` of the rows that match `text`, in display order; none for blank text. */
export function matchRows(view: TraceView, text: string): number[] {
  const needle = text.trim().toLowerCase();
  if (needle === '') return [];
  const out: number[] = [];
  view.rows.forEach((r, i) => {
    const hit =
      r.kind === 'span'
        ? spanMatches(view.spans[r.span]!, needle) || (r.partner !== undefined && spanMatches(view.spans[r.partner]!, needle))
        : r.text.toLowerCase().includes(needle) || (r.rpcid ?? '').includes(needle);
    if (hit) out.push(i);
  });
  return out;
}
