/**
 * Queries first: the server's work for a query (a GET under `/api/`) goes before the ingest
 * pipeline's background work. Queries count themselves in and out; the pipeline, before each step
 * that costs the event loop or the store time (encoding a write, handing stored spans to the
 * checker), waits while a query is under way, for at most `maxPauseMs` per step, so that a
 * searching user is answered during a flood and ingest still moves when queries never stop. While
 * it waits, its backlog grows and is bounded as ever (429 when full): nothing is dropped.
 */

export interface QueriesFirstOptions {
  /** The longest one pipeline step waits for queries to end, ms. */
  maxPauseMs: number;
  /** Resolves after `ms` (tests pass their own, to decide when a pause runs out). */
  after?: (ms: number) => Promise<void>;
}

function timer(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class QueriesFirst {
  private running = 0;
  private waiters: (() => void)[] = [];
  private paused = 0;
  private readonly after: (ms: number) => Promise<void>;

  constructor(private readonly options: QueriesFirstOptions) {
    this.after = options.after ?? timer;
  }

  /** Queries under way (received, not yet answered). */
  get queries(): number {
    return this.running;
  }

  /** Pipeline steps that waited for queries so far. */
  get pauses(): number {
    return this.paused;
  }

  /** Counts a query in; call the returned function once (more calls are ignored) when it is answered. */
  begin(): () => void {
    this.running++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.running === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /**
   * Undefined when no query is under way (nothing to wait for: the caller goes on in the same tick),
   * else resolves when none is or after `maxPauseMs`, whichever is first.
   */
  yieldToQueries(): Promise<void> | undefined {
    if (this.running === 0 || this.options.maxPauseMs <= 0) return undefined;
    this.paused++;
    return new Promise<void>((resolve) => {
      let done = false;
      const wake = (): void => {
        if (done) return;
        done = true;
        const i = this.waiters.indexOf(wake);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      this.waiters.push(wake);
      void this.after(this.options.maxPauseMs).then(wake);
    });
  }
}
