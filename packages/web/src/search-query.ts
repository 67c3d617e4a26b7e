/** What a search page URL asks the API (`GET /api/v1/traces`); the compare page runs searches with it too. */
import type { Query } from './api/client.js';
import { timeRange } from './format.js';

/** Search defaults to any time: imported and fixture traces are often old. */
export const DEFAULT_LOOKBACK = 'all';

/** The API query for what the URL says. */
export function searchApiQuery(p: URLSearchParams): Query {
  return {
    service: p.get('service') ?? undefined,
    operation: p.get('operation') ?? undefined,
    attr: p.getAll('attr'),
    minDuration: p.get('minDuration') ?? undefined,
    maxDuration: p.get('maxDuration') ?? undefined,
    status: p.get('status') ?? undefined,
    hasFindings: p.get('hasFindings') ?? undefined,
    limit: p.get('limit') ?? '50',
    ...timeRange(p, DEFAULT_LOOKBACK),
  };
}
