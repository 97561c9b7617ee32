import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LoginBodySchema } from '../../contract/auth.js';
import { AppError } from '../../directory/errors.js';
import { recipientFacts } from '../../directory/recipients.js';
import type { App } from '../../services/app.js';
import { userView } from '../../services/directory.js';
import { requirePrincipal, SESSION_COOKIE, setSessionCookie } from '../auth.js';
import { Me, Ok, SessionBody } from '../schemas.js';

const errors = { '4xx': { $ref: 'Error#' } };

/** Sign-in, sign-out, the current session and the end user's self-service view. */
export const authRoutes: FastifyPluginAsyncTypebox<{ app: App }> = async (api, { app }) => {
  api.post(
    '/auth/login',
    {
      // Slows password guessing per client address; argon2id slows it per attempt.
      config: { public: true, rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        tags: ['auth'],
        body: LoginBodySchema,
        response: { 200: SessionBody, ...errors },
      },
    },
    async (request, reply) => {
      const { token, session } = await app.auth.login(request.body.email, request.body.password);
      setSessionCookie(reply, request, token, session.expiresAt);
      return session;
    },
  );

  api.post(
    '/auth/logout',
    // Signing out without a session does nothing, and says so the same way.
    { config: { public: true }, schema: { tags: ['auth'], response: { 200: Ok, ...errors } } },
    async (request, reply) => {
      const cookie = request.cookies[SESSION_COOKIE];
      if (cookie) await app.auth.logout(cookie);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true };
    },
  );

  api.post(
    '/auth/logout-all',
    { schema: { tags: ['auth'], response: { 200: Ok, ...errors } } },
    async (request, reply) => {
      const cookie = request.cookies[SESSION_COOKIE];
      if (!cookie || !request.session)
        throw new AppError('unauthenticated', 'Not signed in, or the session has expired: sign in again.');
      await app.auth.logoutEverywhere(cookie);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true };
    },
  );

  api.get(
    '/auth/session',
    { schema: { tags: ['auth'], response: { 200: SessionBody, ...errors } } },
    async (request) => {
      if (!request.session)
        throw new AppError('unauthenticated', 'Not signed in, or the session has expired: sign in again.');
      return request.session;
    },
  );

  api.get(
    '/me',
    {
      schema: {
        tags: ['self-service'],
        response: {
          200: Me,
          ...errors,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request);
      if (principal.type !== 'user') {
        throw new AppError('forbidden', 'The self-service view is for users of an organization.');
      }
      const dir = await app.directory(principal.orgId);
      const user = await dir.findUser(principal.id);
      const org = await app.orgs.get(principal.orgId);
      return {
        user: userView(user),
        organization: { id: org.id, name: org.name },
        receivesQuarantineDigests: recipientFacts(user).receivesDigests,
      };
    },
  );
};
