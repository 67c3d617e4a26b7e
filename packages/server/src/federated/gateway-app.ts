/**
 * The federated gateway's HTTP API (DESIGN §8): agents' heartbeats fill its directory
 * (`POST /api/v1/agents`, listed by `GET /api/v1/agents`); a trace is read by walking the agents hop
 * by hop (`GET /api/v1/traces/{id}`, and Zipkin's `GET /api/v2/trace/{id}` so the UI, Grafana and
 * Zipkin clients work unchanged); the web UI is served at `/`. It stores nothing.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { CheckOptions } from '@linktrace/analysis';
import { encodeZipkinJson, type Span } from '@linktrace/model';
import { AgentInfoError, fetchAgentTrace, parseAgentInfo, TooManyAgentsError, walkTrace, type AgentDirectory, type WalkedTrace } from '@linktrace/storage';
import { tokenCheck } from '../app.js';
import { toApiError } from '../app-errors.js';
import { ApiError } from '../errors.js';
import { SECURITY_HEADERS } from '../http/security-headers.js';
import { alternateTraceId } from '../query/trace-lookup.js';
import { rejectUnknownParams, traceIdValue } from '../query/query-params.js';
import { queryHandler } from '../routes/query-handler.js';
import { registerUiRoutes } from '../ui/ui-routes.js';
import { federatedTraceView, hopHeaders } from './federated-view.js';

export interface GatewayAppOptions {
  directory: AgentDirectory;
  /** One agent's answer, ms. */
  hopTimeoutMs: number;
  /** The whole walk, ms. */
  walkTimeoutMs: number;
  /** Most agents one walk asks. */
  maxAgentsPerWalk: number;
  /** Most spans one walk keeps. */
  maxSpans: number;
  /** Largest answer read from one agent. */
  maxAnswerBytes: number;
  /** Required on every route but /healthz and the UI (`--token`). */
  token?: string;
  /** Sent to the agents when reading spans (`--agent-token`). */
  agentToken?: string;
  uiDir: string | false;
  /** The on-demand chain check of whole traces. */
  check: CheckOptions;
  /** ms since the epoch. */
  clock?: () => number;
}

const NO_PARAMS: ReadonlySet<string> = new Set();
/** Heartbeats carry up to 3 × 10 000 entries. */
const MAX_HEARTBEAT_BYTES = 16 * 1024 * 1024;

function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(error.status).headers(error.headers).type('application/json').send(error.body());
}

export async function buildGatewayApp(options: GatewayAppOptions): Promise<FastifyInstance> {
  const { directory } = options;
  const clock = options.clock ?? Date.now;
  const app = Fastify({ logger: false, bodyLimit: MAX_HEARTBEAT_BYTES, return503OnClosing: false });
  const authorized = options.token === undefined ? undefined : tokenCheck(options.token);

  app.addHook('onRequest', (request, reply, done) => {
    const path = request.url.split('?')[0]!;
    const open = path === '/healthz' || !path.startsWith('/api/');
    if (authorized !== undefined && !open && !authorized(request.headers.authorization)) {
      done(new ApiError('unauthorized', 'this gateway requires Authorization: Bearer <token>', { 'www-authenticate': 'Bearer realm="linktrace"' }));
    } else done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(SECURITY_HEADERS);
    done(null, payload);
  });
  app.setErrorHandler(async (error, request, reply) => {
    const apiError = toApiError(error, { contentType: request.headers['content-type'], maxRequestBytes: MAX_HEARTBEAT_BYTES }) ?? new ApiError('internal_error', 'an unexpected error occurred');
    return sendError(reply, apiError);
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new ApiError('not_found', `no route ${request.method} ${request.url.split('?')[0]!.slice(0, 200)}`)));

  const walk = async (id: string): Promise<WalkedTrace<Span>> => {
    const run = (traceId: string): Promise<WalkedTrace<Span>> =>
      walkTrace(traceId, {
        directory,
        maxAgents: options.maxAgentsPerWalk,
        maxSpans: options.maxSpans,
        deadlineMs: options.walkTimeoutMs,
        fetch: (agent, tid, signal) =>
          fetchAgentTrace(agent, tid, { timeoutMs: options.hopTimeoutMs, maxBytes: options.maxAnswerBytes, maxSpans: options.maxSpans, signal, token: options.agentToken }),
      });
    const walked = await run(id);
    // A 64-bit id may be stored with the other spelling (trace-lookup.ts).
    const other = walked.spans.length === 0 ? alternateTraceId(id) : undefined;
    return other === undefined ? walked : run(other);
  };

  app.get('/healthz', () => {
    const agents = directory.list();
    return { status: 'ok', role: 'gateway', agents: agents.length, alive: agents.filter((a) => a.alive).length };
  });

  app.post('/api/v1/agents', async (request, reply) => {
    let info;
    try {
      info = parseAgentInfo(request.body);
    } catch (error) {
      if (error instanceof AgentInfoError) throw new ApiError('bad_request', `heartbeat: ${error.message}`);
      throw error;
    }
    try {
      directory.register(info);
    } catch (error) {
      if (error instanceof TooManyAgentsError) throw new ApiError('too_many_agents', `${error.message}; ${info.agent} was not added`);
      throw error;
    }
    return reply.send({ agent: info.agent, agents: directory.size });
  });

  app.get(
    '/api/v1/agents',
    queryHandler((req) => {
      rejectUnknownParams(req.query, NO_PARAMS);
      const now = clock();
      return Promise.resolve({ agents: directory.list().map((a) => ({ ...a, lastSeenAgoMs: now - a.lastSeenMs })) });
    }),
  );

  app.get(
    '/api/v1/traces/:traceId',
    queryHandler(async (req, reply) => {
      rejectUnknownParams(req.query, NO_PARAMS);
      const id = traceIdValue(req.params.traceId ?? '');
      const walked = await walk(id);
      const view = federatedTraceView(walked, options.check, clock() * 1000);
      if (view === undefined) {
        // Nothing found: the error answer, with where the walk got to beside it.
        const error = new ApiError('not_found', `trace ${id} not found on any agent asked (${walked.walk.agents.length})`);
        return reply.code(404).type('application/json').send({ ...error.body(), hops: walked.hops, lastHealthyHop: walked.lastHealthyHop, walk: walked.walk });
      }
      return view;
    }),
  );

  app.get(
    '/api/v2/trace/:traceId',
    queryHandler(async (req, reply) => {
      const id = traceIdValue(req.params.traceId ?? '');
      const walked = await walk(id);
      reply.headers(hopHeaders(walked));
      if (walked.spans.length === 0) throw new ApiError('not_found', `trace ${id} not found on any agent asked (${walked.walk.agents.length})`);
      return encodeZipkinJson(walked.spans);
    }),
  );

  if (options.uiDir !== false) await registerUiRoutes(app, { dir: options.uiDir });
  return app;
}
