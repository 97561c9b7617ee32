import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { PLAN_OFFSET_MAX, PLAN_PAGE_MAX } from '../../contract/limits.js';
import {
  PlanViewSchema,
  PreviewSchema,
  RUN_STATUSES,
  RunDetailSchema,
  RunRecordSchema,
  RunResultSchema,
  TRIGGERS,
} from '../../contract/sync.js';
import { canManageService } from '../../directory/permissions.js';
import { BLOCKED_MAILBOX_RULES } from '../../directory/recipients.js';
import { CLOUD_NAMES } from '../../graph/index.js';
import type { App } from '../../services/app.js';
import { FREQUENCIES } from '../../services/entra-settings.js';
import { SKIP_REASONS } from '../../sync/changes.js';
import { type CsvCell, toCsv } from '../../sync/csv.js';
import { HOW_WORDS, parseHow, parseWhat, WHAT_WORDS } from '../../sync/policy.js';
import { actorOf, orgOf, requirePrincipal } from '../auth.js';
import { Nullable, OrgParams } from '../schemas.js';

const errors = { '4xx': { $ref: 'Error#' }, '5xx': { $ref: 'Error#' } };

const What = Type.Object({ users: Type.Boolean(), distribution: Type.Boolean(), security: Type.Boolean() });
const How = Type.Object({
  addUsers: Type.Boolean(),
  updateUsers: Type.Boolean(),
  addGroups: Type.Boolean(),
  updateGroups: Type.Boolean(),
  removeUsers: Type.Boolean(),
  removeGroups: Type.Boolean(),
});
const Frequency = Nullable(Type.Union(FREQUENCIES.map((f) => Type.Literal(f))));
const Cloud = Type.Union(CLOUD_NAMES.map((c) => Type.Literal(c)));

/** The settings as shown: the secret only as set / last 4 / expiry — there is no field that could carry it. */
const SettingsView = Type.Object({
  configured: Type.Boolean(),
  tenant: Nullable(Type.String()),
  clientId: Nullable(Type.String()),
  secret: Type.Object({
    set: Type.Boolean(),
    last4: Nullable(Type.String()),
    expiresAt: Nullable(Type.String()),
  }),
  defaultRole: Type.Union([Type.Literal('end_user'), Type.Literal('silent_user')]),
  blockedMailboxes: Type.Union(BLOCKED_MAILBOX_RULES.map((r) => Type.Literal(r))),
  includeGuests: Type.Boolean({ description: 'guest users (userType Guest) are synced too' }),
  what: What,
  how: How,
  frequencyHours: Frequency,
  cloud: Cloud,
  authorityHost: Nullable(Type.String()),
  graphUrl: Nullable(Type.String()),
  caPem: Nullable(Type.String()),
  adminConsentUrl: Nullable(Type.String()),
});

const SettingsBody = Type.Object(
  {
    tenant: Type.Optional(Type.String({ maxLength: 253 })),
    clientId: Type.Optional(Type.String({ maxLength: 64 })),
    clientSecret: Type.Optional(Type.String({ maxLength: 1024 })),
    secretExpiresAt: Type.Optional(Nullable(Type.String({ maxLength: 10 }))),
    defaultRole: Type.Optional(Type.String({ maxLength: 20 })),
    blockedMailboxes: Type.Optional(Type.String({ maxLength: 20 })),
    includeGuests: Type.Optional(Type.Boolean()),
    what: Type.Optional(Type.Partial(What, { additionalProperties: false })),
    how: Type.Optional(Type.Partial(How, { additionalProperties: false })),
    frequencyHours: Type.Optional(Nullable(Type.Integer())),
    cloud: Type.Optional(Type.String({ maxLength: 20 })),
    authorityHost: Type.Optional(Nullable(Type.String({ maxLength: 300 }))),
    graphUrl: Type.Optional(Nullable(Type.String({ maxLength: 300 }))),
    caPem: Type.Optional(Nullable(Type.String({ maxLength: 20000 }))),
    saveUntested: Type.Optional(
      Type.Boolean({
        description:
          'Save a new key without first trying it against Entra (otherwise a key Entra refuses, or cannot be asked about, is not saved).',
      }),
    ),
  },
  { additionalProperties: false },
);

