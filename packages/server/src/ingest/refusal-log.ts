/**
 * Names refused spans in the server log for a sender that cannot be told: Zipkin answers 202 with
 * no body whatever happened, so a span refused beside good ones would vanish unseen. One line names
 * the reasons and the first few messages of a request; at most one line per interval (a client
 * sending the same bad span a thousand times a second must not flood the log), and the refusals
 * left out in between are counted in the next line. Every refusal is counted on /metrics anyway.
 */

export interface RefusalLogOptions {
  /** Milliseconds between two lines. Default 60 000. */
  intervalMs?: number;
  /** Messages quoted per line. Default 3. */
  maxMessages?: number;
  /** The clock, in ms (tests inject one). Default `Date.now`. */
  now?: () => number;
}

/** Longest quoted message: a span id and a field name, not a 128 KiB tag value. */
const MAX_MESSAGE_CHARS = 300;

export class RefusalLog {
  private readonly intervalMs: number;
  private readonly maxMessages: number;
  private readonly now: () => number;
  private nextLineAt = -Infinity;
  private skippedSpans = 0;
  private skippedRequests = 0;

  constructor(
    private readonly warn: (line: string) => void,
    options: RefusalLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxMessages = options.maxMessages ?? 3;
    this.now = options.now ?? Date.now;
  }

  /** One request's refusals (`rejected` > 0), from `receiver`, answered with success nonetheless. */
  report(receiver: string, rejected: number, rejectedBy: Readonly<Record<string, number>>, errors: readonly string[]): void {
    if (rejected <= 0) return;
    const t = this.now();
    if (t < this.nextLineAt) {
      this.skippedSpans += rejected;
      this.skippedRequests++;
      return;
    }
    this.nextLineAt = t + this.intervalMs;
    const reasons: string[] = [];
    for (const reason in rejectedBy) {
      const n = rejectedBy[reason]!;
      if (n > 0) reasons.push(`${reason} ${n}`);
    }
    const quoted = errors.slice(0, this.maxMessages).map((m) => (m.length > MAX_MESSAGE_CHARS ? `${m.slice(0, MAX_MESSAGE_CHARS)}…` : m));
    let line = `${receiver}: refused ${rejected} span${rejected === 1 ? '' : 's'} of a request that was answered as accepted (${reasons.join(', ')}): ${quoted.join('; ')}`;
    if (errors.length > quoted.length || rejected > errors.length) line += '; …';
    if (this.skippedSpans > 0) {
      line += ` (before this, ${this.skippedSpans} more refused in ${this.skippedRequests} request${this.skippedRequests === 1 ? '' : 's'} went unlogged; see linktrace_spans_rejected_total)`;
      this.skippedSpans = 0;
      this.skippedRequests = 0;
    }
    this.warn(line);
  }
}
