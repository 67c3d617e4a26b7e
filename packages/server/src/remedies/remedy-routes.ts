/**
 * Remedies over HTTP (docs/remedies.md).
 *
 * - `POST /api/v1/findings/{id}/remedy` `{ "action"?: "replay" | "undo", "dryRun"?: true }`: only with
 *   the remedy token (`Authorization: Bearer <remedy token>`, whatever `--token` is). 202 with the
 *   queued remedy; 200 with the existing one when this finding and action already has one open or
 *   done (a second click does nothing); a dry run answers what would run and where, and queues nothing.
 * - `GET /api/v1/remedies[?findingId&state&service&limit]`, `GET /api/v1/remedies/{id}`.
 * - `POST /api/v1/remedies/claim` `{ service, instance, handlers, waitMs? }`: an instance's long poll
 *   for work (200 with a signed delivery, or 204).
 * - `POST /api/v1/remedies/{id}/result` `{ instance, status, remedyTraceId?, reason?, signature }`:
 *   the instance's report, signed with the shared secret; anything else is refused and audited.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ATTR,
  REMEDY_ACTIONS,
  REMEDY_ACTION_OF_RULE,
  parseFindingId,
  signRemedy,
  verifyRemedyResult,
  type Finding,
  type RemedyAction,
  type RemedyDelivery,
  type RemedyResult,
} from '@linktrace/model';
import type { SpanStore } from '@linktrace/storage';
import { ApiError } from '../errors.js';
import { tokenCheck } from '../http/token-check.js';
import { queryHandler } from '../routes/query-handler.js';
import { enumParam, integerParam, rejectUnknownParams, stringParam } from '../query/query-params.js';
import { RemedyError, REMEDY_STATES, type HandlerSpec, type RemedyBook, type RemedyRecord } from './remedy-book.js';
import type { RemedyAudit } from './remedy-audit.js';
import type { RemedyOptions } from './remedy-options.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route checks the remedy token itself (the app's token check leaves it alone). */
    remedy?: boolean;
  }
}

export const REMEDY_ROUTE = { config: { remedy: true } } as const;

/** A claim's long poll waits at most this long. */
const MAX_WAIT_MS = 25_000;
const MAX_BODY_BYTES = 64 * 1024;
const MAX_HANDLERS = 100;
const MAX_TEXT = 256;

export interface RemedyRouteDeps {
  book: RemedyBook;
  audit: RemedyAudit;
  options: RemedyOptions;
  store: Pick<SpanStore, 'getTrace' | 'findFindings'>;
  clock: () => number;
}

/** A remedy as `GET /api/v1/remedies/{id}` and the request route answer it: what its delivery carries, and where it stands. */
export type RemedyView = Pick<RemedyDelivery, 'id' | 'findingId' | 'action' | 'service' | 'stage' | 'operation' | 'entity' | 'target' | 'traceId' | 'spanId' | 'expiresAtMs'> & {
  state: RemedyRecord['state'];
  attempt: number;
  createdAtMs: number;
  updatedAtMs: number;
  instance?: string;
  remedyTraceId?: string;
  reason?: string;
};

/** `POST /api/v1/findings/{id}/remedy`: 202 `created` true, 200 false (the remedy that exists). */
export interface RemedyRequestResponse {
  created: boolean;
  remedy: RemedyView;
  /** `service@instance` of the live instances that have a handler for it. */
  liveInstances: string[];
}

/** The same route with `"dryRun": true`: what would run and where; nothing is queued. */
export interface RemedyDryRunResponse {
  dryRun: true;
  remedy: Omit<RemedyDelivery, 'id' | 'expiresAtMs'> & { state: 'dry-run' };
  liveInstances: string[];
  wouldRun: string;
}

/** The public view of a remedy. */
export function remedyView(r: RemedyRecord): RemedyView {
  return {
    id: r.delivery.id,
    findingId: r.delivery.findingId,
    action: r.delivery.action,
    state: r.state,
    attempt: r.attempt,
    service: r.delivery.service,
    stage: r.delivery.stage,
    operation: r.delivery.operation,
    ...(r.delivery.entity !== undefined && { entity: r.delivery.entity }),
    ...(r.delivery.target !== undefined && { target: r.delivery.target }),
    traceId: r.delivery.traceId,
    spanId: r.delivery.spanId,
    createdAtMs: r.createdAtMs,
    updatedAtMs: r.updatedAtMs,
    expiresAtMs: r.delivery.expiresAtMs,
    ...(r.instance !== undefined && { instance: r.instance }),
    ...(r.remedyTraceId !== undefined && { remedyTraceId: r.remedyTraceId }),
    ...(r.reason !== undefined && { reason: r.reason }),
  };
}

