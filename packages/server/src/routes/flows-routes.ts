/**
 * Flow contracts (DESIGN §4) over HTTP. `GET /api/v1/flows` lists the contracts in force with a
 * summary of the instances checked since the server started (instances, complete, broken, pending,
 * p50/p99 end-to-end in µs); `POST /api/v1/flows` declares contracts, validated exactly as a --flows
 * file is: one contract object, a list of them, or `{ "flows": [...] }`. A contract whose name is in
 * force already is replaced. `GET /api/v1/flows/{name}` answers one flow with its history: matched
 * and broken instances per minute of instance start (`bucket=5m` and the like merge them into wider
 * buckets) and the most recent broken instances with the steps they miss. `DELETE /api/v1/flows/{name}`
 * removes a contract declared through the API (for good: the removal is saved too).
 *
 * Both writes are write routes (routes/write-route.ts), and bounded: a body of at most 1 MB, at most
 * `maxFlows` contracts in force (409 too_many_flows past it), each of bounded steps and text
 * (validateFlows). Checking traces does not get slower with more contracts: they are indexed by
 * what starts an instance (FlowIndex).
 */
import type { FastifyInstance } from 'fastify';
import { formatFlowError, validateFlows } from '@linktrace/analysis';
import { ApiError } from '../errors.js';
import { FileFlowError, FLOW_BUCKET_US, FlowLimitError, MAX_FLOW_BUCKETS, type FlowRegistry } from '../checker/flow-registry.js';
import { WRITE_ROUTE } from './write-route.js';
import { durationParam, rejectUnknownParams } from '../query/query-params.js';
import { queryHandler } from './query-handler.js';

const NO_PARAMS: ReadonlySet<string> = new Set();
const DETAIL_PARAMS: ReadonlySet<string> = new Set(['bucket']);
/** At most this many error lines in a 400 message. */
const MAX_ERRORS = 20;
/** A POST of flow contracts is at most this large (1 000 contracts of a few steps are ~200 KB). */
const MAX_FLOWS_BODY_BYTES = 1024 * 1024;

/** The contracts of a body, when it is a list (or `{ flows: [...] }`), for an early count check. */
function listLength(body: unknown): number {
  if (Array.isArray(body)) return body.length;
  if (typeof body === 'object' && body !== null && Array.isArray((body as { flows?: unknown }).flows)) return (body as { flows: unknown[] }).flows.length;
  return 1;
}

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

  app.get(
    '/api/v1/flows/:name',
    queryHandler((req) => {
      rejectUnknownParams(req.query, DETAIL_PARAMS);
      const bucketUs = durationParam(req.query, 'bucket') ?? FLOW_BUCKET_US;
      if (bucketUs % FLOW_BUCKET_US !== 0 || bucketUs > FLOW_BUCKET_US * MAX_FLOW_BUCKETS || bucketUs <= 0) {
        throw new ApiError('bad_request', `query parameter bucket must be a whole number of minutes, at most ${MAX_FLOW_BUCKETS / 60}h`);
      }
      const name = req.params.name ?? '';
      const detail = flows.detail(name, bucketUs);
      if (detail === undefined) throw new ApiError('not_found', `no flow contract named ${JSON.stringify(name.slice(0, 200))}`);
      return Promise.resolve(detail);
    }),
  );

  app.post(
    '/api/v1/flows',
    { ...WRITE_ROUTE, bodyLimit: MAX_FLOWS_BODY_BYTES },
    queryHandler(async (req, reply) => {
      rejectUnknownParams(req.query, NO_PARAMS);
      if (req.body === undefined || req.body === null) throw new ApiError('bad_request', 'the body must be a JSON flow contract, a list of them, or { "flows": [...] }');
      const count = listLength(req.body);
      if (count > flows.maxFlows) throw new ApiError('too_many_flows', `the request declares ${count} flow contracts; at most ${flows.maxFlows} can be in force`);
      const result = validateFlows(asFlowList(req.body));
      if (!result.ok) {
        const lines = result.errors.slice(0, MAX_ERRORS).map(formatFlowError);
        if (result.errors.length > MAX_ERRORS) lines.push(`and ${result.errors.length - MAX_ERRORS} more`);
        throw new ApiError('bad_request', `invalid flow contract: ${lines.join('; ')}`);
      }
      let created: string[];
      try {
        created = await flows.declare(result.flows);
      } catch (error) {
        if (error instanceof FlowLimitError) throw new ApiError('too_many_flows', error.message);
        throw error;
      }
      return reply.code(created.length > 0 ? 201 : 200).send({ flows: result.flows.map((f) => f.name), created });
    }),
  );

  app.delete(
    '/api/v1/flows/:name',
    WRITE_ROUTE,
    queryHandler(async (req, reply) => {
      rejectUnknownParams(req.query, NO_PARAMS);
      const name = req.params.name ?? '';
      let removed: boolean;
      try {
        removed = await flows.remove(name);
      } catch (error) {
        if (error instanceof FileFlowError) throw new ApiError('bad_request', error.message);
        throw error;
      }
      if (!removed) throw new ApiError('not_found', `no flow contract named ${JSON.stringify(name.slice(0, 200))}`);
      return reply.code(200).send({ deleted: name });
    }),
  );
}
