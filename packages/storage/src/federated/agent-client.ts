/**
 * Reads one trace's spans from one agent: `GET <agent>/api/v1/traces/{id}?format=native`. Whatever
 * the agent does — refuses the connection, hangs, answers HTML, a flood, spans of another trace —
 * the answer is bounded (time, bytes, spans) and says what happened; it never throws.
 */
import { decodeNativeJson, type Span } from '@linktrace/model';

export type AgentAnswer =
  | { status: 'ok'; spans: Span[]; bytes: number; ms: number; rejected: number; notes: string[] }
  | { status: 'unreachable'; reason: string; bytes: number; ms: number };

export interface AgentFetchOptions {
  /** Whole request, body included. */
  timeoutMs: number;
  /** Largest answer read; past it the answer is dropped as unusable. */
  maxBytes: number;
  /** Most spans taken from one answer. */
  maxSpans: number;
  /** Stops the read when the whole walk is over (its deadline). */
  signal?: AbortSignal;
  /** Authorization for the agents (`--agent-token`). */
  token?: string;
  /** Monotonic ms, for the answer's time. */
  now?: () => number;
}

/** Reads at most `max` bytes of the body; undefined when there were more. */
async function readCapped(body: ReadableStream<Uint8Array> | null, max: number): Promise<Buffer | undefined> {
  if (body === null) return Buffer.alloc(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

function describe(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return 'the walk ran out of time';
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause !== undefined ? `cannot connect (${cause})` : `cannot connect (${e?.message ?? String(error)})`;
}

export async function fetchAgentTrace(agent: string, traceId: string, options: AgentFetchOptions): Promise<AgentAnswer> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
  const url = `${agent}/api/v1/traces/${encodeURIComponent(traceId)}?format=native`;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let bytes = 0;
  const unreachable = (reason: string): AgentAnswer => ({ status: 'unreachable', reason, bytes, ms: now() - started });
  try {
    const response = await fetch(url, { headers, signal, redirect: 'error' });
    const body = await readCapped(response.body, options.maxBytes);
    if (body === undefined) return unreachable(`answered more than ${options.maxBytes} bytes`);
    bytes = body.byteLength;
    // 404: the agent is there and holds nothing of this trace.
    if (response.status === 404) return { status: 'ok', spans: [], bytes, ms: now() - started, rejected: 0, notes: [] };
    if (response.status !== 200) return unreachable(`answered HTTP ${response.status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return unreachable('answered garbage (not JSON)');
    }
    let decoded;
    try {
      decoded = decodeNativeJson(parsed);
    } catch (error) {
      return unreachable(`answered garbage (${(error as Error).message})`);
    }
    const notes: string[] = [];
    let rejected = decoded.rejected;
    if (decoded.rejected > 0) notes.push(`${decoded.rejected} spans rejected: ${decoded.errors[0] ?? ''}`);
    // Spans of other traces are not this trace's, whatever the agent thinks.
    let spans = decoded.spans.filter((s) => s.traceId === traceId);
    const foreign = decoded.spans.length - spans.length;
    if (foreign > 0) {
      rejected += foreign;
      notes.push(`${foreign} spans of other traces dropped`);
    }
    if (spans.length > options.maxSpans) {
      notes.push(`${spans.length - options.maxSpans} spans past the limit of ${options.maxSpans} dropped`);
      rejected += spans.length - options.maxSpans;
      spans = spans.slice(0, options.maxSpans);
    }
    if (decoded.spans.length === 0 && decoded.rejected > 0) return unreachable(`answered garbage (every span rejected: ${decoded.errors[0] ?? ''})`);
    return { status: 'ok', spans, bytes, ms: now() - started, rejected, notes };
  } catch (error) {
    return unreachable(describe(error, timeout.aborted, options.timeoutMs));
  }
}
