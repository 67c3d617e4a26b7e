/**
 * `GET /api/v1/sdk-drops`: what the traced processes' SDKs reported they lost (the latest
 * `linktrace.sdk.dropped_spans` per service instance, as stored at ingest).
 */
import type { FastifyInstance } from 'fastify';
import type { SpanStore } from '@linktrace/storage';
import { rejectUnknownParams } from '../query/query-params.js';
import { queryHandler } from './query-handler.js';

const NO_PARAMS: ReadonlySet<string> = new Set();

export function registerSdkDropsRoute(app: FastifyInstance, store: Pick<SpanStore, 'sdkDrops'>): void {
  app.get(
    '/api/v1/sdk-drops',
    queryHandler(async (req) => {
      rejectUnknownParams(req.query, NO_PARAMS);
      return { sdkDrops: await store.sdkDrops() };
    }),
  );
}
