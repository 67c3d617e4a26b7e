/**
 * The `slow` keep policy's yardstick: the p99 duration of a span's operation (service, span name),
 * read from the RED metrics' minute cells (counted at ingest from every span, kept or not), over the
 * hour up to the span's own minute. A span is slower than its operation's p99 when its duration
 * falls in a higher histogram bucket than the p99 does: buckets are 10% wide, so "a higher bucket"
 * is slower for certain, while the 1% at the top of the p99's own bucket is not told apart from it.
 *
 * A p99 needs samples: with fewer than `minSamples` spans in the hour the operation has none, and
 * no span of it counts as slow (the slowest of five calls is not an outlier).
 */
import type { Span } from '@linktrace/model';
import { isStartRecord } from '@linktrace/model';
import { bucketOf, DurationHistogram } from '../red/duration-histogram.js';
import { MINUTE_US, type RedAggregator, type RedSeries } from '../red/red-aggregator.js';

export const P99_WINDOW_MINUTES = 60;
export const P99_MIN_SAMPLES = 100;
/** A cached p99 is recomputed after this long (ms by the server clock): the hour's cells keep filling. */
const CACHE_MS = 60_000;

interface CachedP99 {
  minute: number;
  atMs: number;
  /** The p99's bucket; undefined: too few samples. */
  bucket: number | undefined;
}

export class OperationP99 {
  private readonly cache = new WeakMap<RedSeries, CachedP99>();

  constructor(
    private readonly aggregator: RedAggregator,
    private readonly clock: () => number,
    private readonly minSamples = P99_MIN_SAMPLES,
  ) {}

  /** Whether the span took longer than its operation's p99 (false when that is not known). */
  isSlow(span: Span): boolean {
    if (isStartRecord(span) || span.durationUs === undefined || span.startUnknown === true || span.durationUnknown === true) return false;
    const series = this.aggregator.series({ service: span.service, operation: span.name });
    if (series === undefined) return false;
    const bucket = this.p99Bucket(series, Math.floor(span.startUs / MINUTE_US));
    return bucket !== undefined && bucketOf(span.durationUs) > bucket;
  }

  private p99Bucket(series: RedSeries, minute: number): number | undefined {
    const now = this.clock();
    const cached = this.cache.get(series);
    if (cached !== undefined && cached.minute === minute && now - cached.atMs < CACHE_MS) return cached.bucket;
    const hist = new DurationHistogram();
    for (let m = minute - P99_WINDOW_MINUTES + 1; m <= minute; m++) {
      const cell = series.cells.get(m);
      if (cell !== undefined) hist.merge(cell.hist);
    }
    const p99 = hist.total >= this.minSamples ? hist.quantile(0.99) : undefined;
    const bucket = p99 === undefined ? undefined : bucketOf(p99);
    this.cache.set(series, { minute, atMs: now, bucket });
    return bucket;
  }
}