function objectBody(body: unknown, allowed: readonly string[], what: string): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ApiError('bad_request', `the body of ${what} must be a JSON object`);
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) throw new ApiError('bad_request', `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).join(', ')} in ${what} (allowed: ${allowed.join(', ')})`);
  return body as Record<string, unknown>;
}

function text(value: unknown, name: string, required: boolean): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT) throw new ApiError('bad_request', `${name} must be a non-empty string of at most ${MAX_TEXT} characters`);
  return value;
}

function handlerSpecs(value: unknown): HandlerSpec[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_HANDLERS) throw new ApiError('bad_request', `handlers must be a list of 1 to ${MAX_HANDLERS} { stage, operation?, actions }`);
  return value.map((h: unknown, i) => {
    const o = objectBody(h, ['stage', 'operation', 'actions'], `handlers[${i}]`);
    const actions = o.actions;
    if (!Array.isArray(actions) || actions.length === 0 || !actions.every((a) => (REMEDY_ACTIONS as readonly unknown[]).includes(a))) {
      throw new ApiError('bad_request', `handlers[${i}].actions must list one or more of ${REMEDY_ACTIONS.join(', ')}`);
    }
    return { stage: text(o.stage, `handlers[${i}].stage`, true)!, operation: text(o.operation, `handlers[${i}].operation`, false), actions: actions as RemedyAction[] };
  });
}

function who(request: FastifyRequest): string {
  return `remedy-token@${request.ip}`;
}

/** Per service, the request times of the last minute. */
class RateLimit {
  private readonly times = new Map<string, number[]>();
  constructor(private readonly perMinute: number) {}
  /** ms to wait before `service` may be asked again, 0 when it may be now (and the request is counted). */
  take(service: string, now: number): number {
    const kept = (this.times.get(service) ?? []).filter((t) => t > now - 60_000);
    if (kept.length >= this.perMinute) {
      this.times.set(service, kept);
      return kept[0]! + 60_000 - now;
    }
    kept.push(now);
    this.times.set(service, kept);
    return 0;
  }
}

