import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../../services/app.js';
import { SEARCH_LIST_MAX } from '../../services/searches.js';
import { actorOf, orgOf, requirePrincipal } from '../auth.js';
import { Nullable, OrgParams } from '../schemas.js';
import { overrides, RunOverrides } from './sync.js';

const errors = { '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } };

const Collection = Type.Object({ pages: Type.Integer(), objects: Type.Integer() });

/** A Search (the manual-sync preview) running as a job: SearchView in src/services/searches.ts. */
const SearchView = Type.Object({
  id: Type.String(),
  state: Type.Union([
    Type.Literal('running'),
    Type.Literal('done'),
    Type.Literal('failed'),
    Type.Literal('cancelled'),
  ]),
  phase: Nullable(
    Type.Union([Type.Literal('read'), Type.Literal('plan'), Type.Literal('store')], {
      description: 'reading Entra, planning, storing the preview; null once finished',
    }),
  ),
  cancelRequested: Type.Boolean(),
  startedAt: Type.String(),
  updatedAt: Type.String({ description: "the runner's last progress or heartbeat write" }),
  finishedAt: Nullable(Type.String()),
  startedBy: Type.String(),
  progress: Type.Object(
    {
      users: Type.Optional(Collection),
      groups: Type.Optional(Collection),
      mailboxes: Type.Optional(Collection),
    },
    { description: 'pages and objects read per collection so far; collections not reached yet are absent' },
  ),
  planId: Nullable(
    Type.String({ description: 'once done: the stored preview, read with GET …/sync/plans/{planId}' }),
  ),
  error: Nullable(
    Type.Object(
      {
        code: Type.String(),
        message: Type.String(),
        hint: Type.Optional(Type.String()),
        field: Type.Optional(Type.String()),
      },
      { description: 'once failed: the error body the API answers for it (interrupted: its server stopped)' },
    ),
  ),
});

const SearchParams = Type.Object({ org: Type.String(), searchId: Type.String({ maxLength: 64 }) });

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
        body: Type.Optional(Type.Object(RunOverrides, { additionalProperties: false })),
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
        querystring: Type.Object(
          { limit: Type.Integer({ minimum: 1, maximum: SEARCH_LIST_MAX, default: 5 }) },
          { additionalProperties: false },
        ),
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
