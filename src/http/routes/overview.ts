import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AutomationBodySchema, AutomationViewSchema } from '../../contract/automation.js';
import {
  ServiceOverviewQuerySchema,
  ServiceOverviewSchema,
  SyncOverviewSchema,
} from '../../contract/overview.js';
import { ApproveBodySchema, RunResultSchema } from '../../contract/sync.js';
import { invalid } from '../../directory/errors.js';
import { NEEDS, type Need, OVERVIEW_SORTS, type OverviewSort } from '../../jobs/attention.js';
import { AutomationService } from '../../jobs/automation.js';
import { serviceOverview, syncOverview } from '../../jobs/overview.js';
import type { App } from '../../services/app.js';
import { actorOf, orgOf, requireOperator, requirePrincipal } from '../auth.js';
import { Ok, OrgParams } from '../schemas.js';

const errors = { '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } };
const RunParams = Type.Object({ org: Type.String(), id: Type.String({ maxLength: 64 }) });

/** A page at most: thousands of organizations are paged through, never sent at once. */

/** One of `allowed`, or a 400 naming the parameter and what it may be. */
function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(field, `Unknown ${field} "${value}": use ${allowed.join(', ')}.`);
}

/** Automatic sync: overview (health, next run, held run), held-run decisions, automation settings. */
export const overviewRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (api, { app }) => {
  const allowPrivateWebhooks = app.config.jobs.allowPrivateWebhooks;

  // Across organizations: operators only. Not an {org} route, so checked here.
  api.get(
    '/overview',
    {
      schema: {
        tags: ['sync'],
        querystring: ServiceOverviewQuerySchema,
        response: { 200: ServiceOverviewSchema, ...errors },
      },
      // The caller is checked before the query is validated: a non-operator learns nothing from it.
      preValidation: async (request) => {
        requireOperator(request);
      },
    },
    async (request) => {
      const q = request.query;
      return serviceOverview(app, {
        sort: oneOf<OverviewSort>('sort', q.sort, OVERVIEW_SORTS),
        order: oneOf('order', q.order, ['asc', 'desc'] as const),
        offset: q.offset,
        limit: q.limit,
        ...(q.needs !== undefined ? { needs: oneOf<Need>('needs', q.needs, NEEDS) } : {}),
      });
    },
  );

  api.get(
    '/orgs/:org/overview',
    { schema: { tags: ['sync'], params: OrgParams, response: { 200: SyncOverviewSchema, ...errors } } },
    async (request) => syncOverview(app, orgOf(request).id),
  );

  api.post(
    '/orgs/:org/sync/runs/:id/approve',
    {
      schema: {
        tags: ['sync'],
        params: RunParams,
        // Without a body (or without excludedChangeIds) every change of the held plan is applied.
        body: ApproveBodySchema,
        response: { 200: RunResultSchema, ...errors },
      },
      // A POST without a body (as before unticking was possible) approves every change.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request) =>
      (await app.sync(orgOf(request).id)).approve(
        request.params.id,
        actorOf(requirePrincipal(request)),
        request.body.excludedChangeIds ?? [],
      ),
  );

  api.post(
    '/orgs/:org/sync/runs/:id/dismiss',
    { schema: { tags: ['sync'], params: RunParams, response: { 200: Ok, ...errors } } },
    async (request) => {
      await (await app.sync(orgOf(request).id)).dismiss(
        request.params.id,
        actorOf(requirePrincipal(request)),
      );
      return { ok: true };
    },
  );

  api.get(
    '/orgs/:org/automation',
    { schema: { tags: ['sync'], params: OrgParams, response: { 200: AutomationViewSchema, ...errors } } },
    async (request) => new AutomationService(app, orgOf(request).id, allowPrivateWebhooks).get(),
  );

  api.put(
    '/orgs/:org/automation',
    {
      schema: {
        tags: ['sync'],
        params: OrgParams,
        body: AutomationBodySchema,
        response: { 200: AutomationViewSchema, ...errors },
      },
    },
    async (request) =>
      new AutomationService(app, orgOf(request).id, allowPrivateWebhooks).set(
        request.body,
        actorOf(requirePrincipal(request)),
      ),
  );
};
