/**
 * The remedy book, its audit log and its re-check, and the timer that expires and fails (once a
 * second) and re-checks (a remedy as soon as its instance reports success, then with a back-off of
 * 0.2 s to 1 s while its trace is incomplete). Tests call `tick` with their own clock instead.
 */
import type { Finding, Span } from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';
import { RemedyAudit } from './remedy-audit.js';
import { RemedyBook } from './remedy-book.js';
import { remedyOptions, type RemedyOptions } from './remedy-options.js';
import { RemedyVerifier } from './remedy-verifier.js';

export interface RemedyServiceDeps {
  dataDir: string;
  options: Partial<RemedyOptions>;
  store: Pick<SpanStore, 'getTrace' | 'findFindings'>;
  checking: (traceId: string) => boolean;
  /** The checker's rules on a trace now (see VerifierDeps.checkNow). */
  checkNow?: (spans: readonly Span[]) => Finding[];
  clock?: () => number;
  warn?: (line: string) => void;
}

/** The timer's period: the re-check's shortest back-off. Expiries and leases go once a second. */
const TICK_MS = 200;
const BOOK_TICK_MS = 1000;

export class RemedyService {
  readonly options: RemedyOptions;
  readonly audit: RemedyAudit;
  readonly book: RemedyBook;
  readonly verifier: RemedyVerifier;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private bookTickedAtMs = 0;

  constructor(private readonly deps: RemedyServiceDeps) {
    const clock = deps.clock ?? Date.now;
    this.options = remedyOptions(deps.options);
    this.audit = new RemedyAudit(deps.dataDir, clock);
    this.book = new RemedyBook(deps.dataDir, this.options, this.audit, clock);
    this.verifier = new RemedyVerifier({ book: this.book, store: deps.store, checking: deps.checking, ...(deps.checkNow !== undefined && { checkNow: deps.checkNow }), verifyWithinMs: this.options.verifyWithinMs, clock });
    // Waiting for the next round cost up to a round per remedy (bench:remedy, docs/benchmarks.md).
    this.book.onSucceeded((id) => void this.verifier.checkNow(id).catch((error: unknown) => this.warnFailed(error)));
  }

  private warnFailed(error: unknown): void {
    this.deps.warn?.(`linktrace: remedy re-check failed: ${(error as Error).message}`);
  }

  /** One round: expiries, lapsed leases, re-checks of every succeeded remedy. Rounds never overlap. */
  tick(): Promise<void> {
    return this.round(true, false);
  }

  private round(book: boolean, onlyDue: boolean): Promise<void> {
    return (this.running ??= (async () => {
      try {
        if (book) this.book.tick();
        await this.verifier.tick(onlyDue);
      } catch (error) {
        this.warnFailed(error);
      } finally {
        this.running = undefined;
      }
    })());
  }

  start(): void {
    this.timer ??= setInterval(() => {
      const now = Date.now();
      const book = now - this.bookTickedAtMs >= BOOK_TICK_MS;
      if (book) this.bookTickedAtMs = now;
      void this.round(book, true);
    }, TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
