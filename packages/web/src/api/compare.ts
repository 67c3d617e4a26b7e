/** `GET /api/v1/compare`: the server compares the traces as it assembles them; the UI draws the answer. */
import type { CallChange, ComparedCall, CompareResponse } from '@linktrace/server';
import { getJson } from './client.js';

export type { CallChange, ComparedCall, CompareResponse };

export function compareTraces(a: readonly string[], b: readonly string[], signal?: AbortSignal): Promise<CompareResponse> {
  return getJson<CompareResponse>('compare', { a: a.join(','), b: b.join(',') }, signal);
}
