import { checkTrace, type Finding } from '@linktrace/analysis';
import { ATTR, type Span } from '@linktrace/model';
import { CollectingSpanProcessor, createTracing, type Tracing } from '@linktrace/sdk';
import type { Clock } from '../src/clock.js';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(public ms = 1_700_000_000_000) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export function collectingTracing(service = 'sync-worker'): { tracing: Tracing; collector: CollectingSpanProcessor } {
  const collector = new CollectingSpanProcessor();
  return { tracing: createTracing({ service, processors: [collector], startRecords: true }), collector };
}

/** `stage[ target][ reason]` of each span, in the order they ended. */
export function stagesOf(spans: readonly Span[]): string[] {
  return spans
    .filter((s) => s.attributes[ATTR.stage] !== undefined)
    .map((s) => {
      const parts = [String(s.attributes[ATTR.stage])];
      const target = s.attributes[ATTR.target] ?? s.attributes['linktrace.sync.target'];
      if (target !== undefined) parts.push(String(target));
      if (s.attributes[ATTR.skipReason] !== undefined) parts.push(`(${String(s.attributes[ATTR.skipReason])})`);
      if (s.status.code === 'error') parts.push('ERROR');
      return parts.join(' ');
    });
}

/** The chain checker over a trace's ended spans and unfinished start records, past every deadline. */
export function findings(collector: CollectingSpanProcessor, traceId?: string): Finding[] {
  const ended = collector.spans.filter((s) => traceId === undefined || s.traceId === traceId);
  const done = new Set(ended.map((s) => s.spanId));
  const open = collector.startRecords.filter((s) => (traceId === undefined || s.traceId === traceId) && !done.has(s.spanId));
  const all = [...ended, ...open];
  const byTrace = new Map<string, Span[]>();
  for (const s of all) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  return [...byTrace.values()].flatMap((spans) => checkTrace(spans, { deadlineMs: 30_000 }, Date.now() * 1000 + 31_000_000));
}

export function rules(found: readonly Finding[]): string[] {
  return found.map((f) => `${f.rule} ${f.service}${f.target === undefined ? '' : ` ${f.target}`}`).sort();
}

/** A target in memory that keeps versions, refuses repeats (its guard) and logs every applied write. */
export class VersionedTarget<T> {
  readonly rows = new Map<string, { version: number; data: T; fence: number }>();
  readonly log: string[] = [];
  fail: Error | undefined;
  constructor(readonly name: string) {}

  write = (key: string, record: { version: string | number; data: T }, ctx: { fence: number }): 'written' | 'exists' => {
    if (this.fail !== undefined) throw this.fail;
    const held = this.rows.get(key);
    const version = Number(record.version);
    if (held !== undefined && (held.version >= version || held.fence > ctx.fence)) return 'exists';
    this.rows.set(key, { version, data: record.data, fence: ctx.fence });
    this.log.push(`${key}@${version}`);
    return 'written';
  };

  version = (key: string): number | undefined => this.rows.get(key)?.version;
}
