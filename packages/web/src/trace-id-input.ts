/**
 * What the trace-id box accepts: a trace id (32 hex digits, or 16 from Zipkin and B3, any case), or
 * something that carries one people paste from elsewhere: a W3C `traceparent` header value or a
 * Linktrace trace link. The server refuses the same malformed ids (`invalid_trace_id`); checking
 * here too lets the box say what is wrong before leaving the page.
 */
export type TraceIdInput = { ok: true; traceId: string } | { ok: false; message: string };

const ID = /^(?:[0-9a-f]{16}|[0-9a-f]{32})$/;
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const LINK = /#\/trace\/([^?/#]+)/;

export function parseTraceIdInput(raw: string): TraceIdInput {
  let text = raw.trim().toLowerCase();
  if (text === '') return { ok: false, message: 'Paste a trace id (32 hex digits, or 16 from Zipkin).' };
  text = TRACEPARENT.exec(text)?.[1] ?? LINK.exec(text)?.[1] ?? text;
  if (!ID.test(text)) {
    const shown = raw.trim().length > 40 ? `${raw.trim().slice(0, 40)}…` : raw.trim();
    return { ok: false, message: `“${shown}” is not a trace id: a trace id is 32 hex digits (or 16, from Zipkin).` };
  }
  if (/^0+$/.test(text)) return { ok: false, message: 'An all-zero trace id is invalid.' };
  return { ok: true, traceId: text };
}
