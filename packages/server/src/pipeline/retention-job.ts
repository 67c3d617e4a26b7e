/**
 * The retention job of `linktrace serve`: soon after start, then at least hourly, deletes what ARRIVED
 * longer than the retention period ago (the store counts arrival by its own clock, DESIGN §6), so
 * imported history is kept as long as fresh data. Every run and every removed record is counted on
 * /metrics and each run that removed something prints one line, so nothing disappears unseen.
 */
import { Counter, type Registry } from 'prom-client';
import type { IngestStore } from './ingest-store.js';

export interface RetentionJobOptions {
  store: Pick<IngestStore, 'deleteBefore'>;
  /** How long data is kept after it arrived, ms; 0 keeps it forever (no job at all). */
  retentionMs: number;
  /** The same clock the store marks arrival with (ms since the epoch). */
  clock: () => number;
  print: (line: string) => void;
  warn: (line: string) => void;
  /** The app's metrics registry. */
  registry: Registry;
  /** The server's in-memory SDK drop reports, forgotten with the store's (SdkDropTracker). */
  sdkDrops?: { forgetBefore(us: number): number };
}

/** At least this often, however long the retention. */
const MAX_INTERVAL_MS = 3_600_000;
/** Soon after start, so that a server restarted after a pause purges at once. */
const FIRST_RUN_MS = 1000;

export class RetentionJob {
  private running = false;
  private first: NodeJS.Timeout | undefined;
  private every: NodeJS.Timeout | undefined;
  private readonly runs: Counter;
  private readonly removed: Counter<'what'>;

  constructor(private readonly options: RetentionJobOptions) {
    const registers = [options.registry];
    this.runs = new Counter({ name: 'linktrace_retention_runs_total', help: 'Retention runs that completed.', registers });
    this.removed = new Counter({
      name: 'linktrace_retention_removed_total',
      help: 'Records deleted by retention because they arrived longer than --retention ago, by what (span_records, findings, sdk_drop_reports).',
      labelNames: ['what'],
      registers,
    });
    // Present from the start, so a scrape tells "nothing removed" from "not counted".
    this.removed.labels('span_records').inc(0);
    this.removed.labels('findings').inc(0);
    this.removed.labels('sdk_drop_reports').inc(0);
  }

  /** Arms the timers (none when retention is off). */
  start(): void {
    const { retentionMs } = this.options;
    if (retentionMs === 0) return;
    this.first = setTimeout(() => void this.runOnce(), Math.min(FIRST_RUN_MS, retentionMs));
    this.every = setInterval(() => void this.runOnce(), Math.min(retentionMs, MAX_INTERVAL_MS));
    this.first.unref();
    this.every.unref();
  }

  stop(): void {
    clearTimeout(this.first);
    clearInterval(this.every);
  }

  /** One run (skipped while one is under way); never rejects, a failure is a warning. */
  async runOnce(): Promise<void> {
    if (this.running || this.options.retentionMs === 0) return;
    this.running = true;
    try {
      const cutoffUs = (this.options.clock() - this.options.retentionMs) * 1000;
      const removed = await this.options.store.deleteBefore(Math.floor(cutoffUs));
      // The store's count when it keeps reports; else what the server held in memory only.
      const forgotten = this.options.sdkDrops?.forgetBefore(Math.floor(cutoffUs)) ?? 0;
      const reports = removed.sdkDropReports ?? forgotten;
      this.removed.labels('span_records').inc(removed.spans);
      this.removed.labels('findings').inc(removed.findings);
      this.removed.labels('sdk_drop_reports').inc(reports);
      this.runs.inc();
      if (removed.spans > 0 || removed.findings > 0 || reports > 0) {
        const drops = reports > 0 ? `, ${reports} SDK drop report${reports === 1 ? '' : 's'}` : '';
        this.options.print(
          `linktrace: retention removed ${removed.spans} span records and ${removed.findings} findings${drops} (arrived before ${new Date(cutoffUs / 1000).toISOString()})`,
        );
      }
    } catch (error) {
      this.options.warn(`linktrace: retention failed: ${(error as Error).message}`);
    } finally {
      this.running = false;
    }
  }
}
