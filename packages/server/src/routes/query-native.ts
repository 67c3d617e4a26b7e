/**
 * Linktrace's own query routes under `/api/v1/`: a trace laid out (spans, parent links, rpcid
 * position tree, lost positions and parents, clock-skew marks, critical path, findings), trace
 * search, services, operations, dependencies, the service map (services and queues) and chain-check
 * findings. Unknown query parameters are refused (400): a misspelt
 * filter must not silently match everything.
 */
import type { FastifyInstance } from 'fastify';
import { SPAN_KINDS, encodeNativeJson, encodeOtlpJson, encodeZipkinJson } from '@linktrace/model';
import { buildServiceMap } from '@linktrace/analysis';
import { MAX_FINDING_LIMIT, type SpanStore } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { findingViews } from '../remedies/finding-views.js';
import type { RemedyBook } from '../remedies/remedy-book.js';
import { parseFindingFilter } from '../query/native-findings.js';
import { parseNativeSearch } from '../query/native-search.js';
import { enumParam, rejectUnknownParams, timeParam, traceIdValue, type RawQuery } from '../query/query-params.js';
import { lookupTrace } from '../query/trace-lookup.js';
import { buildTraceView } from '../query/trace-view.js';
import { queryHandler } from './query-handler.js';
import { sdkDropsOfTrace } from '../sdk-drops/sdk-drops-of-trace.js';

export interface NativeQueryOptions {
  store: SpanStore;
}

/**
 * The open ends of a `/api/v1/dependencies` or `/api/v1/service-map` window: without `start` it
 * begins at the first stored span, without `end` it ends after the last, so a request with neither
 * (the UI's "Any time") covers all the data, however old (imported traces) or skewed into the future.
 */
const FIRST_US = 0;
const LAST_US = Number.MAX_SAFE_INTEGER;

const NO_PARAMS: ReadonlySet<string> = new Set();
const TRACE_PARAMS: ReadonlySet<string> = new Set(['format']);
/**
 * `format` of `GET /api/v1/traces/{id}`: the assembled view (default), or the trace's spans as a file
 * to download; `native` is also what a federated gateway reads from an agent.
 */
const TRACE_FORMATS = ['view', 'otlp', 'zipkin', 'native'] as const;
const KIND_PARAMS: ReadonlySet<string> = new Set(['kind']);
const RANGE_PARAMS: ReadonlySet<string> = new Set(['start', 'end']);

export function registerNativeQueryRoutes(app: FastifyInstance, opts: NativeQueryOptions): void {
  const { store } = opts;

  /** `start` / `end` of a window route; a missing bound leaves that end of the data open. */
  const windowOf = (query: RawQuery): { startUs: number; endUs: number } => {
    rejectUnknownParams(query, RANGE_PARAMS);
    const endUs = timeParam(query, 'end') ?? LAST_US;
    const startUs = timeParam(query, 'start') ?? FIRST_US;
    if (endUs < startUs) throw new ApiError('bad_request', 'end must not be before start');
    return { startUs, endUs };
  };

  app.get(
    '/api/v1/traces/:traceId',
    queryHandler(async (req, reply) => {
      rejectUnknownParams(req.query, TRACE_PARAMS);
      const format = enumParam(req.query, 'format', TRACE_FORMATS) ?? 'view';
      const id = traceIdValue(req.params.traceId ?? '');
      if (format !== 'view') {
        // The stored spans as one file in a format other tools (and our own receivers) read back.
        const spans = await lookupTrace(store, id);
        if (spans.length === 0) throw new ApiError('not_found', `trace ${id} not found`);
        const body = format === 'otlp' ? encodeOtlpJson(spans) : format === 'native' ? encodeNativeJson(spans) : encodeZipkinJson(spans);
        return reply
          .header('content-type', 'application/json; charset=utf-8')
          .header('content-disposition', `attachment; filename="trace-${spans[0]!.traceId}.${format}.json"`)
          .send(JSON.stringify(body));
      }
      // Both reads at once (the store has several read connections): a finding filter by trace id
      // also matches the id's other 64-bit spelling, so it needs no answer from the span lookup.
      const [spans, findings, drops] = await Promise.all([
        lookupTrace(store, id),
        store.findFindings({ traceId: id, limit: MAX_FINDING_LIMIT }),
        store.sdkDrops(),
      ]);
      if (spans.length === 0) throw new ApiError('not_found', `trace ${id} not found`);
      // Beside the view, not inside it: instances of this trace whose SDK reported lost spans.
      const view = buildTraceView(spans[0]!.traceId, spans, findings);
      return { ...view, findings: findingViews(view.findings, remediesOf(app)), sdkDrops: sdkDropsOfTrace(drops, spans) };
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
      const { startUs, endUs } = windowOf(req.query);
      return { dependencies: await store.dependencies(startUs, endUs) };
    }),
  );

  app.get(
    '/api/v1/service-map',
    queryHandler(async (req) => {
      const { startUs, endUs } = windowOf(req.query);
      return buildServiceMap(await store.serviceMapRows(startUs, endUs));
    }),
  );

  app.get(
    '/api/v1/findings',
    queryHandler(async (req) => ({ findings: findingViews(await store.findFindings(parseFindingFilter(req.query)), remediesOf(app)) })),
  );
}

/** The server's remedy book, when remedies are on (query routes also mount on a bare Fastify in tests). */
function remediesOf(app: FastifyInstance): RemedyBook | undefined {
  return app.hasDecorator('linktrace') ? app.linktrace.remedies?.book : undefined;
}
