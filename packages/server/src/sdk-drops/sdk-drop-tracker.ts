/**
 * Reads the SDK's own account of lost spans at ingest: the resource attribute
 * `linktrace.sdk.dropped_spans` (a cumulative counter per process, on every OTLP batch; a tag on
 * every span from the Zipkin exporter) and keeps its latest value per (service, instance), in memory
 * for /metrics and the checker, and in the store so that a restart keeps it.
 */
import { ATTR, OldestFirst, type SdkDropReport, type Span } from '@linktrace/model';

/** What the tracker needs of a store; the embedded store has it. */
export interface SdkDropStore {
  recordSdkDrops(reports: readonly SdkDropReport[]): Promise<void>;
  sdkDrops(): Promise<SdkDropReport[]>;
}

export function isSdkDropStore(store: unknown): store is SdkDropStore {
  const s = store as Partial<SdkDropStore> | null;
  return s !== null && typeof s === 'object' && typeof s.recordSdkDrops === 'function' && typeof s.sdkDrops === 'function';
}

/** Service instances remembered; past it the instance reported longest ago is forgotten (in memory only). */
const MAX_INSTANCES = 10_000;

/**
 * An unchanged value is written again (with the time it was received) once the stored report is this
 * old: retention removes reports received before its cutoff, and a process still reporting the same
 * count must not lose its report for it. One upsert per instance per interval at most.
 */
export const REPORT_REFRESH_US = 10 * 60 * 1_000_000;

const keyOf = (service: string, instance: string): string => `${service}\u0000${instance}`;

/** A count from the attribute: an OTLP int, or the text of one (Zipkin tags are strings). */
function countOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export class SdkDropTracker {
  private readonly latest = new Map<string, SdkDropReport>();
  private readonly oldestReported = new OldestFirst(this.latest);

  constructor(
    private readonly store: SdkDropStore | undefined,
    private readonly warn: (line: string) => void = () => {},
    /** µs since the epoch; for tests. */
    private readonly nowUs: () => number = () => Date.now() * 1000,
  ) {}

  /** Seeds the latest values from the store (what a previous run recorded). */
  async load(): Promise<void> {
    if (this.store === undefined) return;
    for (const r of await this.store.sdkDrops()) this.remember(r);
  }

  /**
   * Called with every stored batch. Spans of one OTLP resource share one resource object, so the
   * attribute is read once per resource, not once per span; a value that did not change writes nothing.
   */
  observe(spans: readonly Span[]): void {
    let changed: SdkDropReport[] | undefined;
    let lastResource: object | undefined;
    for (const span of spans) {
      const resource = span.resource;
      let value: unknown;
      if (resource !== undefined) {
        if (resource === lastResource) continue;
        lastResource = resource;
        value = resource[ATTR.droppedSpans];
      }
      value ??= span.attributes?.[ATTR.droppedSpans];
      if (value === undefined) continue;
      const droppedSpans = countOf(value);
      if (droppedSpans === undefined) continue;
      const instance = span.instance ?? '';
      const known = this.latest.get(keyOf(span.service, instance));
      const nowUs = this.nowUs();
      if (known !== undefined && known.droppedSpans === droppedSpans && nowUs - known.reportedUs < REPORT_REFRESH_US) continue;
      const report: SdkDropReport = { service: span.service, instance, droppedSpans, reportedUs: nowUs };
      this.remember(report);
      (changed ??= []).push(report);
    }
    if (changed !== undefined && this.store !== undefined) {
      this.store.recordSdkDrops(changed).catch((error: unknown) => {
        this.warn(`SDK drop reports not stored: ${error instanceof Error ? error.message : String(error)}`);
      });
    }
  }

  /** The latest report per service instance, sorted by service then instance. */
  reports(): SdkDropReport[] {
    return [...this.latest.values()].sort((a, b) =>
      a.service < b.service ? -1 : a.service > b.service ? 1 : a.instance < b.instance ? -1 : a.instance > b.instance ? 1 : 0,
    );
  }

  /**
   * Retention: forgets the reports received before `us` (µs), as the store's `deleteBefore` removes
   * them, so that /metrics and the checker agree with the store. Returns how many.
   */
  forgetBefore(us: number): number {
    let n = 0;
    for (const [key, report] of this.latest) {
      if (report.reportedUs < us) {
        this.latest.delete(key);
        n++;
      }
    }
    return n;
  }

  /** Reports of instances that lost spans (what the checker's notes and the UI care about). */
  lossyReports(): SdkDropReport[] {
    return this.reports().filter((r) => r.droppedSpans > 0);
  }

  private remember(report: SdkDropReport): void {
    const key = keyOf(report.service, report.instance);
    // Re-inserted so that the map's order is least recently reported first.
    this.latest.delete(key);
    this.latest.set(key, report);
    this.oldestReported.trimTo(MAX_INSTANCES);
  }
}
