/**
 * The part of Jaeger's api_v3 HTTP API that Jaeger UI's search page calls since it moved service and
 * operation discovery and trace search to `/api/v3/` (the trace view still loads `/api/traces/{id}`,
 * query-jaeger.ts): `/api/v3/services`, `/api/v3/operations`, `/api/v3/trace-summaries`. The search
 * parameters are the v1 search's (jaeger-search.ts) under their v3 names. Errors use Linktrace's
 * error body (the UI only reads the status).
 */
import type { FastifyInstance } from 'fastify';
import { SPAN_KINDS, type SpanKind } from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { foundTraces } from '../query/found-traces.js';
import { encodeJaegerTrace } from '../query/jaeger-trace.js';
import { jaegerTraceMeets } from '../query/jaeger-trace-filter.js';
import { parseJaegerSearch, type JaegerSearchNames } from '../query/jaeger-search.js';
import { jaegerV3Summary } from '../query/jaeger-v3-summary.js';
import { enumParam, requiredParam, stringParam, type RawQuery } from '../query/query-params.js';
import { parseTimeUs } from '../query/time-text.js';
import { queryHandler } from './query-handler.js';

export interface JaegerV3QueryOptions {
  store: SpanStore;
  /** ms since the epoch; for tests. */
  now?: () => number;
}

const V3_NAMES: JaegerSearchNames = {
  service: 'query.serviceName',
  operation: 'query.operationName',
  tags: 'query.attributes',
  minDuration: 'query.durationMin',
  maxDuration: 'query.durationMax',
  limit: 'query.searchDepth',
  serviceRequired: false,
};

/** An RFC 3339 time (what the UI sends) or µs, as the v1 search's µs `start`/`end`. */
function v3Time(raw: RawQuery, name: string): string | undefined {
  const v = stringParam(raw, name);
  if (v === undefined) return undefined;
  const us = parseTimeUs(v);
  if (us === undefined || us < 0) throw new ApiError('bad_request', `query parameter ${name} must be an RFC 3339 time, not ${JSON.stringify(v.slice(0, 80))}`);
  return String(us);
}

export function registerJaegerV3QueryRoutes(app: FastifyInstance, opts: JaegerV3QueryOptions): void {
  const { store } = opts;
  const now = opts.now ?? Date.now;

  app.get(
    '/api/v3/services',
    queryHandler(async () => ({ services: await store.services() })),
  );

  app.get(
    '/api/v3/operations',
    queryHandler(async (req) => {
      const service = requiredParam(req.query, 'service');
      const kind = enumParam<SpanKind>(req.query, 'span_kind', SPAN_KINDS) ?? enumParam<SpanKind>(req.query, 'spanKind', SPAN_KINDS);
      return { operations: (await store.operations(service, kind)).map((o) => ({ name: o.name, spanKind: o.kind })) };
    }),
  );

  app.get(
    '/api/v3/trace-summaries',
    queryHandler(async (req) => {
      const raw: RawQuery = { ...req.query };
      delete raw.start;
      delete raw.end;
      delete raw.lookback;
      const start = v3Time(req.query, 'query.startTimeMin');
      const end = v3Time(req.query, 'query.startTimeMax');
      if (start !== undefined) raw.start = start;
      if (end !== undefined) raw.end = end;
      const search = parseJaegerSearch(raw, now() * 1000, V3_NAMES);
      const check = search.check;
      const traces = await foundTraces(store, search.query, search.limit, (spans) => spans, check === undefined ? undefined : (spans) => jaegerTraceMeets(encodeJaegerTrace(spans), check));
      return { summaries: traces.map(jaegerV3Summary) };
    }),
  );
}
