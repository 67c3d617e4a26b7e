/**
 * Time sanity at the receivers: a span that starts more than `--max-future` after the server's clock
 * (a broken clock, a unit mistake, a hostile sender) is refused, with its reason, instead of sitting
 * at the top of every search for centuries. Clock skew within the window is left as it is (trace
 * assembly deals with skew). The check is one comparison per span; nothing is allocated unless a
 * span is refused.
 */
import type { Span } from '@linktrace/model';

/** The reason label on linktrace_spans_rejected_total, and the word in the sender's message. */
export const FUTURE_START_REASON = 'future_start';

/** At most this many refused spans are named in the message to the sender. */
const MAX_NAMED = 3;

export interface FutureRefusal {
  /** The spans within the window, in their order. */
  kept: Span[];
  refused: number;
  /** For the sender (OTLP partial success, the native answer): the first few refused spans and why. */
  errors: string[];
}

function iso(us: number): string {
  const ms = us / 1000;
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(us);
}

function windowText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1000 === 0) return `${ms / 1000} s`;
  return `${ms} ms`;
}

/**
 * Undefined when every span starts at most `maxFutureMs` after `nowMs` (the common case: no work
 * beyond the loop); else the spans kept and the refusal.
 */
export function refuseFutureSpans(spans: readonly Span[], nowMs: number, maxFutureMs: number): FutureRefusal | undefined {
  const limitUs = (nowMs + maxFutureMs) * 1000;
  let first = -1;
  for (let i = 0; i < spans.length; i++) {
    if (spans[i]!.startUs > limitUs) {
      first = i;
      break;
    }
  }
  if (first < 0) return undefined;
  const kept = spans.slice(0, first);
  const errors: string[] = [];
  let refused = 0;
  for (let i = first; i < spans.length; i++) {
    const span = spans[i]!;
    if (span.startUs <= limitUs) {
      kept.push(span);
      continue;
    }
    refused++;
    if (refused <= MAX_NAMED) {
      errors.push(
        `span ${span.spanId} refused (${FUTURE_START_REASON}): it starts at ${iso(span.startUs)}, more than ${windowText(maxFutureMs)} after the server's clock (${iso(nowMs * 1000)})`,
      );
    }
  }
  if (refused > MAX_NAMED) errors.push(`and ${refused - MAX_NAMED} more spans starting too far in the future`);
  return { kept, refused, errors };
}
