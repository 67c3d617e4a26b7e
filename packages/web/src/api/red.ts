/** RED metrics of a service (`GET /api/v1/metrics/red`) and its operations' totals (`…/red/operations`). */
import type { RedOperationsResponse, RedResponse } from '@linktrace/server';
import { getJson, type Query } from './client.js';

export type { RedOperationsResponse, RedResponse };

export function redSeries(query: Query, signal?: AbortSignal): Promise<RedResponse> {
  return getJson<RedResponse>('metrics/red', query, signal);
}

export function redOperations(query: Query, signal?: AbortSignal): Promise<RedOperationsResponse> {
  return getJson<RedOperationsResponse>('metrics/red/operations', query, signal);
}
