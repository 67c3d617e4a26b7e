/**
 * One HTTP POST with a timeout, retried with exponential backoff when the failure may pass: network
 * errors, timeouts, 408, 429 and 5xx. `Retry-After` (seconds) is honoured up to the largest backoff.
 * Other answers are final.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface PostOptions {
  /** Per attempt. Default 5000 ms. */
  timeoutMs?: number;
  /** Attempts after the first. Default 3. */
  retries?: number;
  /** First backoff, doubled each time. Default 500 ms. */
  backoffMs?: number;
  /** Default 30 000 ms. */
  maxBackoffMs?: number;
  /** Waits between attempts; tests pass one that records the waits instead of taking them. */
  sleep?: (ms: number) => Promise<void>;
}

const sleepUnref = (ms: number): Promise<void> => sleep(ms, undefined, { ref: false });

export class PostError extends Error {
  override readonly name = 'PostError';
  constructor(
    message: string,
    /** The last HTTP status, when an answer came. */
    readonly status?: number,
  ) {
    super(message);
  }
}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const s = Number(header);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

export async function postWithRetry(url: string, body: string, headers: Record<string, string>, options: PostOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const retries = options.retries ?? 3;
  const maxBackoffMs = options.maxBackoffMs ?? 30_000;
  let backoff = options.backoffMs ?? 500;
  for (let attempt = 0; ; attempt++) {
    let problem: string;
    let status: number | undefined;
    let wait = backoff;
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
      // Read the answer to the end so that the connection can be reused.
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return;
      status = res.status;
      problem = `${url} answered ${res.status}`;
      if (!retryable(res.status)) throw new PostError(problem, status);
      wait = Math.max(wait, retryAfterMs(res.headers.get('retry-after')) ?? 0);
    } catch (error) {
      if (error instanceof PostError) throw error;
      const e = error as Error;
      problem = e.name === 'TimeoutError' ? `${url}: no answer within ${timeoutMs} ms` : `${url}: ${e.message}${e.cause instanceof Error ? ` (${e.cause.message})` : ''}`;
    }
    if (attempt >= retries) throw new PostError(`${problem} (after ${attempt + 1} attempts)`, status);
    await (options.sleep ?? sleepUnref)(Math.min(wait, maxBackoffMs));
    backoff = Math.min(backoff * 2, maxBackoffMs);
  }
}
