/**
 * The remedy book, its audit log and its re-check, and the timer that expires, fails and verifies
 * (once a second; tests call `tick` with their own clock instead).
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

const TICK_MS = 1000;

export class RemedyService {
  readonly options: RemedyOptions;
  readonly audit: RemedyAudit;
  readonly book: RemedyBook;
  readonly verifier: RemedyVerifier;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly deps: RemedyServiceDeps) {
    const clock = deps.clock ?? Date.now;
    this.options = remedyOptions(deps.options);
    this.audit = new RemedyAudit(deps.dataDir, clock);
    this.book = new RemedyBook(deps.dataDir, this.options, this.audit, clock);
    this.verifier = new RemedyVerifier({ book: this.book, store: deps.store, checking: deps.checking, ...(deps.checkNow !== undefined && { checkNow: deps.checkNow }), verifyWithinMs: this.options.verifyWithinMs, clock });
  }

  /** One round: expiries, lapsed leases, re-checks. Rounds never overlap. */
  tick(): Promise<void> {
    return (this.running ??= (async () => {
      try {
        this.book.tick();
        await this.verifier.tick();
      } catch (error) {
        this.deps.warn?.(`linktrace: remedy re-check failed: ${(error as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })());
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
