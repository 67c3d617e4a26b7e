/**
 * The HTTP side every split role has: the shared shell (token, errors, headers), `/metrics`, and a
 * `/healthz` that names the role and says why it is not working (NATS not reached yet or lost, the
 * store failing). The collector adds its receivers, the query role the query API and UI.
 */
import type { FastifyInstance } from 'fastify';
import { DEFAULT_PIPELINE } from '../config.js';
import { createShellFastify, installShellHooks } from '../http/app-shell.js';
import { ServerMetrics } from '../metrics.js';
import { registerMetricsRoute } from '../routes/health-metrics.js';
import { PUBLIC_ROUTE } from '../routes/public-route.js';
import type { ServeOptions } from '../cli/serve.js';
import { RoleMetrics } from './role-metrics.js';
import type { RoleName } from './role-options.js';

/** One part of the role's health: `problem` set makes the role unavailable (503). */
export interface HealthPart {
  name: string;
  check(): Promise<{ detail: object; problem?: string }>;
}

export interface RoleHealth {
  status: 'ok' | 'unavailable';
  role: RoleName;
  /** Why the role is unavailable, part by part. */
  reason?: string;
  [part: string]: unknown;
}

export interface RoleApp {
  app: FastifyInstance;
  metrics: ServerMetrics;
  roleMetrics: RoleMetrics;
  health(): Promise<RoleHealth>;
}

export function createRoleApp(role: RoleName, serve: ServeOptions, parts: HealthPart[], sources: { backlogSpans?: () => number } = {}): RoleApp {
  const metrics = new ServerMetrics({ backlogSpans: sources.backlogSpans ?? (() => 0), walBytes: () => 0, walSegments: () => 0 }, { processMetrics: true });
  const app = createShellFastify({ maxRequestBytes: serve.limits.maxRequestBytes, timeouts: serve.timeouts, logger: { level: 'warn' }, metrics: () => metrics });
  installShellHooks(app, metrics, serve.limits.maxRequestBytes, {
    token: serve.token,
    allowAnonymousWrites: serve.allowAnonymousWrites,
    retryAfterSeconds: DEFAULT_PIPELINE.retryAfterSeconds,
  });
  const health = async (): Promise<RoleHealth> => {
    const out: RoleHealth = { status: 'ok', role };
    const problems: string[] = [];
    for (const part of parts) {
      const { detail, problem } = await part.check();
      out[part.name] = detail;
      if (problem !== undefined) problems.push(`${part.name}: ${problem}`);
    }
    if (problems.length > 0) {
      out.status = 'unavailable';
      out.reason = problems.join('; ');
    }
    return out;
  };
  app.get('/healthz', PUBLIC_ROUTE, async (_request, reply) => {
    const h = await health();
    return reply.code(h.status === 'ok' ? 200 : 503).send(h);
  });
  registerMetricsRoute(app, metrics);
  return { app, metrics, roleMetrics: new RoleMetrics(metrics.registry), health };
}
