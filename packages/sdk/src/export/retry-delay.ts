/** Retry pacing for exports that failed with a retryable result. */
export interface RetryPolicy {
  /** Total export attempts per batch, the first one included. */
  maxAttempts: number;
  /** Delay before the first retry; doubles on each further one. */
  baseMs: number;
  /** No wait is ever longer than this, even when the server asks for more. */
  maxMs: number;
}

/**
 * Delay before retry number `retry` (1 = first retry): exponential backoff with "equal jitter", so that many
 * processes rejected at the same moment do not all come back at the same moment. A server's
 * Retry-After wins when it asks for longer, but is still capped so that one answer cannot stall the
 * pipeline for hours while the queue overflows.
 */
export function retryDelayMs(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined, random = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  // Half fixed, half random: never retries immediately, still spreads clients apart.
  const backoff = ceiling / 2 + random() * (ceiling / 2);
  const wanted = retryAfterMs !== undefined && retryAfterMs > backoff ? retryAfterMs : backoff;
  return Math.min(policy.maxMs, Math.max(0, Math.round(wanted)));
}
