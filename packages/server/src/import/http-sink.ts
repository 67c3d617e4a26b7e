/**
 * Imports into a running server by POSTing OTLP/HTTP JSON to its `/v1/traces` (the contract route
 * of DESIGN §5; OTLP JSON carries every model field). A batch the server finds too large is split;
 * a busy or unreachable server is retried a few times before the import stops.
 */
import { encodeOtlpJson, type Span } from '@linktrace/model';
import type { SinkResult, SpanSink } from './span-sink.js';

export interface HttpSinkOptions {
  /** Server base URL, e.g. `http://127.0.0.1:4318`. */
  server: string;
  token?: string;
  /** Waits before each retry, ms. Default [200, 1000, 3000]. */
  retryDelaysMs?: readonly number[];
  /** Per-request deadline, ms. Default 30 000. */
  timeoutMs?: number;
}

/** The import cannot go on (server refused the token, kept failing, or is unreachable). */
export class SinkFailure extends Error {
  override readonly name = 'SinkFailure';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function errorText(res: Response): Promise<string> {
  const text = (await res.text()).slice(0, 500);
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // Not our JSON error body: the raw text says enough.
  }
  return text || res.statusText;
}

export class HttpSink implements SpanSink {
  readonly target: string;
  private readonly url: string;
  private readonly headers: Record<string, string>;
  private readonly delays: readonly number[];
  private readonly timeoutMs: number;

  constructor(opts: HttpSinkOptions) {
    const base = opts.server.replace(/\/+$/, '');
    this.url = `${base}/v1/traces`;
    this.target = base;
    this.headers = { 'content-type': 'application/json' };
    if (opts.token !== undefined) this.headers.authorization = `Bearer ${opts.token}`;
    this.delays = opts.retryDelaysMs ?? [200, 1000, 3000];
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  async write(spans: readonly Span[]): Promise<SinkResult> {
    if (spans.length === 0) return { accepted: 0, rejected: 0, errors: [] };
    const body = JSON.stringify(encodeOtlpJson(spans));
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(this.url, { method: 'POST', headers: this.headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (err) {
        if (attempt < this.delays.length) {
          await sleep(this.delays[attempt]!);
          continue;
        }
        throw new SinkFailure(`cannot reach ${this.target}: ${(err as Error).message}`);
      }
      if (res.ok) return this.accepted(res, spans.length);
      if (res.status === 413 && spans.length > 1) {
        await res.body?.cancel();
        return this.split(spans);
      }
      if (res.status === 401 || res.status === 403) throw new SinkFailure(`${this.target} refused the request (${res.status}): ${await errorText(res)}`);
      if ((res.status === 429 || res.status >= 500) && attempt < this.delays.length) {
        await res.body?.cancel();
        await sleep(this.delays[attempt]!);
        continue;
      }
      const message = await errorText(res);
      if (res.status >= 500 || res.status === 429) throw new SinkFailure(`${this.target} failed (${res.status}): ${message}`);
      // Any other 4xx: the server judged these spans bad; the import goes on without them.
      return { accepted: 0, rejected: spans.length, errors: [`server answered ${res.status}: ${message}`] };
    }
  }

  private async split(spans: readonly Span[]): Promise<SinkResult> {
    const half = Math.ceil(spans.length / 2);
    const a = await this.write(spans.slice(0, half));
    const b = await this.write(spans.slice(half));
    return { accepted: a.accepted + b.accepted, rejected: a.rejected + b.rejected, errors: [...a.errors, ...b.errors].slice(0, 5) };
  }

  /** OTLP partial success: `rejectedSpans` (int64, a string or a number in JSON) and a message. */
  private async accepted(res: Response, count: number): Promise<SinkResult> {
    const text = await res.text();
    let rejected = 0;
    let message: string | undefined;
    try {
      const body = JSON.parse(text) as { partialSuccess?: { rejectedSpans?: unknown; errorMessage?: unknown } };
      const n = Number(body.partialSuccess?.rejectedSpans ?? 0);
      if (Number.isSafeInteger(n) && n > 0) rejected = Math.min(n, count);
      if (typeof body.partialSuccess?.errorMessage === 'string' && body.partialSuccess.errorMessage !== '') message = body.partialSuccess.errorMessage;
    } catch {
      // An empty or non-JSON 2xx body means everything was taken.
    }
    return { accepted: count - rejected, rejected, errors: rejected > 0 && message !== undefined ? [message] : [] };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
