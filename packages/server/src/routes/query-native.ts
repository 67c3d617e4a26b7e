/**
 * Linktrace's own query routes under `/api/v1/`: a trace laid out (spans, parent links, rpcid
 * position tree, lost positions and parents, clock-skew marks), trace search, services, operations,
 * dependencies and chain-check findings. Unknown query parameters are refused (400): a misspelt
 * filter must not silently match everything.
 */
import type { FastifyInstance } from 'fastify';
import { SPAN_KINDS } from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { parseFindingFilter } from '../query/native-findings.js';
import { parseNativeSearch } from '../query/native-search.js';
import { enumParam, rejectUnknownParams, timeParam, traceIdValue } from '../query/query-params.js';
import { lookupTrace } from '../query/trace-lookup.js';
import { buildTraceView } from '../query/trace-view.js';
import { queryHandler } from './query-handler.js';

export interface NativeQueryOptions {
  store: SpanStore;
  /** ms since the epoch; for tests. */
  now?: () => number;
}

/** `/api/v1/dependencies` looks this far back from `end` when no `start` is given: one day, in µs. */
export const DEFAULT_DEPENDENCY_WINDOW_US = 86_400_000_000;

const NO_PARAMS: ReadonlySet<string> = new Set();
const KIND_PARAMS: ReadonlySet<string> = new Set(['kind']);
const RANGE_PARAMS: ReadonlySet<string> = new Set(['start', 'end']);

export function registerNativeQueryRoutes(app: FastifyInstance, opts: NativeQueryOptions): void {
  const { store } = opts;
  const now = opts.now ?? Date.now;

  app.get(
    '/api/v1/traces/:traceId',
    queryHandler(async (req) => {
      rejectUnknownParams(req.query, NO_PARAMS);
      const id = traceIdValue(req.params.traceId ?? '');
      const spans = await lookupTrace(store, id);
      if (spans.length === 0) throw new ApiError('not_found', `trace ${id} not found`);
      return buildTraceView(spans[0]!.traceId, spans);
    }),
  );

  app.get(
    '/api/v1/traces',
    queryHandler(async (req) => ({ traces: await store.findTraces(parseNativeSearch(req.query)) })),
  );

  app.get(
    '/api/v1/services',
    queryHandler(async (req) => {
      rejectUnknownParams(req.query, NO_PARAMS);
      return { services: await store.services() };
    }),
  );

  app.get(
    '/api/v1/services/:service/operations',
    queryHandler(async (req) => {
      rejectUnknownParams(req.query, KIND_PARAMS);
      const kind = enumParam(req.query, 'kind', SPAN_KINDS);
      return { operations: await store.operations(req.params.service ?? '', kind) };
    }),
  );

  app.get(
    '/api/v1/dependencies',
    queryHandler(async (req) => {
      rejectUnknownParams(req.query, RANGE_PARAMS);
      const endUs = timeParam(req.query, 'end') ?? now() * 1000;
      const startUs = timeParam(req.query, 'start') ?? Math.max(0, endUs - DEFAULT_DEPENDENCY_WINDOW_US);
      if (endUs < startUs) throw new ApiError('bad_request', 'end must not be before start');
      return { dependencies: await store.dependencies(startUs, endUs) };
    }),
  );

  app.get(
    '/api/v1/findings',
    queryHandler(async (req) => ({ findings: await store.findFindings(parseFindingFilter(req.query)) })),
  );
}
