import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  ApiTokenSchema as ApiToken,
  AuditEntrySchema,
  AuditQuerySchema,
  CreatedApiTokenSchema,
  DomainBodySchema as DomainBody,
  DomainEntrySchema as DomainEntry,
  DomainParamsSchema as DomainParams,
  NewApiTokenBodySchema,
  NewOrganizationBodySchema,
  OrganizationSchema as Organization,
  OrganizationPatchBodySchema,
} from '../../contract/organizations.js';
import { canManageService } from '../../directory/permissions.js';
import type { App } from '../../services/app.js';
import { actorOf, orgOf, requireOperator, requireOrgAdmin, requirePrincipal } from '../auth.js';
import { Ok, OrgParams } from '../schemas.js';

const errors = { '4xx': { $ref: 'Error#' } };
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
        body: NewOrganizationBodySchema,
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
        body: OrganizationPatchBodySchema,
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
        body: NewApiTokenBodySchema,
        response: {
          201: CreatedApiTokenSchema,
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
        querystring: AuditQuerySchema,
        response: {
          200: Type.Array(AuditEntrySchema),
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
