/** `GET /metrics`: Prometheus text exposition of the app's registry. */
import type { FastifyInstance } from 'fastify';
import type { ServerMetrics } from '../metrics.js';

export function registerMetricsRoute(app: FastifyInstance, metrics: ServerMetrics): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.text();
    return reply.code(200).type(metrics.contentType).send(text);
  });
}
