import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { canManageService } from '../../directory/permissions.js';
import type { App } from '../../services/app.js';
import { TOKEN_DAYS } from '../../services/auth.js';
import { actorOf, orgOf, requireOperator, requireOrgAdmin, requirePrincipal } from '../auth.js';
import { Nullable, Ok, Organization, OrgParams } from '../schemas.js';

const errors = { '4xx': { $ref: 'Error#' } };
const DomainBody = Type.Object(
  { domain: Type.String({ minLength: 1, maxLength: 253 }) },
  { additionalProperties: false },
);
const DomainParams = Type.Object({ org: Type.String(), domain: Type.String({ maxLength: 253 }) });
const DomainEntry = Type.Object({
  domain: Type.String(),
  status: Type.Union([Type.Literal('verified'), Type.Literal('pending')]),
  provenBy: Nullable(
    Type.Union([
      Type.Literal('operator'),
      Type.Literal('dns'),
      Type.Literal('entra'),
      Type.Literal('before_proof'),
    ]),
  ),
  provenAt: Nullable(Type.String()),
  createdAt: Type.String(),
  txtRecord: Nullable(Type.Object({ name: Type.String(), type: Type.Literal('TXT'), value: Type.String() })),
  lastCheck: Nullable(Type.Object({ at: Type.String(), outcome: Type.String() })),
});
const ApiToken = Type.Object({
  id: Type.String(),
  orgId: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.String(),
  canCreateTokens: Type.Boolean(),
});

