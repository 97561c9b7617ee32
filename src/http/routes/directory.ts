import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { App } from '../../services/app.js';
import { checkPassword, hashPassword } from '../../services/auth.js';
import { actorOf, orgOf, requirePrincipal, SESSION_COOKIE } from '../auth.js';
import {
  GroupDetail,
  GroupPatchBody,
  GroupView,
  ListQuery,
  NewGroupBody,
  NewUserBody,
  Ok,
  OrgItemParams,
  OrgParams,
  Page,
  UserListQuery,
  UserPatchBody,
  UserView,
} from '../schemas.js';

const errors = { '4xx': { $ref: 'Error#' } };

/** An organization's users and groups: list (paged, searchable), create, read, update, delete. */
export const directoryRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (api, { app }) => {
  const directoryFor = async (request: import('fastify').FastifyRequest) => {
    const org = orgOf(request);
    return { dir: await app.directory(org.id), actor: actorOf(requirePrincipal(request)) };
  };

  api.get(
    '/orgs/:org/users',
    {
      schema: {
        tags: ['users'],
        params: OrgParams,
        querystring: UserListQuery,
        response: { 200: Page(UserView), ...errors },
      },
    },
    async (request) => {
      const { dir } = await directoryFor(request);
      const page = await dir.listUsers(request.query);
      return { ...page, limit: request.query.limit, offset: request.query.offset };
    },
  );

  api.post(
    '/orgs/:org/users',
    {
      schema: {
        tags: ['users'],
        params: OrgParams,
        body: NewUserBody,
        response: { 201: UserView, ...errors },
      },
    },
    async (request, reply) => {
      const { dir, actor } = await directoryFor(request);
      return reply.status(201).send(await dir.addUser(request.body, actor));
    },
  );

  api.get(
    '/orgs/:org/users/:id',
    { schema: { tags: ['users'], params: OrgItemParams, response: { 200: UserView, ...errors } } },
    async (request) => {
      const { dir } = await directoryFor(request);
      return dir.getUser(request.params.id);
    },
  );

  api.patch(
    '/orgs/:org/users/:id',
    {
      schema: {
        tags: ['users'],
        params: OrgItemParams,
        body: UserPatchBody,
        response: { 200: UserView, ...errors },
      },
    },
    async (request) => {
      const { dir, actor } = await directoryFor(request);
      return dir.updateUser(request.params.id, request.body, actor);
    },
  );

  api.delete(
    '/orgs/:org/users/:id',
    { schema: { tags: ['users'], params: OrgItemParams, response: { 200: Ok, ...errors } } },
    async (request) => {
      const { dir, actor } = await directoryFor(request);
      await dir.removeUser(request.params.id, actor);
      return { ok: true };
    },
  );

  api.put(
    '/orgs/:org/users/:id/password',
    {
      schema: {
        tags: ['users'],
        params: OrgItemParams,
        body: Type.Object({ password: Type.String({ maxLength: 512 }) }, { additionalProperties: false }),
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      const { dir, actor } = await directoryFor(request);
      await dir.setPasswordHash(
        request.params.id,
        await hashPassword(checkPassword(request.body.password)),
        actor,
        // The caller's own session survives a change of their own password.
        request.cookies[SESSION_COOKIE],
      );
      return { ok: true };
    },
  );

  api.get(
    '/orgs/:org/groups',
    {
      schema: {
        tags: ['groups'],
        params: OrgParams,
        querystring: ListQuery,
        response: { 200: Page(GroupView), ...errors },
      },
    },
    async (request) => {
      const { dir } = await directoryFor(request);
      const page = await dir.listGroups(request.query);
      return { ...page, limit: request.query.limit, offset: request.query.offset };
    },
  );

  api.post(
    '/orgs/:org/groups',
    {
      schema: {
        tags: ['groups'],
        params: OrgParams,
        body: NewGroupBody,
        response: { 201: GroupView, ...errors },
      },
    },
    async (request, reply) => {
      const { dir, actor } = await directoryFor(request);
      return reply.status(201).send(await dir.addGroup(request.body, actor));
    },
  );

  api.get(
    '/orgs/:org/groups/:id',
    { schema: { tags: ['groups'], params: OrgItemParams, response: { 200: GroupDetail, ...errors } } },
    async (request) => {
      const { dir } = await directoryFor(request);
      return dir.getGroup(request.params.id);
    },
  );

  api.patch(
    '/orgs/:org/groups/:id',
    {
      schema: {
        tags: ['groups'],
        params: OrgItemParams,
        body: GroupPatchBody,
        response: { 200: GroupView, ...errors },
      },
    },
    async (request) => {
      const { dir, actor } = await directoryFor(request);
      return dir.updateGroup(request.params.id, request.body, actor);
    },
  );

  api.delete(
    '/orgs/:org/groups/:id',
    { schema: { tags: ['groups'], params: OrgItemParams, response: { 200: Ok, ...errors } } },
    async (request) => {
      const { dir, actor } = await directoryFor(request);
      await dir.removeGroup(request.params.id, actor);
      return { ok: true };
    },
  );
};
