/**
 * Reads one trace's spans from one agent: `GET <agent>/api/v1/traces/{id}?format=native`. Whatever
 * the agent does — refuses the connection, hangs, answers HTML, a flood, spans of another trace —
 * the answer is bounded (time, bytes, spans) and says what happened; it never throws.
 *
 * Plain `node:http` on kept-alive connections, not `fetch`: a walk is one round trip per hop, one
 * after the other, so the client's own cost is on the critical path n times per query. Measured on
 * loopback (bench:federated), `fetch` spent more CPU per request (WHATWG streams, abort-signal
 * plumbing) than the agent's whole answer from memory, and a connection per hop adds a handshake.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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

/**
 * Connections kept open between the gateway and its agents, shared by every walk. Idle ones are
 * closed by Node before the agent's own idle timeout (it sends its `Keep-Alive: timeout` hint), and
 * a request that still loses the race on a reused connection is sent once more (`get`).
 */
const KEEP_ALIVE = { keepAlive: true, maxSockets: 64, maxFreeSockets: 16, scheduling: 'lifo' as const };
const httpAgent = new HttpAgent(KEEP_ALIVE);
const httpsAgent = new HttpsAgent(KEEP_ALIVE);

interface RawAnswer {
  status: number;
  /** undefined: more than the cap. */
  body: Buffer | undefined;
}

class HttpFailure extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly reused: boolean,
  ) {
    super(message);
  }
}

/** One GET, its body read up to `max` bytes; rejects with HttpFailure (or the signal's reason). */
function getOnce(url: URL, headers: Record<string, string>, max: number, signal: AbortSignal): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(url, { method: 'GET', headers, agent: https ? httpsAgent : httpAgent });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      finish(() => reject(signal.reason));
      req.destroy();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (error: NodeJS.ErrnoException) => finish(() => reject(new HttpFailure(error.message, error.code, req.reusedSocket))));
    req.on('response', (res: IncomingMessage) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > max) {
        res.destroy();
        finish(() => resolve({ status: res.statusCode ?? 0, body: undefined }));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.byteLength;
        if (total > max) {
          res.destroy();
          finish(() => resolve({ status: res.statusCode ?? 0, body: undefined }));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks, total) })));
      res.on('error', (error: NodeJS.ErrnoException) => finish(() => reject(new HttpFailure(error.message, error.code, false))));
      res.on('aborted', () => finish(() => reject(new HttpFailure('the answer was cut off', 'ECONNRESET', false))));
    });
    req.end();
  });
}

/**
 * `getOnce`, sent again once when a kept-alive connection was closed by the agent just as it was
 * reused (the request never reached it; a GET is safe to repeat).
 */
async function get(url: URL, headers: Record<string, string>, max: number, signal: AbortSignal): Promise<RawAnswer> {
  try {
    return await getOnce(url, headers, max, signal);
  } catch (error) {
    if (error instanceof HttpFailure && error.reused && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) return getOnce(url, headers, max, signal);
    throw error;
  }
}

function describe(error: unknown, timedOut: boolean, timeoutMs: number): string {
  if (timedOut) return `no answer within ${timeoutMs} ms`;
  const e = error as { name?: string; message?: string; code?: string };
  if (e?.name === 'AbortError' || e?.name === 'TimeoutError') return 'the walk ran out of time';
  return `cannot connect (${e?.code ?? e?.message ?? String(error)})`;
}

export async function fetchAgentTrace(agent: string, traceId: string, options: AgentFetchOptions): Promise<AgentAnswer> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  // One controller for the hop's timeout and the walk's end (cheaper than AbortSignal.timeout/any).
  const abort = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort(new DOMException('no answer in time', 'TimeoutError'));
  }, options.timeoutMs);
  const walkOver = (): void => abort.abort(options.signal?.reason);
  if (options.signal?.aborted === true) walkOver();
  else options.signal?.addEventListener('abort', walkOver, { once: true });
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let bytes = 0;
  const unreachable = (reason: string): AgentAnswer => ({ status: 'unreachable', reason, bytes, ms: now() - started });
  try {
    let url: URL;
    try {
      url = new URL(`${agent}/api/v1/traces/${encodeURIComponent(traceId)}?format=native`);
    } catch {
      return unreachable('not a URL');
    }
    const response = await get(url, headers, options.maxBytes, abort.signal);
    const body = response.body;
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
    return unreachable(describe(error, timedOut, options.timeoutMs));
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', walkOver);
  }
}
