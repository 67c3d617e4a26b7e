/**
 * The Zipkin v2 read API (zipkin2 `/api/v2/*` GET routes), answering exactly as Zipkin does so that
 * Zipkin's UI and Grafana's Zipkin data source work unchanged. Errors use Linktrace's JSON error body.
 */
import type { FastifyInstance } from 'fastify';
import { encodeZipkinJson, tagString, UNKNOWN_SERVICE, type SpanKind } from '@linktrace/model';
import type { DependencyLink, SpanStore } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { integerParam, requiredParam, stringParam, traceIdValue } from '../query/query-params.js';
import { RecentSpans } from '../query/recent-spans.js';
import { foundTraces } from '../query/found-traces.js';
import { lookupTrace, lookupTraces } from '../query/trace-lookup.js';
import { ZIPKIN_DEFAULT_LOOKBACK_MS, parseZipkinSearch } from '../query/zipkin-search.js';
import { traceMeets } from '../query/zipkin-trace-filter.js';
import { queryHandler } from './query-handler.js';

export interface ZipkinQueryOptions {
  store: SpanStore;
  /** Tag keys offered by `/api/v2/autocompleteKeys` (Zipkin's AUTOCOMPLETE_KEYS). */
  autocompleteKeys?: readonly string[];
  /** Sample used for remote service names and autocomplete values. */
  recent?: RecentSpans;
  /** ms since the epoch; for tests. */
  now?: () => number;
}

/** The DESIGN §3 attributes a user filters chains by. */
export const DEFAULT_AUTOCOMPLETE_KEYS: readonly string[] = ['linktrace.stage', 'linktrace.entity.type', 'linktrace.target'];

/** Most ids one `traceMany` call may ask for. */
export const MAX_TRACE_MANY = 1_000;

const ZIPKIN_KINDS = new Map<string, SpanKind>([
  ['CLIENT', 'client'],
  ['SERVER', 'server'],
  ['PRODUCER', 'producer'],
  ['CONSUMER', 'consumer'],
]);

interface ZipkinDependencyLink {
  parent: string;
  child: string;
  callCount: number;
  errorCount?: number;
}

/** Zipkin writes `errorCount` only when it is not zero. */
function zipkinLink(l: DependencyLink): ZipkinDependencyLink {
  const out: ZipkinDependencyLink = { parent: l.parent, child: l.child, callCount: l.callCount };
  if (l.errorCount > 0) out.errorCount = l.errorCount;
  return out;
}

function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

export function registerZipkinQueryRoutes(app: FastifyInstance, opts: ZipkinQueryOptions): void {
  const { store } = opts;
  const now = opts.now ?? Date.now;
  const recent = opts.recent ?? new RecentSpans(store);
  const autocompleteKeys = [...(opts.autocompleteKeys ?? DEFAULT_AUTOCOMPLETE_KEYS)];
  const autocompleteKeySet = new Set(autocompleteKeys);

  // Zipkin lists named services only; spans without one are `unknown_service` in the model.
  app.get(
    '/api/v2/services',
    queryHandler(async () => (await store.services()).filter((s) => s !== UNKNOWN_SERVICE)),
  );

  app.get(
    '/api/v2/spans',
    queryHandler(async (req) => {
      const service = requiredParam(req.query, 'serviceName');
      const kindText = stringParam(req.query, 'spanKind');
      let kind: SpanKind | undefined;
      if (kindText !== undefined) {
        kind = ZIPKIN_KINDS.get(kindText.toUpperCase());
        if (kind === undefined) throw new ApiError('bad_request', `spanKind must be one of ${[...ZIPKIN_KINDS.keys()].join(', ')}`);
      }
      const ops = await store.operations(service, kind);
      return sortedUnique(ops.map((o) => o.name));
    }),
  );

  app.get(
    '/api/v2/remoteServices',
    queryHandler(async (req) => {
      const service = requiredParam(req.query, 'serviceName');
      const names: string[] = [];
      for (const s of await recent.sample(service)) {
        if (s.service === service && s.remote?.service !== undefined) names.push(s.remote.service);
      }
      return sortedUnique(names);
    }),
  );

  app.get(
    '/api/v2/traces',
    queryHandler(async (req) => {
      const search = parseZipkinSearch(req.query, now());
      const check = search.check;
      return foundTraces(store, search.query, search.limit, encodeZipkinJson, check === undefined ? undefined : (t) => traceMeets(t, check));
    }),
  );

  app.get(
    '/api/v2/trace/:traceId',
    queryHandler(async (req) => {
      const id = traceIdValue(req.params.traceId ?? '');
      const spans = await lookupTrace(store, id);
      if (spans.length === 0) throw new ApiError('not_found', `trace ${id} not found`);
      return encodeZipkinJson(spans);
    }),
  );

  app.get(
    '/api/v2/traceMany',
    queryHandler(async (req) => {
      const ids = requiredParam(req.query, 'traceIds')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      if (ids.length === 0) throw new ApiError('bad_request', 'query parameter traceIds must list at least one trace id');
      if (ids.length > MAX_TRACE_MANY) throw new ApiError('bad_request', `query parameter traceIds lists more than ${MAX_TRACE_MANY} ids`);
      const unique = [...new Set(ids.map((raw) => traceIdValue(raw, 'traceIds entry')))];
      const traces = await lookupTraces(store, unique);
      return traces.filter((t) => t.length > 0).map((t) => encodeZipkinJson(t));
    }),
  );

  app.get(
    '/api/v2/dependencies',
    queryHandler(async (req) => {
      const endTs = integerParam(req.query, 'endTs', 1, Number.MAX_SAFE_INTEGER / 1000) ?? now();
      const lookback = integerParam(req.query, 'lookback', 1, Number.MAX_SAFE_INTEGER / 1000) ?? ZIPKIN_DEFAULT_LOOKBACK_MS;
      const links = await store.dependencies(Math.max(0, endTs - lookback) * 1000, endTs * 1000);
      return links.map(zipkinLink);
    }),
  );

  app.get('/api/v2/autocompleteKeys', queryHandler(() => Promise.resolve(autocompleteKeys)));

  app.get(
    '/api/v2/autocompleteValues',
    queryHandler(async (req) => {
      const key = requiredParam(req.query, 'key');
      // Zipkin answers only for the configured keys.
      if (!autocompleteKeySet.has(key)) return [];
      const values: string[] = [];
      for (const s of await recent.sample()) {
        const v = s.attributes[key];
        if (v !== undefined) values.push(tagString(v));
      }
      return sortedUnique(values);
    }),
  );
}