export function registerRemedyRoutes(app: FastifyInstance, deps: RemedyRouteDeps): void {
  const { book, audit, options, store, clock } = deps;
  const remedyToken = tokenCheck(options.token);
  const rate = new RateLimit(options.perServicePerMinute);

  app.post(
    '/api/v1/findings/:id/remedy',
    { ...REMEDY_ROUTE, bodyLimit: MAX_BODY_BYTES },
    queryHandler(async (req, reply) => {
      if (!remedyToken(req.headers.authorization)) {
        audit.write('refused', { reason: req.headers.authorization === undefined ? 'no token' : 'not the remedy token', ip: req.ip, url: req.url.slice(0, 300) });
        throw new ApiError('remedy_forbidden', 'requesting a remedy needs the remedy token (Authorization: Bearer <remedy token>; the server was started with --remedy-token)');
      }
      rejectUnknownParams(req.query, new Set());
      const id = req.params.id ?? '';
      const parts = parseFindingId(id);
      if (parts === undefined) throw new ApiError('bad_request', `${JSON.stringify(id.slice(0, 200))} is not a finding id (<trace id>-<span id>-<rule>, as GET /api/v1/findings gives it)`);
      const body = objectBody(req.body, ['action', 'dryRun'], 'a remedy request');
      if (body.dryRun !== undefined && typeof body.dryRun !== 'boolean') throw new ApiError('bad_request', 'dryRun must be true or false');
      // A repeat (a second click, a retried request) answers with what exists before any store read
      // (three clicks cost three reads of the trace under load), and is not counted against the limit.
      const asked = body.action ?? REMEDY_ACTION_OF_RULE[parts.rule];
      if (body.dryRun !== true && (REMEDY_ACTIONS as readonly unknown[]).includes(asked)) {
        const repeated = book.repeat(id, asked as RemedyAction, who(req));
        if (repeated !== undefined) return { created: false, remedy: remedyView(repeated), liveInstances: book.liveFor(repeated.delivery) } satisfies RemedyRequestResponse;
      }
      const finding = (await store.findFindings({ traceId: parts.traceId, rule: parts.rule, limit: 10_000 })).find((f) => f.spanId === parts.spanId);
      if (finding === undefined) throw new ApiError('not_found', `no finding ${id} (it may have been resolved by a re-check, or removed by retention)`);
      const action = chooseAction(finding, body.action);
      const span = (await store.getTrace(finding.traceId)).find((s) => s.spanId === finding.spanId);
      if (span === undefined) throw new ApiError('remedy_not_applicable', `the span ${finding.spanId} the finding names is no longer stored; nothing says which step to run again`);
      const stage = typeof span.attributes[ATTR.stage] === 'string' ? (span.attributes[ATTR.stage] as string) : span.kind;
      const delivery: Omit<RemedyDelivery, 'id' | 'expiresAtMs'> = {
        findingId: id,
        action,
        rule: finding.rule,
        service: finding.service,
        stage,
        operation: span.name,
        ...(finding.entity !== undefined && { entity: finding.entity }),
        ...(finding.target !== undefined && { target: finding.target }),
        traceId: finding.traceId,
        spanId: finding.spanId,
      };
      const live = book.liveFor(delivery);
      if (body.dryRun === true) {
        audit.write('dry-run', { findingId: id, action, service: delivery.service, by: who(req), liveInstances: live.length });
        const answer: RemedyDryRunResponse = {
          dryRun: true,
          remedy: { ...delivery, state: 'dry-run' },
          liveInstances: live,
          wouldRun: live.length > 0 ? `${action} of ${delivery.stage} (${delivery.operation}) by one of ${live.length} live instance(s) of ${delivery.service}` : `queued until a live instance of ${delivery.service} with a ${action} handler for stage ${stage} asks for work (expires after ${Math.round(options.ttlMs / 1000)} s)`,
        };
        return answer;
      }
      // A repeat that arrived while this request read the store is not counted either.
      const waitMs = book.existing(id, action) !== undefined ? 0 : rate.take(delivery.service, clock());
      if (waitMs > 0) {
        audit.write('refused', { reason: 'rate limit', findingId: id, service: delivery.service, by: who(req) });
        throw new ApiError('remedy_rate_limited', `${delivery.service} was asked for ${options.perServicePerMinute} remedies in the last minute (the limit)`, { 'retry-after': String(Math.ceil(waitMs / 1000)) });
      }
      let result: { record: RemedyRecord; created: boolean };
      try {
        result = book.request(delivery, who(req));
      } catch (error) {
        if (error instanceof RemedyError) throw new ApiError('remedy_queue_full', error.message, { 'retry-after': '60' });
        throw error;
      }
      reply.code(result.created ? 202 : 200);
      return { created: result.created, remedy: remedyView(result.record), liveInstances: live } satisfies RemedyRequestResponse;
    }),
  );

  app.get(
    '/api/v1/remedies',
    queryHandler((req) => {
      rejectUnknownParams(req.query, new Set(['findingId', 'state', 'service', 'limit']));
      const records = book.list({
        findingId: stringParam(req.query, 'findingId'),
        state: enumParam(req.query, 'state', REMEDY_STATES),
        service: stringParam(req.query, 'service'),
        limit: integerParam(req.query, 'limit', 1, 10_000),
      });
      return Promise.resolve({ remedies: records.map(remedyView) });
    }),
  );

  app.get(
    '/api/v1/remedies/:id',
    queryHandler((req) => {
      rejectUnknownParams(req.query, new Set());
      const r = book.get(req.params.id ?? '');
      if (r === undefined) throw new ApiError('not_found', `no remedy ${JSON.stringify((req.params.id ?? '').slice(0, 200))}`);
      return Promise.resolve({ remedy: remedyView(r) });
    }),
  );

  app.post(
    '/api/v1/remedies/claim',
    { bodyLimit: MAX_BODY_BYTES },
    queryHandler(async (req, reply) => {
      rejectUnknownParams(req.query, new Set());
      const body = objectBody(req.body, ['service', 'instance', 'handlers', 'waitMs'], 'a claim');
      const service = text(body.service, 'service', true)!;
      const instance = text(body.instance, 'instance', true)!;
      const handlers = handlerSpecs(body.handlers);
      const waitMs = body.waitMs === undefined ? 0 : Number(body.waitMs);
      if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_WAIT_MS) throw new ApiError('bad_request', `waitMs must be a whole number of ms from 0 to ${MAX_WAIT_MS}`);
      let claimed = book.claim(service, instance, handlers);
      if (claimed === undefined && waitMs > 0) {
        const abort = new AbortController();
        req.raw.once('close', () => abort.abort());
        await book.waitForWork(service, waitMs, abort.signal);
        if (abort.signal.aborted) return reply.code(204).send();
        claimed = book.claim(service, instance, handlers);
      }
      if (claimed === undefined) return reply.code(204).send();
      return { delivery: claimed.delivery, signature: signRemedy(claimed.delivery, options.secret) };
    }),
  );

  app.post(
    '/api/v1/remedies/:id/result',
    { bodyLimit: MAX_BODY_BYTES },
    queryHandler((req) => {
      rejectUnknownParams(req.query, new Set());
      const id = req.params.id ?? '';
      const body = objectBody(req.body, ['service', 'instance', 'status', 'remedyTraceId', 'reason', 'signature'], 'a result');
      const service = text(body.service, 'service', true)!;
      const instance = text(body.instance, 'instance', true)!;
      const status = body.status;
      if (status !== 'succeeded' && status !== 'failed' && status !== 'superseded') throw new ApiError('bad_request', 'status must be succeeded, failed or superseded');
      const result: RemedyResult = {
        status,
        ...(body.remedyTraceId !== undefined && { remedyTraceId: text(body.remedyTraceId, 'remedyTraceId', true) }),
        ...(body.reason !== undefined && { reason: String(body.reason).slice(0, 2000) }),
      };
      if (typeof body.signature !== 'string' || !verifyRemedyResult(id, result, body.signature, options.secret)) {
        audit.write('refused', { reason: 'result not signed with the remedy secret', remedyId: id.slice(0, 300), instance: `${service}@${instance}`, ip: req.ip });
        throw new ApiError('remedy_forbidden', 'the result is not signed with the remedy secret (LINKTRACE_REMEDY_SECRET)');
      }
      try {
        return Promise.resolve({ remedy: remedyView(book.complete(id, `${service}@${instance}`, status, result)) });
      } catch (error) {
        if (!(error instanceof RemedyError)) throw error;
        audit.write('refused', { reason: error.message, remedyId: id.slice(0, 300), instance: `${service}@${instance}` });
        throw new ApiError(error.kind === 'not_found' ? 'not_found' : 'remedy_conflict', error.message);
      }
    }),
  );
}

