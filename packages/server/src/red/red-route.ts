/**
 * `GET /api/v1/metrics/red`: rate, errors and p50/p95/p99 of a service, one of its operations, or a
 * dependency edge (`from` and `to`, queues as `mq:<name>`), from the RED aggregator's minute cells.
 */
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../errors.js';
import { durationParam, rejectUnknownParams, stringParam, timeParam } from '../query/query-params.js';
import { queryHandler } from '../routes/query-handler.js';
import { MINUTE_US } from './red-aggregator.js';
import type { RedMetrics } from './red-metrics.js';
import { redOperations, redPoints, type RedOperationSummary, type RedPoint } from './red-query.js';

const PARAMS: ReadonlySet<string> = new Set(['service', 'operation', 'from', 'to', 'start', 'end', 'step']);
/** No answer longer than this many points (a step of 1 min over the whole 24 h is 1 441). */
export const MAX_RED_POINTS = 11_000;

export interface RedResponseBody {
  service?: string;
  operation?: string;
  from?: string;
  to?: string;
  /** µs. */
  step: number;
  points: RedPoint[];
}

/** `GET /api/v1/metrics/red/operations`: every operation of a service over a range, slowest p99 first. */
export interface RedOperationsResponseBody {
  service: string;
  /** The range counted, µs: whole minutes (metrics are kept per minute). */
  start: number;
  end: number;
  operations: RedOperationSummary[];
}

const OPERATIONS_PARAMS: ReadonlySet<string> = new Set(['service', 'start', 'end']);

export function registerRedRoute(app: FastifyInstance, red: RedMetrics): void {
  app.get(
    '/api/v1/metrics/red/operations',
    queryHandler((req) => {
      const q = req.query;
      rejectUnknownParams(q, OPERATIONS_PARAMS);
      const service = stringParam(q, 'service');
      if (service === undefined) throw new ApiError('bad_request', 'query parameter service is required');
      const endUs = timeParam(q, 'end') ?? red.clock() * 1000;
      const startUs = timeParam(q, 'start') ?? endUs - 3_600_000_000;
      if (endUs < startUs) throw new ApiError('bad_request', 'end must not be before start');
      const operations = red.aggregator.services.get(service)?.operations ?? new Map();
      const first = Math.floor(startUs / MINUTE_US) * MINUTE_US;
      const body: RedOperationsResponseBody = { service, start: first, end: Math.floor(endUs / MINUTE_US) * MINUTE_US + MINUTE_US - 1, operations: redOperations(operations, startUs, endUs) };
      return Promise.resolve(body);
    }),
  );

  app.get(
    '/api/v1/metrics/red',
    queryHandler((req) => {
      const q = req.query;
      rejectUnknownParams(q, PARAMS);
      const service = stringParam(q, 'service');
      const operation = stringParam(q, 'operation');
      const from = stringParam(q, 'from');
      const to = stringParam(q, 'to');
      const bad = (message: string): ApiError => new ApiError('bad_request', message);
      if (service !== undefined && (from !== undefined || to !== undefined)) throw bad('give either service (and operation) or from and to, not both');
      if (service === undefined && (from === undefined || to === undefined)) {
        throw bad(operation !== undefined ? 'operation needs service' : 'query parameter service (or from and to, for an edge) is required');
      }
      const nowUs = red.clock() * 1000;
      // Edges still waiting for their parents past the grace are decided first.
      red.edges.settle();
      const endUs = timeParam(q, 'end') ?? nowUs;
      const startUs = timeParam(q, 'start') ?? endUs - 3_600_000_000;
      if (endUs < startUs) throw bad('end must not be before start');
      const stepUs = durationParam(q, 'step') ?? MINUTE_US;
      if (stepUs < MINUTE_US || stepUs % MINUTE_US !== 0) throw bad(`step must be a whole number of minutes (metrics are kept per minute), not ${String(stepUs)}µs`);
      if ((endUs - startUs) / stepUs >= MAX_RED_POINTS) throw bad(`start..end over step gives more than ${MAX_RED_POINTS} points; use a larger step`);
      const series = service !== undefined ? red.aggregator.series({ service, operation }) : red.aggregator.series({ from: from!, to: to! });
      // Cells older than 24 h are gone: a range before that answers empty points, not an error.
      const body: RedResponseBody = { step: stepUs, points: redPoints(series, startUs, endUs, stepUs) };
      if (service !== undefined) body.service = service;
      if (operation !== undefined) body.operation = operation;
      if (from !== undefined) body.from = from;
      if (to !== undefined) body.to = to;
      return Promise.resolve(body);
    }),
  );
}
