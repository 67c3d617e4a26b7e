/** `GET /api/v1/findings` parameters -> a store findings filter. */
import { MAX_FINDING_LIMIT, RULE_IDS, type FindingFilter } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { enumParam, integerParam, rejectUnknownParams, stringParam, timeParam, traceIdValue, type RawQuery } from './query-params.js';

export const FINDING_PARAMS: ReadonlySet<string> = new Set(['traceId', 'rule', 'service', 'start', 'end', 'limit']);

export function parseFindingFilter(raw: RawQuery): FindingFilter {
  rejectUnknownParams(raw, FINDING_PARAMS);
  const filter: FindingFilter = {};
  const traceId = stringParam(raw, 'traceId');
  if (traceId !== undefined) filter.traceId = traceIdValue(traceId);
  const rule = enumParam(raw, 'rule', RULE_IDS);
  if (rule !== undefined) filter.rule = rule;
  const service = stringParam(raw, 'service');
  if (service !== undefined) filter.service = service;
  const startUs = timeParam(raw, 'start');
  const endUs = timeParam(raw, 'end');
  if (startUs !== undefined && endUs !== undefined && endUs < startUs) throw new ApiError('bad_request', 'end must not be before start');
  if (startUs !== undefined) filter.startUs = startUs;
  if (endUs !== undefined) filter.endUs = endUs;
  const limit = integerParam(raw, 'limit', 1, MAX_FINDING_LIMIT);
  if (limit !== undefined) filter.limit = limit;
  return filter;
}
