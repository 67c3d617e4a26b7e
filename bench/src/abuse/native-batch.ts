/**
 * Small native-format batches for the abuse attacks that must later find what they sent: one trace
 * per request, its id derived from a sequence number and a run tag, so that each can be looked up.
 */
import { encodeNativeJson, type Span } from '@linktrace/model';

export const NATIVE_JSON = { 'content-type': 'application/json' };

/** The trace id of request `seq` of run `run` (32 hex characters). */
export function abuseTraceId(run: number, seq: number): string {
  return run.toString(16).padStart(16, '0') + (seq + 1).toString(16).padStart(16, '0');
}

/** `spans` spans of one trace, as the body of `POST /api/v1/spans`. */
export function nativeBatch(run: number, seq: number, spans: number, service = 'abuse'): Buffer {
  const traceId = abuseTraceId(run, seq);
  const startUs = Date.now() * 1000;
  const out: Span[] = [];
  for (let i = 0; i < spans; i++) {
    out.push({
      traceId,
      spanId: (i + 1).toString(16).padStart(16, '0'),
      ...(i === 0 ? {} : { parentSpanId: '0000000000000001' }),
      service,
      name: i === 0 ? 'GET /orders' : 'load',
      kind: i === 0 ? 'server' : 'internal',
      startUs: startUs + i,
      durationUs: 100,
      status: { code: 'unset' },
      attributes: { 'http.route': '/orders', seq },
      events: [],
      links: [],
    });
  }
  return Buffer.from(JSON.stringify(encodeNativeJson(out)));
}

/** Spans of one trace the server returns (Zipkin v2 API), 0 when it does not know the trace. */
export async function storedSpans(url: string, traceId: string): Promise<number> {
  const res = await fetch(`${url}/api/v2/trace/${traceId}`);
  if (res.status === 404) return 0;
  if (!res.ok) throw new Error(`GET /api/v2/trace/${traceId}: ${res.status}`);
  return ((await res.json()) as unknown[]).length;
}

/** Waits until the server's backlog is in the store (its /healthz reports none waiting). */
export async function backlogDrained(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${url}/healthz`)).json()) as { wal?: { backlogSpans?: number } };
    if (health.wal?.backlogSpans === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the backlog did not drain within ${timeoutMs} ms`);
}
