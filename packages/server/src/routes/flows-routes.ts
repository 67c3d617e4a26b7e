/**
 * Flow contracts (DESIGN §4) over HTTP. `GET /api/v1/flows` lists the contracts in force with a
 * summary of the instances checked since the server started (instances, complete, broken, pending,
 * p50/p99 end-to-end in µs); `POST /api/v1/flows` declares contracts, validated exactly as a --flows
 * file is: one contract object, a list of them, or `{ "flows": [...] }`. A contract whose name is in
 * force already is replaced.
 */
import type { FastifyInstance } from 'fastify';
import { formatFlowError, validateFlows } from '@linktrace/analysis';
import { ApiError } from '../errors.js';
import type { FlowRegistry } from '../checker/flow-registry.js';
import { rejectUnknownParams } from '../query/query-params.js';
import { queryHandler } from './query-handler.js';

const NO_PARAMS: ReadonlySet<string> = new Set();
/** At most this many error lines in a 400 message. */
const MAX_ERRORS = 20;

/** A single contract (an object with a `name`) is taken as a list of one. */
function asFlowList(body: unknown): unknown {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && 'name' in body) return [body];
  return body;
}

export function registerFlowRoutes(app: FastifyInstance, flows: FlowRegistry): void {
  app.get(
    '/api/v1/flows',
    queryHandler((req) => {
      rejectUnknownParams(req.query, NO_PARAMS);
      return Promise.resolve({ flows: flows.views() });
    }),
  );

  app.post(
    '/api/v1/flows',
    queryHandler(async (req, reply) => {
      rejectUnknownParams(req.query, NO_PARAMS);
      if (req.body === undefined || req.body === null) throw new ApiError('bad_request', 'the body must be a JSON flow contract, a list of them, or { "flows": [...] }');
      const result = validateFlows(asFlowList(req.body));
      if (!result.ok) {
        const lines = result.errors.slice(0, MAX_ERRORS).map(formatFlowError);
        if (result.errors.length > MAX_ERRORS) lines.push(`and ${result.errors.length - MAX_ERRORS} more`);
        throw new ApiError('bad_request', `invalid flow contract: ${lines.join('; ')}`);
      }
      const created = await flows.declare(result.flows);
      return reply.code(created.length > 0 ? 201 : 200).send({ flows: result.flows.map((f) => f.name), created });
    }),
  );
}
