import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import {
  DiagnosticReportSchema,
  EntraSettingsBodySchema,
  EntraSettingsViewSchema,
} from '../../contract/settings.js';
import {
  ExecuteBodySchema,
  PlanPageQuerySchema,
  PlanViewSchema,
  PreviewSchema,
  RunDetailSchema,
  RunListQuerySchema,
  type RunOverrides,
  RunOverridesSchema,
  RunRecordSchema,
  RunResultSchema,
} from '../../contract/sync.js';
import { canManageService } from '../../directory/permissions.js';
import type { App } from '../../services/app.js';
import { type CsvCell, toCsv } from '../../sync/csv.js';
import { parseHow, parseWhat } from '../../sync/policy.js';
import { actorOf, orgOf, requirePrincipal } from '../auth.js';
import { OrgParams } from '../schemas.js';

const errors = { '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } };

/** Entra settings, connection test, sync preview/execute and run history. */
export const syncRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (api, { app }) => {
  api.get(
    '/orgs/:org/entra-settings',
    { schema: { tags: ['entra'], params: OrgParams, response: { 200: EntraSettingsViewSchema, ...errors } } },
    async (request) => app.entraSettings(orgOf(request).id).get(),
  );

  api.put(
    '/orgs/:org/entra-settings',
    {
      schema: {
        tags: ['entra'],
        params: OrgParams,
        body: EntraSettingsBodySchema,
        response: { 200: EntraSettingsViewSchema, ...errors },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      const { saveUntested, ...input } = request.body;
      return app
        .entraSettings(orgOf(request).id)
        .set(
          input,
          { allowCustomEndpoints: app.config.allowCustomCloud, byOperator: canManageService(principal) },
          actorOf(principal),
          { tryNewKey: saveUntested !== true },
        );
    },
  );

  api.post(
    '/orgs/:org/entra-settings/test',
    { schema: { tags: ['entra'], params: OrgParams, response: { 200: DiagnosticReportSchema, ...errors } } },
    async (request) => app.testConnection(orgOf(request).id),
  );

  api.post(
    '/orgs/:org/sync/preview',
    {
      schema: {
        tags: ['sync'],
        description:
          'Reads Entra, plans and stores a preview, and answers only then (a large tenant takes a while): prefer POST …/sync/searches, which answers at once and reports progress.',
        params: OrgParams,
        body: Type.Optional(RunOverridesSchema),
        response: { 200: PreviewSchema, ...errors },
      },
    },
    async (request) => {
      const sync = await app.sync(orgOf(request).id);
      return sync.preview(overrides(request.body), actorOf(requirePrincipal(request)));
    },
  );

  api.post(
    '/orgs/:org/sync/execute',
    {
      schema: {
        tags: ['sync'],
        params: OrgParams,
        body: ExecuteBodySchema,
        response: { 200: RunResultSchema, ...errors },
      },
    },
    async (request) => {
      const sync = await app.sync(orgOf(request).id);
      return sync.execute(
        {
          ...overrides(request.body),
          planId: request.body.planId,
          excludedChangeIds: request.body.excludedChangeIds ?? [],
          trigger: 'manual',
        },
        actorOf(requirePrincipal(request)),
      );
    },
  );

  api.get(
    '/orgs/:org/sync/plans/:planId',
    {
      schema: {
        tags: ['sync'],
        description:
          "A stored plan — a preview (for the hour it lasts) or a held run's plan — with its summary and one page of one category.",
        params: Type.Object({ org: Type.String(), planId: Type.String({ maxLength: 64 }) }),
        querystring: PlanPageQuerySchema,
        response: { 200: PlanViewSchema, ...errors },
      },
    },
    async (request) => (await app.sync(orgOf(request).id)).planView(request.params.planId, request.query),
  );

  api.get(
    '/orgs/:org/sync/runs',
    {
      schema: {
        tags: ['sync'],
        params: OrgParams,
        description: 'Sync runs, newest first, optionally narrowed by trigger, status and start date.',
        querystring: RunListQuerySchema,
        response: { 200: Type.Array(RunRecordSchema), ...errors },
      },
    },
    async (request) => {
      const { limit, offset, ...filter } = request.query;
      return (await app.sync(orgOf(request).id)).runs(limit, offset, filter);
    },
  );

  api.get(
    '/orgs/:org/sync/plans/:planId/changes.csv',
    {
      schema: {
        tags: ['sync'],
        description:
          "Every change of a stored plan (a preview while it lasts, or a held run's plan) and its skipped entries, as CSV (text/csv).",
        params: Type.Object({ org: Type.String(), planId: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.String({ description: 'text/csv' }), ...errors },
      },
    },
    async (request, reply) => {
      const rows = await (await app.sync(orgOf(request).id)).planCsv(request.params.planId);
      return sendCsv(reply, `preview-${request.params.planId}.csv`, rows);
    },
  );

  api.get(
    '/orgs/:org/sync/runs/:id/changes.csv',
    {
      schema: {
        tags: ['sync'],
        description: 'Every change of a sync run with its outcome, as CSV (text/csv).',
        params: Type.Object({ org: Type.String(), id: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.String({ description: 'text/csv' }), ...errors },
      },
    },
    async (request, reply) => {
      const rows = await (await app.sync(orgOf(request).id)).runCsv(request.params.id);
      return sendCsv(reply, `sync-run-${request.params.id}.csv`, rows);
    },
  );

  api.get(
    '/orgs/:org/sync/runs/:id',
    {
      schema: {
        tags: ['sync'],
        params: Type.Object({ org: Type.String(), id: Type.String({ maxLength: 64 }) }),
        response: { 200: RunDetailSchema, ...errors },
      },
    },
    async (request) => (await app.sync(orgOf(request).id)).run(request.params.id),
  );
};

/** CSV as a download: the name made of the id (only safe characters kept) so the header cannot be split. */
function sendCsv(reply: FastifyReply, filename: string, rows: CsvCell[][]) {
  const safe = filename.replace(/[^A-Za-z0-9._-]/g, '_');
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${safe}"`)
    .send(toCsv(rows));
}

/** The body's what/how words as switches (unknown words refused by name). */
export function overrides(body: RunOverrides | undefined) {
  return {
    what: body?.what === undefined ? undefined : parseWhat(body.what),
    how: body?.how === undefined ? undefined : parseHow(body.how),
  };
}
