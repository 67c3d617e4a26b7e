/**
 * The part of a Jaeger trace search the store cannot express (tags this API makes from model
 * fields), checked on the Jaeger form of a found trace. Like Jaeger, a tag matches the span's tags,
 * its process's tags or a field of one of its logs, comparing text forms; and like the store, ONE
 * span must meet every condition.
 */
import type { JaegerSpanCondition } from './jaeger-search.js';
import type { JaegerSpan, JaegerTag, JaegerTrace } from './jaeger-types.js';

function has(tags: readonly JaegerTag[], key: string, value: string): boolean {
  for (const t of tags) if (t.key === key && String(t.value) === value) return true;
  return false;
}

function spanMeets(trace: JaegerTrace, span: JaegerSpan, c: JaegerSpanCondition): boolean {
  const process = trace.processes[span.processID];
  if (process === undefined || (c.service !== undefined && process.serviceName !== c.service)) return false;
  if (c.operation !== undefined && span.operationName !== c.operation) return false;
  if (c.minDurationUs !== undefined && span.duration < c.minDurationUs) return false;
  if (c.maxDurationUs !== undefined && span.duration > c.maxDurationUs) return false;
  for (const t of c.tags) {
    if (has(span.tags, t.key, t.value) || has(process.tags, t.key, t.value)) continue;
    if (!span.logs.some((l) => has(l.fields, t.key, t.value))) return false;
  }
  return true;
}

export function jaegerTraceMeets(trace: JaegerTrace, c: JaegerSpanCondition): boolean {
  for (const s of trace.spans) if (spanMeets(trace, s, c)) return true;
  return false;
}
