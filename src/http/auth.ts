import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError } from '../directory/errors.js';
import type { Organization } from '../directory/model.js';
import { canAdminOrg, canManageService, type Principal } from '../directory/permissions.js';
import type { App } from '../services/app.js';
import type { Session } from '../services/auth.js';

export const SESSION_COOKIE = 'entrasync_session';
export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answers callers that are not signed in (sign-in, sign-out, the API document); every other API route refuses them. */
    public?: boolean;
  }
  interface FastifyRequest {
    /** The organization named by the route's `{org}` parameter, already authorized. */
    org: Organization | null;
    /** Who is calling; null when not signed in. */
    principal: Principal | null;
    session: Session | null;
  }
}

/**
 * Resolves the caller from the session cookie or an `Authorization: Bearer` API token, and
 * enforces CSRF on state-changing requests made with a cookie (tokens are not sent by browsers
 * on their own, so they need no CSRF check).
 */
export const authPlugin = fp(async (server: FastifyInstance, opts: { app: App }) => {
  server.decorateRequest('principal', null);
  server.decorateRequest('session', null);
  server.decorateRequest('org', null);
  server.addHook('onRequest', async (request) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer) {
      // Refuses with a 401 saying why: unknown, expired, or its creator's account gone.
      request.principal = await opts.app.auth.apiToken(bearer);
      return;
    }
    const cookie = request.cookies[SESSION_COOKIE];
    if (!cookie) return;
    const session = await opts.app.auth.session(cookie);
    if (!session) return;
    request.session = session;
    request.principal = session.principal;
    if (!SAFE_METHODS.has(request.method) && request.headers[CSRF_HEADER] !== session.csrfToken) {
      throw new AppError(
        'forbidden',
        `The ${CSRF_HEADER} header is missing or wrong: send the csrfToken of GET /api/v1/auth/session.`,
      );
    }
  });
  // Every API route asks for a caller, and every route with an {org} parameter is authorized,
  // here, before its input is even validated: no route can forget the check, and neither an
  // anonymous nor a foreign caller learns anything from validation errors.
  server.addHook('preValidation', async (request) => {
    const route = request.routeOptions;
    if (route.url?.startsWith('/api/') && !route.config.public) requirePrincipal(request);
    const ref = (request.params as { org?: unknown } | undefined)?.org;
    if (typeof ref === 'string') request.org = await resolveForAdmin(opts.app, request, ref);
  });
});

/**
 * Resolves `{org}` (id or domain) and checks the caller administers it. An unknown organization
 * and a foreign one answer alike for non-operators, so names of other customers do not leak.
 */
async function resolveForAdmin(app: App, request: FastifyRequest, ref: string): Promise<Organization> {
  const principal = requirePrincipal(request);
  try {
    const org = await app.orgs.resolve(ref);
    requireOrgAdmin(request, org.id);
    return org;
  } catch (error) {
    if (!canManageService(principal)) throw forbiddenOrg();
    throw error;
  }
}

/** The route's authorized organization (set by the preValidation hook). */
export function orgOf(request: FastifyRequest): Organization {
  if (!request.org) throw new AppError('internal', 'Route has no {org} parameter.');
  return request.org;
}

const forbiddenOrg = () => new AppError('forbidden', 'You are not an administrator of this organization.');

/** The caller, or a 401 asking to sign in. */
export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw new AppError('unauthenticated', 'Sign in first (or send an API token).');
  return request.principal;
}

/** Refuses unless the caller administers `orgId`. */
export function requireOrgAdmin(request: FastifyRequest, orgId: string): Principal {
  const principal = requirePrincipal(request);
  if (!canAdminOrg(principal, orgId)) throw forbiddenOrg();
  return principal;
}

/** Refuses unless the caller is an operator of the service. */
export function requireOperator(request: FastifyRequest): Principal {
  const principal = requirePrincipal(request);
  if (!canManageService(principal))
    throw new AppError('forbidden', 'Only operators of the service may do this.');
  return principal;
}

/** A short, non-secret name of the caller for the audit log. */
export function actorOf(p: Principal): string {
  return p.type === 'token' ? `token:${p.name}` : p.email;
}

/** Sets the session cookie: HttpOnly, SameSite=Lax, Secure when the request came over TLS. */
export function setSessionCookie(
  reply: FastifyReply,
  request: FastifyRequest,
  token: string,
  expiresAt: string,
) {
  reply.setCookie(SESSION_COOKIE, token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
    expires: new Date(expiresAt),
  });
}