function chooseAction(finding: Finding, asked: unknown): RemedyAction {
  const natural = REMEDY_ACTION_OF_RULE[finding.rule];
  if (natural === undefined) throw new ApiError('remedy_not_applicable', `a ${finding.rule} finding has no remedy: nothing was left undone or done twice`);
  if (asked === undefined) return natural;
  if (!(REMEDY_ACTIONS as readonly unknown[]).includes(asked)) throw new ApiError('bad_request', `action must be one of ${REMEDY_ACTIONS.join(', ')}`);
  if (asked === 'undo' && finding.rule !== 'duplicate-write') throw new ApiError('remedy_not_applicable', `undo reverts a duplicate write; a ${finding.rule} finding is repaired by replay`);
  if (asked === 'replay' && finding.rule === 'duplicate-write') throw new ApiError('remedy_not_applicable', 'a duplicate write is repaired by undo, not by running it again');
  return asked as RemedyAction;
}

/** Without remedies, the request route says how to turn them on instead of a bare 404. */
export function registerRemediesOff(app: FastifyInstance): void {
  app.post(
    '/api/v1/findings/:id/remedy',
    REMEDY_ROUTE,
    queryHandler(() => {
      throw new ApiError('remedies_off', 'remedies are off on this server: start it with --remedy-token <token> and --remedy-secret <secret> (docs/remedies.md)');
    }),
  );
}
