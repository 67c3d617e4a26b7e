/** `/metrics`: the latest SDK-reported lost spans per service instance, as a gauge. */
import { Gauge, type Registry } from 'prom-client';
import type { SdkDropTracker } from './sdk-drop-tracker.js';

/** Series exported at most (the instances that lost most); the rest are summed into one series. */
export const MAX_SDK_DROP_SERIES = 50;

/**
 * A gauge, not a counter: it is the latest value an SDK reported, which starts again from 0 when that
 * process restarts (so the name does not end in `_total`). Only instances that lost spans get a
 * series, at most MAX_SDK_DROP_SERIES of them, so the label cardinality stays bounded.
 */
export function registerSdkDropGauge(registry: Registry, tracker: SdkDropTracker): void {
  new Gauge({
    name: 'linktrace_sdk_dropped_spans',
    help:
      'Spans a traced process reported it lost and never delivered (its SDK\'s latest linktrace.sdk.dropped_spans), ' +
      `by service and instance; instances past the ${MAX_SDK_DROP_SERIES} with most losses are summed under instance="other".`,
    labelNames: ['service', 'instance'],
    registers: [registry],
    collect() {
      this.reset();
      const lossy = tracker.lossyReports().sort((a, b) => b.droppedSpans - a.droppedSpans);
      for (const r of lossy.slice(0, MAX_SDK_DROP_SERIES)) this.set({ service: r.service, instance: r.instance }, r.droppedSpans);
      const rest = lossy.slice(MAX_SDK_DROP_SERIES).reduce((sum, r) => sum + r.droppedSpans, 0);
      if (lossy.length > MAX_SDK_DROP_SERIES) this.set({ service: 'other', instance: 'other' }, rest);
    },
  });
}