const Diagnostic = Type.Object({
  ok: Type.Boolean(),
  steps: Type.Array(
    Type.Object({
      step: Type.String(),
      ok: Type.Boolean(),
      skipped: Type.Optional(Type.Boolean()),
      code: Type.Optional(Type.String()),
      message: Type.Optional(Type.String()),
      hint: Type.Optional(Type.String()),
    }),
  ),
  tenantId: Type.Optional(Type.String()),
  roles: Type.Optional(Type.Array(Type.String())),
  consentUrl: Type.String(),
});

/** The what/how words that override the saved switches for one preview or run. */
export const RunOverrides = {
  what: Type.Optional(
    Type.Array(Type.String({ maxLength: 20 }), {
      maxItems: 10,
      description: `words: ${WHAT_WORDS.join(', ')}`,
    }),
  ),
  how: Type.Optional(
    Type.Array(Type.String({ maxLength: 20 }), {
      maxItems: 10,
      description: `words: ${HOW_WORDS.join(', ')}`,
    }),
  ),
};

/** Entra settings, connection test, sync preview/execute and run history. */
export const syncRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (api, { app }) => {
  api.get(
    '/orgs/:org/entra-settings',
    { schema: { tags: ['entra'], params: OrgParams, response: { 200: SettingsView, ...errors } } },
    async (request) => app.entraSettings(orgOf(request).id).get(),
  );

  api.put(
    '/orgs/:org/entra-settings',
    {
      schema: {
        tags: ['entra'],
        params: OrgParams,
        body: SettingsBody,
        response: { 200: SettingsView, ...errors },
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
    { schema: { tags: ['entra'], params: OrgParams, response: { 200: Diagnostic, ...errors } } },
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
        body: Type.Optional(Type.Object(RunOverrides, { additionalProperties: false })),
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
        body: Type.Object(
          {
            planId: Type.Optional(Type.String({ maxLength: 64 })),
            excludedChangeIds: Type.Optional(
              Type.Array(Type.String({ maxLength: 64 }), { maxItems: 1_000_000 }),
            ),
            ...RunOverrides,
          },
          { additionalProperties: false },
        ),
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
        querystring: Type.Object(
          {
            // Checked by the service, so an unknown category is refused by name.
            category: Type.Optional(
              Type.String({
                maxLength: 40,
                description: 'a category, or skipped (default: the first with changes)',
              }),
            ),
            offset: Type.Integer({ minimum: 0, maximum: PLAN_OFFSET_MAX, default: 0 }),
            limit: Type.Integer({ minimum: 1, maximum: PLAN_PAGE_MAX, default: 100 }),
            search: Type.Optional(Type.String({ maxLength: 200 })),
            // Checked by the service, so an unknown reason is refused by name.
            reason: Type.Optional(
              Type.String({
                maxLength: 40,
                description: `with category=skipped: only entries of this reason (${SKIP_REASONS.join(', ')})`,
              }),
            ),
          },
          { additionalProperties: false },
        ),
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
        querystring: Type.Object(
          {
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
            offset: Type.Integer({ minimum: 0, default: 0 }),
            // The words and dates are checked by the service, so a bad one is refused by name.
            trigger: Type.Optional(Type.String({ maxLength: 20, description: TRIGGERS.join(' | ') })),
            status: Type.Optional(Type.String({ maxLength: 40, description: RUN_STATUSES.join(' | ') })),
            from: Type.Optional(
              Type.String({
                maxLength: 40,
                description:
                  'runs started on or after: a date (YYYY-MM-DD, from 00:00 UTC) or an ISO date-time with offset',
              }),
            ),
            to: Type.Optional(
              Type.String({
                maxLength: 40,
                description:
                  'runs started before: a date (YYYY-MM-DD, that whole day included, UTC) or an ISO date-time with offset',
              }),
            ),
          },
          { additionalProperties: false },
        ),
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
export function overrides(body: { what?: string[]; how?: string[] } | undefined) {
  return {
    what: body?.what === undefined ? undefined : parseWhat(body.what),
    how: body?.how === undefined ? undefined : parseHow(body.how),
  };
}
