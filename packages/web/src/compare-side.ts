/**
 * One side of a comparison as typed or linked: trace ids (or anything the trace-id box takes),
 * separated by spaces or commas, or a search (`search:<query>`, or a search page link) whose results
 * are the group.
 */
import { parseTraceIdInput } from './trace-id-input.js';

export type CompareSide = { kind: 'ids'; ids: string[] } | { kind: 'search'; query: string } | { kind: 'empty' } | { kind: 'bad'; message: string };

/** At most this many traces per side (the server's limit). */
export const MAX_SIDE_TRACES = 100;

export function parseCompareSide(raw: string): CompareSide {
  const text = raw.trim();
  if (text === '') return { kind: 'empty' };
  if (text.startsWith('search:')) return { kind: 'search', query: text.slice('search:'.length).replace(/^\?/, '') };
  const link = /#\/search(?:\?(.*))?$/.exec(text);
  if (link) return { kind: 'search', query: link[1] ?? '' };
  const ids: string[] = [];
  for (const part of text.split(/[\s,]+/)) {
    const r = parseTraceIdInput(part);
    if (!r.ok) return { kind: 'bad', message: r.message };
    if (!ids.includes(r.traceId)) ids.push(r.traceId);
  }
  if (ids.length > MAX_SIDE_TRACES) return { kind: 'bad', message: `${ids.length} trace ids: at most ${MAX_SIDE_TRACES} per side.` };
  return { kind: 'ids', ids };
}
