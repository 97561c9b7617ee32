import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  SearchListQuerySchema,
  SearchParamsSchema as SearchParams,
  SearchViewSchema as SearchView,
} from '../../contract/searches.js';
import { RunOverridesSchema } from '../../contract/sync.js';
import type { App } from '../../services/app.js';
import { actorOf, orgOf, requirePrincipal } from '../auth.js';
import { OrgParams } from '../schemas.js';
import { overrides } from './sync.js';

const errors = { '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } };

/**
 * Search as a job: start it (answered at once), follow its progress, cancel it. The route that
 * waits for the whole read (POST …/sync/preview) stays for API callers that want one request.
 */
export const searchRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (api, { app }) => {
  api.post(
    '/orgs/:org/sync/searches',
    {
      schema: {
        tags: ['sync'],
        description:
          "Starts a Search (202), or answers the organization's running one (200): one at a time. Follow it with GET …/sync/searches/{searchId}.",
        params: OrgParams,
        body: Type.Optional(RunOverridesSchema),
        response: { 200: SearchView, 202: SearchView, ...errors },
      },
    },
    async (request, reply) => {
      const { search, started } = await app.searches.start(
        orgOf(request).id,
        overrides(request.body),
        actorOf(requirePrincipal(request)),
        request.log,
      );
      return reply.status(started ? 202 : 200).send(search);
    },
  );

  api.get(
    '/orgs/:org/sync/searches',
    {
      schema: {
        tags: ['sync'],
        description: "The organization's latest searches, newest first.",
        params: OrgParams,
        querystring: SearchListQuerySchema,
        response: { 200: Type.Array(SearchView), ...errors },
      },
    },
    async (request) => app.searches.list(orgOf(request).id, request.query.limit),
  );

  api.get(
    '/orgs/:org/sync/searches/:searchId',
    {
      schema: {
        tags: ['sync'],
        params: SearchParams,
        response: { 200: SearchView, ...errors },
      },
    },
    async (request) => app.searches.get(orgOf(request).id, request.params.searchId),
  );

  api.post(
    '/orgs/:org/sync/searches/:searchId/cancel',
    {
      schema: {
        tags: ['sync'],
        description:
          'Asks a running search to stop: it reads cancelled once its runner noticed (at its next page) and stores nothing. 409 for a search that has ended.',
        params: SearchParams,
        response: { 200: SearchView, ...errors },
      },
    },
    async (request) => app.searches.cancel(orgOf(request).id, request.params.searchId),
  );
};
