import type { FastifyPluginAsync } from 'fastify';
import { jobMetrics } from '../../jobs/metrics.js';
import type { App } from '../../services/app.js';
import { requireOperator } from '../auth.js';

/** GET /metrics in Prometheus text format, for operators (an operator API token as bearer). */
export const metricsRoutes: FastifyPluginAsync<{ app: App }> = async (server, { app }) => {
  server.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
    requireOperator(request);
    const metrics = jobMetrics(app);
    return reply.type(metrics.registry.contentType).send(await metrics.text());
  });
};
