import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/http/server.js';
import type { App } from '../../src/services/app.js';
import { hashPassword } from '../../src/services/auth.js';
import { createTestApp } from '../support/app.js';
import { DATABASES } from '../support/databases.js';

const PASSWORD = 'correct horse battery staple';

/** A signed-in browser: its cookie and CSRF token. */
interface Client {
  cookie: string;
  csrf: string;
}

describe.each(DATABASES)('JSON API on %s', (kind) => {
  let app: App;
  let close: () => Promise<void>;
  let server: FastifyInstance;
  let contoso: string;
  let fabrikam: string;
  let operator: Client;
  let fabrikamAdmin: Client;
  let contosoEndUser: Client;

  const call = (
    client: Client | null,
    method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE',
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse> =>
    server.inject({
      method,
      url,
      headers: client ? { cookie: client.cookie, 'x-csrf-token': client.csrf } : {},
      ...(payload === undefined ? {} : { payload: payload as object }),
    });

  async function login(email: string, password = PASSWORD): Promise<Client> {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
    });
    expect(res.statusCode, res.body).toBe(200);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    return { cookie, csrf: res.json().csrfToken };
  }

  async function addUserWithPassword(orgId: string, email: string, role: string) {
    const dir = await app.directory(orgId);
    const user = await dir.addUser({ email, role }, 'test');
    await dir.setPasswordHash(user.id, await hashPassword(PASSWORD), 'test');
    return user;
  }

  beforeAll(async () => {
    ({ app, close } = await createTestApp(kind));
    server = await buildServer(app);
    await app.auth.setOperatorPassword('ops@service.test', PASSWORD);
    operator = await login('ops@service.test');
    contoso = (
      await call(operator, 'POST', '/api/v1/orgs', { name: 'Contoso', domains: ['contoso.com'] })
    ).json().id;
    fabrikam = (
      await call(operator, 'POST', '/api/v1/orgs', { name: 'Fabrikam', domains: ['fabrikam.com'] })
    ).json().id;
    await addUserWithPassword(fabrikam, 'admin@fabrikam.com', 'org_admin');
    await addUserWithPassword(contoso, 'admin@contoso.com', 'org_admin');
    await addUserWithPassword(contoso, 'end@contoso.com', 'end_user');
    await addUserWithPassword(contoso, 'silent@contoso.com', 'silent_user');
    fabrikamAdmin = await login('admin@fabrikam.com');
    contosoEndUser = await login('end@contoso.com');
  });
  afterAll(async () => {
    await server.close();
    await close();
  });

  it('answers /healthz', async () => {
    const res = await server.inject({ method: 'GET', url: '/healthz' });
    expect(res.json()).toEqual({ ok: true });
  });

  it('sets an HttpOnly, SameSite=Lax session cookie', async () => {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'admin@contoso.com', password: PASSWORD },
    });
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
  });

  it('refuses a wrong password without saying which part was wrong', async () => {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'admin@contoso.com', password: 'wrong password!' },
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toBe('The address or the password is not right.');
  });

  it('refuses silent users with a sentence saying why', async () => {
    const res = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email: 'silent@contoso.com', password: PASSWORD },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(/Silent users cannot sign in/);
  });

  it('requires the CSRF token on state-changing requests made with a cookie', async () => {
    const res = await server.inject({
      method: 'POST',
      url: `/api/v1/orgs/${contoso}/users`,
      headers: { cookie: operator.cookie },
      payload: { email: 'csrf@contoso.com' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toMatch(/x-csrf-token/);
    const list = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?search=csrf`);
    expect(list.json().total).toBe(0);
  });

  it('lets an org admin manage their organization, naming it by domain', async () => {
    const admin = await login('admin@contoso.com');
    const created = await call(admin, 'POST', '/api/v1/orgs/contoso.com/users', {
      email: 'new@contoso.com',
      aliases: ['n@contoso.com'],
      firstName: 'New',
    });
    expect(created.statusCode).toBe(201);
    const page = await call(admin, 'GET', '/api/v1/orgs/contoso.com/users?search=new@&limit=5');
    expect(page.json()).toMatchObject({
      total: 1,
      limit: 5,
      offset: 0,
      items: [{ email: 'new@contoso.com' }],
    });
    const patched = await call(admin, 'PATCH', `/api/v1/orgs/contoso.com/users/${created.json().id}`, {
      status: 'inactive',
    });
    expect(patched.json().status).toBe('inactive');
    const group = await call(admin, 'POST', '/api/v1/orgs/contoso.com/groups', {
      name: 'Team',
      kind: 'security',
      members: ['new@contoso.com'],
    });
    expect(group.statusCode).toBe(201);
    const detail = await call(admin, 'GET', `/api/v1/orgs/contoso.com/groups/${group.json().id}`);
    expect(detail.json().effectiveMembers).toEqual(['new@contoso.com']);
    const own = await call(admin, 'GET', '/api/v1/orgs');
    expect(own.json().map((o: { id: string }) => o.id)).toEqual([contoso]);
  });

  it('never returns password hashes', async () => {
    const res = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?limit=100`);
    expect(res.body).not.toMatch(/argon2|password/i);
  });

  it('answers bad input with 400 and the field, and conflicts with 409, writing nothing', async () => {
    const bad = await call(operator, 'POST', `/api/v1/orgs/${contoso}/users`, { email: 'x@elsewhere.com' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'invalid_input', field: 'email' });
    const unknownField = await call(operator, 'POST', `/api/v1/orgs/${contoso}/users`, {
      email: 'y@contoso.com',
      admin: true,
    });
    expect(unknownField.statusCode).toBe(400);
    const dup = await call(operator, 'POST', `/api/v1/orgs/${fabrikam}/domains`, { domain: 'contoso.com' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.field).toBe('domain');
    const badDomain = await call(operator, 'POST', '/api/v1/orgs', { name: 'X', domains: ['nope'] });
    expect(badDomain.statusCode).toBe(400);
    const list = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?search=y@contoso`);
    expect(list.json().total).toBe(0);
    expect((await call(operator, 'GET', '/api/v1/orgs')).json()).toHaveLength(2);
  });

  it('lets only an operator set licensed seats, and refuses what is not a seat count', async () => {
    const contosoAdmin = await login('admin@contoso.com');
    const byAdmin = await call(contosoAdmin, 'PATCH', `/api/v1/orgs/${contoso}`, { licensedSeats: 500 });
    expect(byAdmin.statusCode).toBe(403);
    for (const bad of [-1, 1.5, '10', true, 10_000_001]) {
      const res = await call(operator, 'PATCH', `/api/v1/orgs/${contoso}`, { licensedSeats: bad });
      expect(res.statusCode, `${JSON.stringify(bad)}: ${res.body}`).toBe(400);
    }
    const set = await call(operator, 'PATCH', `/api/v1/orgs/${contoso}`, { licensedSeats: 500 });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().licensedSeats).toBe(500);
    expect((await call(contosoAdmin, 'GET', `/api/v1/orgs/${contoso}`)).json().licensedSeats).toBe(500);
    const renamed = await call(contosoAdmin, 'PATCH', `/api/v1/orgs/${contoso}`, { name: 'Contoso' });
    expect(renamed.json()).toMatchObject({ name: 'Contoso', licensedSeats: 500 });
    const cleared = await call(operator, 'PATCH', `/api/v1/orgs/${contoso}`, { licensedSeats: null });
    expect(cleared.json().licensedSeats).toBeNull();
  });

  it('refuses control characters and numbers past their columns with 400, naming the field', async () => {
    const nul = await server.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: '10.7.7.7',
      payload: { email: 'a\u0000@contoso.com', password: 'x' },
    });
    expect(nul.statusCode, nul.body).toBe(400);
    expect(nul.json().error).toMatchObject({ code: 'invalid_input', field: 'email' });
    const search = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?search=%00`);
    expect(search.statusCode).toBe(400);
    expect(search.json().error.field).toBe('search');
    const nested = await call(operator, 'POST', `/api/v1/orgs/${contoso}/users`, {
      email: 'ctl@contoso.com',
      aliases: ['ok@contoso.com', 'b\u0001d@contoso.com'],
    });
    expect(nested.statusCode).toBe(400);
    expect(nested.json().error.field).toBe('aliases[1]');
    const offset = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?offset=9223372036854775808`);
    expect(offset.statusCode).toBe(400);
    const minUsers = await call(operator, 'PUT', `/api/v1/orgs/${contoso}/automation`, {
      safeguardMinUsers: 2 ** 31,
    });
    expect(minUsers.statusCode).toBe(400);
    // Nothing was written by the refusals.
    const list = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?search=ctl`);
    expect(list.json().total).toBe(0);
  });

  // Found by test/http/fuzz.test.ts; each used to answer 500.
  it('refuses a NUL in {org}, bodies nested 100,000 deep, integers written as 1e400: 400', async () => {
    const nulOrg = await call(operator, 'GET', '/api/v1/orgs/%00/users');
    expect(nulOrg.statusCode, nulOrg.body).toBe(400);
    expect(nulOrg.json().error.field).toBe('org');
    const depth = 100_000;
    const deep = await server.inject({
      method: 'POST',
      url: `/api/v1/orgs/${contoso}/users`,
      headers: { cookie: operator.cookie, 'x-csrf-token': operator.csrf, 'content-type': 'application/json' },
      payload: `{"email":${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}}`,
    });
    expect(deep.statusCode, deep.body).toBe(400);
    expect(deep.json().error.field).toMatch(/^email\[0\]\[0\]/);
    for (const limit of ['1e400', 'Infinity', '1e3', '+5', '05']) {
      const res = await call(operator, 'GET', `/api/v1/orgs/${contoso}/sync/runs?limit=${limit}`);
      expect(res.statusCode, `limit=${limit}: ${res.body}`).toBe(400);
      expect(res.json().error.field).toBe('limit');
    }
    // Refused by Fastify before routing, in the API's shape all the same.
    const badUrl = await call(operator, 'GET', '/api/v1/orgs/%C0%80');
    expect(badUrl.statusCode).toBe(400);
    expect(badUrl.json().error.code).toBe('invalid_input');
  });

  it('lists users by mailbox purpose, with what the service may rely on', async () => {
    const people = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?mailbox=unknown&limit=100`);
    expect(people.statusCode, people.body).toBe(200);
    const silent = people.json().items.find((u: { email: string }) => u.email === 'silent@contoso.com');
    expect(silent).toMatchObject({
      mailbox: null,
      functional: false,
      deliverable: true,
      canSignIn: false,
      receivesDigests: false,
      billable: true,
    });
    const functional = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?mailbox=functional`);
    expect(functional.json().total).toBe(0);
    const bad = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?mailbox=castle`);
    expect(bad.statusCode).toBe(400);
  });

  it('gives end users their own self-service view', async () => {
    const res = await call(contosoEndUser, 'GET', '/api/v1/me');
    expect(res.json()).toMatchObject({
      user: { email: 'end@contoso.com', role: 'end_user' },
      organization: { id: contoso, name: 'Contoso' },
      receivesQuarantineDigests: true,
    });
  });

  it('authenticates API tokens, scoped to their organization', async () => {
    const created = await call(operator, 'POST', `/api/v1/orgs/${contoso}/api-tokens`, {
      name: 'automation',
    });
    expect(created.statusCode).toBe(201);
    const token = created.json().token as string;
    const bearer = (url: string) =>
      server.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
    expect((await bearer(`/api/v1/orgs/${contoso}/users`)).statusCode).toBe(200);
    expect((await bearer(`/api/v1/orgs/${fabrikam}/users`)).statusCode).toBe(403);
    const listed = await call(operator, 'GET', `/api/v1/orgs/${contoso}/api-tokens`);
    expect(listed.body).not.toContain(token);
  });

  it('publishes an OpenAPI document covering the routes', async () => {
    const doc = (await server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/orgs/{org}/users', '/api/v1/orgs/{org}/groups/{id}']),
    );
  });

  it('refuses every organization route to an admin of another organization and to an end user', async () => {
    const doc = (await server.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    const sample = await call(operator, 'GET', `/api/v1/orgs/${contoso}/users?limit=1`);
    const someUserId = sample.json().items[0].id as string;
    const tried: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
      if (!path.includes('{org}')) continue;
      for (const method of Object.keys(methods)) {
        const url = path
          .replace('{org}', contoso)
          .replace('{id}', someUserId)
          .replace('{domain}', 'contoso.com');
        for (const [who, client] of [
          ['fabrikam admin', fabrikamAdmin],
          ['contoso end user', contosoEndUser],
        ] as const) {
          const res = await call(
            client,
            method.toUpperCase() as 'GET',
            url,
            method === 'get' || method === 'delete' ? undefined : {},
          );
          expect(res.statusCode, `${who} ${method} ${url}: ${res.body}`).toBe(403);
          tried.push(`${method} ${path}`);
        }
      }
    }
    expect(tried.length).toBeGreaterThanOrEqual(30);
    // And the organization is untouched.
    expect((await call(operator, 'GET', `/api/v1/orgs/${contoso}`)).json().domains).toEqual(['contoso.com']);
  });

  it('refuses service-wide routes to non-operators', async () => {
    const res = await call(fabrikamAdmin, 'POST', '/api/v1/orgs', { name: 'Mine', domains: ['mine.com'] });
    expect(res.statusCode).toBe(403);
    expect((await call(contosoEndUser, 'GET', '/api/v1/orgs')).statusCode).toBe(403);
    expect((await call(null, 'GET', `/api/v1/orgs/${contoso}/users`)).statusCode).toBe(401);
  });

  it('rate-limits sign-in attempts', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await server.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '10.9.9.9',
        // A new address each time: the per-account limit (after 5 failures) is tested in hardening.test.ts.
        payload: { email: `nobody${i}@contoso.com`, password: 'guess' },
      });
      codes.push(res.statusCode);
    }
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true);
    expect(codes.at(-1)).toBe(429);
  });
});
