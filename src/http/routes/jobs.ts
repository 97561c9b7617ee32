import type { FastifyPluginAsync } from 'fastify';
import type { App } from '../../services/app.js';
import { metricsRoutes } from './metrics.js';
import { notificationRoutes } from './notifications.js';
import { overviewRoutes } from './overview.js';

/** The automatic-sync routes: /api/v1 overview, held runs, automation, notifications; and /metrics. */
export const jobRoutes: FastifyPluginAsync<{ app: App }> = async (server, { app }) => {
  await server.register(overviewRoutes, { app, prefix: '/api/v1' });
  await server.register(notificationRoutes, { app, prefix: '/api/v1' });
  await server.register(metricsRoutes, { app });
};