/** Organizations, domains, API tokens and the audit log. */
export const orgRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (api, { app }) => {
  api.get(
    '/orgs',
    { schema: { tags: ['organizations'], response: { 200: Type.Array(Organization), ...errors } } },
    async (request) => {
      const principal = requirePrincipal(request);
      const all = await app.orgs.list();
      if (canManageService(principal)) return all;
      const own = principal.type === 'operator' ? null : principal.orgId;
      requireOrgAdmin(request, own ?? '');
      return all.filter((o) => o.id === own);
    },
  );

  api.post(
    '/orgs',
    {
      schema: {
        tags: ['organizations'],
        body: Type.Object(
          {
            name: Type.String({ maxLength: 200 }),
            domains: Type.Array(Type.String({ maxLength: 253 }), { minItems: 1, maxItems: 100 }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Organization, ...errors },
      },
    },
    async (request, reply) => {
      const principal = requireOperator(request);
      const org = await app.orgs.create(request.body, actorOf(principal));
      return reply.status(201).send(org);
    },
  );

  api.get(
    '/orgs/:org',
    { schema: { tags: ['organizations'], params: OrgParams, response: { 200: Organization, ...errors } } },
    async (request) => {
      const org = orgOf(request);
      return org;
    },
  );

  api.patch(
    '/orgs/:org',
    {
      schema: {
        tags: ['organizations'],
        params: OrgParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ maxLength: 200 })),
            // The licence is the operator's contract with the customer: operators set it.
            licensedSeats: Type.Optional(Nullable(Type.Integer())),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Organization, ...errors },
      },
    },
    async (request) => {
      const org = orgOf(request);
      const principal = requirePrincipal(request);
      const { name, licensedSeats } = request.body;
      if (licensedSeats !== undefined) requireOperator(request);
      let result = org;
      if (name !== undefined) result = await app.orgs.rename(org.id, name, actorOf(principal));
      if (licensedSeats !== undefined)
        result = await app.orgs.setLicensedSeats(org.id, licensedSeats, actorOf(principal));
      return result;
    },
  );

  api.delete(
    '/orgs/:org',
    { schema: { tags: ['organizations'], params: OrgParams, response: { 200: Ok, ...errors } } },
    async (request) => {
      const principal = requireOperator(request);
      const org = await app.orgs.resolve(request.params.org);
      await app.orgs.delete(org.id, actorOf(principal));
      return { ok: true };
    },
  );

  api.post(
    '/orgs/:org/domains',
    {
      schema: {
        tags: ['organizations'],
        params: OrgParams,
        body: DomainBody,
        response: { 200: Organization, ...errors },
      },
    },
    async (request) => {
      const org = orgOf(request);
      const principal = requirePrincipal(request);
      // An operator's word makes a domain count; an organization admin's claim waits for its proof.
      return app.orgs.addDomain(org.id, request.body.domain, actorOf(principal), {
        direct: canManageService(principal),
      });
    },
  );

  api.get(
    '/orgs/:org/domains',
    {
      schema: {
        tags: ['organizations'],
        params: OrgParams,
        response: { 200: Type.Array(DomainEntry), ...errors },
      },
    },
    async (request) => app.orgs.listDomains(orgOf(request).id),
  );

  api.post(
    '/orgs/:org/domains/:domain/verify',
    {
      schema: {
        tags: ['organizations'],
        params: DomainParams,
        response: { 200: DomainEntry, ...errors },
      },
    },
    async (request) => {
      const org = orgOf(request);
      return app.orgs.verifyDomain(
        org.id,
        request.params.domain,
        actorOf(requirePrincipal(request)),
        app.domainProofSources(org.id),
      );
    },
  );

  api.delete(
    '/orgs/:org/domains/:domain',
    {
      schema: {
        tags: ['organizations'],
        params: DomainParams,
        response: { 200: Organization, ...errors },
      },
    },
    async (request) => {
      const org = orgOf(request);
      return app.orgs.removeDomain(org.id, request.params.domain, actorOf(requirePrincipal(request)));
    },
  );

  api.get(
    '/orgs/:org/api-tokens',
    {
      schema: { tags: ['api tokens'], params: OrgParams, response: { 200: Type.Array(ApiToken), ...errors } },
    },
    async (request) => {
      const org = orgOf(request);
      return app.auth.listApiTokens(org.id);
    },
  );

  api.post(
    '/orgs/:org/api-tokens',
    {
      schema: {
        tags: ['api tokens'],
        params: OrgParams,
        body: Type.Object(
          {
            name: Type.String({ maxLength: 100 }),
            expiresInDays: Type.Optional(
              Type.Integer({ minimum: 1, maximum: TOKEN_DAYS.max, default: TOKEN_DAYS.default }),
            ),
            // Whether requests made with the new token may create tokens themselves.
            canCreateTokens: Type.Optional(Type.Boolean({ default: false })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ id: Type.String(), token: Type.String(), expiresAt: Type.String() }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const org = orgOf(request);
      const principal = requirePrincipal(request);
      const created = await app.auth.createApiToken({
        ...request.body,
        orgId: org.id,
        creator: principal,
        createdBy: actorOf(principal),
      });
      return reply.status(201).send(created);
    },
  );

  api.delete(
    '/orgs/:org/api-tokens/:id',
    {
      schema: {
        tags: ['api tokens'],
        params: Type.Object({ org: Type.String(), id: Type.String() }),
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const org = orgOf(request);
      await app.auth.revokeApiToken(request.params.id, org.id);
      return { ok: true };
    },
  );

  api.get(
    '/orgs/:org/audit',
    {
      schema: {
        tags: ['organizations'],
        params: OrgParams,
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }),
        response: {
          200: Type.Array(
            Type.Object({
              id: Type.Integer(),
              at: Type.String(),
              actor: Type.String(),
              action: Type.String(),
              targetType: Type.String(),
              targetId: Type.Union([Type.String(), Type.Null()]),
              targetLabel: Type.Union([Type.String(), Type.Null()], {
                description:
                  "the target as people know it (a user's address, a group's name, a run's trigger and start), recorded with the entry; null: show the id",
              }),
              // What each action recorded (its own small JSON, written by the service that audits it,
              // never a secret): free-form by design, so not described field by field.
              detail: Type.Unknown(),
            }),
          ),
          ...errors,
        },
      },
    },
    async (request) => {
      const org = orgOf(request);
      return app.orgs.audit(org.id, request.query.limit);
    },
  );
};
