import type { Span } from '@linktrace/model';
import { createReconciler, type Reconciler, type ReconcilerOptions } from '../src/reconcile/reconciler.js';
import { stagesFor, type Stages } from '../src/stages/stages.js';
import { CollectingSpanProcessor } from '../src/testing/collecting-span-processor.js';
import { createTracing, type Tracing } from '../src/trace/tracing.js';

export interface Rig {
  collector: CollectingSpanProcessor;
  reconciler: Reconciler;
  tracing: Tracing;
  stages: Stages;
}

export function rig(options: ReconcilerOptions = { delayMs: 20 }): Rig {
  const collector = new CollectingSpanProcessor();
  const reconciler = createReconciler(options);
  const tracing = createTracing({ service: 'shop-sync', processors: [collector, reconciler] });
  reconciler.attach(tracing);
  return { collector, reconciler, tracing, stages: stagesFor(tracing) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The ended reconcile spans, once `count` of them exist; fails after `limitMs`. */
export async function reconcileSpans(collector: CollectingSpanProcessor, count: number, limitMs = 3000): Promise<Span[]> {
  for (let waited = 0; waited <= limitMs; waited += 5) {
    const found = collector.spans.filter((s) => s.name.startsWith('reconcile '));
    if (found.length >= count) return found;
    await sleep(5);
  }
  throw new Error(`expected ${count} reconcile spans within ${limitMs} ms; have: ${collector.spans.map((s) => s.name).join(', ')}`);
}
