/**
 * The Jaeger query API (jaeger-query's `/api/*` JSON routes that Jaeger UI and Grafana's Jaeger data
 * source call), answering in Jaeger's shapes so both work against Linktrace unchanged. Its paths
 * (`/api/services`, `/api/traces`, …) sit beside, never over, the native `/api/v1` and Zipkin
 * `/api/v2` routes. Errors use Jaeger's `errors` shape (jaeger-handler.ts).
 */
import type { FastifyInstance } from 'fastify';
import { SPAN_KINDS, type SpanKind } from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { foundTraces } from '../query/found-traces.js';
import { encodeJaegerTrace } from '../query/jaeger-trace.js';
import { parseJaegerSearch } from '../query/jaeger-search.js';
import { jaegerTraceMeets } from '../query/jaeger-trace-filter.js';
import type { JaegerDependencyLink, JaegerError, JaegerOperation, JaegerTrace } from '../query/jaeger-types.js';
import { enumParam, integerParam, listParam, stringParam, traceIdValue } from '../query/query-params.js';
import { lookupTrace, lookupTraces } from '../query/trace-lookup.js';
import { jaegerData, jaegerHandler } from './jaeger-handler.js';
import { MAX_TRACE_MANY } from './query-zipkin.js';

export interface JaegerQueryOptions {
  store: SpanStore;
  /** ms since the epoch; for tests. */
  now?: () => number;
}

/** `/api/dependencies` looks one day back from `endTs` unless told otherwise. */
export const JAEGER_DEFAULT_DEPENDENCY_LOOKBACK_MS = 86_400_000;
const TRACE_NOT_FOUND = 'trace not found';
const HEX = /^[0-9a-fA-F]{1,32}$/;

/**
 * Jaeger writes a trace id without its leading zeros (`%x%016x` of its two halves), so Grafana and
 * Jaeger UI links may carry 1 to 32 hex digits: pad them back to 16 or 32 before the usual check.
 */
export function jaegerTraceId(raw: string, what = 'trace id'): string {
  const padded = HEX.test(raw) ? raw.padStart(raw.length <= 16 ? 16 : 32, '0') : raw;
  try {
    return traceIdValue(padded, what);
  } catch (err) {
    if (err instanceof ApiError) throw new ApiError(err.code, `${what} ${JSON.stringify(raw.slice(0, 80))} is not 1 to 32 hex digits (and not all zero)`);
    throw err;
  }
}

function serviceParam(raw: Parameters<typeof stringParam>[0]): string {
  const service = stringParam(raw, 'service');
  if (service === undefined) throw new ApiError('bad_request', "parameter 'service' is required");
  return service;
}

export function registerJaegerQueryRoutes(app: FastifyInstance, opts: JaegerQueryOptions): void {
  const { store } = opts;
  const now = opts.now ?? Date.now;

  app.get(
    '/api/services',
    jaegerHandler(async () => {
      const services = await store.services();
      return jaegerData(services, services.length);
    }),
  );

  // Jaeger's older route: names only.
  app.get(
    '/api/services/:service/operations',
    jaegerHandler(async (req) => {
      const names = [...new Set((await store.operations(req.params.service ?? '')).map((o) => o.name))].sort();
      return jaegerData(names, names.length);
    }),
  );

  app.get(
    '/api/operations',
    jaegerHandler(async (req) => {
      const service = serviceParam(req.query);
      const kind = enumParam<SpanKind>(req.query, 'spanKind', SPAN_KINDS);
      const ops: JaegerOperation[] = (await store.operations(service, kind)).map((o) => ({ name: o.name, spanKind: o.kind }));
      return jaegerData(ops, ops.length);
    }),
  );

  app.get(
    '/api/traces',
    jaegerHandler(async (req) => {
      const ids = listParam(req.query, 'traceID');
      if (ids.length > 0) {
        // Search by ids (Jaeger UI's "lookup by trace id"): the other parameters do not apply.
        if (ids.length > MAX_TRACE_MANY) throw new ApiError('bad_request', `unable to parse param 'traceID': more than ${MAX_TRACE_MANY} ids`);
        const unique = [...new Set(ids.map((raw) => jaegerTraceId(raw, 'traceID')))];
        const traces = await lookupTraces(store, unique);
        const data: JaegerTrace[] = [];
        const errors: JaegerError[] = [];
        traces.forEach((spans, i) => {
          if (spans.length > 0) data.push(encodeJaegerTrace(spans));
          else errors.push({ code: 404, msg: TRACE_NOT_FOUND, traceID: unique[i]! });
        });
        return { ...jaegerData(data), errors: errors.length === 0 ? null : errors };
      }
      const search = parseJaegerSearch(req.query, now() * 1000);
      const check = search.check;
      return jaegerData(await foundTraces(store, search.query, search.limit, encodeJaegerTrace, check === undefined ? undefined : (t) => jaegerTraceMeets(t, check)));
    }),
  );

  app.get(
    '/api/traces/:traceID',
    jaegerHandler(async (req) => {
      const spans = await lookupTrace(store, jaegerTraceId(req.params.traceID ?? ''));
      if (spans.length === 0) throw new ApiError('not_found', TRACE_NOT_FOUND);
      return jaegerData([encodeJaegerTrace(spans)]);
    }),
  );

  app.get(
    '/api/dependencies',
    jaegerHandler(async (req) => {
      const endTs = integerParam(req.query, 'endTs', 1, Number.MAX_SAFE_INTEGER / 1000) ?? now();
      const lookback = integerParam(req.query, 'lookback', 1, Number.MAX_SAFE_INTEGER / 1000) ?? JAEGER_DEFAULT_DEPENDENCY_LOOKBACK_MS;
      const service = stringParam(req.query, 'service');
      const links = await store.dependencies(Math.max(0, endTs - lookback) * 1000, endTs * 1000);
      const data: JaegerDependencyLink[] = [];
      for (const l of links) {
        if (service !== undefined && l.parent !== service && l.child !== service) continue;
        data.push({ parent: l.parent, child: l.child, callCount: l.callCount });
      }
      return jaegerData(data);
    }),
  );
}
