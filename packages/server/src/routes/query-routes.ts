/**
 * All query routes: the Zipkin v2 read API, the Jaeger query API (`/api/services`, `/api/traces`, …)
 * and the native `/api/v1/` routes. Mount with
 * `buildApp({ ..., extraRoutes: (app) => registerQueryRoutes(app, { store }) })`, or on any
 * fastify instance (each route answers its own errors in the one JSON error shape).
 */
import type { FastifyInstance } from 'fastify';
import type { SpanStore } from '@linktrace/storage';
import { RecentSpans } from '../query/recent-spans.js';
import { registerJaegerQueryRoutes } from './query-jaeger.js';
import { registerJaegerV3QueryRoutes } from './query-jaeger-v3.js';
import { registerNativeQueryRoutes } from './query-native.js';
import { registerZipkinQueryRoutes } from './query-zipkin.js';
import { registerSdkDropsRoute } from './sdk-drops-route.js';
import { registerCompareRoute } from './compare-route.js';

export interface QueryRoutesOptions {
  store: SpanStore;
  /** Tag keys for Zipkin's `/api/v2/autocompleteKeys` (default: linktrace.stage, linktrace.entity.type, linktrace.target). */
  autocompleteKeys?: readonly string[];
  /** ms since the epoch; for tests. */
  now?: () => number;
}

export function registerQueryRoutes(app: FastifyInstance, opts: QueryRoutesOptions): void {
  const now = opts.now ?? Date.now;
  const zipkin = { store: opts.store, now, recent: new RecentSpans(opts.store, { now }) };
  registerZipkinQueryRoutes(app, opts.autocompleteKeys === undefined ? zipkin : { ...zipkin, autocompleteKeys: opts.autocompleteKeys });
  registerNativeQueryRoutes(app, { store: opts.store });
  registerJaegerQueryRoutes(app, { store: opts.store, now });
  registerJaegerV3QueryRoutes(app, { store: opts.store, now });
  registerSdkDropsRoute(app, opts.store);
  registerCompareRoute(app, opts.store);
}
