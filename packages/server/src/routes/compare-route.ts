/**
 * `GET /api/v1/compare?a=<id>,<id>&b=<id>`: two traces, or two groups of traces, compared call by
 * call (`compareTraces` of `@linktrace/analysis` on the traces as assembled for display), so the UI
 * and any other client draw the same comparison.
 */
import type { FastifyInstance } from 'fastify';
import { assembleTrace, compareTraces, type TraceComparison } from '@linktrace/analysis';
import type { SpanStore } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { listParam, rejectUnknownParams, traceIdValue, type RawQuery } from '../query/query-params.js';
import { lookupTraces } from '../query/trace-lookup.js';
import { queryHandler } from './query-handler.js';

/** Traces per side: a group is a sample (a search's first page), not a bulk export. */
export const MAX_COMPARED_TRACES = 100;

const PARAMS: ReadonlySet<string> = new Set(['a', 'b']);

export interface CompareResponseBody extends TraceComparison {
  /** The trace ids of each side, as compared (lowercase, duplicates dropped). */
  traceIds: { a: string[]; b: string[] };
}

/** The side's ids: repeated parameters and/or comma-separated lists. */
function sideIds(query: RawQuery, side: 'a' | 'b'): string[] {
  const ids = [...new Set(listParam(query, side).flatMap((v) => v.split(',')).map((s) => s.trim()).filter((s) => s !== '').map((s) => traceIdValue(s)))];
  if (ids.length === 0) throw new ApiError('bad_request', `query parameter ${side} is required: one or more trace ids, comma-separated`);
  if (ids.length > MAX_COMPARED_TRACES) throw new ApiError('bad_request', `${side} names ${ids.length} traces; at most ${MAX_COMPARED_TRACES} per side`);
  return ids;
}

export function registerCompareRoute(app: FastifyInstance, store: SpanStore): void {
  app.get(
    '/api/v1/compare',
    queryHandler(async (req) => {
      rejectUnknownParams(req.query, PARAMS);
      const a = sideIds(req.query, 'a');
      const b = sideIds(req.query, 'b');
      const [ta, tb] = await Promise.all([lookupTraces(store, a), lookupTraces(store, b)]);
      const unknown = [...a.filter((_, i) => ta[i]!.length === 0), ...b.filter((_, i) => tb[i]!.length === 0)];
      if (unknown.length > 0) throw new ApiError('not_found', `${unknown.length === 1 ? 'trace' : 'traces'} ${unknown.join(', ')} not found`);
      const body: CompareResponseBody = { traceIds: { a, b }, ...compareTraces(ta.map(assembleTrace), tb.map(assembleTrace)) };
      return body;
    }),
  );
}
