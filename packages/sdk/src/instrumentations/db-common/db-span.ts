import type { Attributes } from '@linktrace/model';
import { isTracingSuppressed } from '../../context/suppress.js';
import type { SpanHandle } from '../../trace/span-handle.js';
import type { InstrumentationContext } from '../core/instrumentation.js';
import type { SqlSummary } from './sanitize-sql.js';

/** Longest `db.query.parameters` value; each value inside it is cut at `MAX_VALUE_LENGTH`. */
export const MAX_PARAMETERS_LENGTH = 1024;
const MAX_VALUE_LENGTH = 128;

/** Starts a client span for one database call, or returns undefined when tracing is suppressed. */
export function startDbSpan(ctx: InstrumentationContext, name: string, attributes: Attributes): SpanHandle | undefined {
  if (isTracingSuppressed()) return undefined;
  return ctx.tracer.startSpan(name, { kind: 'client', attributes });
}

/** `SELECT orders`, else `SELECT`, else the fallback (the database system). */
export function spanNameOf(summary: SqlSummary, fallback: string): string {
  if (summary.operation === undefined) return fallback;
  return summary.collection === undefined ? summary.operation : `${summary.operation} ${summary.collection}`;
}

/** Marks the span failed with the library's error; the error object itself is left as it is. */
export function recordDbError(span: SpanHandle, error: unknown): void {
  span.recordException(error);
  span.setStatus('error', error instanceof Error ? error.message : String(error));
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') {
      span.setAttribute('db.response.status_code', String(code));
      span.setAttribute('error.type', String(code));
      return;
    }
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string') span.setAttribute('error.type', name);
  }
}

/**
 * Statement values as one bounded JSON-like text (`["a",1,null]`), for `captureValues`. Buffers,
 * objects and long strings are shortened; nothing here can throw or call user code (no toJSON).
 */
export function formatValues(values: unknown): string | undefined {
  if (values === undefined || values === null) return undefined;
  const list: readonly unknown[] = Array.isArray(values) ? values : [values];
  let out = '[';
  for (let i = 0; i < list.length; i++) {
    const piece = (i > 0 ? ',' : '') + formatValue(list[i]);
    if (out.length + piece.length > MAX_PARAMETERS_LENGTH - 2) {
      out += ',…';
      break;
    }
    out += piece;
  }
  return `${out}]`;
}

function formatValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > MAX_VALUE_LENGTH ? `${value.slice(0, MAX_VALUE_LENGTH)}…` : value);
    case 'number':
    case 'boolean':
      return String(value);
    case 'bigint':
      return `${value.toString()}n`;
    case 'undefined':
      return 'undefined';
    case 'object':
      if (value === null) return 'null';
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? '"Invalid Date"' : JSON.stringify(value.toISOString());
      if (Buffer.isBuffer(value)) return `"<${value.length} bytes>"`;
      if (Array.isArray(value)) return `"<array of ${value.length}>"`;
      return '"<object>"';
    default:
      return `"<${typeof value}>"`;
  }
}
